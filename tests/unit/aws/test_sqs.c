/* sqs: request shapes and response handling against the scripted fixture
 * (the emulator tests in tests/integration/aws cover real behaviour). */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

struct env {
	struct fixture		*f;
	struct aws_credentials	*creds;
	struct event_base	*base;
	struct transport	*t;
};

struct wait {
	int			 done;
	int			 r;
	size_t			 n;
	struct queue_message	*msgs[10];
	int			 results[10];
};

static void
env_start(struct env *e, const char *routes, bool dlq)
{
	struct secret *s = secret_new("test-secret", 11);
	struct errctx ec;

	e->f = fixture_start(routes);
	e->base = event_base_new();
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .access_key_id = "AKIATEST",
	    .secret_access_key = s }, &e->creds, &ec), &ec);
	secret_free(s);
	ck_assert_ok(sqs_transport_new(e->base, &(struct sqs_options){ .region = "us-east-1",
	    .endpoint = e->f->url, .queue_url = "http://q/123/work", .dlq_url = dlq ? "http://q/123/dlq" : NULL },
	    e->creds, &e->t, &ec), &ec);
}

static void
env_stop(struct env *e)
{
	e->t->ops->free(e->t);
	aws_credentials_free(e->creds);
	event_base_free(e->base);
	fixture_free(e->f);
}

static void
recv_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct wait *w = arg;

	w->done++;
	w->r = r;
	w->n = n;
	if (n > 0)
		memcpy(w->msgs, msgs, n * sizeof *msgs);
}

static void
batch_cb(const int *results, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct wait *w = arg;

	w->done++;
	w->r = r;
	w->n = n;
	if (n > 0)
		memcpy(w->results, results, n * sizeof *results);
}

static void
run(struct env *e, struct wait *w)
{
	while (w->done == 0)
		event_base_loop(e->base, EVLOOP_ONCE);
	ck_assert_int_eq(w->done, 1);
}

static json_t *
sent(struct env *e, size_t i)
{
	json_t *log = fixture_requests(e->f);
	json_t *b = json_loads(json_string_value(json_object_get(json_array_get(log, i), "body")), 0, NULL);

	json_decref(log);
	ck_assert_ptr_nonnull(b);
	return b;
}

START_TEST(test_sqs_receive_parse)
{
	struct env e;
	struct wait w = { 0 };
	struct errctx ec;
	char md5[AWS_MD5_HEX_LEN + 1], *routes;
	json_t *req;

	aws_md5_hex("{\"a\":1}", 7, md5);
	routes = xasprintf("[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"Messages\": [{\"MessageId\": \"m-1\", \"ReceiptHandle\": \"rh-1\","
	    " \"MD5OfBody\": \"%s\", \"Body\": \"{\\\"a\\\":1}\", \"Attributes\": {\"ApproximateReceiveCount\": \"3\","
	    " \"SentTimestamp\": \"1767323045000\", \"ApproximateFirstReceiveTimestamp\": \"1767323046000\"},"
	    " \"MessageAttributes\": {\"trace\": {\"DataType\": \"String\", \"StringValue\": \"abc\"}}}]}},"
	    "{\"status\": 200, \"body\": \"\"},"
	    "{\"status\": 200, \"body\": {\"Messages\": [{\"MessageId\": \"m-2\", \"ReceiptHandle\": \"rh-2\","
	    " \"MD5OfBody\": \"00000000000000000000000000000000\", \"Body\": \"tampered\"}]}}]}]", md5);
	env_start(&e, routes, false);
	ck_assert_ok(e.t->ops->receive(e.t, 5, 20000000, 90000000, recv_cb, &w, &ec), &ec);
	ck_assert_int_eq(w.done, 0);	/* never inside the call */
	run(&e, &w);
	ck_assert_int_eq(w.r, 0);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_str_eq(w.msgs[0]->message_id, "m-1");
	ck_assert_str_eq(w.msgs[0]->receipt, "rh-1");
	ck_assert_str_eq(w.msgs[0]->body, "{\"a\":1}");
	ck_assert_uint_eq(w.msgs[0]->body_len, 7);
	ck_assert_uint_eq(w.msgs[0]->receive_count, 3);
	ck_assert_int_eq(w.msgs[0]->sent_usec, INT64_C(1767323045000000));
	ck_assert_int_eq(w.msgs[0]->first_receive_usec, INT64_C(1767323046000000));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(w.msgs[0]->attributes, "trace"),
	    "StringValue")), "abc");
	queue_message_free(w.msgs[0]);

	req = sent(&e, 0);
	ck_assert_str_eq(json_string_value(json_object_get(req, "QueueUrl")), "http://q/123/work");
	ck_assert_int_eq(json_integer_value(json_object_get(req, "MaxNumberOfMessages")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(req, "WaitTimeSeconds")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(req, "VisibilityTimeout")), 90);
	ck_assert_uint_eq(json_array_size(json_object_get(req, "MessageSystemAttributeNames")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(req, "AttributeNames")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(req, "MessageAttributeNames"), 0)), "All");
	json_decref(req);

	/* An empty 200 body (local-aws-sqs) is an empty poll. */
	memset(&w, 0, sizeof w);
	ck_assert_ok(e.t->ops->receive(e.t, 1, 0, 0, recv_cb, &w, &ec), &ec);
	run(&e, &w);
	ck_assert_int_eq(w.r, 0);
	ck_assert_uint_eq(w.n, 0);

	/* A body that does not match its MD5 fails the receive. */
	memset(&w, 0, sizeof w);
	ck_assert_ok(e.t->ops->receive(e.t, 1, 0, 0, recv_cb, &w, &ec), &ec);
	run(&e, &w);
	ck_assert_int_eq(w.r, -EPROTO);
	ck_assert_uint_eq(w.n, 0);

	ck_assert_err(e.t->ops->receive(e.t, 11, 0, 0, recv_cb, &w, &ec), -EINVAL, &ec);
	ck_assert_err(e.t->ops->reject(e.t, &(struct queue_message){ 0 }, "x", batch_cb, &w, &ec), -EINVAL, &ec);
	free(routes);
	env_stop(&e);
}
END_TEST

START_TEST(test_sqs_batches_and_reject)
{
	struct env e;
	struct wait w = { 0 };
	struct errctx ec;
	const char *receipts[3] = { "rh-0", "rh-1", "rh-2" };
	struct transport_visibility v[2] = { { "rh-0", 0 }, { "rh-1", 90500000 } };
	struct queue_message m = { xstrdup("m-9"), xstrdup("rh-9"), xstrdup("{\"bad\":true}"), 12, 4, 0, 0,
		json_pack("{s:{s:s, s:s}}", "trace", "DataType", "String", "StringValue", "t-1") };
	json_t *req, *attrs;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"Successful\": [{\"Id\": \"m0\"}], \"Failed\": ["
	    " {\"Id\": \"m1\", \"SenderFault\": true, \"Code\": \"ReceiptHandleIsInvalid\", \"Message\": \"x\"},"
	    " {\"Id\": \"m2\", \"SenderFault\": false, \"Code\": \"InternalError\", \"Message\": \"y\"}]}},"
	    "{\"status\": 200, \"body\": {\"Successful\": [{\"Id\": \"m0\"}, {\"Id\": \"m1\"}]}},"
	    "{\"status\": 200, \"body\": {\"MessageId\": \"dlq-1\"}},"
	    "{\"status\": 200, \"body\": {\"Successful\": [{\"Id\": \"m0\"}]}}]}]", true);
	ck_assert_ok(e.t->ops->delete_batch(e.t, receipts, 3, batch_cb, &w, &ec), &ec);
	run(&e, &w);
	ck_assert_int_eq(w.r, 0);
	ck_assert_int_eq(w.results[0], 0);
	ck_assert_int_eq(w.results[1], -ENOENT);
	ck_assert_int_eq(w.results[2], -EAGAIN);

	memset(&w, 0, sizeof w);
	ck_assert_ok(e.t->ops->change_visibility(e.t, v, 2, batch_cb, &w, &ec), &ec);
	run(&e, &w);
	ck_assert_int_eq(w.results[0], 0);
	ck_assert_int_eq(w.results[1], 0);
	req = sent(&e, 1);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(req, "Entries"), 1),
	    "VisibilityTimeout")), 91);	/* rounded up */
	json_decref(req);

	memset(&w, 0, sizeof w);
	ck_assert_ok(e.t->ops->reject(e.t, &m, "schema: field 'x' missing", batch_cb, &w, &ec), &ec);
	run(&e, &w);
	ck_assert_int_eq(w.r, 0);
	ck_assert_int_eq(w.results[0], 0);
	req = sent(&e, 2);
	ck_assert_str_eq(json_string_value(json_object_get(req, "QueueUrl")), "http://q/123/dlq");
	ck_assert_str_eq(json_string_value(json_object_get(req, "MessageBody")), "{\"bad\":true}");
	attrs = json_object_get(req, "MessageAttributes");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(attrs, "alchemiser.reject_reason"),
	    "StringValue")), "schema: field 'x' missing");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(attrs, "alchemiser.receive_count"),
	    "StringValue")), "4");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(attrs, "trace"), "StringValue")), "t-1");
	json_decref(req);
	req = sent(&e, 3);
	ck_assert_str_eq(json_string_value(json_object_get(req, "QueueUrl")), "http://q/123/work");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(req, "Entries"), 0),
	    "ReceiptHandle")), "rh-9");
	json_decref(req);
	json_decref(m.attributes);
	free(m.message_id);
	free(m.receipt);
	free(m.body);
	env_stop(&e);
}
END_TEST

START_TEST(test_sqs_preflight_info)
{
	struct env e;
	struct sqs_queue_info info;
	struct errctx ec;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"Attributes\": {\"VisibilityTimeout\": \"45\","
	    " \"MaximumMessageSize\": \"262144\", \"QueueArn\": \"arn:aws:sqs:us-east-1:1:work\","
	    " \"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:1:dlq\\\",\\\"maxReceiveCount\\\":5}\"}}},"
	    "{\"status\": 400, \"headers\": {\"x-amzn-query-error\": \"AWS.SimpleQueueService.NonExistentQueue;Sender\"},"
	    " \"body\": {\"__type\": \"com.amazonaws.sqs#QueueDoesNotExist\"}}]}]", true);
	ck_assert_int_eq(sqs_transport_queue_info(e.t, &info), -ENOENT);
	/* The DLQ is checked too: here it does not exist. */
	ck_assert_err(e.t->ops->preflight(e.t, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "dead-letter"));
	env_stop(&e);
	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"Attributes\": {\"VisibilityTimeout\": \"45\","
	    " \"MaximumMessageSize\": \"262144\", \"QueueArn\": \"arn:aws:sqs:us-east-1:1:work\","
	    " \"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:1:dlq\\\",\\\"maxReceiveCount\\\":5}\"}}}]}]",
	    false);
	ck_assert_ok(e.t->ops->preflight(e.t, &ec), &ec);
	ck_assert_int_eq(sqs_transport_queue_info(e.t, &info), 0);
	ck_assert_int_eq(info.visibility_timeout_usec, INT64_C(45000000));
	ck_assert_int_eq(info.maximum_message_size, 262144);
	ck_assert_uint_eq(info.max_receive_count, 5);
	ck_assert_str_eq(info.dead_letter_target_arn, "arn:aws:sqs:us-east-1:1:dlq");
	env_stop(&e);
}
END_TEST

static Suite *
sqs_suite(void)
{
	Suite *s = suite_create("sqs");
	TCase *tc = tcase_create("transport");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sqs_receive_parse);
	tcase_add_test(tc, test_sqs_batches_and_reject);
	tcase_add_test(tc, test_sqs_preflight_info);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(sqs_suite)
