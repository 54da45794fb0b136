/* SQS transport against a real emulator (moto with signatures checked, or
 * local-aws-sqs). Driven by tests/integration/aws/{moto,local-sqs}.sh. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../../unit/helpers.h"
#include "itest.h"

struct wait {
	int			 done;
	int			 r;
	size_t			 n;
	struct queue_message	*msgs[10];
	int			 results[10];
	char			 msg[512];
};

static void
recv_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct wait *w = arg;
	size_t i;

	w->done++;
	w->r = r;
	w->n = n;
	for (i = 0; i < n; i++)
		w->msgs[i] = msgs[i];
	snprintf(w->msg, sizeof w->msg, "%s", errctx_msg(ec));
}

static void
batch_cb(const int *results, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct wait *w = arg;

	w->done++;
	w->r = r;
	w->n = n;
	memcpy(w->results, results, n * sizeof *results);
	snprintf(w->msg, sizeof w->msg, "%s", errctx_msg(ec));
}

static void
run_until(struct event_base *base, struct wait *w)
{
	while (w->done == 0)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_int_eq(w->done, 1);
}

static struct transport *
make(struct event_base *base, struct aws_credentials *creds, const char *queue_url)
{
	struct transport *t;
	struct errctx ec;

	ck_assert_ok(sqs_transport_new(base, &(struct sqs_options){ .region = "us-east-1",
	    .endpoint = itest_env("ALC_ENDPOINT"), .queue_url = queue_url,
	    .dlq_url = getenv("ALC_DLQ_URL") }, creds, &t, &ec), &ec);
	return t;
}

/* Receive until n messages arrived (emulators may hand them out in parts). */
static size_t
receive_n(struct event_base *base, struct transport *t, size_t want, struct queue_message **out)
{
	size_t got = 0, i;
	int polls;
	struct errctx ec;

	for (polls = 0; polls < 10 && got < want; polls++) {
		struct wait w = { 0 };

		ck_assert_ok(t->ops->receive(t, 10, 2000000, 30000000, recv_cb, &w, &ec), &ec);
		run_until(base, &w);
		ck_assert_msg(w.r == 0, "receive: %s", w.msg);
		for (i = 0; i < w.n; i++) {
			ck_assert_uint_lt(got, want);
			out[got++] = w.msgs[i];
		}
	}
	return got;
}

START_TEST(test_itest_sqs_flow)
{
	struct event_base *base = event_base_new();
	struct aws_credentials *creds = itest_creds(NULL);
	struct transport *t = make(base, creds, itest_env("ALC_QUEUE_URL"));
	struct sqs_queue_info info;
	struct queue_message *m[4] = { 0 }, *cli = NULL;
	struct errctx ec;
	struct wait w = { 0 };
	size_t got, i;
	const char *receipts[2];
	char id[TRANSPORT_ID_MAX] = "";
	bool seen_id = false;
	bool is_moto = strcmp(itest_env("ALC_ITEST"), "moto") == 0;

	ck_assert_ok(t->ops->preflight(t, &ec), &ec);
	ck_assert_ok(sqs_transport_queue_info(t, &info), &ec);
	if (is_moto) {
		ck_assert_int_eq(info.visibility_timeout_usec, INT64_C(30) * 1000000);
		ck_assert_uint_eq(info.max_receive_count, 5);
		ck_assert_str_eq(info.dead_letter_target_arn, "arn:aws:sqs:us-east-1:123456789012:dlq");
	}
	ck_assert_ok(t->ops->send(t, "{\"n\":1}", NULL, &ec), &ec);
	ck_assert_ok(t->ops->send(t, "{\"n\":2,\"text\":\"caf\u00e9 \\u2603\"}", id, &ec), &ec);

	/* The CLI's message (moto script) plus ours. */
	got = receive_n(base, t, is_moto ? 3 : 2, m);
	ck_assert_uint_eq(got, is_moto ? 3 : 2);
	for (i = 0; i < got; i++) {
		ck_assert_uint_ge(m[i]->receive_count, 1);
		ck_assert_int_gt(m[i]->sent_usec, INT64_C(1700000000) * 1000000);
		seen_id |= strcmp(m[i]->message_id, id) == 0;
		if (strstr(m[i]->body, "cli") != NULL) {
			cli = m[i];
			ck_assert_ptr_nonnull(cli->attributes);
			ck_assert_str_eq(json_string_value(json_object_get(json_object_get(cli->attributes,
			    "kind"), "StringValue")), "cli");
		}
	}
	ck_assert(!is_moto || cli != NULL);
	/* send() reported the id the queue gave the message. */
	ck_assert_uint_gt(strlen(id), 0);
	ck_assert(seen_id);

	/* Visibility: back to 0 for the first one, it comes back. */
	ck_assert_ok(t->ops->change_visibility(t, &(struct transport_visibility){ m[0]->receipt, 0 }, 1,
	    batch_cb, &w, &ec), &ec);
	run_until(base, &w);
	ck_assert_msg(w.r == 0 && w.results[0] == 0, "visibility: %d %d %s", w.r, w.results[0], w.msg);
	memset(&w, 0, sizeof w);
	ck_assert_uint_eq(receive_n(base, t, 1, &m[3]), 1);
	ck_assert_str_eq(m[3]->message_id, m[0]->message_id);
	ck_assert_uint_ge(m[3]->receive_count, 2);

	/* Park one in the DLQ (read back by the CLI in the script). */
	ck_assert_ok(t->ops->reject(t, m[1], "parked by itest: schema", batch_cb, &w, &ec), &ec);
	run_until(base, &w);
	ck_assert_msg(w.r == 0 && w.results[0] == 0, "reject: %d %s", w.r, w.msg);
	memset(&w, 0, sizeof w);

	/* Delete: one good receipt, one bogus: per-entry results. */
	receipts[0] = m[3]->receipt;
	receipts[1] = "bogus-receipt-handle";
	ck_assert_ok(t->ops->delete_batch(t, receipts, 2, batch_cb, &w, &ec), &ec);
	run_until(base, &w);
	ck_assert_msg(w.r == 0, "delete: %s", w.msg);
	ck_assert_int_eq(w.results[0], 0);
	ck_assert_int_lt(w.results[1], 0);
	memset(&w, 0, sizeof w);
	for (i = 2; i < got; i++) {
		receipts[0] = m[i]->receipt;
		ck_assert_ok(t->ops->delete_batch(t, receipts, 1, batch_cb, &w, &ec), &ec);
		run_until(base, &w);
		ck_assert_int_eq(w.results[0], 0);
		memset(&w, 0, sizeof w);
	}
	for (i = 0; i < 4; i++)
		queue_message_free(m[i]);

	/* An empty long poll, then one "cancelled" mid-poll: SQS cannot recall a
	 * ReceiveMessage, so the poll runs on and hands over what arrives (for the
	 * caller to release) instead of leaving it hidden behind a dropped request. */
	ck_assert_ok(t->ops->receive(t, 1, 1000000, 30000000, recv_cb, &w, &ec), &ec);
	run_until(base, &w);
	ck_assert_int_eq(w.r, 0);
	ck_assert_uint_eq(w.n, 0);
	memset(&w, 0, sizeof w);
	ck_assert_ok(t->ops->receive(t, 1, 5000000, 30000000, recv_cb, &w, &ec), &ec);
	/* A second receive while one is outstanding is refused. */
	ck_assert_err(t->ops->receive(t, 1, 0, 0, recv_cb, &w, &ec), -EBUSY, &ec);
	event_base_loop(base, EVLOOP_NONBLOCK);
	t->ops->cancel_receive(t);
	ck_assert_ok(t->ops->send(t, "{\"during\":\"cancel\"}", NULL, &ec), &ec);
	run_until(base, &w);
	ck_assert_msg(w.r == 0, "cancelled poll: %s", w.msg);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_str_eq(w.msgs[0]->body, "{\"during\":\"cancel\"}");
	receipts[0] = w.msgs[0]->receipt;
	{
		struct wait d = { 0 };

		ck_assert_ok(t->ops->delete_batch(t, receipts, 1, batch_cb, &d, &ec), &ec);
		run_until(base, &d);
		ck_assert_int_eq(d.results[0], 0);
	}
	queue_message_free(w.msgs[0]);
	memset(&w, 0, sizeof w);

	/* free() with a poll outstanding completes it once. */
	memset(&w, 0, sizeof w);
	ck_assert_ok(t->ops->receive(t, 1, 20000000, 30000000, recv_cb, &w, &ec), &ec);
	event_base_loop(base, EVLOOP_NONBLOCK);
	t->ops->free(t);
	ck_assert_int_eq(w.done, 1);
	ck_assert_int_eq(w.r, -ECANCELED);
	aws_credentials_free(creds);
	event_base_free(base);
}
END_TEST

START_TEST(test_itest_sqs_failures)
{
	struct event_base *base = event_base_new();
	struct aws_credentials *creds = itest_creds(NULL);
	struct aws_credentials *bad = itest_creds("wrong-secret");
	char *missing = xasprintf("%s-missing", itest_env("ALC_QUEUE_URL"));
	struct transport *t;
	struct errctx ec;

	t = make(base, creds, missing);
	ck_assert_err(t->ops->preflight(t, &ec), -ENOENT, &ec);
	t->ops->free(t);
	if (strcmp(itest_env("ALC_ITEST"), "moto") == 0) {
		/* Signature checked for real: a wrong secret is -EACCES at once. */
		t = make(base, bad, itest_env("ALC_QUEUE_URL"));
		ck_assert_err(t->ops->preflight(t, &ec), -EACCES, &ec);
		ck_assert_ptr_nonnull(strstr(ec.msg, "SignatureDoesNotMatch"));
		ck_assert_ptr_null(strstr(ec.msg, "wrong-secret"));
		t->ops->free(t);
	}
	free(missing);
	aws_credentials_free(creds);
	aws_credentials_free(bad);
	event_base_free(base);
}
END_TEST

TCase *
itest_sqs_tcase(void)
{
	TCase *tc = tcase_create("sqs");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_itest_sqs_flow);
	tcase_add_test(tc, test_itest_sqs_failures);
	return tc;
}
