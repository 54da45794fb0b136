/* http: blocking easy transfers and curl multi on libevent against the
 * scripted fixture server. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/http.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

static const char *routes =
    "[{\"method\": \"GET\", \"path\": \"/hello\", \"responses\": [{\"status\": 200,"
    "  \"headers\": {\"X-Test\": \"yes\", \"Content-Type\": \"text/plain\"}, \"body\": \"hi\"}]},"
    " {\"method\": \"POST\", \"path\": \"/echo\", \"responses\": [{\"status\": 201, \"body\": \"{}\"}]},"
    " {\"method\": \"PUT\", \"path\": \"/put\", \"responses\": [{\"status\": 200, \"body\": \"tok\"}]},"
    " {\"path\": \"/slow\", \"responses\": [{\"status\": 200, \"delay_ms\": 3000, \"body\": \"late\"}]},"
    " {\"path\": \"/drop\", \"responses\": [{\"drop\": true}]},"
    " {\"path\": \"/err\", \"responses\": [{\"status\": 503, \"body\": \"busy\"}]}]";

static const struct http_options opts = { .connect_timeout_usec = 2000000, .timeout_usec = 5000000 };

START_TEST(test_http_easy_exchange)
{
	struct fixture *f = fixture_start(routes);
	struct http_easy *h = http_easy_new(&opts);
	const char *hdrs[] = { "X-Amz-Target: Test.Op", "Content-Type: application/x-amz-json-1.0" };
	struct http_response resp;
	struct errctx ec;
	char *url;
	json_t *log;

	url = xasprintf("%s/hello", f->url);
	ck_assert_ok(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), &ec);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.body, "hi");
	ck_assert_str_eq(http_response_header(&resp, "x-test"), "yes");
	ck_assert_ptr_null(http_response_header(&resp, "x-absent"));
	http_response_free(&resp);
	free(url);

	/* Same handle, second request: body sent byte for byte, headers as given. */
	url = xasprintf("%s/echo", f->url);
	ck_assert_ok(http_easy_perform(h, &(struct http_request){ .method = "POST", .url = url,
	    .headers = hdrs, .n_headers = 2, .body = "{\"a\":1}", .body_len = 7 }, &resp, &ec), &ec);
	ck_assert_int_eq(resp.status, 201);
	http_response_free(&resp);
	free(url);

	url = xasprintf("%s/err", f->url);
	ck_assert_ok(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), &ec);
	ck_assert_int_eq(resp.status, 503);
	http_response_free(&resp);
	free(url);

	log = fixture_requests(f);
	ck_assert_uint_eq(json_array_size(log), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 1), "body")), "{\"a\":1}");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log, 1),
	    "headers"), "x-amz-target")), "Test.Op");
	/* No Expect: 100-continue (it would be added after signing). */
	ck_assert_ptr_null(json_object_get(json_object_get(json_array_get(log, 1), "headers"), "expect"));
	/* Keep-alive: the reused handle sent all three on one connection. */
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(log, 0), "peer_port")),
	    json_integer_value(json_object_get(json_array_get(log, 2), "peer_port")));
	json_decref(log);
	http_easy_free(h);
	fixture_free(f);
}
END_TEST

START_TEST(test_http_easy_failures)
{
	struct fixture *f = fixture_start(routes);
	struct http_options o = opts;
	struct http_easy *h;
	struct http_response resp;
	struct errctx ec;
	char *url;
	int port = fixture_pick_port();

	o.timeout_usec = 500000;
	h = http_easy_new(&o);
	url = xasprintf("%s/slow", f->url);
	ck_assert_err(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), -ETIMEDOUT, &ec);
	free(url);

	url = xasprintf("%s/drop", f->url);
	ck_assert_err(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), -ECONNRESET, &ec);
	free(url);

	/* Nobody listens there. */
	url = xasprintf("http://127.0.0.1:%d/", port);
	ck_assert_err(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), -ECONNRESET, &ec);
	free(url);

	/* TLS to a plain HTTP server fails; verification cannot be switched off. */
	url = xasprintf("https://127.0.0.1:%d/hello", f->port);
	ck_assert_int_lt(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), 0);
	free(url);

	ck_assert_err(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = f->url,
	    .headers = (const char *[]){ "X-Bad: a\r\nInjected: b" }, .n_headers = 1 }, &resp, &ec),
	    -EINVAL, &ec);
	http_easy_free(h);
	fixture_free(f);
}
END_TEST

START_TEST(test_http_tls_verification)
{
	struct fixture *f = fixture_start_tls(routes);
	struct http_options o = opts;
	struct http_easy *h;
	struct http_response resp;
	struct errctx ec;
	char *url = xasprintf("%s/hello", f->url);

	/* Self-signed and not trusted: refused, never "insecure". */
	h = http_easy_new(&o);
	ck_assert_err(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), -EACCES, &ec);
	http_easy_free(h);
	/* Trusted through the CA file option: accepted. */
	o.ca_file = f->ca_file;
	h = http_easy_new(&o);
	ck_assert_ok(http_easy_perform(h, &(struct http_request){ .method = "GET", .url = url },
	    &resp, &ec), &ec);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.body, "hi");
	http_response_free(&resp);
	http_easy_free(h);
	free(url);
	fixture_free(f);
}
END_TEST

struct done {
	int	 calls;
	int	 r;
	long	 status;
	char	*body;
	bool	*in_start;
};

static void
done_cb(struct http_response *resp, int r, const struct errctx *ec, void *arg)
{
	struct done *d = arg;

	ck_assert(!*d->in_start);
	d->calls++;
	d->r = r;
	if (resp != NULL) {
		d->status = resp->status;
		d->body = resp->body;
		resp->body = NULL;	/* steal */
	}
}

START_TEST(test_http_multi_concurrent)
{
	struct fixture *f = fixture_start(routes);
	struct event_base *base = event_base_new();
	struct http_multi *m = http_multi_new(base, &opts);
	struct done d[4] = { 0 };
	bool in_start = false;
	const char *paths[4] = { "/hello", "/echo", "/put", "/err" };
	const char *methods[4] = { "GET", "POST", "PUT", "GET" };
	struct errctx ec;
	int i;

	for (i = 0; i < 4; i++) {
		char *url = xasprintf("%s%s", f->url, paths[i]);
		char body[] = "payload";

		d[i].in_start = &in_start;
		in_start = true;
		ck_assert_ok(http_multi_start(m, &(struct http_request){ .method = methods[i], .url = url,
		    .body = body, .body_len = strlen(body) }, done_cb, &d[i], NULL, &ec), &ec);
		in_start = false;
		/* The request is copied: scribble over ours. */
		memset(body, 'X', sizeof body - 1);
		free(url);
	}
	ck_assert_uint_eq(http_multi_running(m), 4);
	event_base_dispatch(base);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(d[i].calls, 1);
	ck_assert_int_eq(d[0].status, 200);
	ck_assert_str_eq(d[0].body, "hi");
	ck_assert_int_eq(d[1].status, 201);
	ck_assert_str_eq(d[2].body, "tok");
	ck_assert_int_eq(d[3].status, 503);
	for (i = 0; i < 4; i++)
		free(d[i].body);
	{
		json_t *log = fixture_requests(f);
		size_t k;

		for (k = 0; k < json_array_size(log); k++) {
			const char *b = json_string_value(json_object_get(json_array_get(log, k), "body"));

			if (strcmp(json_string_value(json_object_get(json_array_get(log, k), "method")), "GET") != 0)
				ck_assert_str_eq(b, "payload");
		}
		json_decref(log);
	}
	ck_assert_uint_eq(http_multi_running(m), 0);
	http_multi_free(m);
	event_base_free(base);
	fixture_free(f);
}
END_TEST

START_TEST(test_http_multi_cancel_and_timeout)
{
	struct fixture *f = fixture_start(routes);
	struct event_base *base = event_base_new();
	struct http_options o = opts;
	struct http_multi *m;
	struct done slow = { 0 }, cancel = { 0 }, pending = { 0 };
	bool in_start = false;
	struct http_xfer *x;
	struct errctx ec;
	char *url = xasprintf("%s/slow", f->url);

	o.timeout_usec = 500000;
	m = http_multi_new(base, &o);
	slow.in_start = cancel.in_start = pending.in_start = &in_start;
	ck_assert_ok(http_multi_start(m, &(struct http_request){ .method = "GET", .url = url },
	    done_cb, &slow, NULL, &ec), &ec);
	ck_assert_ok(http_multi_start(m, &(struct http_request){ .method = "GET", .url = url,
	    .timeout_usec = 10000000 }, done_cb, &cancel, &x, &ec), &ec);
	in_start = true;	/* the cancel callback must not run inside cancel either */
	http_multi_cancel(m, x);
	in_start = false;
	ck_assert_int_eq(cancel.calls, 0);
	event_base_dispatch(base);
	ck_assert_int_eq(cancel.calls, 1);
	ck_assert_int_eq(cancel.r, -ECANCELED);
	ck_assert_int_eq(slow.calls, 1);
	ck_assert_int_eq(slow.r, -ETIMEDOUT);

	/* Freeing the multi completes what is still running, once. */
	ck_assert_ok(http_multi_start(m, &(struct http_request){ .method = "GET", .url = url,
	    .timeout_usec = 10000000 }, done_cb, &pending, NULL, &ec), &ec);
	http_multi_free(m);
	ck_assert_int_eq(pending.calls, 1);
	ck_assert_int_eq(pending.r, -ECANCELED);
	event_base_free(base);
	free(url);
	fixture_free(f);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc;

	tc = tcase_create("easy");
	tcase_add_test(tc, test_http_easy_exchange);
	tcase_add_test(tc, test_http_easy_failures);
	tcase_add_test(tc, test_http_tls_verification);
	suite_add_tcase(s, tc);
	tc = tcase_create("multi");
	tcase_add_test(tc, test_http_multi_concurrent);
	tcase_add_test(tc, test_http_multi_cancel_and_timeout);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(http_suite)
