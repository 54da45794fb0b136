/*
 * execution: RebalancePlanned -> TradeExecuted, then WorkflowCompleted or
 * WorkflowFailed. Orders carry deterministic client_order_ids, so a re-run
 * (redelivery after a crash, a retry after a transient broker error) resumes
 * its orders instead of placing new ones (trading/executor.h). Signal-only
 * runs place nothing and say so in the events.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/planner.h"
#include "stages_internal.h"

static void
executor_options_from_config(const struct stage_ctx *ctx, bool signal_only,
    struct executor_options *o)
{
	executor_options_init(o);
	o->mode = signal_only ? EXECUTOR_MODE_BOT : EXECUTOR_MODE_TRADE;
	o->use_limit_orders = config_bool(ctx->cfg, "trading.use_limit_orders");
	o->max_reprices = (int)config_int(ctx->cfg, "trading.max_reprices");
	o->reprice_interval_usec = config_usec(ctx->cfg, "trading.reprice_interval");
	o->poll_interval_usec = config_usec(ctx->cfg, "trading.order_poll_interval");
	o->phase_timeout_usec = config_usec(ctx->cfg, "trading.fill_timeout");
	o->min_notional = config_decimal(ctx->cfg, "trading.min_notional");
	o->partial_is_failure = config_bool(ctx->cfg, "trading.partial_fill_is_failure");
	o->timestamp_usec = ctx->now_usec;
}

/* Milliseconds since WorkflowStarted, carried in the metadata; 0 if unknown.
 * Measured now, after the orders, not at the handler's start (ctx->now_usec):
 * the run's time includes its execution. */
static int64_t
workflow_duration_ms(const json_t *meta)
{
	const char *started = json_get_str(meta, "workflow_started_at");
	int64_t t, now = time_now_realtime_usec();

	if (started == NULL || time_parse_rfc3339(started, &t, NULL) < 0 || t > now)
		return 0;
	return (now - t) / USEC_PER_MSEC;
}

void
stage_execution_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *rp = ctx->in->event;
	json_t *in_meta = domain_event_get(rp, "metadata");
	bool signal_only = json_is_true(json_object_get(in_meta, "signal_only"));
	struct executor_result *res = NULL;
	struct planner_plan *plan = NULL;
	struct executor_options opt;
	struct errctx ec = { 0 };
	json_t *exec, *meta, *payload, *failed;
	int r;

	if (ctx->broker == NULL) {
		stage_set(out, OUTCOME_RETRY, "no broker configured");
		return;
	}
	r = planner_plan_from_json(domain_event_get(rp, "rebalance_plan"), &plan, &ec);
	if (r < 0) {
		stage_fail_workflow(ctx, out, rp->correlation_id, "trade_execution", NULL,
		    "rebalance plan: %s", errctx_msg(&ec));
		return;
	}
	executor_options_from_config(ctx, signal_only, &opt);
	r = executor_run(ctx->broker, plan, rp->event_id, &opt, &res, &ec);
	planner_plan_free(plan);
	if (r < 0) {
		if (errno_is_transient(r)) {
			/* The re-run resumes the same client_order_ids: nothing is placed twice. */
			stage_set(out, OUTCOME_RETRY, "broker: %s; the run resumes on retry", errctx_msg(&ec));
			out->dependency_failure = true;
		} else
			stage_fail_workflow(ctx, out, rp->correlation_id, "trade_execution", NULL,
			    "execution: %s", errctx_msg(&ec));
		return;
	}
	exec = executor_result_to_json(res);
	failed = json_object_get(exec, "failed_symbols");
	meta = json_is_object(in_meta) ? json_deep_copy(in_meta) : json_object();
	json_object_set(meta, "rebalance_plan", domain_event_get(rp, "rebalance_plan"));
	payload = json_pack("{s:o, s:b, s:I, s:I, s:s*, s:O, s:o}",
	    "execution_data", exec, "success", res->success,
	    "orders_placed", (json_int_t)res->orders_placed,
	    "orders_succeeded", (json_int_t)res->orders_succeeded,
	    "failure_reason", res->success ? NULL : res->failure_reason,
	    "failed_symbols", json_is_array(failed) ? failed : json_array(),
	    "metadata", meta);
	if (stage_emit(ctx, out, EVENT_TRADE_EXECUTED, 0, rp->correlation_id, payload) < 0)
		goto out;
	if (res->success) {
		char total[DECIMAL_STRLEN];

		payload = json_pack("{s:s, s:I, s:b, s:{s:I, s:I, s:s, s:s*}}",
		    "workflow_type", signal_only ? "signal_only" : "trading",
		    "workflow_duration_ms", (json_int_t)workflow_duration_ms(in_meta),
		    "success", 1,
		    "summary", "orders_placed", (json_int_t)res->orders_placed,
		    "orders_succeeded", (json_int_t)res->orders_succeeded,
		    "total_trade_value", decimal_format(res->total_trade_value, total),
		    "execution_plan_id", res->plan_id);
		if (stage_emit(ctx, out, EVENT_WORKFLOW_COMPLETED, 1, rp->correlation_id, payload) < 0)
			goto out;
		stage_set(out, OUTCOME_DONE, "%s: %zu of %zu orders succeeded%s",
		    executor_status_to_string(res->status), res->orders_succeeded, res->orders_placed,
		    signal_only ? " (signal only: no orders)" :
		    res->orders_placed == 0 ? " (nothing to trade)" : "");
	} else {
		stage_fail_workflow(ctx, out, rp->correlation_id, "trade_execution",
		    json_pack("{s:O}", "failed_symbols", json_object_get(exec, "failed_symbols") != NULL ?
		    json_object_get(exec, "failed_symbols") : json_null()), "%s", res->failure_reason);
	}
out:
	executor_result_free(res);
}
