/*
 * test_once: what --once waits for and the exit code it ends with, from the
 * outcomes of the messages it handled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/router/route.h"
#include "alchemiser/runtime/once.h"
#include "../helpers.h"

/* A TradingNotificationRequested body as the bus delivers it. */
static char *
notify_body(const char *corr, bool success)
{
	return xasprintf("{\"detail-type\":\"TradingNotificationRequested\",\"source\":"
	    "\"alchemiser.notifications\",\"detail\":{\"event_id\":\"n-%s\",\"correlation_id\":\"%s\","
	    "\"causation_id\":\"c\",\"event_type\":\"TradingNotificationRequested\",\"timestamp\":"
	    "\"2026-11-23T15:45:12Z\",\"source_module\":\"test\",\"trading_success\":%s,"
	    "\"trading_mode\":\"PAPER\",\"orders_placed\":1,\"orders_succeeded\":%d,"
	    "\"total_trade_value\":\"1.00\",\"execution_data\":{}}}", corr, corr,
	    success ? "true" : "false", success ? 1 : 0);
}

static void
see(struct once_tracker *t, enum outcome o, const char *handler, const char *corr, const char *body)
{
	struct once_observation ob = {
		.outcome = o, .handler = handler, .correlation_id = corr,
		.body = body, .body_len = body != NULL ? strlen(body) : 0,
	};

	once_observe(t, &ob);
}

START_TEST(test_once_body_routes)
{
	char *b = notify_body("r1", true);
	struct route *rt = route_message(b, strlen(b), NULL);

	/* The fixture must be a real notification, or the tests below prove nothing. */
	ck_assert_msg(!rt->rejected, "%s", rt->reason);
	ck_assert_str_eq(rt->handler, "notify");
	route_free(rt);
	free(b);
}
END_TEST

START_TEST(test_once_nothing_done_is_success)
{
	struct once_tracker *t = once_tracker_new();

	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_OK);
	/* A copy of a command that already ran starts nothing to wait for. */
	see(t, OUTCOME_DUPLICATE, "start", "r0", "{\"mode\":\"trade\"}");
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_OK);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_success_after_trading_mail)
{
	struct once_tracker *t = once_tracker_new();
	char *b = notify_body("r1", true);
	const char *steps[] = { "start", "signals", "portfolio", "execution", "monitor" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(steps); i++) {
		see(t, OUTCOME_DONE, steps[i], "r1", "{}");
		ck_assert_uint_eq(once_unfinished(t), 1);
		ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_TIMEOUT);
	}
	see(t, OUTCOME_DONE, "completed", "r1", "{}");
	ck_assert_uint_eq(once_unfinished(t), 1);
	see(t, OUTCOME_DONE, "notify", "r1", b);
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_OK);
	free(b);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_failed_trade_waits_for_error_mail)
{
	struct once_tracker *t = once_tracker_new();
	char *b = notify_body("r2", false);

	see(t, OUTCOME_DONE, "execution", "r2", "{}");
	/* The failed trade's trading mail first: still waiting for the error mail. */
	see(t, OUTCOME_DONE, "notify", "r2", b);
	ck_assert_uint_eq(once_unfinished(t), 1);
	see(t, OUTCOME_DONE, "errors", "r2", "{}");
	ck_assert_uint_eq(once_unfinished(t), 1);
	see(t, OUTCOME_DONE, "error-mail", "r2", "{}");
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_RUN_FAILED);
	free(b);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_failure_seen_before_success_mail)
{
	struct once_tracker *t = once_tracker_new();
	char *b = notify_body("r3", true);

	see(t, OUTCOME_DONE, "signals", "r3", "{}");
	see(t, OUTCOME_DONE, "errors", "r3", "{}");
	/* A trading mail saying success cannot end a run that failed. */
	see(t, OUTCOME_DONE, "notify", "r3", b);
	ck_assert_uint_eq(once_unfinished(t), 1);
	see(t, OUTCOME_DUPLICATE, "error-mail", "r3", "{}");
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_RUN_FAILED);
	free(b);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_ending_steps_alone_start_nothing)
{
	struct once_tracker *t = once_tracker_new();
	char *b = notify_body("other", true);

	see(t, OUTCOME_DONE, "notify", "other", b);
	see(t, OUTCOME_DONE, "error-mail", "other2", "{}");
	see(t, OUTCOME_DONE, "completed", "other3", "{}");
	see(t, OUTCOME_DONE, "pnl", "other4", "{}");
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_OK);
	free(b);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_rejected)
{
	struct once_tracker *t = once_tracker_new();

	see(t, OUTCOME_REJECT, NULL, NULL, "not json");
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_REJECTED);
	/* A parked stage message ends its run: nothing more can come. */
	see(t, OUTCOME_DONE, "start", "r4", "{}");
	see(t, OUTCOME_REJECT, "signals", "r4", "{\"x\":1}");
	ck_assert_uint_eq(once_unfinished(t), 0);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_REJECTED);
	/* A failed run outranks a rejected message. */
	see(t, OUTCOME_DONE, "errors", "r5", "{}");
	see(t, OUTCOME_DONE, "error-mail", "r5", "{}");
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_RUN_FAILED);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_retry_is_waited_for)
{
	struct once_tracker *t = once_tracker_new();
	char *list;

	/* A run-less retry: followed by its body until it is delivered again. */
	see(t, OUTCOME_RETRY, "start", NULL, "{\"mode\":\"trade\"}");
	ck_assert_uint_eq(once_unfinished(t), 1);
	list = once_unfinished_list(t, 5);
	ck_assert_ptr_nonnull(strstr(list, "message body"));
	free(list);
	see(t, OUTCOME_RETRY, "start", NULL, "{\"mode\":\"trade\"}");
	ck_assert_uint_eq(once_unfinished(t), 1);
	see(t, OUTCOME_DONE, "start", "r6", "{\"mode\":\"trade\"}");
	/* The body is handled; the run it started is now what is waited for. */
	ck_assert_uint_eq(once_unfinished(t), 1);
	list = once_unfinished_list(t, 5);
	ck_assert_str_eq(list, "r6");
	free(list);
	/* A retried stage message keeps its run open. */
	see(t, OUTCOME_RETRY, "execution", "r6", "{}");
	ck_assert_uint_eq(once_unfinished(t), 1);
	ck_assert_int_eq(once_exit_code(t), ONCE_EXIT_TIMEOUT);
	once_tracker_free(t);
}
END_TEST

START_TEST(test_once_unfinished_list_is_bounded)
{
	struct once_tracker *t = once_tracker_new();
	char id[16], *list;
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "run%d", i);
		see(t, OUTCOME_DONE, "start", id, "{}");
	}
	list = once_unfinished_list(t, 3);
	ck_assert_str_eq(list, "run0, run1, run2, ...");
	free(list);
	once_tracker_free(t);
}
END_TEST

static Suite *
once_suite(void)
{
	Suite *s = suite_create("once");
	TCase *tc = tcase_create("runs");

	tcase_add_test(tc, test_once_body_routes);
	tcase_add_test(tc, test_once_nothing_done_is_success);
	tcase_add_test(tc, test_once_success_after_trading_mail);
	tcase_add_test(tc, test_once_failed_trade_waits_for_error_mail);
	tcase_add_test(tc, test_once_failure_seen_before_success_mail);
	tcase_add_test(tc, test_once_ending_steps_alone_start_nothing);
	tcase_add_test(tc, test_once_rejected);
	tcase_add_test(tc, test_once_retry_is_waited_for);
	tcase_add_test(tc, test_once_unfinished_list_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(once_suite());
}
