/*
 * monitor: TradeExecuted -> TradingNotificationRequested (seed-router-spec §5.4),
 * built from the event itself. The earlier events' data (strategy signals,
 * consolidated portfolio) travel along the chain in each event's metadata, so
 * no per-run state has to be kept anywhere. (The seed never ran this step in
 * production: no trading email was ever sent.)
 */
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "stages_internal.h"

static void
copy_if_present(json_t *dst, const char *dst_key, const json_t *src, const char *src_key)
{
	json_t *v = json_object_get(src, src_key);

	if (v != NULL && !json_is_null(v))
		json_object_set(dst, dst_key, v);
}

void
stage_monitor_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *te = ctx->in->event;
	json_t *exec = json_deep_copy(domain_event_get(te, "execution_data"));
	json_t *meta = domain_event_get(te, "metadata");
	json_t *summary, *payload;
	struct decimal total = DECIMAL_ZERO;
	struct errctx ec = { 0 };
	bool success = json_is_true(domain_event_get(te, "success"));
	const char *error_message = NULL;

	/* A malformed total is reported as 0, like the seed, rather than losing the email. */
	if (json_object_get(exec, "total_trade_value") != NULL &&
	    json_req_decimal(exec, "total_trade_value", "execution_data", &total, &ec) < 0)
		total = DECIMAL_ZERO;
	if (!success) {
		json_object_set(exec, "failed_symbols", domain_event_get(te, "failed_symbols"));
		error_message = json_string_value(domain_event_get(te, "failure_reason"));
		if (error_message == NULL && json_is_object(meta))
			error_message = json_get_str(meta, "error_message");
		if (error_message == NULL)
			error_message = "Unknown error";
	}
	if (json_is_object(meta)) {
		copy_if_present(exec, "strategy_signals", meta, "strategy_signals");
		copy_if_present(exec, "consolidated_portfolio", meta, "consolidated_portfolio");
		copy_if_present(exec, "rebalance_plan", meta, "rebalance_plan");
		copy_if_present(exec, "signal_only", meta, "signal_only");
		/* Which session the run was for and what the bars really were. */
		copy_if_present(exec, "as_of", meta, "as_of");
		copy_if_present(exec, "bars_as_of", meta, "bars_as_of");
		copy_if_present(exec, "cash_weight", meta, "cash_weight");
		copy_if_present(exec, "stale_tolerated", meta, "stale_tolerated");
	}
	summary = json_pack("{s:O, s:O}", "orders_placed", domain_event_get(te, "orders_placed"),
	    "orders_succeeded", domain_event_get(te, "orders_succeeded"));
	copy_if_present(summary, "consolidated_portfolio", exec, "consolidated_portfolio");
	json_object_set_new(exec, "execution_summary", summary);
	json_object_set(exec, "orders_executed", json_object_get(exec, "orders") != NULL ?
	    json_object_get(exec, "orders") : json_array());

	payload = json_pack("{s:b, s:s, s:O, s:O, s:o, s:s*, s:n, s:n}",
	    "trading_success", success,
	    "trading_mode", strcmp(config_str(ctx->cfg, "trading.mode"), "live") == 0 ? "LIVE" : "PAPER",
	    "orders_placed", domain_event_get(te, "orders_placed"),
	    "orders_succeeded", domain_event_get(te, "orders_succeeded"),
	    "execution_data", exec,
	    "error_message", error_message,
	    "error_code",
	    "recipient_override");
	json_set_decimal(payload, "total_trade_value", total);
	if (stage_emit(ctx, out, EVENT_TRADING_NOTIFICATION_REQUESTED, 0, te->correlation_id, payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "trading notification requested (%s)", success ? "success" : "failure");
}
