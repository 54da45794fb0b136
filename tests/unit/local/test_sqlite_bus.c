/*
 * test_sqlite_bus: envelopes and rule routing of the SQLite bus, checked by
 * reading the target queues of a real state file.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_bus.h"
#include "alchemiser/local/sqlite_queue.h"
#include "local_test.h"

static char *dir;
static char *path;
static struct bus *bus;
static struct sqlite_state *st;

static const struct sqlite_bus_rule test_rules[] = {
	{ "errors", "{\"detail-type\": [\"WorkflowFailed\"]}", "errors" },
	{ "notify", "{\"detail-type\": [{\"suffix\": \"NotificationRequested\"}]}", "notify" },
	{ "notify-again", "{\"source\": [\"alchemiser.monitor\"]}", "notify" },
};

static void
open_bus(const char *rules_file, struct errctx *ec, int want)
{
	struct sqlite_bus_options o = {
		.path = path, .account = "123456789012", .region = "eu-west-1",
		.default_queue = "main", .rules = test_rules, .n_rules = ELEMENTSOF(test_rules),
		.rules_file = rules_file, .clock = fake_clock,
	};

	errctx_clear(ec);
	if (want == 0)
		ck_assert_ok(sqlite_bus_new(&o, &bus, ec), ec);
	else
		ck_assert_err(sqlite_bus_new(&o, &bus, ec), want, ec);
}

static void
setup(void)
{
	struct errctx ec;

	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
	open_bus(NULL, &ec, 0);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
}

static void
teardown(void)
{
	if (bus != NULL)
		bus->ops->free(bus);
	bus = NULL;
	sqlite_state_free(st);
	free(path);
	test_rmtree(dir);
	free(dir);
}

static uint64_t
visible(const char *queue)
{
	struct sqlite_queue_counts c;
	struct errctx ec;

	ck_assert_ok(sqlite_queue_count(st, queue, &c, &ec), &ec);
	return c.visible;
}

/* The bodies on a queue, oldest first (the listing works on any queue). */
static json_t *
body_at(const char *queue, size_t i)
{
	struct sqlite_queue_parked *p;
	struct errctx ec;
	json_t *j;
	size_t n;

	ck_assert_ok(sqlite_queue_list_parked(st, queue, 100, &p, &n, &ec), &ec);
	ck_assert_uint_gt(n, i);
	j = json_loads(p[i].body, 0, NULL);
	ck_assert_ptr_nonnull(j);
	sqlite_queue_parked_free(p, n);
	return j;
}

START_TEST(test_sqlite_bus_stamps_the_envelope)
{
	struct bus_entry e = { .source = "alchemiser.strategy", .detail_type = "SignalGenerated",
	    .detail = "{\"strategy\": \"core\", \"n\": 1}" };
	const char *id;
	struct errctx ec;
	json_t *env, *want;

	ck_assert_ok(bus->ops->publish(bus, &e, 1, &ec), &ec);
	ck_assert_int_eq(e.result, 0);
	ck_assert_uint_eq(visible("main"), 1);
	env = body_at("main", 0);
	ck_assert_str_eq(json_string_value(json_object_get(env, "version")), "0");
	id = json_string_value(json_object_get(env, "id"));
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert_int_eq(id[14], '4');
	ck_assert_str_eq(json_string_value(json_object_get(env, "detail-type")), "SignalGenerated");
	ck_assert_str_eq(json_string_value(json_object_get(env, "source")), "alchemiser.strategy");
	ck_assert_str_eq(json_string_value(json_object_get(env, "account")), "123456789012");
	ck_assert_str_eq(json_string_value(json_object_get(env, "region")), "eu-west-1");
	ck_assert_str_eq(json_string_value(json_object_get(env, "time")), "2026-01-02T03:04:05Z");
	ck_assert(json_is_array(json_object_get(env, "resources")));
	ck_assert_uint_eq(json_array_size(json_object_get(env, "resources")), 0);
	want = json_loads(e.detail, 0, NULL);
	ck_assert(json_equal(json_object_get(env, "detail"), want));
	json_decref(want);
	json_decref(env);
	ck_assert_ok(bus->ops->preflight(bus, &ec), &ec);
}
END_TEST

START_TEST(test_sqlite_bus_routes_by_rules_once_per_queue)
{
	struct bus_entry e[] = {
		{ .source = "alchemiser.orchestrator", .detail_type = "WorkflowFailed", .detail = "{}" },
		{ .source = "alchemiser.monitor", .detail_type = "TradingNotificationRequested",
		  .detail = "{\"x\": 1}" },
		{ .source = "external.thing", .detail_type = "Other", .detail = "{}" },
	};
	struct errctx ec;
	json_t *env;

	ck_assert_ok(bus->ops->publish(bus, e, ELEMENTSOF(e), &ec), &ec);
	ck_assert_uint_eq(visible("main"), 2);
	ck_assert_uint_eq(visible("errors"), 1);
	/* notify and notify-again both match: delivered once. */
	ck_assert_uint_eq(visible("notify"), 1);
	env = body_at("errors", 0);
	ck_assert_str_eq(json_string_value(json_object_get(env, "detail-type")), "WorkflowFailed");
	json_decref(env);
	ck_assert_int_eq(sqlite_bus_test_event(bus, "{\"source\": \"alchemiser.monitor\","
	    " \"detail-type\": \"TradingNotificationRequested\"}", stderr, &ec), 3);
	ck_assert_int_eq(sqlite_bus_test_event(bus, "{\"source\": \"x\"}", stderr, &ec), 0);
	ck_assert_err(sqlite_bus_test_event(bus, "nope", stderr, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_sqlite_bus_entry_errors_do_not_block_the_batch)
{
	struct bus_entry e[] = {
		{ .source = "alchemiser.a", .detail_type = "A", .detail = "[1, 2]" },
		{ .source = "alchemiser.b", .detail_type = "B", .detail = "{\"ok\": true}" },
		{ .source = "", .detail_type = "C", .detail = "{}" },
	};
	struct errctx ec;

	ck_assert_err(bus->ops->publish(bus, e, ELEMENTSOF(e), &ec), -EBADMSG, &ec);
	ck_assert_int_eq(e[0].result, -EBADMSG);
	ck_assert_ptr_nonnull(strstr(e[0].error, "MalformedDetail"));
	ck_assert_int_eq(e[1].result, 0);
	ck_assert_int_eq(e[2].result, -EINVAL);
	ck_assert_ptr_nonnull(strstr(e[2].error, "InvalidArgument"));
	ck_assert_uint_eq(visible("main"), 1);
}
END_TEST

START_TEST(test_sqlite_bus_rules_file)
{
	char *rules = xasprintf("%s/rules.json", dir);
	FILE *f = fopen(rules, "w");
	struct bus_entry e = { .source = "com.example", .detail_type = "Big", .detail = "{\"qty\": 500}" };
	struct errctx ec;

	ck_assert_ptr_nonnull(f);
	fputs("[{\"name\": \"big\", \"pattern\": {\"detail\": {\"qty\": [{\"numeric\": [\">\", 100]}]}},"
	    " \"queue\": \"big-orders\"}]", f);
	fclose(f);
	bus->ops->free(bus);
	open_bus(rules, &ec, 0);
	ck_assert_ok(bus->ops->publish(bus, &e, 1, &ec), &ec);
	ck_assert_uint_eq(visible("big-orders"), 1);
	ck_assert_uint_eq(visible("main"), 0);
	bus->ops->free(bus);
	bus = NULL;
	/* A bad pattern names the file, the rule and the place. */
	f = fopen(rules, "w");
	fputs("[{\"name\": \"bad\", \"pattern\": {\"detail\": {\"qty\": [{\"numeric\": [\"~\", 1]}]}},"
	    " \"queue\": \"q\"}]", f);
	fclose(f);
	open_bus(rules, &ec, -EINVAL);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), rules));
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "rule 'bad'"));
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "pattern 'detail.qty[0]'"));
	/* A name used twice, a bad queue name. */
	f = fopen(rules, "w");
	fputs("[{\"name\": \"errors\", \"pattern\": {\"a\": [1]}, \"queue\": \"q\"}]", f);
	fclose(f);
	open_bus(rules, &ec, -EINVAL);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "defined twice"));
	f = fopen(rules, "w");
	fputs("[{\"name\": \"x\", \"pattern\": {\"a\": [1]}, \"queue\": \"no/slash\"}]", f);
	fclose(f);
	open_bus(rules, &ec, -EINVAL);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "invalid queue name"));
	open_bus("/nonexistent/rules.json", &ec, -EINVAL);
	free(rules);
}
END_TEST

static void *
publish_thread(void *arg)
{
	struct bus_entry e = { .source = "alchemiser.t", .detail_type = "T", .detail = "{}" };
	struct errctx ec;
	long i, fails = 0;

	(void)arg;
	for (i = 0; i < 50; i++)
		if (bus->ops->publish(bus, &e, 1, &ec) < 0)
			fails++;
	return (void *)fails;
}

START_TEST(test_sqlite_bus_publish_from_threads)
{
	pthread_t th[4];
	void *fails;
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, publish_thread, NULL), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &fails), 0);
		ck_assert_ptr_null(fails);
	}
	ck_assert_uint_eq(visible("main"), 200);
}
END_TEST

static Suite *
suite_sqlite_bus(void)
{
	Suite *s = suite_create("sqlite_bus");
	TCase *tc;

	tc = tcase_create("routing");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_bus_stamps_the_envelope);
	tcase_add_test(tc, test_sqlite_bus_routes_by_rules_once_per_queue);
	tcase_add_test(tc, test_sqlite_bus_entry_errors_do_not_block_the_batch);
	tcase_add_test(tc, test_sqlite_bus_rules_file);
	tcase_add_test(tc, test_sqlite_bus_publish_from_threads);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_bus)
