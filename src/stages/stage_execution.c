/*
 * execution: RebalancePlanned -> TradeExecuted, then WorkflowCompleted or
 * WorkflowFailed. Orders carry deterministic client_order_ids, so a re-run
 * (redelivery after a crash, a retry after a transient broker error) resumes
 * its orders instead of placing new ones (trading/executor.h). Signal-only
 * runs place nothing and say so in the events. A run planned before the
 * account's last completed execution ends superseded (no further orders; its
 * report lists what it placed before, read back from the broker); a run that
 * loses the account lease stops placing orders (fencing) and waits to resume.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/order_id.h"
#include "alchemiser/trading/planner.h"
#include "alchemiser/stages/account_lease.h"
#include "alchemiser/stages/run_key.h"
#include "stages_internal.h"

/* How often a run waiting for the account looks again. */
#define ACCOUNT_WAIT_POLL_USEC (INT64_C(1000) * 1000)
/* A superseded run's earlier orders are those the broker lists from its plan
 * time on, less this for a broker clock behind ours. */
#define HISTORY_CLOCK_SLACK_USEC (INT64_C(3600) * 1000 * 1000)

/* What execute_live found besides the result. */
struct live {
	char	account[128];
	/* Non-empty: a newer run of the account completed its execution; this
	 * one placed nothing (its own open orders cancelled). */
	char	superseded_by[128];
	int64_t	superseded_plan_usec;
};

static int execute_live(const struct stage_ctx *ctx, const struct domain_event *rp,
    const json_t *in_meta, struct executor_options *opt, struct planner_plan **plan,
    struct executor_result **res, struct live *live, struct errctx *ec);
static void end_superseded(const struct stage_ctx *ctx, struct stage_output *out,
    const struct domain_event *rp, const json_t *in_meta, json_t *plan_json,
    const struct live *live, const struct executor_result *earlier);
static int earlier_orders(const struct stage_ctx *ctx, const struct domain_event *rp,
    const struct planner_plan *plan, const json_t *alloc, struct executor_result **ret,
    struct errctx *ec);
static size_t describe_orders(const struct executor_result *res, char *buf, size_t size);

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
	json_t *exec, *meta, *payload, *failed, *plan_json;
	struct live live = { "", "", 0 };
	const char *account = live.account;
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
	if (signal_only)
		r = executor_run(ctx->broker, plan, rp->event_id, &opt, &res, &ec);
	else
		r = execute_live(ctx, rp, in_meta, &opt, &plan, &res, &live, &ec);
	/* What was executed is what the report shows: the plan made now. */
	plan_json = opt.plan_is_live && r == 0 ? planner_plan_to_json(plan) :
	    json_incref(domain_event_get(rp, "rebalance_plan"));
	planner_plan_free(plan);
	if (r == -EBUSY && ctx->now_usec - rp->timestamp_usec <
	    config_usec(ctx->cfg, "trading.account_wait")) {
		/* Held in place, not a worker blocked: the run executing now needs
		 * workers for its next steps. */
		json_decref(plan_json);
		stage_set(out, OUTCOME_RETRY, "waiting for account %s: %s", account, errctx_msg(&ec));
		out->hold_usec = ACCOUNT_WAIT_POLL_USEC;
		return;
	}
	if (r == -EBUSY) {
		json_decref(plan_json);
		stage_fail_workflow(ctx, out, rp->correlation_id, "trade_execution", NULL,
		    "account %s busy: %s still executing after trading.account_wait; this run placed "
		    "no (further) orders", account, errctx_msg(&ec));
		return;
	}
	if (r == -ENOLCK) {
		/* Fenced: another run has the account. Held like a wait for it; the
		 * re-run then waits, resumes, or ends superseded. */
		json_decref(plan_json);
		stage_set(out, OUTCOME_RETRY, "stopped: %s; this run's open orders are cancelled "
		    "and it waits for the account to resume", errctx_msg(&ec));
		out->hold_usec = ACCOUNT_WAIT_POLL_USEC;
		return;
	}
	if (r == 0 && live.superseded_by[0] != '\0') {
		end_superseded(ctx, out, rp, in_meta, plan_json, &live, res);
		executor_result_free(res);
		return;
	}
	if (r < 0) {
		json_decref(plan_json);
		if (errno_is_transient(r)) {
			/* The re-run resumes the same client_order_ids: nothing is placed
			 * twice. The broker or the state store (the account lease): the
			 * error names which. */
			stage_set(out, OUTCOME_RETRY, "%s; the run resumes on retry", errctx_msg(&ec));
			out->dependency_failure = true;
		} else
			stage_fail_workflow(ctx, out, rp->correlation_id, "trade_execution", NULL,
			    "execution: %s", errctx_msg(&ec));
		return;
	}
	/* What the executor changed on its own is in the report; the journal
	 * says it too. */
	for (size_t i = 0; i < res->n_orders; i++)
		if (res->orders[i].note[0] != '\0')
			log_notice("run %s: %s %s: %s", rp->correlation_id,
			    planner_action_to_string(res->orders[i].action), res->orders[i].symbol,
			    res->orders[i].note);
	exec = executor_result_to_json(res);
	failed = json_object_get(exec, "failed_symbols");
	meta = json_is_object(in_meta) ? json_deep_copy(in_meta) : json_object();
	json_object_set_new(meta, "rebalance_plan", plan_json);
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

/* "N orders earlier (buy SPY 20 of 20 filled, ...)" into buf; the length
 * written (cut with "..." when it does not fit). */
static size_t
describe_orders(const struct executor_result *res, char *buf, size_t size)
{
	char q[DECIMAL_STRLEN], f[DECIMAL_STRLEN];
	size_t len;

	len = (size_t)snprintf(buf, size, "%zu order%s earlier (", res->orders_placed,
	    res->orders_placed == 1 ? "" : "s");
	for (size_t i = 0; i < res->n_orders && len < size; i++) {
		const struct executor_order *o = &res->orders[i];

		len += (size_t)snprintf(buf + len, size - len, "%s%s %s %s of %s %s", i > 0 ? ", " : "",
		    o->action == PLANNER_SELL ? "sell" : "buy", o->symbol, decimal_format(o->filled_qty, f),
		    decimal_format(o->qty, q), o->success ? "filled" : broker_order_status_to_string(o->status));
	}
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, ")");
	if (len >= size && size > 4) {
		memcpy(buf + size - 4, "...", 4);
		len = size - 1;
	}
	return len;
}

/* A run superseded: TradeExecuted and WorkflowCompleted, both naming the
 * newer run, so its one email (the trading report) and its run record say
 * so; the journal says it at warning. Nothing is placed now, but the run may
 * have traded before it was killed (its claim never completed): earlier
 * lists those orders, and the events, the email and the log say them. */
static void
end_superseded(const struct stage_ctx *ctx, struct stage_output *out,
    const struct domain_event *rp, const json_t *in_meta, json_t *plan_json,
    const struct live *live, const struct executor_result *earlier)
{
	char ours[RFC3339_STRLEN], theirs[RFC3339_STRLEN], why[1536], did[640], total[DECIMAL_STRLEN];
	size_t placed = earlier != NULL ? earlier->orders_placed : 0;
	size_t succeeded = earlier != NULL ? earlier->orders_succeeded : 0;
	struct errctx ec = { 0 };
	json_t *meta, *payload, *exec;

	time_format_rfc3339(rp->timestamp_usec, ours);
	time_format_rfc3339(live->superseded_plan_usec, theirs);
	if (placed > 0)
		describe_orders(earlier, did, sizeof did);
	(void)snprintf(why, sizeof why, "superseded by run %s: that run, planned at %s, completed "
	    "its execution on account %s after this run was planned (%s); this run placed %s%s and "
	    "places no further orders; its open orders were cancelled", live->superseded_by, theirs,
	    live->account, ours, placed > 0 ? did : "no orders", placed > 0 ? " before it was stopped" : "");
	log_warning("run %s %s", rp->correlation_id, why);
	if (ctx->idem != NULL && run_key_mark_superseded(ctx->idem, rp->correlation_id, ctx->owner,
	    ctx->now_usec, config_usec(ctx->cfg, "daemon.dedup_window"), &ec) < 0) {
		json_decref(plan_json);
		stage_set(out, OUTCOME_RETRY, "recording that run %s is superseded: %s",
		    rp->correlation_id, errctx_msg(&ec));
		out->dependency_failure = true;
		return;
	}
	meta = json_is_object(in_meta) ? json_deep_copy(in_meta) : json_object();
	json_object_set_new(meta, "rebalance_plan", plan_json);
	if (earlier != NULL)
		exec = executor_result_to_json(earlier);
	else
		exec = json_pack("{s:[], s:[], s:I, s:I, s:s}", "orders", "failed_symbols",
		    "orders_placed", (json_int_t)0, "orders_succeeded", (json_int_t)0,
		    "total_trade_value", "0");
	decimal_format(earlier != NULL ? earlier->total_trade_value : DECIMAL_ZERO, total);
	json_object_set_new(exec, "success", json_true());
	json_object_set_new(exec, "status", json_string("superseded"));
	json_object_set_new(exec, "superseded_by", json_string(live->superseded_by));
	json_object_set_new(exec, "superseded_reason", json_string(why));
	json_object_set_new(exec, "orders_placed_earlier", json_integer((json_int_t)placed));
	json_object_set_new(exec, "failure_reason", json_null());
	/* Its earlier orders are what this run did: none failed now. */
	json_object_set_new(exec, "failed_symbols", json_array());
	payload = json_pack("{s:o, s:b, s:I, s:I, s:[], s:o}",
	    "execution_data", exec, "success", 1, "orders_placed", (json_int_t)placed,
	    "orders_succeeded", (json_int_t)succeeded, "failed_symbols", "metadata", meta);
	if (stage_emit(ctx, out, EVENT_TRADE_EXECUTED, 0, rp->correlation_id, payload) < 0)
		return;
	payload = json_pack("{s:s, s:I, s:b, s:s, s:{s:I, s:I, s:s, s:s}}",
	    "workflow_type", "trading",
	    "workflow_duration_ms", (json_int_t)workflow_duration_ms(in_meta),
	    "success", 1, "superseded_by", live->superseded_by,
	    "summary", "orders_placed", (json_int_t)placed, "orders_succeeded", (json_int_t)succeeded,
	    "total_trade_value", total, "superseded_by", live->superseded_by);
	if (stage_emit(ctx, out, EVENT_WORKFLOW_COMPLETED, 1, rp->correlation_id, payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "%s", why);
}

/* What a run placed before: every order of its own the broker lists since
 * it was planned (its live plan may have sold whole a position that its
 * RebalancePlanned, its targets and the account now do not name), and the
 * chains of its plan's items and targets (whatever the broker's clock). */
static int
earlier_orders(const struct stage_ctx *ctx, const struct domain_event *rp,
    const struct planner_plan *plan, const json_t *alloc, struct executor_result **ret,
    struct errctx *ec)
{
	const char **syms;
	const char *k;
	json_t *v;
	size_t n = 0;
	int r;

	syms = xcalloc(plan->n_items + (json_is_object(alloc) ? json_object_size(alloc) : 0) + 1,
	    sizeof *syms);
	for (size_t i = 0; i < plan->n_items; i++)
		syms[n++] = plan->items[i].symbol;
	if (json_is_object(alloc))
		json_object_foreach((json_t *)alloc, k, v)
			syms[n++] = k;
	r = executor_run_history(ctx->broker, rp->event_id,
	    rp->timestamp_usec - HISTORY_CLOCK_SLACK_USEC, syms, n, ret, ec);
	free(syms);
	return r < 0 ? errctx_prefix(ec, "this run's earlier orders") : 0;
}

/* What the fence asks about: this run's lease, and whether a newer run of
 * the account completed since this one took it. */
struct fence {
	const struct stage_ctx		*ctx;
	const struct domain_event	*rp;
	struct account_lease		*lease;
	const char			*account;
};

static bool
lease_fence_cb(void *userdata, char *why, size_t why_size)
{
	struct fence *f = userdata;
	struct errctx ec = { 0 };
	char run[128];
	int64_t plan;
	int r;

	if (!account_lease_held(f->lease, why, why_size))
		return false;
	/* A newer run can only have completed beside this one if this one's
	 * lease lapsed meanwhile (a stall): then it must not trade on. */
	r = account_lease_last_done(f->ctx->idem, f->account, time_now_realtime_usec(), run,
	    sizeof run, &plan, &ec);
	if (r == 0 && strcmp(run, f->rp->correlation_id) != 0 && plan > f->rp->timestamp_usec) {
		(void)snprintf(why, why_size, "run %s, planned after this one, completed its execution "
		    "on account %s meanwhile", run, f->account);
		return false;
	}
	if (r < 0 && r != -ENOENT) {
		(void)snprintf(why, why_size, "the account's last execution could not be read: %s",
		    errctx_msg(&ec));
		return false;
	}
	return true;
}

/* Why under a lease and from the broker's positions now: another run (a
 * forced one, a distinct correlation id, a copy on another daemon) may have
 * traded since this run planned; re-planning from what the account holds
 * and has open, one run at a time, never buys past the target. The order
 * ids stay those of this plan event, so a re-run resumes its chains.
 * Why superseded: a run planned before the account's last completed
 * execution (a killed run redelivered, or one that waited for the lease
 * meanwhile) would trade toward an intent a newer run has already decided
 * on; it places nothing. Why fenced: a run that lost the lease (taken by
 * another, or lapsed while its renewals failed) must not trade beside the
 * run that has it. */
static int
execute_live(const struct stage_ctx *ctx, const struct domain_event *rp, const json_t *in_meta,
    struct executor_options *opt, struct planner_plan **plan, struct executor_result **res,
    struct live *lv, struct errctx *ec)
{
	json_t *alloc = json_object_get(json_object_get(in_meta, "consolidated_portfolio"),
	    "target_allocations");
	struct planner_options po = {
		.cash_reserve = config_decimal(ctx->cfg, "trading.cash_reserve"),
		.min_trade = config_decimal(ctx->cfg, "trading.min_trade"),
		.seed_suppress_small_exits = config_bool(ctx->cfg, "trading.keep_small_positions"),
		.count_open_orders = true,
		.own_plan_event_id = rp->event_id,
	};
	struct account_lease *lease = NULL;
	struct fence fence = { ctx, rp, NULL, lv->account };
	struct planner_target *targets = NULL;
	struct planner_plan *live = NULL;
	struct errctx mec = { 0 };
	char holder[128] = "";
	size_t n = 0;
	int r;

	r = run_key_account(ctx->broker, lv->account, sizeof lv->account, ec);
	if (r < 0)
		return errctx_prefix(ec, "broker");
	if (ctx->idem != NULL) {
		r = account_lease_acquire(ctx->idem, lv->account, ctx->owner, rp->correlation_id,
		    config_usec(ctx->cfg, "daemon.idempotency_lease"),
		    0, &lease, holder, sizeof holder, ec);
		if (r < 0 && r != -EBUSY)
			errctx_prefix(ec, "state store");
		if (r < 0)
			return r;
		r = account_lease_last_done(ctx->idem, lv->account, ctx->now_usec, lv->superseded_by,
		    sizeof lv->superseded_by, &lv->superseded_plan_usec, ec);
		if (r == -ENOENT || (r == 0 && (strcmp(lv->superseded_by, rp->correlation_id) == 0 ||
		    lv->superseded_plan_usec <= rp->timestamp_usec))) {
			errctx_clear(ec);
			lv->superseded_by[0] = '\0';
			r = 0;
		}
		if (r < 0) {
			account_lease_release(lease);
			return errctx_prefix(ec, "the account's last execution");
		}
		fence.lease = lease;
		opt->fence_cb = lease_fence_cb;
		opt->fence_userdata = &fence;
	}
	if (lv->superseded_by[0] != '\0') {
		/* Own orders cancelled and settled; nothing placed now. What it
		 * placed before (a kill after trading) goes in its report. */
		r = executor_settle_run(ctx->broker, rp->event_id, opt, ec);
		if (r == 0)
			r = earlier_orders(ctx, rp, *plan, alloc, res, ec);
		account_lease_release(lease);
		return r < 0 ? errctx_prefix(ec, "broker") : 0;
	}
	r = executor_settle_run(ctx->broker, rp->event_id, opt, ec);
	if (r == 0 && alloc != NULL) {
		r = planner_targets_from_json(alloc, &targets, &n, ec);
		if (r == 0)
			r = planner_build_from_broker(ctx->broker, targets, n, &po, (*plan)->plan_id,
			    rp->correlation_id, (*plan)->causation_id, ctx->now_usec, &live, ec);
		planner_targets_free(targets, n);
		if (r == 0) {
			planner_plan_free(*plan);
			*plan = live;
			opt->plan_is_live = true;
		} else
			errctx_prefix(ec, "planning at execution");
	}
	if (r == 0)
		r = executor_run(ctx->broker, *plan, rp->event_id, opt, res, ec);
	if (r < 0 && r != -ENOLCK && errno_is_transient(r))
		r = errctx_prefix(ec, "broker");
	/* Executed: a run planned before this one never trades after it. A
	 * record that cannot be written only weakens that check (logged). */
	if (r == 0 && lease != NULL && account_lease_mark_done(lease, rp->timestamp_usec,
	    config_usec(ctx->cfg, "daemon.dedup_window"), &mec) < 0)
		log_warning("run %s: recording the account's last execution failed: %s",
		    rp->correlation_id, errctx_msg(&mec));
	account_lease_release(lease);
	opt->fence_cb = NULL;
	opt->fence_userdata = NULL;
	return r;
}
