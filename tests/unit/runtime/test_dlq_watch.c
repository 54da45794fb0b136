/*
 * test_dlq_watch: the pure rules of the dead-letter watch (runtime/dlq_watch.h):
 * its claim key never collides with an event id, the reason a run is ended
 * with, which messages are its, and what follows each outcome of
 * pipeline_end_parked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/events/ids.h"
#include "alchemiser/runtime/dlq_watch.h"
#include "../helpers.h"

START_TEST(test_dlq_watch_key_is_no_event_id)
{
	char *k = dlq_watch_key("b700cff5-0e0c-4c52-9606-30ab2d69427e", INT64_C(1765000000123) * 1000);
	struct errctx ec = { 0 };

	ck_assert_str_eq(k, "dlq-watch b700cff5-0e0c-4c52-9606-30ab2d69427e 1765000000123");
	/* The router refuses such an id, so no event's claim can be this record. */
	ck_assert_int_lt(ids_check("event_id", k, IDS_MAX_LEN, &ec), 0);
	ck_assert_int_lt(ids_check("correlation_id", k, IDS_MAX_LEN, &ec), 0);
	free(k);
}
END_TEST

START_TEST(test_dlq_watch_key_differs_per_parking)
{
	char *a = dlq_watch_key("m-1", 1000 * USEC_PER_MSEC);
	char *b = dlq_watch_key("m-1", 2000 * USEC_PER_MSEC);
	char *c = dlq_watch_key("m-2", 1000 * USEC_PER_MSEC);

	/* The same message sent again (a redrive that keeps the id) is another parking. */
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(a, c);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_dlq_watch_why_names_receives)
{
	char buf[256];

	dlq_watch_why(buf, sizeof buf, 5);
	ck_assert_str_eq(buf, "parked by SQS after 5 receives: the daemon handling it stopped each "
	    "time (killed or crashed)");
	dlq_watch_why(buf, sizeof buf, 0);
	ck_assert_ptr_nonnull(strstr(buf, "last permitted receive"));
	/* Cut, never overrun. */
	dlq_watch_why(buf, 12, 5);
	ck_assert_uint_eq(strlen(buf), 11);
}
END_TEST

START_TEST(test_dlq_watch_wanted_skips_daemon_parked)
{
	ck_assert(dlq_watch_wanted(NULL, NULL));
	/* Parked by a daemon: its reason and original id are on it, its run was ended then. */
	ck_assert(!dlq_watch_wanted("router: no handler", "m-0"));
	ck_assert(!dlq_watch_wanted("x", NULL));
	ck_assert(!dlq_watch_wanted(NULL, "m-0"));
}
END_TEST

START_TEST(test_dlq_watch_settled_by_outcome)
{
	/* Done for good: recorded, the watcher's claim completed. */
	ck_assert(dlq_watch_settled(PIPELINE_PARKED_ENDED));
	ck_assert(dlq_watch_settled(PIPELINE_PARKED_COMPLETED));
	ck_assert(dlq_watch_settled(PIPELINE_PARKED_NO_RUN));
	/* Not yet: the claim released, a later sweep asks again. */
	ck_assert(!dlq_watch_settled(PIPELINE_PARKED_HELD));
	ck_assert(!dlq_watch_settled(PIPELINE_PARKED_RETRY));
	ck_assert(!dlq_watch_settled(_PIPELINE_PARKED_MAX));
}
END_TEST

static Suite *
dlq_watch_suite(void)
{
	Suite *s = suite_create("dlq_watch");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, test_dlq_watch_key_is_no_event_id);
	tcase_add_test(tc, test_dlq_watch_key_differs_per_parking);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_test(tc, test_dlq_watch_why_names_receives);
	tcase_add_test(tc, test_dlq_watch_wanted_skips_daemon_parked);
	tcase_add_test(tc, test_dlq_watch_settled_by_outcome);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(dlq_watch_suite());
}
