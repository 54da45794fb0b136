/*
 * Acceptance cases of seed-router-spec §9 under OUR semantics. Where the seed's
 * behaviour was a bug, the comment cites what the seed did.
 */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/dispatch.h"
#include "alchemiser/router/route.h"
#include "helpers.h"

#define DETAIL_BASE(type, id) \
	"\"event_id\":\"" id "\",\"correlation_id\":\"corr-123\",\"causation_id\":\"cause-123\"," \
	"\"timestamp\":\"2023-10-14T12:00:00+00:00\",\"event_type\":\"" type "\",\"source_module\":\"strategy\"," \
	"\"schema_version\":\"1.0\""

/* Fixture F of seed §9.2. */
#define ENVELOPE_F \
	"{\"version\":\"0\",\"id\":\"event-123\",\"detail-type\":\"SignalGenerated\",\"source\":\"alchemiser.strategy\"," \
	"\"resources\":[\"correlation:corr-123\"],\"detail\":{" DETAIL_BASE("SignalGenerated", "event-123") "," \
	"\"signals_data\":{\"BTC\":0.5},\"consolidated_portfolio\":{\"BTC\":0.5},\"signal_count\":1,\"metadata\":{}}}"

/* A complete plan item as the planner publishes it. */
#define PLAN_ITEM(sym, action, amount, target, current) \
	"{\"symbol\":\"" sym "\",\"current_weight\":\"0\",\"target_weight\":\"0.5\",\"weight_diff\":\"0.5\"," \
	"\"target_value\":\"" target "\",\"current_value\":\"" current "\",\"trade_amount\":\"" amount "\"," \
	"\"action\":\"" action "\",\"priority\":3}"
/* A RebalancePlanned of one item with extra metadata members. */
#define RP(id, item, meta) \
	"{\"detail-type\":\"RebalancePlanned\",\"source\":\"alchemiser.portfolio\",\"detail\":{" \
	DETAIL_BASE("RebalancePlanned", id) ",\"rebalance_plan\":{\"items\":[" item "]," \
	"\"total_portfolio_value\":\"1000.00\",\"total_trade_value\":\"500\",\"timestamp\":\"2023-10-14T12:00:00Z\"}," \
	"\"allocation_comparison\":{},\"trades_required\":true,\"metadata\":{" meta "}}}"
#define ID50 "abcdefghij-bcdefghij-cdefghij-defghij-efghij-fghij"
#define ID200 ID50 ID50 ID50 ID50
#define LONG_ID ID200 ID200 ID50 ID50

struct route_case {
	const char	*name;
	const char	*body;
	const char	*kind;		/* "domain" | "command" | "invalid" */
	const char	*handler;	/* NULL when rejected */
	const char	*key;		/* idempotency key, NULL = none, "run" = the run key */
	const char	*reason;	/* substring of the reject reason, NULL when accepted */
	int		 action;	/* command action or -1 */
};

static const struct route_case cases[] = {
	/* §9.1 parse_event_mode P1-P11 */
	{ "P1 empty object", "{}", "command", "start", "run", NULL, COMMAND_TRADE },
	{ "P3 mode trade", "{\"mode\":\"trade\"}", "command", "start", "run", NULL, COMMAND_TRADE },
	{ "P4 paper", "{\"mode\":\"trade\",\"trading_mode\":\"paper\"}", "command", "start", "run", NULL, COMMAND_TRADE },
	{ "P5 live", "{\"mode\":\"trade\",\"trading_mode\":\"live\"}", "command", "start", "run", NULL, COMMAND_TRADE },
	{ "P6 pnl weekly", "{\"action\":\"pnl_analysis\",\"pnl_type\":\"weekly\"}", "command", "pnl", "command:sqs-1", NULL, COMMAND_PNL },
	{ "P7 pnl monthly", "{\"action\":\"pnl_analysis\",\"pnl_type\":\"monthly\"}", "command", "pnl", "command:sqs-1", NULL, COMMAND_PNL },
	{ "P8 pnl period", "{\"action\":\"pnl_analysis\",\"pnl_period\":\"3M\"}", "command", "pnl", "command:sqs-1", NULL, COMMAND_PNL },
	{ "P9 pnl periods", "{\"action\":\"pnl_analysis\",\"pnl_type\":\"weekly\",\"pnl_periods\":3}", "command", "pnl", "command:sqs-1", NULL, COMMAND_PNL },
	{ "P10 pnl detailed", "{\"action\":\"pnl_analysis\",\"pnl_type\":\"monthly\",\"pnl_detailed\":true}", "command", "pnl", "command:sqs-1", NULL, COMMAND_PNL },
	/* H1: the command's correlation id is the key (the seed never deduplicated commands). */
	{ "H1 correlation id", "{\"correlation_id\":\"test-correlation-123\"}", "command", "start", "command:test-correlation-123", NULL, COMMAND_TRADE },
	/* Seed: mode bot traded. Ours: signal-only. */
	/* A deliberate extra run is keyed by its message. */
	{ "forced trade", "{\"mode\":\"trade\",\"force\":true}", "command", "start", "command:sqs-1", NULL, COMMAND_TRADE },
	{ "bot is signal-only", "{\"mode\":\"bot\"}", "command", "start", "run", NULL, COMMAND_SIGNAL_ONLY },
	/* Seed: dry_run was accepted and ignored, so a "dry run" traded. Ours: no orders. */
	{ "dry run places nothing", "{\"mode\":\"trade\",\"dry_run\":true}", "command", "start", "run", NULL, COMMAND_SIGNAL_ONLY },
	/* §9.4 strictness, kept */
	{ "unknown key", "{\"mode\":\"trade\",\"foo\":1}", "command", NULL, NULL, "unknown key 'foo'", -1 },
	{ "strict int", "{\"pnl_periods\":\"3\",\"action\":\"pnl_analysis\",\"pnl_type\":\"weekly\"}", "command", NULL, NULL, "'pnl_periods': expected integer, got string", -1 },
	{ "pnl needs type", "{\"action\":\"pnl_analysis\"}", "command", NULL, NULL, "requires either 'pnl_type' or 'pnl_period'", -1 },
	{ "bad mode", "{\"mode\":\"yolo\"}", "command", NULL, NULL, "'mode': 'yolo' is not one of trade|bot", -1 },
	{ "bad period", "{\"action\":\"pnl_analysis\",\"pnl_period\":\"3X\"}", "command", NULL, NULL, "pnl_period", -1 },
	{ "periods zero", "{\"action\":\"pnl_analysis\",\"pnl_type\":\"weekly\",\"pnl_periods\":0}", "command", NULL, NULL, "must be >= 1", -1 },
	{ "strict bool", "{\"dry_run\":\"true\"}", "command", NULL, NULL, "'dry_run': expected boolean, got string", -1 },
	{ "bad month", "{\"month\":\"2025-1\"}", "command", NULL, NULL, "'month'", -1 },
	/* Seed: a non-object envelope detail fell through to "trade". Ours: reject. */
	{ "garbage detail", "{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.scheduler\",\"detail\":\"garbage\"}", "command", NULL, NULL, "detail", -1 },
	{ "null detail", "{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.scheduler\",\"detail\":null}", "command", NULL, NULL, "expected object, got null", -1 },
	{ "list detail", "{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.scheduler\",\"detail\":[]}", "command", NULL, NULL, "expected object, got array", -1 },
	/* An EventBridge scheduled rule sends {} as detail: trade, keyed by the envelope id. */
	{ "scheduled rule", "{\"id\":\"env-9\",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"detail\":{}}", "command", "start", "run", NULL, COMMAND_TRADE },
	/* §9.2 domain path */
	{ "B1 fixture F", ENVELOPE_F, "domain", "portfolio", "event-123", NULL, -1 },
	{ "B2 detail string", "{\"detail-type\":\"SignalGenerated\",\"source\":\"alchemiser.strategy\",\"detail\":"
	  "\"{\\\"event_id\\\":\\\"e-2\\\",\\\"correlation_id\\\":\\\"c\\\",\\\"causation_id\\\":\\\"k\\\","
	  "\\\"timestamp\\\":\\\"2023-10-14T12:00:00Z\\\",\\\"event_type\\\":\\\"SignalGenerated\\\","
	  "\\\"source_module\\\":\\\"s\\\",\\\"signals_data\\\":{},\\\"consolidated_portfolio\\\":{},"
	  "\\\"signal_count\\\":0}\"}", "domain", "portfolio", "e-2", NULL, -1 },
	/* B3: an unknown type is not a domain event; as a command its keys are unknown. */
	{ "B3 unknown type", "{\"detail-type\":\"UnknownEvent\",\"source\":\"alchemiser.unknown\",\"detail\":{\"event_id\":\"test\"}}", "command", NULL, NULL, "unknown key 'event_id'", -1 },
	/* Seed: domain type from another source hit the command path and failed obscurely. */
	{ "untrusted source", "{\"detail-type\":\"SignalGenerated\",\"source\":\"other\",\"detail\":{}}", "invalid", NULL, NULL, "needs a source starting with 'alchemiser.', got 'other'", -1 },
	/* Seed: a null source with a domain type crashed the Lambda. */
	{ "null source", "{\"detail-type\":\"TradeExecuted\",\"source\":null,\"detail\":{}}", "invalid", NULL, NULL, "got none", -1 },
	{ "missing event_id", "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\",\"detail\":"
	  "{\"correlation_id\":\"c\",\"causation_id\":\"k\",\"timestamp\":\"2023-10-14T12:00:00Z\",\"event_type\":\"WorkflowCompleted\","
	  "\"source_module\":\"s\",\"workflow_type\":\"t\",\"workflow_duration_ms\":1,\"success\":true}}", "domain", NULL, NULL, "field 'event_id': required field is missing", -1 },
	{ "null causation", "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\",\"detail\":"
	  "{\"event_id\":\"e\",\"correlation_id\":\"c\",\"causation_id\":null,\"timestamp\":\"2023-10-14T12:00:00Z\",\"event_type\":\"WorkflowCompleted\","
	  "\"source_module\":\"s\",\"workflow_type\":\"t\",\"workflow_duration_ms\":1,\"success\":true}}", "domain", NULL, NULL, "'causation_id'", -1 },
	/* Seed: RebalancePlanned with decimal strings could not be decoded. Ours: routed. */
	{ "rebalance as published", RP("rp-1", PLAN_ITEM("SPY", "BUY", "500", "500", "0"), ""), "domain", "execution",
	  "rp-1", NULL, -1 },
	/* Issue #17 B11: the executor's fields are checked at the router; a
	 * forged plan is parked with its reason, never acted on. */
	{ "B11 negative BUY", RP("rp-2", PLAN_ITEM("SPY", "BUY", "-5000", "0", "5000"), ""), "domain", NULL, NULL,
	  "items[0].trade_amount': a BUY needs a positive amount, got -5000", -1 },
	{ "B11 positive SELL", RP("rp-3", PLAN_ITEM("SPY", "SELL", "5000", "5000", "0"), ""), "domain", NULL, NULL,
	  "a SELL needs a negative amount", -1 },
	{ "B11 HOLD with amount", RP("rp-4", PLAN_ITEM("SPY", "HOLD", "10", "10", "0"), ""), "domain", NULL, NULL,
	  "a HOLD has amount 0", -1 },
	{ "B11 signal_only string", RP("rp-5", PLAN_ITEM("SPY", "BUY", "500", "500", "0"), "\"signal_only\":\"true\""),
	  "domain", NULL, NULL, "field 'metadata.signal_only': expected boolean, got string", -1 },
	{ "B11 signal_only false string", RP("rp-6", PLAN_ITEM("SPY", "BUY", "500", "500", "0"), "\"signal_only\":\"false\""),
	  "domain", NULL, NULL, "expected boolean", -1 },
	{ "B11 signal_only bool", RP("rp-7", PLAN_ITEM("SPY", "BUY", "500", "500", "0"), "\"signal_only\":true"),
	  "domain", "execution", "rp-7", NULL, -1 },
	{ "B11 symbol path", RP("rp-8", PLAN_ITEM("../v2/account", "BUY", "500", "500", "0"), ""), "domain", NULL, NULL,
	  "items[0].symbol': must be 1..15 characters of A-Z", -1 },
	{ "B11 symbol lower case", RP("rp-9", PLAN_ITEM("spy", "BUY", "500", "500", "0"), ""), "domain", NULL, NULL,
	  "items[0].symbol'", -1 },
	{ "B11 symbol class share", RP("rp-10", PLAN_ITEM("BRK.B", "BUY", "500", "500", "0"), ""), "domain", "execution",
	  "rp-10", NULL, -1 },
	{ "B11 negative value", RP("rp-11", PLAN_ITEM("SPY", "SELL", "-5", "-5", "0"), ""), "domain", NULL, NULL,
	  "must not be negative", -1 },
	{ "B11 weight over one", RP("rp-12", "{\"symbol\":\"SPY\",\"current_weight\":\"0\",\"target_weight\":\"7\","
	  "\"weight_diff\":\"0.5\",\"target_value\":\"500\",\"current_value\":\"0\",\"trade_amount\":\"500\","
	  "\"action\":\"BUY\",\"priority\":3}", ""), "domain", NULL, NULL, "'items[0].target_weight': 7 is not within 0..1", -1 },
	{ "B11 signal_only in configuration", "{\"detail-type\":\"WorkflowStarted\",\"source\":\"alchemiser.orchestration\","
	  "\"detail\":{" DETAIL_BASE("WorkflowStarted", "ws-1") ",\"workflow_type\":\"trading\",\"requested_by\":\"x\","
	  "\"configuration\":{\"signal_only\":1}}}", "domain", NULL, NULL, "'configuration.signal_only': expected boolean, got integer", -1 },
	/* Issue #17 B4: ids are checked for length and characters at the router,
	 * and refused with the reason (they were retried five times). */
	{ "B4 long correlation id", "{\"correlation_id\":\"" LONG_ID "\"}", "command", NULL, NULL,
	  "command field 'correlation_id': 500 characters, over the limit of 200", -1 },
	{ "B4 longest correlation id", "{\"correlation_id\":\"" ID200 "\"}", "command", "start", "command:" ID200, NULL,
	  COMMAND_TRADE },
	{ "B4 newline in correlation id", "{\"correlation_id\":\"a\\n<3>reject\"}", "command", NULL, NULL,
	  "field 'correlation_id': character 2 (0x0a) is not allowed", -1 },
	{ "B4 blank in causation id", "{\"causation_id\":\"a b\"}", "command", NULL, NULL,
	  "field 'causation_id': character 2 (0x20)", -1 },
	{ "B4 long event id", "{\"detail-type\":\"TradeExecuted\",\"source\":\"alchemiser.execution\",\"detail\":{"
	  DETAIL_BASE("TradeExecuted", LONG_ID) ",\"execution_data\":{},\"success\":true,\"orders_placed\":0,\"orders_succeeded\":0}}",
	  "domain", NULL, NULL, "TradeExecuted detail: field 'event_id': 500 characters, over the limit of 200", -1 },
	{ "B4 escape in event id", "{\"detail-type\":\"TradeExecuted\",\"source\":\"alchemiser.execution\",\"detail\":{"
	  DETAIL_BASE("TradeExecuted", "te\\u001b[2J") ",\"execution_data\":{},\"success\":true,\"orders_placed\":0,"
	  "\"orders_succeeded\":0}}", "domain", NULL, NULL, "field 'event_id': character 3 (0x1b)", -1 },
	{ "B4 envelope id as key", "{\"id\":\"env\\tx\",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"detail\":{}}",
	  "command", NULL, NULL, "command envelope field 'id': character 4 (0x09)", -1 },
	/* Seed: TradeExecuted/WorkflowCompleted/WorkflowFailed went nowhere ("orchestrator-only"). */
	{ "trade executed to monitor", "{\"detail-type\":\"TradeExecuted\",\"source\":\"alchemiser.execution\",\"detail\":{"
	  DETAIL_BASE("TradeExecuted", "te-1") ",\"execution_data\":{},\"success\":true,\"orders_placed\":0,\"orders_succeeded\":0}}",
	  "domain", "monitor", "te-1", NULL, -1 },
	{ "workflow failed to errors", "{\"detail-type\":\"WorkflowFailed\",\"source\":\"alchemiser.execution\",\"detail\":{"
	  DETAIL_BASE("WorkflowFailed", "wf-1") ",\"workflow_type\":\"trading\",\"failure_reason\":\"x\",\"failure_step\":\"y\"}}",
	  "domain", "errors", "wf-1", NULL, -1 },
	/* Seed: TradingNotificationRequested was rejected on the command path. Ours: email. */
	{ "trading notification", "{\"detail-type\":\"TradingNotificationRequested\",\"source\":\"alchemiser.orchestration.event_driven_orchestrator\",\"detail\":{"
	  DETAIL_BASE("TradingNotificationRequested", "tn-1") ",\"trading_success\":true,\"trading_mode\":\"PAPER\",\"orders_placed\":1,"
	  "\"orders_succeeded\":1,\"total_trade_value\":\"100.00\",\"execution_data\":{}}}", "domain", "notify", "tn-1", NULL, -1 },
	/* Breaker: error notifications from elsewhere are refused, without a crash. */
	{ "breaker foreign source", "{\"detail-type\":\"ErrorNotificationRequested\",\"source\":\"evil\",\"detail\":{}}", "invalid", NULL, NULL, "circuit breaker", -1 },
	{ "breaker null source", "{\"detail-type\":\"ErrorNotificationRequested\",\"detail\":{}}", "invalid", NULL, NULL, "'(none)'", -1 },
	/* Limits and non-objects: seed defaulted these to trade. */
	{ "array body", "[]", "invalid", NULL, NULL, "body is a JSON array, not an object", -1 },
	{ "string body", "\"trade\"", "invalid", NULL, NULL, "body is a JSON string", -1 },
	{ "null body", "null", "invalid", NULL, NULL, "body is a JSON null", -1 },
	{ "number body", "42", "invalid", NULL, NULL, "not an object", -1 },
	{ "malformed", "{\"mode\":", "invalid", NULL, NULL, "malformed JSON", -1 },
	{ "empty body", "", "invalid", NULL, NULL, "malformed JSON", -1 },
	{ "invalid utf-8", "{\"mode\":\"tr\xc3\x28" "de\"}", "invalid", NULL, NULL, "not valid UTF-8", -1 },
};

START_TEST(test_route_acceptance_case)
{
	const struct route_case *c = &cases[_i];
	struct route *r = route_message(c->body, strlen(c->body), "sqs-1");

	ck_assert_msg(strcmp(route_kind_to_string(r->kind), c->kind) == 0, "%s: kind %s want %s (%s)",
	    c->name, route_kind_to_string(r->kind), c->kind, r->reason);
	if (c->reason != NULL) {
		ck_assert_msg(r->rejected, "%s: not rejected", c->name);
		ck_assert_msg(strstr(r->reason, c->reason) != NULL, "%s: reason '%s' lacks '%s'", c->name,
		    r->reason, c->reason);
		ck_assert_ptr_null(r->handler);
	} else {
		ck_assert_msg(!r->rejected, "%s: rejected: %s", c->name, r->reason);
		ck_assert_str_eq(r->handler, c->handler);
		if (strcmp(c->key, "run") == 0) {
			/* Decided when handled (account, session): not by the router. */
			ck_assert_msg(r->key_source == IDEM_KEY_RUN, "%s: not a run key", c->name);
			ck_assert_ptr_null(r->idempotency_key);
		} else
			ck_assert_str_eq(r->idempotency_key, c->key);
	}
	if (c->action >= 0)
		ck_assert_int_eq(r->command->action, c->action);
	route_free(r);
}
END_TEST

START_TEST(test_route_pnl_fields)
{
	const char *b = "{\"action\":\"pnl_analysis\",\"pnl_type\":\"weekly\",\"pnl_periods\":3,\"pnl_detailed\":true,"
	    "\"pnl_period\":\" 1A \"}";
	struct route *r = route_message(b, strlen(b), NULL);

	ck_assert(!r->rejected);
	ck_assert_str_eq(r->command->pnl_type, "weekly");
	ck_assert_int_eq(r->command->pnl_periods, 3);
	ck_assert(r->command->pnl_detailed);
	ck_assert_str_eq(r->command->pnl_period, "1A");	/* whitespace stripped like the seed */
	/* No SQS id yet (--explain): the key is decided at receive time. */
	ck_assert_ptr_null(r->idempotency_key);
	route_free(r);
}
END_TEST

START_TEST(test_route_limits)
{
	size_t n = JSON_MAX_BODY + 16, i;
	char *big = xmalloc(n + 1), deep[200];
	struct route *r;

	memset(big, ' ', n);
	memcpy(big, "{\"to\":\"", 7);
	big[n - 2] = '"';
	big[n - 1] = '}';
	big[n] = '\0';
	r = route_message(big, n, "m");
	ck_assert(r->rejected);
	ck_assert_ptr_nonnull(strstr(r->reason, "over the 1048576-byte limit"));
	route_free(r);
	free(big);
	for (i = 0; i < 65; i++)
		deep[i] = '[';
	for (i = 0; i < 65; i++)
		deep[65 + i] = ']';
	r = route_message(deep, 130, "m");
	ck_assert(r->rejected);
	ck_assert_ptr_nonnull(strstr(r->reason, "nested deeper than 64"));
	route_free(r);
}
END_TEST

START_TEST(test_route_explain_shape)
{
	struct route *r = route_message(ENVELOPE_F, strlen(ENVELOPE_F), NULL);
	json_t *j = route_explain(r);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	ck_assert_str_eq(s, "{\"kind\":\"domain\",\"detail_type\":\"SignalGenerated\",\"source\":\"alchemiser.strategy\","
	    "\"handler\":\"portfolio\",\"idempotency_key\":\"event-123\",\"outcome\":\"dispatch\",\"reason\":null,"
	    "\"event_id\":\"event-123\",\"correlation_id\":\"corr-123\"}");
	free(s);
	json_decref(j);
	route_free(r);
}
END_TEST

/* The four captured bodies of the Python system, read in place. */
START_TEST(test_route_seed_events)
{
	static const struct { const char *file; const char *kind, *handler, *key; bool breaker; } seeds[] = {
		{ "seed-events/direct-trade-event.json", "command", "start", "run", false },
		{ "seed-events/eventbridge-scheduler-trade.json", "command", "start", "run", false },
		/* Seed: skipped by the breaker, so no error email was ever sent. Ours: mailed once. */
		{ "seed-events/eventbridge-error-notification.json", "domain", "error-mail", "error-notification-test", true },
		{ "seed-events/eventbridge-workflow-started.json", "domain", "signals", "workflow-started-test", false },
	};
	size_t i, len;

	for (i = 0; i < ELEMENTSOF(seeds); i++) {
		char *path = test_shared_path(seeds[i].file), *text;
		struct route *r;

		if (path == NULL)
			return;
		text = test_read_file(path, &len);
		r = route_message(text, len, "sqs-1");
		ck_assert_msg(!r->rejected, "%s: %s", seeds[i].file, r->reason);
		ck_assert_str_eq(route_kind_to_string(r->kind), seeds[i].kind);
		ck_assert_str_eq(r->handler, seeds[i].handler);
		if (strcmp(seeds[i].key, "run") == 0)
			ck_assert_int_eq(r->key_source, IDEM_KEY_RUN);
		else
			ck_assert_str_eq(r->idempotency_key, seeds[i].key);
		ck_assert_int_eq(r->breaker, seeds[i].breaker);
		route_free(r);
		free(text);
		free(path);
	}
}
END_TEST

/* The bench's body (bench/lib/alchbench.py WC_BODY) in parts, to vary one. */
#define WC_ENV(detail) \
	"{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\",\"detail\":" detail "}"
#define WC_IDS "\"event_id\":\"e-1\",\"correlation_id\":\"c-1\",\"causation_id\":\"bench\""
#define WC_REST "\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-10-14T12:00:00Z\"," \
	"\"source_module\":\"bench\",\"workflow_type\":\"trading\""
#define WC_TAIL "\"workflow_duration_ms\":1,\"success\":true"
#define WC(ids, rest, tail) WC_ENV("{" ids "," rest "," tail "}")

/* Bad envelopes and their reasons, word for word as the router gave them
 * before the plain parser and the in-place validation (issue #13; taken
 * from `alchemiserd --explain` of 439af1a). Both parse paths are here: the
 * plain one (most) and jansson's (escapes, reals, errors). */
static const struct { const char *name, *body, *reason; } rejects[] = {
	{ "missing event_id", WC("\"correlation_id\":\"c-1\",\"causation_id\":\"bench\"", WC_REST, WC_TAIL),
	  "WorkflowCompleted detail: field 'event_id': required field is missing" },
	{ "empty event_id", WC("\"event_id\":\"\",\"correlation_id\":\"c-1\",\"causation_id\":\"bench\"", WC_REST, WC_TAIL),
	  "WorkflowCompleted detail: field 'event_id': must not be empty" },
	{ "integer event_id", WC("\"event_id\":7,\"correlation_id\":\"c-1\",\"causation_id\":\"bench\"", WC_REST, WC_TAIL),
	  "WorkflowCompleted detail: field 'event_id': expected string, got integer" },
	{ "correlation id with a newline escape", WC("\"event_id\":\"e-1\",\"correlation_id\":\"c\\n1\",\"causation_id\":\"bench\"",
	    WC_REST, WC_TAIL),
	  "WorkflowCompleted detail: field 'correlation_id': character 2 (0x0a) is not allowed "
	  "(letters, digits and -_.:+=@/~# only)" },
	{ "raw control byte in a string", WC("\"event_id\":\"e-1\",\"correlation_id\":\"c-1\",\"causation_id\":\"a\tb\"",
	    WC_REST, WC_TAIL),
	  "body: malformed JSON at line 1 column 134: control character 0x9 near '\"a'" },
	{ "success as string", WC(WC_IDS, WC_REST, "\"workflow_duration_ms\":1,\"success\":\"true\""),
	  "WorkflowCompleted detail: field 'success': expected boolean, got string" },
	{ "duration as real", WC(WC_IDS, WC_REST, "\"workflow_duration_ms\":1.5,\"success\":true"),
	  "WorkflowCompleted detail: field 'workflow_duration_ms': expected integer, got number" },
	{ "duration with leading zero", WC(WC_IDS, WC_REST, "\"workflow_duration_ms\":01,\"success\":true"),
	  "body: malformed JSON at line 1 column 282: invalid token near '0'" },
	{ "duration over int64", WC(WC_IDS, WC_REST,
	    "\"workflow_duration_ms\":99999999999999999999,\"success\":true"),
	  "body: malformed JSON at line 1 column 301: too big integer near '99999999999999999999'" },
	{ "bare word", WC(WC_IDS, WC_REST, "\"workflow_duration_ms\":1,\"success\":True"),
	  "body: malformed JSON at line 1 column 297: invalid token near 'True'" },
	{ "duplicate key", WC(WC_IDS, WC_REST, WC_TAIL ",\"success\":false"),
	  "body: malformed JSON at line 1 column 307: duplicate object key near '\"success\"'" },
	{ "signal_only as string", WC(WC_IDS, WC_REST, WC_TAIL ",\"metadata\":{\"signal_only\":\"true\"}"),
	  "WorkflowCompleted detail: field 'metadata.signal_only': expected boolean, got string" },
	{ "summary not an object", WC(WC_IDS, WC_REST, WC_TAIL ",\"summary\":[]"),
	  "WorkflowCompleted detail: field 'summary': expected object, got array" },
	{ "bad timestamp", WC(WC_IDS, "\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-13-14T12:00:00Z\","
	    "\"source_module\":\"bench\",\"workflow_type\":\"trading\"", WC_TAIL),
	  "WorkflowCompleted detail: field 'timestamp': '2025-13-14T12:00:00Z' is not an RFC 3339 "
	  "timestamp: bad date" },
	{ "event_type mismatch", WC(WC_IDS, "\"event_type\":\"WorkflowStarted\",\"timestamp\":\"2025-10-14T12:00:00Z\","
	    "\"source_module\":\"bench\",\"workflow_type\":\"trading\"", WC_TAIL),
	  "WorkflowCompleted detail: field 'event_type': says 'WorkflowStarted'" },
	{ "trailing garbage", WC(WC_IDS, WC_REST, WC_TAIL) "x",
	  "body: malformed JSON at line 1 column 300: end of file expected near 'x'" },
	{ "detail is an array", WC_ENV("[1]"),
	  "WorkflowCompleted: detail: expected object, got array" },
	{ "detail string holds an array", WC_ENV("\"[1]\""),
	  "WorkflowCompleted: detail string holds array, not an object" },
	{ "no detail", "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\"}",
	  "WorkflowCompleted: detail: expected object, got nothing" },
	{ "untrusted source", "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"evil.execution\","
	  "\"detail\":{}}",
	  "detail-type WorkflowCompleted needs a source starting with 'alchemiser.', got 'evil.execution'" },

};

START_TEST(test_route_rejects_as_before)
{
	struct route *r = route_message(rejects[_i].body, strlen(rejects[_i].body), "sqs-1");

	ck_assert_msg(r->rejected, "%s: not rejected", rejects[_i].name);
	ck_assert_msg(strcmp(r->reason, rejects[_i].reason) == 0, "%s: reason '%s', want '%s'",
	    rejects[_i].name, r->reason, rejects[_i].reason);
	ck_assert_ptr_null(r->handler);
	ck_assert_ptr_null(r->idempotency_key);
	route_free(r);
}
END_TEST

/* The same message through the plain parser and through jansson (an escape
 * sends it there): the same decision, the same event, byte for byte. */
START_TEST(test_route_plain_and_jansson_agree)
{
	static const char *plain = WC(WC_IDS, WC_REST, WC_TAIL);
	static const char *escaped = WC(WC_IDS, "\"event_type\":\"WorkflowCompleted\","
	    "\"timestamp\":\"2025-10-14T12:00:00Z\",\"source_module\":\"b\\u0065nch\","
	    "\"workflow_type\":\"trading\"", WC_TAIL);
	struct route *a = route_message(plain, strlen(plain), "sqs-1");
	struct route *b = route_message(escaped, strlen(escaped), "sqs-1");
	json_t *ja = route_explain(a), *jb = route_explain(b);
	char *sa = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
	char *sb = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS);
	char *ea, *eb;

	ck_assert_ptr_null(json_parse_plain(escaped, strlen(escaped), JSON_MAX_DEPTH));
	ck_assert_msg(!a->rejected, "%s", a->reason);
	ck_assert_str_eq(sa, sb);
	ck_assert_str_eq(a->handler, "completed");
	ck_assert_str_eq(a->idempotency_key, "e-1");
	ea = domain_event_encode(a->event);
	eb = domain_event_encode(b->event);
	ck_assert_str_eq(ea, eb);
	ck_assert_ptr_nonnull(strstr(ea, "\"schema_version\":\"1.0\""));
	ck_assert_ptr_nonnull(strstr(ea, "\"summary\":{}"));
	ck_assert_int_eq(json_integer_value(domain_event_get(a->event, "workflow_duration_ms")), 1);
	ck_assert(json_is_true(domain_event_get(a->event, "success")));
	free(ea);
	free(eb);
	free(sa);
	free(sb);
	json_decref(ja);
	json_decref(jb);
	route_free(a);
	route_free(b);
}
END_TEST

/* route_message (one scan for plain domain events, issue #13) against
 * route_message_tree (the whole body as a jansson tree) on one body: the
 * same decision, reason, key, ids and event, byte for byte. Returns
 * whether the scanned path took it (its event had no tree yet). */
static bool
same_as_tree(const char *body, size_t len)
{
	struct route *a = route_message(body, len, "sqs-1");
	struct route *b = route_message_tree(body, len, "sqs-1");
	bool scanned = a->event != NULL && a->event->detail_tree == NULL;
	json_t *ja = route_explain(a), *jb = route_explain(b);
	char *sa = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
	char *sb = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_msg(strcmp(sa, sb) == 0, "%.*s:\n%s\n%s", (int)len, body, sa, sb);
	ck_assert_str_eq(a->reason, b->reason);
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_int_eq(a->type, b->type);
	ck_assert_int_eq(a->key_source, b->key_source);
	ck_assert_int_eq(a->breaker, b->breaker);
	ck_assert_int_eq(a->event != NULL, b->event != NULL);
	if (a->event != NULL) {
		const struct field_spec *f;
		char *ea, *eb;

		ck_assert_str_eq(a->event->event_id, b->event->event_id);
		ck_assert_str_eq(a->event->correlation_id, b->event->correlation_id);
		ck_assert_str_eq(a->event->causation_id, b->event->causation_id);
		ck_assert_int_eq(a->event->timestamp_usec, b->event->timestamp_usec);
		/* The typed reads answer from the text as the tree would. */
		for (f = event_type_fields(a->type); f->name != NULL; f++) {
			ck_assert_int_eq(domain_event_is_true(a->event, f->name),
			    json_is_true(domain_event_get(b->event, f->name)));
			ck_assert_int_eq(domain_event_integer(a->event, f->name),
			    json_integer_value(domain_event_get(b->event, f->name)));
		}
		ck_assert_int_eq(domain_event_is_true(a->event, "no_such_field"), false);
		ck_assert_int_eq(domain_event_integer(a->event, "no_such_field"), 0);
		/* The tree built lazily is the tree built eagerly. */
		ea = domain_event_encode(a->event);
		eb = domain_event_encode(b->event);
		ck_assert_str_eq(ea, eb);
		ck_assert(json_equal(domain_event_detail(a->event), domain_event_detail(b->event)));
		free(ea);
		free(eb);
	}
	free(sa);
	free(sb);
	json_decref(ja);
	json_decref(jb);
	route_free(a);
	route_free(b);
	return scanned;
}

/* Every acceptance and reject case above, and the seeds: both paths agree. */
START_TEST(test_route_scan_agrees_with_tree)
{
	static const char *more[] = {
		/* A decimal as an integer (the tree holds "100"), a list, defaults. */
		"{\"detail-type\":\"TradingNotificationRequested\",\"source\":\"alchemiser.notifications\",\"detail\":{"
		DETAIL_BASE("TradingNotificationRequested", "tn-2") ",\"trading_success\":false,\"trading_mode\":\"PAPER\","
		"\"orders_placed\":1,\"orders_succeeded\":0,\"total_trade_value\":100,\"execution_data\":{},"
		"\"error_code\":null}}",
		"{\"detail-type\":\"TradingNotificationRequested\",\"source\":\"alchemiser.notifications\",\"detail\":{"
		DETAIL_BASE("TradingNotificationRequested", "tn-3") ",\"trading_success\":true,\"trading_mode\":\"PAPER\","
		"\"orders_placed\":1,\"orders_succeeded\":1,\"total_trade_value\":\"12.345678901\",\"execution_data\":{}}}",
		"{\"detail-type\":\"TradeExecuted\",\"source\":\"alchemiser.execution\",\"id\":\"env-1\",\"detail\":{"
		DETAIL_BASE("TradeExecuted", "te-2") ",\"execution_data\":{},\"success\":false,\"orders_placed\":2,"
		"\"orders_succeeded\":1,\"failed_symbols\":[\"SPY\",\"QQQ\"],\"failure_reason\":\"x\"}}",
		"{\"detail-type\":\"TradeExecuted\",\"source\":\"alchemiser.execution\",\"detail\":{"
		DETAIL_BASE("TradeExecuted", "te-3") ",\"execution_data\":{},\"success\":false,\"orders_placed\":2,"
		"\"orders_succeeded\":1,\"failed_symbols\":[\"SPY\",1]}}",
		"{\"detail-type\":\"WorkflowStarted\",\"source\":\"alchemiser.orchestration\",\"detail\":{"
		DETAIL_BASE("WorkflowStarted", "ws-2") ",\"workflow_type\":\"trading\",\"requested_by\":\"x\","
		"\"configuration\":{\"signal_only\":true,\"live_trading\":false},\"metadata\":null}}",
		"{\"detail-type\":\"WorkflowStarted\",\"source\":\"alchemiser.orchestration\",\"detail\":{"
		DETAIL_BASE("WorkflowStarted", "ws-3") ",\"workflow_type\":\"trading\",\"requested_by\":\"x\","
		"\"configuration\":{\"ignore_market_hours\":\"yes\"}}}",
		"{\"detail-type\":\"ErrorNotificationRequested\",\"source\":\"alchemiser.execution\",\"detail\":{"
		DETAIL_BASE("ErrorNotificationRequested", "en-1") ",\"error_severity\":\"high\",\"error_priority\":\"HIGH\","
		"\"error_title\":\"t\",\"error_report\":\"r\"}}",
		/* A timestamp with an offset (normalised to Z in the tree). */
		WC("\"event_id\":\"e-1\",\"correlation_id\":\"c-1\",\"causation_id\":\"bench\"",
		    "\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-10-14T14:00:00+02:00\","
		    "\"source_module\":\"bench\",\"workflow_type\":\"trading\"", WC_TAIL ",\"metadata\":{\"x\":[1,{}]}"),
		WC(WC_IDS, WC_REST, "\"workflow_duration_ms\":-7,\"success\":false,\"summary\":{\"a\":1}"),
	};
	size_t i, scanned = 0;

	for (i = 0; i < ELEMENTSOF(cases); i++)
		scanned += same_as_tree(cases[i].body, strlen(cases[i].body));
	for (i = 0; i < ELEMENTSOF(rejects); i++)
		ck_assert(!same_as_tree(rejects[i].body, strlen(rejects[i].body)));
	for (i = 0; i < ELEMENTSOF(more); i++)
		scanned += same_as_tree(more[i], strlen(more[i]));
	/* Fixture F, the notifications, the trade and workflow events, ... */
	ck_assert_uint_ge(scanned, 10);
}
END_TEST

/* Every one-byte change and every cut of the bench's body through both
 * paths: whatever the scan accepts, the tree accepts with the same route. */
START_TEST(test_route_scan_agrees_under_mutation)
{
	static const char subst[] = "{}[]\",:\\0123-.eEtfnulx \t\n\x01\x7f\x80\xc3";
	static const char *body = WC(WC_IDS, WC_REST, WC_TAIL ",\"metadata\":{\"signal_only\":true}");
	size_t len = strlen(body), i, k, scanned = 0;
	char *buf = xmalloc(len);

	for (i = 0; i <= len; i++) {
		scanned += same_as_tree(body, i);
		for (k = 0; i < len && k < sizeof subst - 1; k++) {
			memcpy(buf, body, len);
			buf[i] = subst[k];
			scanned += same_as_tree(buf, len);
		}
	}
	ck_assert_uint_gt(scanned, 100);
	free(buf);
}
END_TEST

/* The no-op stage's reads need no tree; the first handler that asks for
 * the detail gets it built once, equal to the eager one, defaults and all. */
START_TEST(test_route_detail_built_only_when_asked)
{
	static const char *body = WC(WC_IDS, WC_REST, WC_TAIL);
	struct route *r = route_message(body, strlen(body), "sqs-1");
	struct route *t = route_message_tree(body, strlen(body), "sqs-1");
	json_t *d;

	ck_assert_msg(!r->rejected, "%s", r->reason);
	ck_assert_ptr_nonnull(r->event);
	ck_assert_ptr_null(r->event->detail_tree);
	ck_assert_ptr_nonnull(t->event->detail_tree);
	ck_assert(domain_event_is_true(r->event, "success"));
	ck_assert_int_eq(domain_event_integer(r->event, "workflow_duration_ms"), 1);
	/* summary is absent: its default ({}) is the tree's, so this builds it. */
	ck_assert_ptr_null(r->event->detail_tree);
	ck_assert(!domain_event_is_true(r->event, "summary"));
	d = r->event->detail_tree;
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_eq(domain_event_detail(r->event), d);
	ck_assert(json_equal(d, t->event->detail_tree));
	ck_assert(json_is_object(domain_event_get(r->event, "summary")));
	ck_assert_str_eq(json_string_value(domain_event_get(r->event, "schema_version")), "1.0");
	/* Read from the tree now: the same answers. */
	ck_assert(domain_event_is_true(r->event, "success"));
	ck_assert_int_eq(domain_event_integer(r->event, "workflow_duration_ms"), 1);
	ck_assert_str_eq(r->event->event_id, "e-1");
	route_free(r);
	route_free(t);
}
END_TEST

START_TEST(test_outcome_mapping)
{
	ck_assert_int_eq(outcome_from_errno(0), OUTCOME_DONE);
	ck_assert_int_eq(outcome_from_errno(-EBADMSG), OUTCOME_REJECT);
	ck_assert_int_eq(outcome_from_errno(-E2BIG), OUTCOME_REJECT);
	ck_assert_int_eq(outcome_from_errno(-EAGAIN), OUTCOME_RETRY);
	ck_assert_int_eq(outcome_from_errno(-ETIMEDOUT), OUTCOME_RETRY);
	ck_assert_int_eq(outcome_from_errno(-EACCES), OUTCOME_RETRY);
	ck_assert_str_eq(outcome_to_string(OUTCOME_DUPLICATE), "duplicate");
	ck_assert_str_eq(dispatch_stage_for_event(EVENT_WORKFLOW_STARTED), "signals");
	ck_assert_str_eq(dispatch_stage_for_event(EVENT_ERROR_NOTIFICATION_REQUESTED), "error-mail");
	ck_assert_str_eq(dispatch_stage_for_command(COMMAND_PNL), "pnl");
}
END_TEST

static Suite *
suite_route(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("acceptance");

	tcase_add_loop_test(tc, test_route_acceptance_case, 0, (int)ELEMENTSOF(cases));
	tcase_add_test(tc, test_route_seed_events);
	tcase_add_loop_test(tc, test_route_rejects_as_before, 0, (int)ELEMENTSOF(rejects));
	tcase_add_test(tc, test_route_plain_and_jansson_agree);
	suite_add_tcase(s, tc);
	tc = tcase_create("scan");
	tcase_add_test(tc, test_route_scan_agrees_with_tree);
	tcase_add_test(tc, test_route_scan_agrees_under_mutation);
	tcase_add_test(tc, test_route_detail_built_only_when_asked);
	suite_add_tcase(s, tc);
	tc = tcase_create("details");
	tcase_add_test(tc, test_route_pnl_fields);
	tcase_add_test(tc, test_route_limits);
	tcase_add_test(tc, test_route_explain_shape);
	tcase_add_test(tc, test_outcome_mapping);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_route)
