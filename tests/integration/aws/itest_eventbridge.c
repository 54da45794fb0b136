/* EventBridge bus against moto: PutEvents through a rule into an SQS queue.
 * PutEvents has no idempotency token: when a call times out (moto on a loaded
 * machine) or answers 5xx after taking the events, the client's retry posts
 * the batch again, so the queue may hold an event twice (a run saw 20 messages
 * for 12 events: the second receive of 10 held at least 8 repeats, a whole
 * 10-entry batch posted twice). The daemon's consumers dedupe by event id;
 * this test asserts each event arrives at least once and nothing else does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/eventbridge.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/core/xalloc.h"
#include "../../unit/helpers.h"
#include "itest.h"

static struct bus *
make_bus(struct aws_credentials *creds, const char *name)
{
	struct bus *b;
	struct errctx ec;

	/* Moto routes PutEvents to its targets before it answers: on a loaded
	 * machine that took over the default 10 s per call (3 timed-out attempts
	 * failed the publish). A generous, bounded wait for the emulator. */
	ck_assert_ok(eventbridge_bus_new(&(struct eventbridge_options){ .region = "us-east-1",
	    .endpoint = itest_env("ALC_ENDPOINT"), .bus_name = name,
	    .timeout_usec = 60 * 1000000 }, creds, &b, &ec), &ec);
	return b;
}

struct got {
	int	 done;
	size_t	 n;
	int	 r;
	char	*bodies[10];
	char	*receipts[10];
};

static void
recv_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct got *g = arg;
	size_t i;

	g->done = 1;
	g->r = r;
	g->n = n;
	for (i = 0; i < n; i++) {
		g->bodies[i] = xstrdup(msgs[i]->body);
		g->receipts[i] = xstrdup(msgs[i]->receipt);
		queue_message_free(msgs[i]);
	}
}

static void
del_cb(const int *results, size_t n, int r, const struct errctx *ec, void *arg)
{
	*(int *)arg = 1;
}

START_TEST(test_itest_eventbridge_routes)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct bus *b = make_bus(creds, itest_env("ALC_BUS"));
	struct bus *missing = make_bus(creds, "no-such-bus");
	struct event_base *base = event_base_new();
	struct transport *t;
	struct bus_entry e[13];
	char details[12][64];
	int arrived[12] = { 0 };
	struct errctx ec;
	size_t i, seen = 0, messages = 0;
	int polls;

	ck_assert_ok(b->ops->preflight(b, &ec), &ec);
	ck_assert_err(missing->ops->preflight(missing, &ec), -ENOENT, &ec);
	for (i = 0; i < 12; i++) {
		(void)snprintf(details[i], sizeof details[i],
		    "{\"strategy\":\"core\",\"qty\":\"3\",\"n\":%zu}", i);
		e[i] = (struct bus_entry){ .source = "alchemiser.test", .detail_type = "SignalGenerated",
		    .detail = details[i] };
	}
	ck_assert_ok(b->ops->publish(b, e, 12, &ec), &ec);
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(e[i].result, 0);
	/* Detail that is not a JSON object: a permanent per-entry failure. */
	e[0].detail = "not json";
	ck_assert_err(b->ops->publish(b, e, 1, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(e[0].error, "MalformedDetail"));

	ck_assert_ok(sqs_transport_new(base, &(struct sqs_options){ .region = "us-east-1",
	    .endpoint = itest_env("ALC_ENDPOINT"), .queue_url = itest_env("ALC_ROUTED_URL") }, creds,
	    &t, &ec), &ec);
	for (polls = 0; polls < 20 && seen < 12; polls++) {
		struct got g = { 0 };
		int deleted = 0;

		ck_assert_ok(t->ops->receive(t, 10, 1000000, 30000000, recv_cb, &g, &ec), &ec);
		while (!g.done)
			event_base_loop(base, EVLOOP_ONCE);
		ck_assert_int_eq(g.r, 0);
		for (i = 0; i < g.n; i++) {
			json_t *ev = json_loads(g.bodies[i], 0, NULL);
			json_int_t n;

			/* The bus wraps our detail in the event envelope. */
			ck_assert_str_eq(json_string_value(json_object_get(ev, "source")), "alchemiser.test");
			ck_assert_str_eq(json_string_value(json_object_get(ev, "detail-type")), "SignalGenerated");
			ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "detail"), "qty")), "3");
			n = json_integer_value(json_object_get(json_object_get(ev, "detail"), "n"));
			ck_assert_msg(json_is_integer(json_object_get(json_object_get(ev, "detail"), "n")) &&
			    n >= 0 && n < 12, "not one of the events published: %s", g.bodies[i]);
			if (arrived[n]++ == 0)
				seen++;
			json_decref(ev);
		}
		if (g.n > 0) {
			ck_assert_ok(t->ops->delete_batch(t, (const char *const *)g.receipts, g.n, del_cb,
			    &deleted, &ec), &ec);
			while (!deleted)
				event_base_loop(base, EVLOOP_ONCE);
		}
		for (i = 0; i < g.n; i++) {
			free(g.bodies[i]);
			free(g.receipts[i]);
		}
		messages += g.n;
	}
	/* Every event arrived (at least once); repeats only from retried calls. */
	ck_assert_msg(seen == 12, "%zu of 12 events arrived (%zu messages)", seen, messages);
	t->ops->free(t);
	b->ops->free(b);
	missing->ops->free(missing);
	event_base_free(base);
	aws_credentials_free(creds);
}
END_TEST

TCase *
itest_eventbridge_tcase(void)
{
	TCase *tc = tcase_create("eventbridge");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_itest_eventbridge_routes);
	return tc;
}
