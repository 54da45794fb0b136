/*
 * portfolio: SignalGenerated -> RebalancePlanned. Reads the account and
 * positions from the broker and plans the trades toward the consolidated
 * target weights (trading/planner.h). The plan's money is decimal strings in
 * the Python system's layout. The run's context (signals, signal-only flag,
 * start time) travels on in the metadata, so later stages need no state.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/trading/planner.h"
#include "stages_internal.h"

void
stage_portfolio_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *sg = ctx->in->event;
	json_t *cp = domain_event_get(sg, "consolidated_portfolio");
	json_t *in_meta = domain_event_get(sg, "metadata");
	struct planner_options po = {
		.cash_reserve = config_decimal(ctx->cfg, "trading.cash_reserve"),
		.min_trade = config_decimal(ctx->cfg, "trading.min_trade"),
		.seed_suppress_small_exits = config_bool(ctx->cfg, "trading.keep_small_positions"),
	};
	struct planner_target *targets = NULL;
	struct planner_plan *plan = NULL;
	struct errctx ec = { 0 };
	char plan_id[UUID_STRLEN];
	json_t *plan_json, *meta, *cmp, *tv, *cv, *dv, *payload;
	size_t n = 0, i;
	int r;

	if (ctx->broker == NULL) {
		stage_set(out, OUTCOME_RETRY, "no broker configured");
		return;
	}
	r = planner_targets_from_json(json_object_get(cp, "target_allocations"), &targets, &n, &ec);
	if (r < 0) {
		stage_fail_workflow(ctx, out, sg->correlation_id, "portfolio_analysis", NULL,
		    "target allocations: %s", errctx_msg(&ec));
		return;
	}
	/* The plan id is derived too: a re-run plans under the same id. */
	(void)uuid_v5(UUID_NAMESPACE_ALCHEMISER, sg->event_id, strlen(sg->event_id), plan_id);
	r = planner_build_from_broker(ctx->broker, targets, n, &po, plan_id, sg->correlation_id,
	    sg->event_id, ctx->now_usec, &plan, &ec);
	planner_targets_free(targets, n);
	if (r < 0) {
		if (errno_is_transient(r)) {
			stage_set(out, OUTCOME_RETRY, "broker: %s", errctx_msg(&ec));
			out->dependency_failure = true;
		} else
			stage_fail_workflow(ctx, out, sg->correlation_id, "portfolio_analysis", NULL,
			    "planning: %s", errctx_msg(&ec));
		return;
	}
	plan_json = planner_plan_to_json(plan);
	tv = json_object();
	cv = json_object();
	dv = json_object();
	for (i = 0; i < plan->n_items; i++) {
		json_set_decimal(tv, plan->items[i].symbol, plan->items[i].target_value);
		json_set_decimal(cv, plan->items[i].symbol, plan->items[i].current_value);
		json_set_decimal(dv, plan->items[i].symbol, plan->items[i].trade_amount);
	}
	cmp = json_pack("{s:o, s:o, s:o}", "target_values", tv, "current_values", cv, "deltas", dv);
	meta = json_is_object(in_meta) ? json_deep_copy(in_meta) : json_object();
	json_object_set(meta, "consolidated_portfolio", cp);
	payload = json_pack("{s:o, s:o, s:b, s:o}", "rebalance_plan", plan_json,
	    "allocation_comparison", cmp, "trades_required", planner_trades_required(plan),
	    "metadata", meta);
	if (stage_emit(ctx, out, EVENT_REBALANCE_PLANNED, 0, sg->correlation_id, payload) == 0)
		stage_set(out, OUTCOME_DONE, "plan of %zu items, %s", plan->n_items,
		    planner_trades_required(plan) ? "trades required" : "nothing to trade");
	planner_plan_free(plan);
}
