/*
 * test_sqlite_runs: the embedded backend's run archive: events a real SQLite
 * bus archived are read back per run, and pruned by age and by count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_bus.h"
#include "alchemiser/local/sqlite_runs.h"
#include "local_test.h"

static char *dir;
static char *path;
static struct bus *bus;
static struct sqlite_state *st;

static const struct sqlite_bus_rule archive[] = {
	{ SQLITE_RUNS_RULE, "{\"source\": [{\"prefix\": \"alchemiser.\"}]}", SQLITE_RUNS_QUEUE },
};

static void
setup(void)
{
	struct errctx ec = { 0 };
	struct sqlite_bus_options o = {
		.account = "123456789012", .region = "eu-west-1", .default_queue = "main",
		.rules = archive, .n_rules = ELEMENTSOF(archive), .clock = fake_clock,
	};

	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
	o.path = path;
	ck_assert_ok(sqlite_bus_new(&o, &bus, &ec), &ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
}

static void
teardown(void)
{
	bus->ops->free(bus);
	sqlite_state_free(st);
	free(path);
	test_rmtree(dir);
	free(dir);
}

/* Publish one event of run corr at fake time t (seconds after the start). */
static void
publish_at(const char *corr, const char *type, int64_t t)
{
	static const int64_t start = INT64_C(1767323045) * 1000000;
	char detail[160];
	struct bus_entry e = { .source = "alchemiser.test", .detail_type = type, .detail = detail };
	struct errctx ec = { 0 };

	fake_now_usec = start + t * 1000000;
	(void)snprintf(detail, sizeof detail, "{\"correlation_id\": \"%s\", \"n\": %lld}", corr,
	    (long long)t);
	ck_assert_ok(bus->ops->publish(bus, &e, 1, &ec), &ec);
}

static size_t
events_of(const char *corr)
{
	struct errctx ec = { 0 };
	json_t *ev = NULL;
	size_t n;

	ck_assert_ok(sqlite_runs_events(st, corr, &ev, &ec), &ec);
	n = json_array_size(ev);
	json_decref(ev);
	return n;
}

START_TEST(test_sqlite_runs_events_per_run)
{
	struct errctx ec = { 0 };
	json_t *ev = NULL;

	publish_at("run-a", "WorkflowStarted", 0);
	publish_at("run-b", "WorkflowStarted", 1);
	publish_at("run-a", "SignalGenerated", 2);
	ck_assert_ok(sqlite_runs_events(st, "run-a", &ev, &ec), &ec);
	ck_assert_uint_eq(json_array_size(ev), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "detail_type")),
	    "WorkflowStarted");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "detail_type")),
	    "SignalGenerated");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_array_get(ev, 1),
	    "detail"), "n")), 2);
	json_decref(ev);
	ck_assert_uint_eq(events_of("run-b"), 1);
	ck_assert_uint_eq(events_of("run-c"), 0);
}
END_TEST

START_TEST(test_sqlite_runs_prune_by_age_then_count)
{
	struct errctx ec = { 0 };
	uint64_t removed = 99;
	int i;

	for (i = 0; i < 5; i++)
		publish_at("old", "WorkflowStarted", i);
	for (i = 0; i < 3; i++)
		publish_at("new", "WorkflowStarted", 100 + i);
	/* Nothing is older than the first event; a large count keeps all. */
	ck_assert_ok(sqlite_runs_prune(st, INT64_C(1767323045) * 1000000, 1000, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(events_of("old"), 5);
	/* By age: everything sent before t = 3 s goes. */
	ck_assert_ok(sqlite_runs_prune(st, (INT64_C(1767323045) + 3) * 1000000, 1000, &removed, &ec),
	    &ec);
	ck_assert_uint_eq(removed, 3);
	ck_assert_uint_eq(events_of("old"), 2);
	ck_assert_uint_eq(events_of("new"), 3);
	/* By count: the newest 3 stay, which are run "new"'s. */
	ck_assert_ok(sqlite_runs_prune(st, 0, 3, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(events_of("old"), 0);
	ck_assert_uint_eq(events_of("new"), 3);
	/* A count of 0 keeps nothing. */
	ck_assert_ok(sqlite_runs_prune(st, INT64_MAX, 0, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 3);
	ck_assert_uint_eq(events_of("new"), 0);
}
END_TEST

static Suite *
suite_sqlite_runs(void)
{
	Suite *s = suite_create("sqlite_runs");
	TCase *tc;

	tc = tcase_create("archive");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_runs_events_per_run);
	tcase_add_test(tc, test_sqlite_runs_prune_by_age_then_count);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_runs)
