/* marketdata seam over Alpaca Market Data v2: daily bars from the
 * multi-symbol endpoint (every page, merged per symbol) and latest quotes,
 * with back-off on 429, 5xx and network errors. Synchronous libcurl: the seam
 * is called from a worker thread (marketdata.h). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"

#define BODY_MAX	(256u * 1024 * 1024)
#define RESET_WAIT_MAX	(60 * USEC_PER_SEC)

struct md_alpaca {
	struct marketdata md;
	char		*base_url, *feed, *adjustment;
	struct secret	*key_id, *secret_key;
	unsigned	 max_attempts, per_request;
	int64_t		 backoff_usec, timeout_usec;
};

struct buf {
	char	*p;
	size_t	 n;
	bool	 overflow;
	int64_t	 reset_epoch;	/* X-Ratelimit-Reset, 0 if absent */
	int64_t	 retry_at_usec;	/* Retry-After as an absolute time, 0 if absent */
};

static size_t	write_cb(char *data, size_t size, size_t nmemb, void *arg);
static size_t	header_cb(char *data, size_t size, size_t nmemb, void *arg);
static void	sleep_usec(int64_t usec);
static int	http_get(struct md_alpaca *a, const char *url, json_t **ret, struct errctx *ec);
static int64_t	today_ny(int64_t now_usec, bool *session_open);
static int	add_bars(json_t *arr, struct md_series *s, int64_t last_day, struct errctx *ec);
static int	fetch_chunk(struct md_alpaca *a, const char *const *symbols, size_t n,
	    int64_t start, int64_t end, struct md_series *out, struct errctx *ec);
static char	*api_symbol(const char *s);
static int	alpaca_daily_bars(struct marketdata *md, const char *const *symbols, size_t n,
	    int64_t as_of_day, size_t lookback, struct md_series *out, struct errctx *ec);
static int	alpaca_latest_quote(struct marketdata *md, const char *symbol, struct md_quote *ret,
	    struct errctx *ec);
static void	alpaca_free(struct marketdata *md);

static const struct marketdata_ops alpaca_ops = {
	.name = "alpaca",
	.daily_bars = alpaca_daily_bars,
	.latest_quote = alpaca_latest_quote,
	.free = alpaca_free,
};

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t k = size * nmemb;

	if (b->n + k > BODY_MAX) {
		b->overflow = true;
		return 0;
	}
	b->p = xreallocarray(b->p, b->n + k + 1, 1);
	memcpy(b->p + b->n, data, k);
	b->n += k;
	b->p[b->n] = '\0';
	return k;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t k = size * nmemb;
	static const char name[] = "x-ratelimit-reset:";

	static const char ra[] = "retry-after:";
	char v[96], *end;
	size_t len;

	if (k > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0)
		b->reset_epoch = strtoll(data + sizeof(name) - 1, NULL, 10);
	if (k > sizeof(ra) && strncasecmp(data, ra, sizeof(ra) - 1) == 0) {
		/* Seconds, or an HTTP date (RFC 9110; the official SDK reads both). */
		const char *p = data + sizeof(ra) - 1;
		long long secs;
		time_t when;

		while (p < data + k && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(data + k - p);
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
			len--;
		if (len == 0 || len >= sizeof(v))
			return k;
		memcpy(v, p, len);
		v[len] = '\0';
		secs = strtoll(v, &end, 10);
		if (end != v && *end == '\0' && secs >= 0)
			b->retry_at_usec = time_now_realtime_usec() + (secs < 86400 ? secs : 86400) *
			    USEC_PER_SEC;
		else if ((when = curl_getdate(v, NULL)) != (time_t)-1)
			b->retry_at_usec = (int64_t)when * USEC_PER_SEC;
	}
	return k;
}

static void
sleep_usec(int64_t usec)
{
	struct timespec ts = { .tv_sec = usec / USEC_PER_SEC, .tv_nsec = (usec % USEC_PER_SEC) * 1000 };

	while (usec > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
http_get(struct md_alpaca *a, const char *url, json_t **ret, struct errctx *ec)
{
	int64_t wait = a->backoff_usec;
	unsigned attempt;
	int r = -EAGAIN;

	*ret = NULL;
	for (attempt = 1; attempt <= a->max_attempts; attempt++) {
		struct curl_slist *hdr = NULL;
		struct buf b = { 0 };
		char *h1 = xasprintf("APCA-API-KEY-ID: %s", secret_reveal(a->key_id));
		char *h2 = xasprintf("APCA-API-SECRET-KEY: %s", secret_reveal(a->secret_key));
		CURL *c = curl_easy_init();
		CURLcode cr;
		long status = 0;
		bool retry = false;

		hdr = curl_slist_append(hdr, h1);
		hdr = curl_slist_append(hdr, h2);
		hdr = curl_slist_append(hdr, "Accept: application/json");
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(a->timeout_usec / 1000));
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
		cr = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
		curl_slist_free_all(hdr);
		/* The headers held the secret: wipe before freeing. */
		explicit_bzero(h2, strlen(h2));
		free(h1);
		free(h2);
		if (cr != CURLE_OK) {
			r = errctx_set(ec, cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNRESET,
			    "GET %s: %s", url, curl_easy_strerror(cr));
			retry = !b.overflow;
		} else if (status == 200) {
			json_error_t jerr;

			*ret = json_loadb(b.p ? b.p : "", b.n, 0, &jerr);
			r = *ret != NULL ? 0 : errctx_set(ec, -EPROTO, "GET %s: bad JSON: %s", url,
			    jerr.text);
		} else if (status == 429 || status >= 500) {
			r = errctx_set(ec, -EAGAIN, "GET %s: HTTP %ld", url, status);
			retry = true;
			if (status == 429 && b.retry_at_usec > 0) {
				/* The server's word, up to a rate-limit window. */
				int64_t until = b.retry_at_usec - time_now_realtime_usec();

				wait = until < 0 ? 0 : until < RESET_WAIT_MAX ? until : RESET_WAIT_MAX;
			} else if (status == 429 && b.reset_epoch > 0) {
				int64_t until = b.reset_epoch * USEC_PER_SEC - time_now_realtime_usec();

				if (until > wait)
					wait = until < RESET_WAIT_MAX ? until : RESET_WAIT_MAX;
			}
		} else {
			json_t *j = json_loadb(b.p ? b.p : "", b.n, 0, NULL);
			const char *m = json_string_value(json_object_get(j, "message"));

			r = errctx_set(ec, status == 401 || status == 403 ? -EACCES : -EPROTO,
			    "GET %s: HTTP %ld: %s", url, status, m != NULL ? m : "(no message)");
			json_decref(j);
		}
		free(b.p);
		if (!retry || attempt == a->max_attempts)
			break;
		sleep_usec(wait);
		wait *= 2;
	}
	return r;
}

/* Today's date in New York, and whether its session may still be running
 * (before 16:15: the daily bar is not final yet). */
static int64_t
today_ny(int64_t now_usec, bool *session_open)
{
	int64_t local = now_usec / USEC_PER_SEC + time_new_york_offset_sec(now_usec);
	int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;

	*session_open = local - day * 86400 < 16 * 3600 + 15 * 60;
	return day;
}

static char *
api_symbol(const char *s)
{
	char *d = xstrdup(s), *p;

	for (p = d; *p != '\0'; p++)
		if (*p == '/')	/* BRK/B is BRK.B on Alpaca */
			*p = '.';
	return d;
}

static int
add_bars(json_t *arr, struct md_series *s, int64_t last_day, struct errctx *ec)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *t = json_string_value(json_object_get(v, "t"));
		char date[11];
		struct md_bar b;

		if (t == NULL || strlen(t) < 10 || !json_is_number(json_object_get(v, "c")))
			return errctx_set(ec, -EPROTO, "bar %zu of %s: missing t or c", i, s->symbol);
		memcpy(date, t, 10);
		date[10] = '\0';
		/* Daily bars are stamped at midnight New York (04:00Z/05:00Z): the
		 * UTC date is the session date. */
		if (dsl_parse_date(date, &b.day, NULL) < 0)
			return errctx_set(ec, -EPROTO, "bar %zu of %s: bad time '%s'", i, s->symbol, t);
		if (b.day > last_day || (s->n > 0 && b.day <= s->bars[s->n - 1].day))
			continue;
		b.open = json_number_value(json_object_get(v, "o"));
		b.high = json_number_value(json_object_get(v, "h"));
		b.low = json_number_value(json_object_get(v, "l"));
		b.close = json_number_value(json_object_get(v, "c"));
		b.volume = json_number_value(json_object_get(v, "v"));
		s->bars = xreallocarray(s->bars, s->n + 1, sizeof(*s->bars));
		s->bars[s->n++] = b;
	}
	return 0;
}

static int
fetch_chunk(struct md_alpaca *a, const char *const *symbols, size_t n, int64_t start,
    int64_t end, struct md_series *out, struct errctx *ec)
{
	char *list = xstrdup(""), *token = NULL, sd[RFC3339_STRLEN], ed[RFC3339_STRLEN];
	size_t i, pages = 0;
	int r = 0;

	for (i = 0; i < n; i++) {
		char *sym = api_symbol(symbols[i]), *next = xasprintf("%s%s%s", list, i ? "," : "", sym);

		free(list);
		free(sym);
		list = next;
	}
	/* Full RFC 3339 times, as the SDK sends them: from midnight UTC of the
	 * first day to the last second of the last (daily bars are stamped at
	 * 04:00Z/05:00Z, inside the day either way). */
	time_format_rfc3339(start * 86400LL * USEC_PER_SEC, sd);
	{
		int64_t last = (end * 86400LL + 86399) * USEC_PER_SEC, now = time_now_realtime_usec();

		/* Not past now: Alpaca's own default for end. */
		time_format_rfc3339(last < now ? last : now / USEC_PER_SEC * USEC_PER_SEC, ed);
	}
	do {
		CURL *esc = curl_easy_init();
		char *el = curl_easy_escape(esc, list, 0);
		char *et = token != NULL ? curl_easy_escape(esc, token, 0) : NULL;
		char *url = xasprintf("%s/v2/stocks/bars?symbols=%s&timeframe=1Day&start=%s&end=%s"
		    "&limit=10000&adjustment=%s&feed=%s&sort=asc%s%s", a->base_url, el, sd, ed,
		    a->adjustment, a->feed, et != NULL ? "&page_token=" : "", et != NULL ? et : "");
		json_t *root = NULL, *bars, *v;
		const char *key;

		curl_free(el);
		curl_free(et);
		curl_easy_cleanup(esc);
		free(token);
		token = NULL;
		r = http_get(a, url, &root, ec);
		free(url);
		if (r < 0)
			break;
		bars = json_object_get(root, "bars");
		if (bars != NULL && !json_is_object(bars) && !json_is_null(bars)) {
			json_decref(root);
			r = errctx_set(ec, -EPROTO, "bars: expected an object");
			break;
		}
		json_object_foreach(bars, key, v) {
			for (i = 0; i < n; i++) {
				char *sym = api_symbol(symbols[i]);
				bool match = strcmp(sym, key) == 0;

				free(sym);
				if (match)
					break;
			}
			if (i == n || !json_is_array(v))
				continue;	/* not asked for: ignore */
			if ((r = add_bars(v, &out[i], end, ec)) < 0)
				break;
		}
		/* null, absent or "" ends paging. */
		if (r == 0 && json_is_string(json_object_get(root, "next_page_token")) &&
		    json_string_length(json_object_get(root, "next_page_token")) > 0)
			token = xstrdup(json_string_value(json_object_get(root, "next_page_token")));
		json_decref(root);
		/* A server that never stops paging is a protocol error, not a hang. */
		if (r == 0 && token != NULL && ++pages > 10000)
			r = errctx_set(ec, -EPROTO, "more than 10000 pages");
	} while (r == 0 && token != NULL);
	free(token);
	free(list);
	return r;
}

static int
alpaca_daily_bars(struct marketdata *md, const char *const *symbols, size_t n, int64_t as_of_day,
    size_t lookback, struct md_series *out, struct errctx *ec)
{
	struct md_alpaca *a = (struct md_alpaca *)md;
	bool open;
	int64_t today = today_ny(time_now_realtime_usec(), &open), end, start;
	size_t i;
	int r = 0;

	memset(out, 0, n * sizeof(*out));
	for (i = 0; i < n; i++)
		out[i].symbol = xstrdup(symbols[i]);
	/* Completed sessions only. */
	end = as_of_day < today ? as_of_day : (open ? today - 1 : today);
	/* lookback sessions in calendar days: 7/5 for weekends, 10 % and two
	 * weeks for holidays. */
	start = end - (int64_t)(lookback * 7 / 5 + lookback / 10 + 14);
	for (i = 0; i < n && r == 0; i += a->per_request)
		r = fetch_chunk(a, symbols + i, n - i < a->per_request ? n - i : a->per_request, start,
		    end, out + i, ec);
	if (r < 0) {
		for (i = 0; i < n; i++)
			md_series_clear(&out[i]);
		errctx_prefix(ec, "alpaca bars");
	}
	return r;
}

static int
alpaca_latest_quote(struct marketdata *md, const char *symbol, struct md_quote *ret,
    struct errctx *ec)
{
	struct md_alpaca *a = (struct md_alpaca *)md;
	char *sym = api_symbol(symbol), *url, *es;
	CURL *esc = curl_easy_init();
	json_t *root, *q;
	const char *t;
	int r;

	memset(ret, 0, sizeof(*ret));
	es = curl_easy_escape(esc, sym, 0);
	url = xasprintf("%s/v2/stocks/quotes/latest?symbols=%s&feed=%s", a->base_url, es, a->feed);
	curl_free(es);
	curl_easy_cleanup(esc);
	r = http_get(a, url, &root, ec);
	free(url);
	if (r < 0) {
		free(sym);
		return errctx_prefix(ec, "alpaca quote");
	}
	q = json_object_get(json_object_get(root, "quotes"), sym);
	ret->bid = json_number_value(json_object_get(q, "bp"));
	ret->ask = json_number_value(json_object_get(q, "ap"));
	/* One known side stands for both (seed §4.2). */
	if (ret->bid <= 0)
		ret->bid = ret->ask;
	if (ret->ask <= 0)
		ret->ask = ret->bid;
	if ((t = json_string_value(json_object_get(q, "t"))) != NULL)
		time_parse_rfc3339(t, &ret->time_usec, NULL);
	json_decref(root);
	free(sym);
	if (!(ret->bid > 0))
		return errctx_set(ec, -ENOENT, "no quote for %s", symbol);
	ret->price = (ret->bid + ret->ask) / 2;
	return 0;
}

static void
alpaca_free(struct marketdata *md)
{
	struct md_alpaca *a = (struct md_alpaca *)md;

	if (a == NULL)
		return;
	free(a->base_url);
	free(a->feed);
	free(a->adjustment);
	secret_free(a->key_id);
	secret_free(a->secret_key);
	free(a);
}

struct marketdata *
marketdata_alpaca_new(const struct marketdata_alpaca_config *cfg, struct errctx *ec)
{
	struct md_alpaca *a;
	const char *base = cfg->base_url != NULL && *cfg->base_url ? cfg->base_url :
	    "https://data.alpaca.markets";
	size_t bl = strlen(base);

	if (cfg->key_id == NULL || cfg->secret_key == NULL || secret_len(cfg->key_id) == 0 ||
	    secret_len(cfg->secret_key) == 0) {
		errctx_set(ec, -EINVAL, "alpaca market data needs a key id and a secret key");
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->md.ops = &alpaca_ops;
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	a->base_url = xstrndup(base, bl);
	a->feed = xstrdup(cfg->feed != NULL && *cfg->feed ? cfg->feed : "iex");
	a->adjustment = xstrdup(cfg->adjustment != NULL && *cfg->adjustment ? cfg->adjustment : "all");
	a->key_id = secret_dup(cfg->key_id);
	a->secret_key = secret_dup(cfg->secret_key);
	a->max_attempts = cfg->max_attempts ? cfg->max_attempts : 4;
	a->backoff_usec = cfg->backoff_usec > 0 ? cfg->backoff_usec : 500 * USEC_PER_MSEC;
	a->timeout_usec = cfg->timeout_usec > 0 ? cfg->timeout_usec : 30 * USEC_PER_SEC;
	a->per_request = cfg->symbols_per_request ? cfg->symbols_per_request : 100;
	return &a->md;
}
