#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/catalogue.h"
#include "alchemiser/events/envelope.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/events/ids.h"
#include "helpers.h"

#define BASE(type) \
	"\"event_id\":\"e-1\",\"correlation_id\":\"c-1\",\"causation_id\":\"k-1\"," \
	"\"event_type\":\"" type "\",\"timestamp\":\"2025-10-14T13:35:50.566542Z\"," \
	"\"source_module\":\"m\",\"metadata\":null"

/* One detail per catalogue type, written the way the Python system writes them
 * (Z timestamps, metadata null, decimals as strings, stray keys). */
static const struct {
	enum event_type	 type;
	const char	*detail;
} samples[] = {
	{ EVENT_WORKFLOW_STARTED, "{" BASE("WorkflowStarted") ",\"workflow_type\":\"trading\","
	  "\"requested_by\":\"TradingSystem\",\"configuration\":{\"live_trading\":false},\"mode\":\"trade\"}" },
	{ EVENT_SIGNAL_GENERATED, "{" BASE("SignalGenerated") ",\"signals_data\":{\"nuclear\":{\"SPY\":0.5}},"
	  "\"consolidated_portfolio\":{\"target_allocations\":{\"SPY\":\"0.5\",\"TQQQ\":\"0.5\"}},\"signal_count\":2}" },
	{ EVENT_REBALANCE_PLANNED, "{" BASE("RebalancePlanned") ",\"rebalance_plan\":{\"plan_id\":\"p-1\","
	  "\"items\":[{\"symbol\":\"SPY\",\"trade_amount\":\"-100.50\",\"action\":\"SELL\"}],"
	  "\"total_portfolio_value\":\"10000.00\"},\"allocation_comparison\":{\"target_values\":{},"
	  "\"current_values\":{},\"deltas\":{}},\"trades_required\":true}" },
	{ EVENT_TRADE_EXECUTED, "{" BASE("TradeExecuted") ",\"execution_data\":{\"orders\":[],"
	  "\"total_trade_value\":\"0\"},\"success\":false,\"orders_placed\":2,\"orders_succeeded\":1,"
	  "\"failure_reason\":\"partial\",\"failed_symbols\":[\"TQQQ\"]}" },
	{ EVENT_WORKFLOW_COMPLETED, "{" BASE("WorkflowCompleted") ",\"workflow_type\":\"trading\","
	  "\"workflow_duration_ms\":1234,\"success\":true}" },
	{ EVENT_WORKFLOW_FAILED, "{" BASE("WorkflowFailed") ",\"workflow_type\":\"trading\","
	  "\"failure_reason\":\"no data\",\"failure_step\":\"signal_generation\","
	  "\"error_details\":{\"original_event_type\":\"WorkflowStarted\"}}" },
	{ EVENT_TRADING_NOTIFICATION_REQUESTED, "{" BASE("TradingNotificationRequested") ","
	  "\"trading_success\":true,\"trading_mode\":\"PAPER\",\"orders_placed\":1,\"orders_succeeded\":1,"
	  "\"total_trade_value\":\"1500.2500\",\"execution_data\":{}}" },
	{ EVENT_ERROR_NOTIFICATION_REQUESTED, "{" BASE("ErrorNotificationRequested") ","
	  "\"error_severity\":\"critical\",\"error_priority\":\"URGENT\",\"error_title\":\"T\","
	  "\"error_report\":\"R\",\"error_code\":null}" },
};

static json_t *
parse(const char *s)
{
	struct errctx ec = { 0 };
	json_t *v = NULL;

	ck_assert_ok(json_parse_bounded(s, strlen(s), JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), &ec);
	return v;
}

START_TEST(test_event_round_trip_is_byte_stable)
{
	struct errctx ec = { 0 };
	struct domain_event *e1 = NULL, *e2 = NULL;
	json_t *d = parse(samples[_i].detail), *d2;
	char *s1, *s2;

	ck_assert_ok(domain_event_from_detail(samples[_i].type, d, &e1, &ec), &ec);
	ck_assert_str_eq(e1->event_id, "e-1");
	ck_assert_str_eq(e1->correlation_id, "c-1");
	s1 = domain_event_encode(e1);
	d2 = parse(s1);
	ck_assert_ok(domain_event_from_detail(samples[_i].type, d2, &e2, &ec), &ec);
	s2 = domain_event_encode(e2);
	ck_assert_str_eq(s1, s2);
	/* Normalisation: UTC "Z" timestamps, schema_version default, stray keys kept verbatim. */
	ck_assert_ptr_nonnull(strstr(s1, "\"timestamp\":\"2025-10-14T13:35:50.566542Z\""));
	ck_assert_ptr_nonnull(strstr(s1, "\"schema_version\":\"1.0\""));
	ck_assert_int_eq(e2->timestamp_usec, e1->timestamp_usec);
	free(s1);
	free(s2);
	domain_event_free(e1);
	domain_event_free(e2);
	json_decref(d);
	json_decref(d2);
}
END_TEST

START_TEST(test_event_fills_defaults_and_normalises)
{
	struct errctx ec = { 0 };
	struct domain_event *e = NULL;
	json_t *d = parse("{\"event_id\":\"e\",\"correlation_id\":\"c\",\"causation_id\":\"k\","
	    "\"event_type\":\"TradingNotificationRequested\",\"timestamp\":\"2025-01-01T05:00:00-05:00\","
	    "\"source_module\":\"m\",\"trading_success\":true,\"trading_mode\":\"LIVE\","
	    "\"orders_placed\":0,\"orders_succeeded\":0,\"total_trade_value\":12.5,\"execution_data\":{}}");

	ck_assert_ok(domain_event_from_detail(EVENT_TRADING_NOTIFICATION_REQUESTED, d, &e, &ec), &ec);
	ck_assert_str_eq(json_string_value(domain_event_get(e, "timestamp")), "2025-01-01T10:00:00Z");
	ck_assert_str_eq(json_string_value(domain_event_get(e, "total_trade_value")), "12.5");
	ck_assert(json_is_null(domain_event_get(e, "error_message")));
	/* The caller's object is not modified. */
	ck_assert_double_eq(json_real_value(json_object_get(d, "total_trade_value")), 12.5);
	domain_event_free(e);
	json_decref(d);
}
END_TEST

START_TEST(test_event_validation_names_field)
{
	static const struct {
		const char *detail;
		const char *want;
	} bad[] = {
		{ "{" BASE("WorkflowStarted") ",\"requested_by\":\"x\"}", "field 'workflow_type': required field is missing" },
		{ "{" BASE("WorkflowStarted") ",\"workflow_type\":1,\"requested_by\":\"x\"}", "field 'workflow_type': expected string, got integer" },
		{ "{\"event_id\":\"e\",\"correlation_id\":\"c\",\"causation_id\":null,\"event_type\":\"WorkflowStarted\","
		  "\"timestamp\":\"2025-10-14T13:35:50Z\",\"source_module\":\"m\",\"workflow_type\":\"t\",\"requested_by\":\"r\"}",
		  "field 'causation_id': expected string, got null" },
		{ "{" BASE("WorkflowStarted") ",\"workflow_type\":\"t\",\"requested_by\":\"r\",\"timestamp\":\"yesterday\"}", NULL },
		{ "{" BASE("SignalGenerated") ",\"signals_data\":{},\"consolidated_portfolio\":{},\"signal_count\":\"2\"}", "field 'signal_count': expected integer, got string" },
		{ "{" BASE("TradeExecuted") ",\"execution_data\":{},\"success\":true,\"orders_placed\":0,\"orders_succeeded\":0,\"failed_symbols\":[1]}", "field 'failed_symbols[0]'" },
		{ "{" BASE("TradingNotificationRequested") ",\"trading_success\":true,\"trading_mode\":\"PAPER\",\"orders_placed\":0,\"orders_succeeded\":0,\"total_trade_value\":\"abc\",\"execution_data\":{}}", "total_trade_value" },
		{ "{" BASE("WorkflowFailed") ",\"workflow_type\":\"t\",\"failure_reason\":\"\",\"failure_step\":\"s\"}", "field 'failure_reason': must not be empty" },
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		struct errctx ec = { 0 };
		struct domain_event *e = NULL;
		json_t *d;
		enum event_type t;

		/* The duplicate "timestamp" key in case 3 is caught by the parser, so build it by hand. */
		d = json_loads(bad[i].detail, 0, NULL);
		ck_assert_msg(d != NULL, "case %zu does not parse", i);
		t = event_type_from_name(json_string_value(json_object_get(d, "event_type")));
		ck_assert_err(domain_event_from_detail(t, d, &e, &ec), -EBADMSG, &ec);
		if (bad[i].want != NULL)
			ck_assert_msg(strstr(ec.msg, bad[i].want) != NULL, "case %zu: %s", i, ec.msg);
		ck_assert_ptr_null(e);
		json_decref(d);
	}
}
END_TEST

START_TEST(test_event_type_mismatch_is_rejected)
{
	struct errctx ec = { 0 };
	struct domain_event *e = NULL;
	json_t *d = parse(samples[0].detail);

	ck_assert_err(domain_event_from_detail(EVENT_SIGNAL_GENERATED, d, &e, &ec), -EBADMSG, &ec);
	json_decref(d);
}
END_TEST

START_TEST(test_event_catalogue_sources)
{
	ck_assert_str_eq(event_type_source(EVENT_WORKFLOW_STARTED), "alchemiser.orchestration");
	ck_assert_str_eq(event_type_source(EVENT_SIGNAL_GENERATED), "alchemiser.strategy");
	ck_assert_str_eq(event_type_source(EVENT_REBALANCE_PLANNED), "alchemiser.portfolio");
	ck_assert_str_eq(event_type_source(EVENT_TRADE_EXECUTED), "alchemiser.execution");
	ck_assert_str_eq(event_type_source(EVENT_WORKFLOW_COMPLETED), "alchemiser.execution");
	ck_assert_str_eq(event_type_source(EVENT_WORKFLOW_FAILED), "alchemiser.execution");
	ck_assert_str_eq(event_type_source(EVENT_TRADING_NOTIFICATION_REQUESTED), "alchemiser.notifications");
	ck_assert_str_eq(event_type_source(EVENT_ERROR_NOTIFICATION_REQUESTED), "alchemiser.notifications");
	ck_assert_int_eq(event_type_from_name("TradeExecuted"), EVENT_TRADE_EXECUTED);
	ck_assert_int_eq(event_type_from_name("tradeexecuted"), EVENT_TYPE_INVALID);
	ck_assert_int_eq(event_type_from_name(NULL), EVENT_TYPE_INVALID);
}
END_TEST

START_TEST(test_event_new_builds_valid_event)
{
	struct errctx ec = { 0 };
	struct domain_event *e = NULL;
	json_t *p = json_pack("{s:s, s:s}", "workflow_type", "trading", "requested_by", "alchemiserd");
	char *s;

	ck_assert_ok(domain_event_new(EVENT_WORKFLOW_STARTED, "id-1", "corr-1", "cmd-1", 1700000000 * (int64_t)1000000,
	    p, &e, &ec), &ec);
	s = domain_event_encode(e);
	ck_assert_str_eq(s, "{\"causation_id\":\"cmd-1\",\"configuration\":{},\"correlation_id\":\"corr-1\","
	    "\"event_id\":\"id-1\",\"event_type\":\"WorkflowStarted\",\"requested_by\":\"alchemiserd\","
	    "\"schema_version\":\"1.0\",\"source_component\":\"alchemiserd\","
	    "\"source_module\":\"orchestration.event_driven_orchestrator\","
	    "\"timestamp\":\"2023-11-14T22:13:20Z\",\"workflow_type\":\"trading\"}");
	free(s);
	domain_event_free(e);
}
END_TEST

START_TEST(test_envelope_detail_forms)
{
	struct errctx ec = { 0 };
	json_t *b, *d = NULL;

	b = parse("{\"detail-type\":\"X\",\"detail\":{\"a\":1}}");
	ck_assert(envelope_is_envelope(b));
	ck_assert_ok(envelope_detail_object(b, &d, &ec), &ec);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "a")), 1);
	json_decref(d);
	json_decref(b);
	/* detail as a JSON string holding an object (seed case B2) */
	b = parse("{\"detail-type\":\"X\",\"detail\":\"{\\\"a\\\":2}\"}");
	ck_assert_ok(envelope_detail_object(b, &d, &ec), &ec);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "a")), 2);
	json_decref(d);
	json_decref(b);
	b = parse("{\"detail-type\":\"X\",\"detail\":\"garbage\"}");
	ck_assert_err(envelope_detail_object(b, &d, &ec), -EBADMSG, &ec);
	json_decref(b);
	b = parse("{\"detail-type\":\"X\",\"detail\":[1]}");
	ck_assert_err(envelope_detail_object(b, &d, &ec), -EBADMSG, &ec);
	ck_assert_str_eq(ec.msg, "detail: expected object, got array");
	json_decref(b);
	b = parse("{\"detail\":{}}");
	ck_assert(!envelope_is_envelope(b));
	json_decref(b);
}
END_TEST

START_TEST(test_envelope_build_fields)
{
	struct envelope_fields f = {
		.id = "env-1", .detail_type = "TradeExecuted", .source = "alchemiser.execution",
		.account = "123456789012", .region = "us-east-1", .time_usec = 1700000000 * (int64_t)1000000 + 5,
	};
	json_t *detail = json_pack("{s:s}", "event_id", "e"), *env = envelope_build(&f, detail);
	char *s = json_dump_canonical(env);

	ck_assert_str_eq(s, "{\"account\":\"123456789012\",\"detail\":{\"event_id\":\"e\"},"
	    "\"detail-type\":\"TradeExecuted\",\"id\":\"env-1\",\"region\":\"us-east-1\",\"resources\":[],"
	    "\"source\":\"alchemiser.execution\",\"time\":\"2023-11-14T22:13:20Z\",\"version\":\"0\"}");
	free(s);
	json_decref(env);
	json_decref(detail);
}
END_TEST

START_TEST(test_ids_are_deterministic_and_distinct)
{
	char a[UUID_STRLEN], b[UUID_STRLEN], c[UUID_STRLEN], d[UUID_STRLEN];

	ck_assert_ok(event_id_derive("cause-1", EVENT_SIGNAL_GENERATED, 0, a), NULL);
	ck_assert_ok(event_id_derive("cause-1", EVENT_SIGNAL_GENERATED, 0, b), NULL);
	ck_assert_ok(event_id_derive("cause-1", EVENT_SIGNAL_GENERATED, 1, c), NULL);
	ck_assert_ok(event_id_derive("cause-1", EVENT_WORKFLOW_FAILED, 0, d), NULL);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	ck_assert(uuid_is_valid(a));
	ck_assert_int_eq(a[14], '5');	/* version 5 */
}
END_TEST

/* SignalGenerated carries the engine's weights as reals: the encoded text
 * has them in their shortest round-trip form (0.06, not 0.059999999999999998,
 * as the backtest summary and --evaluate print them), reads back to the same
 * doubles, re-encodes to the same bytes, and the event id (derived from the
 * cause, never from the text) is the same whatever the weights' text. */
START_TEST(test_event_signal_reals_shortest)
{
	struct errctx ec = { 0 };
	struct domain_event *e = NULL, *e2 = NULL;
	char id[UUID_STRLEN], id2[UUID_STRLEN], *s, *s2;
	json_t *p, *d;

	ck_assert_ok(event_id_derive("run-1", EVENT_SIGNAL_GENERATED, 0, id), NULL);
	p = json_pack("{s:{s:{s:f, s:s, s:{s:f, s:f, s:f}}}, s:{s:{s:s}}, s:i}", "signals_data",
	    "a.clj", "weight", 1.0, "status", "ok", "allocation", "SPY", 0.06, "TQQQ", 1.0 / 3,
	    "BIL", 1.0 - 0.06 - 1.0 / 3, "consolidated_portfolio",
	    "target_allocations", "SPY", "0.06", "signal_count", 3);
	ck_assert_ok(domain_event_new(EVENT_SIGNAL_GENERATED, id, "corr-1", "run-1",
	    1700000000 * (int64_t)1000000, p, &e, &ec), &ec);
	s = domain_event_encode(e);
	ck_assert_ptr_nonnull(strstr(s, "\"allocation\":{\"BIL\":0.6066666666666667,"
	    "\"SPY\":0.06,\"TQQQ\":0.3333333333333333},"));
	ck_assert_ptr_nonnull(strstr(s, "\"weight\":1.0}"));
	ck_assert_ptr_null(strstr(s, "0.059999999999999998"));
	d = parse(s);
	ck_assert_ok(domain_event_from_detail(EVENT_SIGNAL_GENERATED, d, &e2, &ec), &ec);
	ck_assert(json_equal(domain_event_detail(e), domain_event_detail(e2)));	/* the same doubles */
	s2 = domain_event_encode(e2);
	ck_assert_str_eq(s, s2);
	ck_assert_ok(event_id_derive("run-1", EVENT_SIGNAL_GENERATED, 0, id2), NULL);
	ck_assert_str_eq(id, id2);
	ck_assert_str_eq(e2->event_id, id);
	free(s);
	free(s2);
	json_decref(d);
	domain_event_free(e);
	domain_event_free(e2);
}
END_TEST

/* The Python system's captured bodies, read in place from ../shared. */
START_TEST(test_seed_event_bodies_decode)
{
	static const struct { const char *file; enum event_type type; } files[] = {
		{ "seed-events/eventbridge-workflow-started.json", EVENT_WORKFLOW_STARTED },
		{ "seed-events/eventbridge-error-notification.json", EVENT_ERROR_NOTIFICATION_REQUESTED },
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(files); i++) {
		struct errctx ec = { 0 };
		char *path = test_shared_path(files[i].file), *text, *s1, *s2;
		struct domain_event *e = NULL, *e2 = NULL;
		json_t *body, *d = NULL, *d2;

		if (path == NULL)
			return;
		text = test_read_file(path, NULL);
		body = parse(text);
		ck_assert(envelope_is_envelope(body));
		ck_assert_ok(envelope_detail_object(body, &d, &ec), &ec);
		ck_assert_ok(domain_event_from_detail(files[i].type, d, &e, &ec), &ec);
		s1 = domain_event_encode(e);
		d2 = parse(s1);
		ck_assert_ok(domain_event_from_detail(files[i].type, d2, &e2, &ec), &ec);
		s2 = domain_event_encode(e2);
		ck_assert_str_eq(s1, s2);
		free(s1);
		free(s2);
		domain_event_free(e);
		domain_event_free(e2);
		json_decref(d);
		json_decref(d2);
		json_decref(body);
		free(text);
		free(path);
	}
}
END_TEST

/* Taking the caller's only reference: the object itself becomes the event's
 * detail, normalised in place; a shared one is copied, the other holder sees
 * no change; a failure releases it with the same reason as the borrowing
 * form (ASan finds a leak). */
START_TEST(test_event_take_normalises_in_place)
{
	const char *text = "{\"event_id\":\"e-1\",\"correlation_id\":\"c-1\",\"causation_id\":\"k-1\","
	    "\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-01-01T05:00:00-05:00\","
	    "\"source_module\":\"m\",\"workflow_type\":\"trading\",\"workflow_duration_ms\":5,\"success\":true}";
	struct errctx ec = { 0 }, ec2 = { 0 };
	struct domain_event *e = NULL, *e2 = NULL;
	json_t *d = parse(text), *shared = parse(text), *bad;
	char *s1, *s2;

	ck_assert_ok(domain_event_from_detail_take(EVENT_WORKFLOW_COMPLETED, d, &e, &ec), &ec);
	ck_assert_ptr_eq(domain_event_detail(e), d);
	ck_assert_str_eq(json_string_value(domain_event_get(e, "timestamp")), "2025-01-01T10:00:00Z");
	ck_assert_str_eq(json_string_value(domain_event_get(e, "schema_version")), "1.0");
	ck_assert(json_is_object(domain_event_get(e, "summary")));
	ck_assert_int_eq(e->timestamp_usec, INT64_C(1735725600000000));
	/* The same as the borrowing form, byte for byte. */
	ck_assert_ok(domain_event_from_detail(EVENT_WORKFLOW_COMPLETED, shared, &e2, &ec), &ec);
	s1 = domain_event_encode(e);
	s2 = domain_event_encode(e2);
	ck_assert_str_eq(s1, s2);
	free(s1);
	free(s2);
	domain_event_free(e);
	domain_event_free(e2);
	e = e2 = NULL;

	json_incref(shared);
	ck_assert_ok(domain_event_from_detail_take(EVENT_WORKFLOW_COMPLETED, shared, &e, &ec), &ec);
	ck_assert_ptr_ne(domain_event_detail(e), shared);
	ck_assert_str_eq(json_string_value(json_object_get(shared, "timestamp")), "2025-01-01T05:00:00-05:00");
	ck_assert_ptr_null(json_object_get(shared, "schema_version"));
	domain_event_free(e);
	e = NULL;

	json_object_set_new(shared, "success", json_string("yes"));
	bad = json_deep_copy(shared);
	ck_assert_err(domain_event_from_detail(EVENT_WORKFLOW_COMPLETED, shared, &e2, &ec2), -EBADMSG, &ec2);
	ck_assert_err(domain_event_from_detail_take(EVENT_WORKFLOW_COMPLETED, bad, &e, &ec), -EBADMSG, &ec);
	ck_assert_str_eq(ec.msg, ec2.msg);
	ck_assert_str_eq(ec.msg, "WorkflowCompleted detail: field 'success': expected boolean, got string");
	ck_assert_ptr_null(e);
	bad = json_array();
	ck_assert_err(domain_event_from_detail_take(EVENT_WORKFLOW_COMPLETED, bad, &e, &ec), -EBADMSG, &ec);
	ck_assert_str_eq(ec.msg, "detail: expected object, got array");
	json_decref(shared);
}
END_TEST

/* The scanned decode (issue #13) against the tree's on one detail text of
 * type t: what the scan accepts, the tree accepts with the same ids,
 * timestamp and (built when first asked) the same normalised detail; what
 * the tree refuses, the scan declines. Returns whether the scan accepted. */
static bool
scan_matches_tree(enum event_type t, const char *text)
{
	struct errctx ec = { 0 };
	struct domain_event *a = NULL, *b = NULL;
	struct json_scan s;
	json_t *d = NULL;
	int ra = -1, rb;
	char *ea, *eb;

	if (json_scan(&s, text, strlen(text), JSON_MAX_DEPTH) == 0)
		ra = domain_event_from_scan(t, &s, 0, &a);
	json_scan_release(&s);	/* the event keeps its own copy of the text */
	rb = json_parse_bounded(text, strlen(text), JSON_MAX_BODY, JSON_MAX_DEPTH, &d, &ec) == 0 ?
	    domain_event_from_detail(t, d, &b, &ec) : -1;
	json_decref(d);
	if (rb < 0)
		ck_assert_msg(ra < 0, "the scan accepted what the tree refuses (%s): %s", ec.msg, text);
	if (ra == 0) {
		ck_assert_int_eq(rb, 0);
		ck_assert_ptr_null(a->detail_tree);
		ck_assert_str_eq(a->event_id, b->event_id);
		ck_assert_str_eq(a->correlation_id, b->correlation_id);
		ck_assert_str_eq(a->causation_id, b->causation_id);
		ck_assert_int_eq(a->timestamp_usec, b->timestamp_usec);
		ea = domain_event_encode(a);
		eb = domain_event_encode(b);
		ck_assert_str_eq(ea, eb);
		ck_assert_ptr_nonnull(a->detail_tree);
		free(ea);
		free(eb);
	}
	domain_event_free(a);
	domain_event_free(b);
	return ra == 0;
}

START_TEST(test_event_scan_matches_tree)
{
	static const struct { enum event_type type; const char *detail; } declined[] = {
		/* Refused by a rule. */
		{ EVENT_WORKFLOW_STARTED, "{" BASE("WorkflowStarted") ",\"requested_by\":\"x\"}" },
		{ EVENT_WORKFLOW_STARTED, "{" BASE("WorkflowStarted") ",\"workflow_type\":1,\"requested_by\":\"x\"}" },
		{ EVENT_SIGNAL_GENERATED, "{" BASE("SignalGenerated") ",\"signals_data\":{},\"consolidated_portfolio\":{},"
		  "\"signal_count\":\"2\"}" },
		{ EVENT_TRADE_EXECUTED, "{" BASE("TradeExecuted") ",\"execution_data\":{},\"success\":true,"
		  "\"orders_placed\":0,\"orders_succeeded\":0,\"failed_symbols\":[1]}" },
		{ EVENT_TRADING_NOTIFICATION_REQUESTED, "{" BASE("TradingNotificationRequested") ",\"trading_success\":true,"
		  "\"trading_mode\":\"PAPER\",\"orders_placed\":0,\"orders_succeeded\":0,\"total_trade_value\":\"abc\","
		  "\"execution_data\":{}}" },
		{ EVENT_WORKFLOW_FAILED, "{" BASE("WorkflowFailed") ",\"workflow_type\":\"t\",\"failure_reason\":\"\","
		  "\"failure_step\":\"s\"}" },
		{ EVENT_WORKFLOW_COMPLETED, "{\"event_id\":\"e\",\"correlation_id\":\"c\",\"causation_id\":\"k\","
		  "\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-10-14T25:35:50Z\",\"source_module\":\"m\","
		  "\"workflow_type\":\"t\",\"workflow_duration_ms\":1,\"success\":true}" },
		{ EVENT_WORKFLOW_STARTED, "{" BASE("WorkflowStarted") ",\"workflow_type\":\"t\",\"requested_by\":\"r\","
		  "\"configuration\":{\"live_trading\":\"no\"}}" },
		/* Valid, but the tree's to decide: a real (outside the scan's grammar). */
		{ EVENT_TRADING_NOTIFICATION_REQUESTED, "{" BASE("TradingNotificationRequested") ",\"trading_success\":true,"
		  "\"trading_mode\":\"PAPER\",\"orders_placed\":0,\"orders_succeeded\":0,\"total_trade_value\":12.5,"
		  "\"execution_data\":{}}" },
		/* A detail under another type's name. */
		{ EVENT_SIGNAL_GENERATED, NULL },
	};
	struct domain_event *e = NULL;
	struct json_scan s;
	size_t i;

	/* Every sample but SignalGenerated's (it holds a real, 0.5). */
	for (i = 0; i < ELEMENTSOF(samples); i++)
		ck_assert_msg(scan_matches_tree(samples[i].type, samples[i].detail) ==
		    (samples[i].type != EVENT_SIGNAL_GENERATED), "sample %zu", i);
	for (i = 0; i < ELEMENTSOF(declined); i++)
		ck_assert_msg(!scan_matches_tree(declined[i].type, declined[i].detail != NULL ?
		    declined[i].detail : samples[0].detail), "case %zu accepted", i);
	/* Not an object: declined. */
	ck_assert_int_eq(json_scan(&s, "[1]", 3, JSON_MAX_DEPTH), 0);
	ck_assert_int_eq(domain_event_from_scan(EVENT_WORKFLOW_STARTED, &s, 0, &e), -1);
	ck_assert_ptr_null(e);
	json_scan_release(&s);
}
END_TEST

static Suite *
suite_events(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_event_round_trip_is_byte_stable, 0, (int)ELEMENTSOF(samples));
	tcase_add_test(tc, test_event_fills_defaults_and_normalises);
	tcase_add_test(tc, test_event_validation_names_field);
	tcase_add_test(tc, test_event_type_mismatch_is_rejected);
	tcase_add_test(tc, test_event_new_builds_valid_event);
	tcase_add_test(tc, test_event_signal_reals_shortest);
	tcase_add_test(tc, test_event_take_normalises_in_place);
	tcase_add_test(tc, test_event_scan_matches_tree);
	suite_add_tcase(s, tc);
	tc = tcase_create("catalogue");
	tcase_add_test(tc, test_event_catalogue_sources);
	tcase_add_test(tc, test_ids_are_deterministic_and_distinct);
	suite_add_tcase(s, tc);
	tc = tcase_create("envelope");
	tcase_add_test(tc, test_envelope_detail_forms);
	tcase_add_test(tc, test_envelope_build_fields);
	tcase_add_test(tc, test_seed_event_bodies_decode);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_events)
