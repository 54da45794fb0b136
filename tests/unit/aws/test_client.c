/* client: signing, retries, error mapping and clock skew of the JSON
 * protocol client, sync and async, against the scripted fixture. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/http.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

struct env {
	struct fixture		*f;
	struct aws_credentials	*creds;
	struct aws_client	*c;
};

static void
env_start(struct env *e, const char *routes, const char *token)
{
	struct secret *s = secret_new("test-secret", 11);
	struct secret *t = token != NULL ? secret_new(token, strlen(token)) : NULL;
	struct errctx ec;

	e->f = fixture_start(routes);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .access_key_id = "AKIATEST",
	    .secret_access_key = s, .session_token = t }, &e->creds, &ec), &ec);
	ck_assert_ok(aws_client_new(&(struct aws_client_options){ .service = "sqs",
	    .endpoint_prefix = "sqs", .target_prefix = "AmazonSQS",
	    .content_type = "application/x-amz-json-1.0", .region = "us-east-1", .endpoint = e->f->url,
	    .timeout_usec = 5000000, .creds = e->creds }, &e->c, &ec), &ec);
	secret_free(s);
	secret_free(t);
}

static void
env_stop(struct env *e)
{
	aws_client_free(e->c);
	aws_credentials_free(e->creds);
	fixture_free(e->f);
}

static json_t *
req_headers(json_t *log, size_t i)
{
	return json_object_get(json_array_get(log, i), "headers");
}

static const char *
hdr(json_t *log, size_t i, const char *name)
{
	return json_string_value(json_object_get(req_headers(log, i), name));
}

START_TEST(test_client_signed_call)
{
	struct env e;
	json_t *req = json_pack("{s:s}", "QueueUrl", "http://q"), *resp, *log;
	struct aws_error err;
	struct errctx ec;
	char host[64];

	env_start(&e, "[{\"method\": \"POST\", \"path\": \"/\", \"responses\": [{\"status\": 200,"
	    "\"body\": {\"Attributes\": {\"VisibilityTimeout\": \"30\"}}}]}]", "sess-token");
	ck_assert_ok(aws_client_call(e.c, "GetQueueAttributes", req, &resp, &err, &ec), &ec);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(resp, "Attributes"),
	    "VisibilityTimeout")), "30");
	json_decref(resp);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 1);
	ck_assert_str_eq(hdr(log, 0, "x-amz-target"), "AmazonSQS.GetQueueAttributes");
	ck_assert_str_eq(hdr(log, 0, "content-type"), "application/x-amz-json-1.0");
	ck_assert_str_eq(hdr(log, 0, "x-amz-security-token"), "sess-token");
	snprintf(host, sizeof host, "127.0.0.1:%d", e.f->port);
	ck_assert_str_eq(hdr(log, 0, "host"), host);
	ck_assert_ptr_nonnull(strstr(hdr(log, 0, "authorization"), "Credential=AKIATEST/"));
	ck_assert_ptr_nonnull(strstr(hdr(log, 0, "authorization"),
	    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(log, 0), "body")),
	    "{\"QueueUrl\":\"http://q\"}");
	json_decref(log);
	json_decref(req);
	env_stop(&e);
}
END_TEST

START_TEST(test_client_throttle_then_success)
{
	struct env e;
	json_t *req = json_object(), *resp, *log;
	struct errctx ec;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazon.coral.availability#ThrottlingException\","
	    " \"message\": \"slow down\"}},"
	    "{\"status\": 503, \"body\": \"\"},"
	    "{\"status\": 200, \"body\": {}}]}]", NULL);
	ck_assert_ok(aws_client_call(e.c, "PutEvents", req, &resp, NULL, &ec), &ec);
	json_decref(resp);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 3);
	/* Re-signed every attempt (the date may be equal; the header is rebuilt). */
	ck_assert_ptr_nonnull(hdr(log, 2, "authorization"));
	json_decref(log);
	/* Quota: two retries cost 10, success refunds the last cost (5). */
	ck_assert_int_eq(aws_client_quota_tokens(e.c), 495);
	json_decref(req);
	env_stop(&e);
}
END_TEST

START_TEST(test_client_error_mapping)
{
	struct env e;
	json_t *req = json_object(), *resp, *log;
	struct aws_error err;
	struct errctx ec;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 400, \"headers\": {\"x-amzn-query-error\": \"AWS.SimpleQueueService.NonExistentQueue;Sender\"},"
	    " \"body\": {\"__type\": \"com.amazonaws.sqs#QueueDoesNotExist\", \"message\": \"no queue\"}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
	    " \"message\": \"The conditional request failed\", \"Item\": {\"id\": {\"S\": \"k\"}}}},"
	    "{\"status\": 403, \"body\": \"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
	    "<Message>The request signature we calculated does not match. The Canonical String for this request "
	    "should have been x-amz-security-token:SECRETTOKEN</Message></Error></ErrorResponse>\"},"
	    "{\"status\": 400, \"body\": {\"__type\": \"ValidationException\", \"Message\": \"bad\"}},"
	    "{\"status\": 400, \"headers\": {\"x-amzn-ErrorType\": \"ResourceNotFoundException:http://x/\"}, \"body\": \"\"},"
	    "{\"status\": 200, \"body\": \"not json\"}]}]", NULL);
	ck_assert_err(aws_client_call(e.c, "ReceiveMessage", req, &resp, &err, &ec), -ENOENT, &ec);
	ck_assert_str_eq(err.code, "QueueDoesNotExist");
	ck_assert_str_eq(err.message, "no queue");
	json_decref(resp);
	ck_assert_err(aws_client_call(e.c, "PutItem", req, &resp, &err, &ec), -EEXIST, &ec);
	ck_assert_ptr_nonnull(json_object_get(resp, "Item"));
	json_decref(resp);
	/* A wrong secret: no clock skew in the Date, so no retry, -EACCES. */
	ck_assert_err(aws_client_call(e.c, "PutItem", req, &resp, &err, &ec), -EACCES, &ec);
	ck_assert_str_eq(err.code, "SignatureDoesNotMatch");
	ck_assert_int_eq(err.status, 403);
	ck_assert_ptr_null(strstr(ec.msg, "test-secret"));
	/* The echoed canonical request (it carries the token) is cut off. */
	ck_assert_ptr_null(strstr(ec.msg, "SECRETTOKEN"));
	ck_assert_ptr_null(strstr(err.message, "SECRETTOKEN"));
	ck_assert_ptr_nonnull(strstr(err.message, "does not match"));
	json_decref(resp);
	ck_assert_err(aws_client_call(e.c, "PutItem", req, &resp, &err, &ec), -EINVAL, &ec);
	ck_assert_str_eq(err.message, "bad");
	json_decref(resp);
	ck_assert_err(aws_client_call(e.c, "DescribeTable", req, &resp, &err, &ec), -ENOENT, &ec);
	ck_assert_str_eq(err.code, "ResourceNotFoundException");
	json_decref(resp);
	ck_assert_err(aws_client_call(e.c, "DescribeTable", req, &resp, &err, &ec), -EPROTO, &ec);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 6);	/* none of these is retried */
	json_decref(log);
	json_decref(req);
	env_stop(&e);
}
END_TEST

START_TEST(test_client_clock_skew_and_expired_token)
{
	struct env e;
	json_t *req = json_object(), *resp, *log;
	struct aws_error err;
	struct errctx ec;
	const char *d0, *d1;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 403, \"date_offset_s\": 3600, \"body\": {\"__type\": \"InvalidSignatureException\","
	    " \"message\": \"Signature expired\"}},"
	    "{\"status\": 200, \"date_offset_s\": 3600, \"body\": {}},"
	    "{\"status\": 400, \"date_offset_s\": 3600, \"body\": {\"__type\": \"ExpiredTokenException\","
	    " \"message\": \"expired\"}}]}]", NULL);
	ck_assert_ok(aws_client_call(e.c, "ListQueues", req, &resp, &err, &ec), &ec);
	json_decref(resp);
	ck_assert_int_gt(aws_client_clock_offset_usec(e.c), INT64_C(3500) * 1000000);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 2);
	d0 = hdr(log, 0, "x-amz-date");
	d1 = hdr(log, 1, "x-amz-date");
	/* The retry was signed with the server's clock: a different hour. */
	ck_assert_str_ne(d0, d1);
	json_decref(log);
	/* Expired token: one forced refresh and retry, then the error. */
	ck_assert_err(aws_client_call(e.c, "ListQueues", req, &resp, &err, &ec), -EACCES, &ec);
	json_decref(resp);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 4);
	json_decref(log);
	json_decref(req);
	env_stop(&e);
}
END_TEST

struct done {
	int	 calls;
	int	 r;
	bool	 in_start;
	char	 code[128];
	int	 value;
};

static void
done_cb(json_t *resp, int r, const struct aws_error *err, const struct errctx *ec, void *arg)
{
	struct done *d = arg;

	ck_assert(!d->in_start);
	d->calls++;
	d->r = r;
	if (err != NULL)
		snprintf(d->code, sizeof d->code, "%s", err->code);
	if (r == 0)
		d->value = (int)json_integer_value(json_object_get(resp, "v"));
}

START_TEST(test_client_async)
{
	struct env e;
	struct event_base *base = event_base_new();
	struct http_multi *m = http_multi_new(base, &(struct http_options){ 0 });
	json_t *req = json_object();
	struct done a = { 0 }, b = { 0 }, c = { 0 };
	struct aws_call *call;
	struct errctx ec;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 500, \"body\": {\"__type\": \"InternalFailure\"}},"
	    "{\"status\": 200, \"body\": {\"v\": 7}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.sqs#QueueDoesNotExist\"}}]}]", NULL);
	a.in_start = true;
	ck_assert_ok(aws_client_start(e.c, m, base, "ReceiveMessage", req, 0, done_cb, &a, NULL, &ec), &ec);
	a.in_start = false;
	event_base_dispatch(base);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.r, 0);
	ck_assert_int_eq(a.value, 7);

	ck_assert_ok(aws_client_start(e.c, m, base, "ReceiveMessage", req, 0, done_cb, &b, NULL, &ec), &ec);
	event_base_dispatch(base);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.r, -ENOENT);
	ck_assert_str_eq(b.code, "QueueDoesNotExist");

	/* Cancel before the first attempt ran. */
	c.in_start = true;
	ck_assert_ok(aws_client_start(e.c, m, base, "ReceiveMessage", req, 0, done_cb, &c, &call, &ec), &ec);
	aws_call_cancel(call);
	c.in_start = false;
	event_base_dispatch(base);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.r, -ECANCELED);

	json_decref(req);
	http_multi_free(m);
	event_base_free(base);
	env_stop(&e);
}
END_TEST

START_TEST(test_client_async_waits_for_credentials)
{
	struct fixture *f;
	struct aws_credentials *creds;
	struct aws_client *c;
	struct event_base *base = event_base_new();
	struct http_multi *m = http_multi_new(base, &(struct http_options){ 0 });
	json_t *req = json_object(), *log;
	struct done d = { 0 };
	struct errctx ec;

	/* Instance credentials, first needed on the loop: the call waits for
	 * the background refresh instead of blocking the loop. */
	f = fixture_start("[{\"method\": \"PUT\", \"path\": \"/latest/api/token\", \"responses\": ["
	    "{\"status\": 200, \"delay_ms\": 300, \"body\": \"tok\"}]},"
	    "{\"method\": \"GET\", \"path\": \"/latest/meta-data/iam/security-credentials/\", \"responses\": ["
	    "{\"status\": 200, \"body\": \"role\"}]},"
	    "{\"method\": \"GET\", \"path\": \"/latest/meta-data/iam/security-credentials/role\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"AccessKeyId\": \"ASIAIMDS\", \"SecretAccessKey\": \"s\","
	    " \"Token\": \"imds-token\", \"Expiration\": \"2099-01-01T00:00:00Z\"}}]},"
	    "{\"method\": \"POST\", \"path\": \"/\", \"responses\": [{\"status\": 200, \"body\": {\"v\": 3}}]}]");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("HOME", "/nonexistent", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .imds_endpoint = f->url },
	    &creds, &ec), &ec);
	ck_assert_ok(aws_client_new(&(struct aws_client_options){ .service = "sqs",
	    .endpoint_prefix = "sqs", .target_prefix = "AmazonSQS",
	    .content_type = "application/x-amz-json-1.0", .region = "us-east-1", .endpoint = f->url,
	    .creds = creds }, &c, &ec), &ec);
	ck_assert_ok(aws_client_start(c, m, base, "ReceiveMessage", req, 0, done_cb, &d, NULL, &ec), &ec);
	event_base_dispatch(base);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_msg(d.r == 0, "r %d", d.r);
	ck_assert_int_eq(d.value, 3);
	log = fixture_requests(f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log,
	    json_array_size(log) - 1), "headers"), "x-amz-security-token")), "imds-token");
	json_decref(log);
	json_decref(req);
	http_multi_free(m);
	event_base_free(base);
	aws_client_free(c);
	aws_credentials_free(creds);
	fixture_free(f);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("json");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_signed_call);
	tcase_add_test(tc, test_client_throttle_then_success);
	tcase_add_test(tc, test_client_error_mapping);
	tcase_add_test(tc, test_client_clock_skew_and_expired_token);
	tcase_add_test(tc, test_client_async);
	tcase_add_test(tc, test_client_async_waits_for_credentials);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(client_suite)
