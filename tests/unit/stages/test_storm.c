/*
 * test_storm: the error-mail storm guard through the errors stage, on a real
 * SQLite idempotency store: distinct runs counted once, the runs over the
 * limit listed in one summary held until their minute is over, and (issue
 * #17) the list kept in the store, so that after a restart (a new process:
 * a fresh guard, the store reopened) the summary still names every listed
 * run, once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/local/sqlite_idem.h"
#include "alchemiser/router/route.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/stages/stage.h"
#include "alchemiser/stages/storm.h"
#include "alchemiser/stages/storm_store.h"
#include "../helpers.h"

#define SEC INT64_C(1000000)
/* 10 s into a minute. */
#define T0 ((INT64_C(1767323040) + 10) * SEC)
#define MINUTE0 (INT64_C(1767323040) / 60)

static char *dir, *path;
static struct idem_store *is;
static struct storm_guard *guard;
static struct config *cfg;

static void
open_store(void)
{
	struct sqlite_idem_options o = { .path = path };
	struct errctx ec;

	ck_assert_ok(sqlite_idem_new(&o, &is, &ec), &ec);
}

static void
setup(void)
{
	struct errctx ec;

	dir = test_tmpdir();
	path = xasprintf("%s/state.sqlite", dir);
	open_store();
	guard = storm_guard_new();
	ck_assert_ok(config_load_string("[daemon]\nerror_storm_limit = 2\n", "test", dir, NULL, &cfg,
	    &ec), &ec);
}

static void
teardown(void)
{
	storm_guard_free(guard);
	is->ops->free(is);
	config_unref(cfg);
	for (const char *const *x = (const char *const[]){ "", "-wal", "-shm", NULL }; *x; x++) {
		_cleanup_free_ char *f = xasprintf("%s%s", path, *x);

		(void)unlink(f);
	}
	(void)rmdir(dir);
	free(path);
	free(dir);
}

/* A restart: this process's guard is gone, the state file stays. */
static void
restart(void)
{
	storm_guard_free(guard);
	guard = storm_guard_new();
	is->ops->free(is);
	open_store();
}

/* One WorkflowFailed of run (event id eid) through the errors stage at now. */
static void
fail_run(const char *eid, const char *run, int64_t now, struct stage_output *out)
{
	_cleanup_free_ char *body = xasprintf("{\"detail-type\":\"WorkflowFailed\",\"source\":"
	    "\"alchemiser.execution\",\"detail\":{\"event_id\":\"%s\",\"correlation_id\":\"%s\","
	    "\"causation_id\":\"cause\",\"event_type\":\"WorkflowFailed\",\"timestamp\":"
	    "\"2026-01-02T03:04:05Z\",\"source_module\":\"execution_v2.handlers\",\"workflow_type\":"
	    "\"trading\",\"failure_reason\":\"broker refused\",\"failure_step\":\"trade_execution\"}}",
	    eid, run);
	struct route *r = route_message(body, strlen(body), NULL);
	struct stage_ctx ctx = {
		.cfg = cfg, .in = r, .owner = "testhost:4242:1", .now_usec = now,
		.storm = guard, .idem = is,
	};

	ck_assert_msg(!r->rejected, "route: %s", r->reason);
	ctx.key = r->idempotency_key;
	memset(out, 0, sizeof *out);
	stage_find("errors")->handle(&ctx, out);
	route_free(r);
}

static const char *
report_of(const struct stage_output *out)
{
	ck_assert_uint_eq(out->n_events, 1);
	ck_assert_int_eq(out->events[0]->type, EVENT_ERROR_NOTIFICATION_REQUESTED);
	return json_string_value(domain_event_get(out->events[0], "error_report"));
}

/* How many lines of report start with "<run> (". */
static int
listed(const char *report, const char *run)
{
	_cleanup_free_ char *needle = xasprintf("\n%s (", run);
	const char *p = report;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* r1 and r2 are mailed, r3 carries the summary (held), r4 and r5 are listed. */
static void
storm(void)
{
	struct stage_output out;
	char eid[32], run[16];

	for (int i = 1; i <= 5; i++) {
		(void)snprintf(eid, sizeof eid, "wf-%d-a", i);
		(void)snprintf(run, sizeof run, "r%d", i);
		fail_run(eid, run, T0 + i * SEC, &out);
		if (i <= 2) {
			ck_assert_int_eq(out.outcome, OUTCOME_DONE);
			ck_assert_ptr_nonnull(strstr(report_of(&out), "Correlation:  r"));
		} else if (i == 3) {
			ck_assert_msg(out.outcome == OUTCOME_RETRY && out.hold_usec > 0 &&
			    !out.dependency_failure, "the bearer is held: %s", out.reason);
			ck_assert_uint_eq(out.n_events, 0);
		} else {
			ck_assert_msg(out.outcome == OUTCOME_DONE, "%s", out.reason);
			ck_assert_uint_eq(out.n_events, 0);
		}
		stage_output_clear(&out);
	}
	/* A second failure of a listed run, and of a mailed one: nothing new. */
	fail_run("wf-4-b", "r4", T0 + 6 * SEC, &out);
	ck_assert_int_eq(out.outcome, OUTCOME_DONE);
	ck_assert_uint_eq(out.n_events, 0);
	stage_output_clear(&out);
	fail_run("wf-2-b", "r2", T0 + 6 * SEC, &out);
	ck_assert_int_eq(out.outcome, OUTCOME_DONE);
	ck_assert_ptr_nonnull(strstr(report_of(&out), "Correlation:  r2"));
	stage_output_clear(&out);
}

/* The bearer r3 back after the minute: one summary naming r3, r4, r5 once. */
static void
check_summary(char *id, size_t id_size)
{
	struct stage_output out;
	const char *rep;

	fail_run("wf-3-a", "r3", (MINUTE0 + 1) * 60 * SEC + 2 * SEC, &out);
	ck_assert_msg(out.outcome == OUTCOME_DONE, "%s", out.reason);
	rep = report_of(&out);
	ck_assert_int_eq(listed(rep, "r3"), 1);
	ck_assert_int_eq(listed(rep, "r4"), 1);
	ck_assert_int_eq(listed(rep, "r5"), 1);
	ck_assert_int_eq(listed(rep, "r1"), 0);
	ck_assert_int_eq(listed(rep, "r2"), 0);
	ck_assert_str_eq(json_string_value(domain_event_get(out.events[0], "error_title")),
	    "Error storm: 3 failed runs not mailed one by one");
	(void)snprintf(id, id_size, "%s", out.events[0]->event_id);
	stage_output_clear(&out);
}

START_TEST(test_storm_summary_in_one_process)
{
	char id[64];

	storm();
	check_summary(id, sizeof id);
}
END_TEST

START_TEST(test_storm_summary_after_restart)
{
	struct stage_output out;
	char id[64], again[64];

	storm();
	restart();
	/* Redelivered before its minute is over: still held, not mailed on its own. */
	fail_run("wf-3-a", "r3", T0 + 20 * SEC, &out);
	ck_assert_msg(out.outcome == OUTCOME_RETRY && out.hold_usec > 0, "%s", out.reason);
	ck_assert_uint_eq(out.n_events, 0);
	stage_output_clear(&out);
	/* A listed run redelivered after the restart gets no mail of its own. */
	fail_run("wf-5-a", "r5", T0 + 21 * SEC, &out);
	ck_assert_int_eq(out.outcome, OUTCOME_DONE);
	ck_assert_uint_eq(out.n_events, 0);
	stage_output_clear(&out);
	check_summary(id, sizeof id);
	/* Sent again (a redelivery before its completion): the same event id,
	 * which the error-mail stage delivers once. */
	restart();
	check_summary(again, sizeof again);
	ck_assert_str_eq(id, again);
}
END_TEST

/* A kill between a run's slot and its mark lists it twice in the store; the
 * summary names it once. */
START_TEST(test_storm_duplicate_slot_named_once)
{
	struct errctx ec;
	char id[64];

	storm();
	errctx_clear(&ec);
	ck_assert_ok(storm_store_note(is, MINUTE0, "r4", "(trade_execution: broker refused)", false,
	    "testhost:1:1", T0 + 30 * SEC, 86400 * SEC, &ec), &ec);
	restart();
	check_summary(id, sizeof id);
}
END_TEST

/* Slots are taken in order without gaps, past several powers of two. */
START_TEST(test_storm_store_slots_in_order)
{
	struct errctx ec;
	char **lines = NULL, run[16], want[64];
	size_t n = 0, i;
	int64_t minute = 0;
	bool bearer = true;

	errctx_clear(&ec);
	for (i = 1; i <= 37; i++) {
		(void)snprintf(run, sizeof run, "s%zu", i);
		ck_assert_ok(storm_store_note(is, MINUTE0, run, "(x: y)", i == 1, "testhost:1:1",
		    T0, 86400 * SEC, &ec), &ec);
	}
	ck_assert_ok(storm_store_list(is, MINUTE0, T0, &lines, &n, &ec), &ec);
	ck_assert_uint_eq(n, 37);
	for (i = 0; i < n; i++) {
		(void)snprintf(want, sizeof want, "s%zu (x: y)", i + 1);
		ck_assert_str_eq(lines[i], want);
		free(lines[i]);
	}
	free(lines);
	ck_assert_ok(storm_store_find(is, "s1", T0, &minute, &bearer, &ec), &ec);
	ck_assert(bearer);
	ck_assert_int_eq(minute, MINUTE0);
	ck_assert_ok(storm_store_find(is, "s2", T0, &minute, &bearer, &ec), &ec);
	ck_assert(!bearer);
	ck_assert_err(storm_store_find(is, "s99", T0, &minute, &bearer, &ec), -ENOENT, &ec);
	/* Another minute has its own (empty) list. */
	ck_assert_ok(storm_store_list(is, MINUTE0 + 1, T0, &lines, &n, &ec), &ec);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
storm_suite(void)
{
	Suite *s = suite_create("storm");
	TCase *tc = tcase_create("summary");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_storm_summary_in_one_process);
	tcase_add_test(tc, test_storm_summary_after_restart);
	tcase_add_test(tc, test_storm_duplicate_slot_named_once);
	tcase_add_test(tc, test_storm_store_slots_in_order);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(storm_suite)
