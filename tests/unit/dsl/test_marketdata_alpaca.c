/* Alpaca Market Data v2 seam against the loopback fixture server
 * tests/unit/dsl/alpaca-fixture.mjs (node; skipped outside CI when node is
 * missing). The server is started per test and stopped by its PID; it also
 * dies with the test process (PR_SET_PDEATHSIG) and exits by itself. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"
#include "../helpers.h"

struct fixture {
	pid_t	 pid;
	int	 port;
	char	*url;
};

static bool	fixture_start(struct fixture *f);
static void	fixture_stop(struct fixture *f);
static json_t	*fixture_log(const struct fixture *f);
static size_t	write_cb(char *d, size_t s, size_t n, void *arg);
static struct marketdata *open_md(const struct fixture *f, const char *key);

static bool
fixture_start(struct fixture *f)
{
	const char *node = getenv("NODE"), *top = getenv("top_srcdir"), *ci = getenv("CI");
	char *script = xasprintf("%s/tests/unit/dsl/alpaca-fixture.mjs", top ? top : ".");
	char line[32] = "";
	struct pollfd pfd;
	int fds[2];
	ssize_t k;
	size_t got = 0;

	if (node == NULL || *node == '\0')
		node = "node";
	ck_assert_int_eq(pipe(fds), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp(node, node, script, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	free(script);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (got < sizeof(line) - 1 && strchr(line, '\n') == NULL && poll(&pfd, 1, 15000) > 0 &&
	    (k = read(fds[0], line + got, sizeof(line) - 1 - got)) > 0) {
		got += (size_t)k;
		line[got] = '\0';
	}
	close(fds[0]);
	f->port = atoi(line);
	if (f->port <= 0) {
		fixture_stop(f);
		if (ci != NULL && strcmp(ci, "true") == 0)
			ck_abort_msg("CI=true but the node fixture server did not start (%s)", node);
		fprintf(stderr, "note: node fixture server did not start: Alpaca cases not run\n");
		return false;
	}
	f->url = xasprintf("http://127.0.0.1:%d", f->port);
	return true;
}

static void
fixture_stop(struct fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	free(f->url);
	f->url = NULL;
}

static size_t
write_cb(char *d, size_t s, size_t n, void *arg)
{
	char **b = arg;
	size_t old = *b ? strlen(*b) : 0;

	*b = xreallocarray(*b, old + s * n + 1, 1);
	memcpy(*b + old, d, s * n);
	(*b)[old + s * n] = '\0';
	return s * n;
}

static json_t *
fixture_log(const struct fixture *f)
{
	char *url = xasprintf("%s/__log", f->url), *body = NULL;
	CURL *c = curl_easy_init();
	json_t *j;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	j = json_loads(body, 0, NULL);
	ck_assert(json_is_array(j));
	free(body);
	free(url);
	return j;
}

static struct marketdata *
open_md(const struct fixture *f, const char *key)
{
	struct secret *kid = secret_new(key, strlen(key)), *sek = secret_new("sek", 3);
	struct marketdata_alpaca_config cfg = {
		.base_url = f->url, .key_id = kid, .secret_key = sek,
		.max_attempts = 3, .backoff_usec = 1000, .timeout_usec = 10 * 1000000,
	};
	struct errctx ec;
	struct marketdata *md = marketdata_alpaca_new(&cfg, &ec);

	ck_assert_msg(md != NULL, "%s", errctx_msg(&ec));
	secret_free(kid);
	secret_free(sek);
	return md;
}

START_TEST(test_marketdata_alpaca_bars_pages)
{
	const char *syms[] = { "AAA", "BBB", "ZZZ", "BRK/B" };
	struct md_series out[4];
	struct fixture f = { 0 };
	struct marketdata *md;
	struct errctx ec;
	json_t *log, *e;
	int64_t as_of, d, start;
	size_t i, weekdays = 0, k;

	if (!fixture_start(&f))
		return;
	md = open_md(&f, "kid");
	ck_assert_ok(dsl_parse_date("2026-11-20", &as_of, &ec), &ec);
	ck_assert_ok(md->ops->daily_bars(md, syms, 4, as_of, 20, out, &ec), &ec);
	/* 20 sessions of lookback ask for 20*7/5 + 2 + 14 = 44 calendar days */
	start = as_of - 44;
	for (d = start; d <= as_of; d++)
		if (((d % 7) + 7 + 4) % 7 != 0 && ((d % 7) + 7 + 4) % 7 != 6)
			weekdays++;
	ck_assert_uint_eq(out[0].n, weekdays);
	ck_assert_uint_eq(out[1].n, weekdays);
	ck_assert_uint_eq(out[2].n, 0);	/* unknown to the source */
	ck_assert_uint_eq(out[3].n, weekdays);
	ck_assert_str_eq(out[3].symbol, "BRK/B");
	ck_assert_int_eq(out[0].bars[weekdays - 1].day, as_of);
	for (k = 0; k < weekdays; k++) {
		ck_assert_double_eq(out[0].bars[k].close, 10 + 0.5 * k);
		ck_assert_double_eq(out[3].bars[k].close, 300 + 0.5 * k);
		if (k > 0)
			ck_assert_int_gt(out[1].bars[k].day, out[1].bars[k - 1].day);
	}
	for (i = 0; i < 4; i++)
		md_series_clear(&out[i]);
	/* every page asked with the same parameters; the token walks the pages */
	log = fixture_log(&f);
	ck_assert_uint_eq(json_array_size(log), (3 * weekdays + 6) / 7);
	json_array_foreach(log, i, e) {
		json_t *q = json_object_get(e, "query");

		ck_assert_str_eq(json_string_value(json_object_get(e, "path")), "/v2/stocks/bars");
		ck_assert_str_eq(json_string_value(json_object_get(q, "symbols")), "AAA,BBB,ZZZ,BRK.B");
		ck_assert_str_eq(json_string_value(json_object_get(q, "adjustment")), "all");
		ck_assert_str_eq(json_string_value(json_object_get(q, "feed")), "iex");
		ck_assert_str_eq(json_string_value(json_object_get(q, "timeframe")), "1Day");
		/* full RFC 3339 times: the whole last day, from midnight of the first */
		ck_assert_str_eq(json_string_value(json_object_get(q, "end")), "2026-11-20T23:59:59Z");
		ck_assert_str_eq(json_string_value(json_object_get(q, "start")), "2026-10-07T00:00:00Z");
		ck_assert(i == 0 ? json_object_get(q, "page_token") == NULL :
		    json_is_string(json_object_get(q, "page_token")));
	}
	json_decref(log);
	marketdata_free(md);
	fixture_stop(&f);
}
END_TEST

START_TEST(test_marketdata_alpaca_backoff)
{
	const char *thr = "THROTTLE", *down = "DOWN";
	struct md_series out;
	struct fixture f = { 0 };
	struct marketdata *md;
	struct errctx ec;
	json_t *log;
	size_t pages;

	if (!fixture_start(&f))
		return;
	md = open_md(&f, "kid");
	/* 429 once, then served (all pages) */
	ck_assert_ok(md->ops->daily_bars(md, &thr, 1, 20412, 5, &out, &ec), &ec);
	ck_assert_uint_gt(out.n, 0);
	pages = (out.n + 6) / 7;
	md_series_clear(&out);
	log = fixture_log(&f);
	ck_assert_uint_eq(json_array_size(log), 1 + pages);
	json_decref(log);
	/* 503 every time: three attempts, then -EAGAIN */
	ck_assert_err(md->ops->daily_bars(md, &down, 1, 20412, 5, &out, &ec), -EAGAIN, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "HTTP 503"));
	ck_assert_uint_eq(out.n, 0);
	log = fixture_log(&f);
	ck_assert_uint_eq(json_array_size(log), 1 + pages + 3);
	json_decref(log);
	marketdata_free(md);
	/* a refused key is not retried */
	md = open_md(&f, "wrong");
	ck_assert_err(md->ops->daily_bars(md, &thr, 1, 20412, 5, &out, &ec), -EACCES, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "unauthorized"));
	log = fixture_log(&f);
	ck_assert_uint_eq(json_array_size(log), 1 + pages + 4);
	json_decref(log);
	marketdata_free(md);
	fixture_stop(&f);
}
END_TEST

START_TEST(test_marketdata_alpaca_quotes)
{
	struct fixture f = { 0 };
	struct marketdata *md;
	struct md_quote q;
	struct errctx ec;
	struct marketdata_alpaca_config bad = { 0 };

	ck_assert_ptr_null(marketdata_alpaca_new(&bad, &ec));
	if (!fixture_start(&f))
		return;
	md = open_md(&f, "kid");
	ck_assert_ok(md->ops->latest_quote(md, "AAA", &q, &ec), &ec);
	ck_assert_double_eq(q.bid, 10.0);
	ck_assert_double_eq(q.ask, 10.2);
	ck_assert_double_eq_tol(q.price, 10.1, 1e-12);
	ck_assert_int_gt(q.time_usec, 0);
	ck_assert_ok(md->ops->latest_quote(md, "ONESIDE", &q, &ec), &ec);
	ck_assert_double_eq(q.ask, 5.0);
	ck_assert_double_eq(q.price, 5.0);
	ck_assert_err(md->ops->latest_quote(md, "NONE", &q, &ec), -ENOENT, &ec);
	marketdata_free(md);
	fixture_stop(&f);
}
END_TEST

static Suite *
marketdata_alpaca_suite(void)
{
	Suite *s = suite_create("marketdata_alpaca");
	TCase *tc = tcase_create("fixture");

	tcase_add_test(tc, test_marketdata_alpaca_bars_pages);
	tcase_add_test(tc, test_marketdata_alpaca_backoff);
	tcase_add_test(tc, test_marketdata_alpaca_quotes);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(marketdata_alpaca_suite)
