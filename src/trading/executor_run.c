/*
 * executor_run: one run of a plan: stale orders, items, the two phases, and
 * the seed's result classification (§8.6, §8.9).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/executor_run.h"
#include "alchemiser/trading/order_id.h"

static int cancel_stale(struct run *R);
static int setup_item(struct run *R, const struct planner_item *pi, struct item *it,
    struct executor_order *out);
static void summarise(const struct run *R, struct item *it, struct executor_result *res);
static void classify(const struct executor_options *o, struct executor_result *res);

static int
cancel_stale(struct run *R)
{
	struct broker_order *open = NULL;
	size_t n = 0;
	int r;

	r = R->b->ops->list_open_orders(R->b, &open, &n, R->ec);
	if (r < 0)
		return errctx_prefix(R->ec, "open orders");
	for (size_t i = 0; i < n; i++) {
		if (!order_id_is_run(R->event_id, open[i].client_order_id))
			continue;	/* not ours: other runs and manual orders stay */
		r = R->b->ops->cancel_order(R->b, open[i].id, R->ec);
		if (r < 0 && r != -EBADMSG && r != -ENOENT)
			break;
		errctx_clear(R->ec);
		r = 0;
	}
	free(open);
	return r;
}

static int
setup_item(struct run *R, const struct planner_item *pi, struct item *it,
    struct executor_order *out)
{
	struct broker_asset a;
	int r;

	memset(it, 0, sizeof *it);
	it->pi = pi;
	it->out = out;
	it->side = pi->action == PLANNER_SELL ? BROKER_SIDE_SELL : BROKER_SIDE_BUY;
	it->full_exit = pi->action == PLANNER_SELL && decimal_is_zero(pi->target_value);
	snprintf(out->symbol, sizeof out->symbol, "%s", pi->symbol);
	out->action = pi->action;
	out->trade_amount = decimal_abs(pi->trade_amount);
	out->type = R->o->use_limit_orders ? BROKER_ORDER_LIMIT : BROKER_ORDER_MARKET;
	r = R->b->ops->get_asset(R->b, pi->symbol, &a, R->ec);
	if (r == -ENOENT) {
		executor_fail_item(it, "unknown asset: %s", errctx_msg(R->ec));
		errctx_clear(R->ec);
		return 0;
	}
	if (r < 0)
		return errctx_prefix(R->ec, "asset %s", pi->symbol);
	if (!a.tradable)
		executor_fail_item(it, "%s", "asset is not tradable");
	it->fractionable = a.fractionable;
	return 0;
}

static void
summarise(const struct run *R, struct item *it, struct executor_result *res)
{
	struct executor_order *out = it->out;
	bool complete;

	out->qty = it->desired;
	out->filled_qty = it->filled_prev;
	if (it->filled_prev.units > 0) {
		decimal_div(it->value_prev, it->filled_prev, DECIMAL_ROUND_HALF_EVEN, &out->avg_price);
		decimal_round_to(out->avg_price, 4, DECIMAL_ROUND_HALF_EVEN, &out->avg_price);
	}
	complete = it->have_qty && executor_too_small(R, it, executor_remaining(it), DECIMAL_ZERO);
	if (it->filled_prev.units > 0) {
		out->status = complete ? BROKER_STATUS_FILLED : BROKER_STATUS_PARTIALLY_FILLED;
		out->success = true;	/* seed §8.6: filled or partially filled */
		if (complete)
			out->error[0] = '\0';
		else if (out->error[0] == '\0')
			snprintf(out->error, sizeof out->error, "partially filled");
	} else if (out->error[0] == '\0') {
		snprintf(out->error, sizeof out->error, "not filled (%s)",
		    broker_order_status_to_string(out->status));
	}
	if (out->placed)
		res->orders_placed++;
	if (out->success) {
		struct decimal v;

		res->orders_succeeded++;
		decimal_add(res->total_trade_value, out->trade_amount, &res->total_trade_value);
		decimal_mul(out->filled_qty, out->avg_price, DECIMAL_ROUND_HALF_EVEN, &v);
		decimal_round_to(v, 2, DECIMAL_ROUND_HALF_EVEN, &v);
		decimal_add(res->filled_value, v, &res->filled_value);
	}
}

static void
classify(const struct executor_options *o, struct executor_result *res)
{
	size_t len = 0;

	if (res->orders_placed > 0 && res->orders_succeeded == res->orders_placed)
		res->status = EXECUTOR_SUCCESS;
	else if (res->orders_succeeded > 0)
		res->status = EXECUTOR_PARTIAL_SUCCESS;
	else
		res->status = EXECUTOR_FAILURE;
	res->success = res->status == EXECUTOR_SUCCESS ||
	    (res->status == EXECUTOR_PARTIAL_SUCCESS && !o->partial_is_failure);
	if (res->success)
		return;
	len = (size_t)snprintf(res->failure_reason, sizeof res->failure_reason,
	    "%zu of %zu orders succeeded", res->orders_succeeded, res->n_orders);
	for (size_t i = 0; i < res->n_orders && len < sizeof res->failure_reason; i++) {
		const struct executor_order *e = &res->orders[i];

		if (e->success && e->error[0] == '\0')
			continue;
		len += (size_t)snprintf(res->failure_reason + len, sizeof res->failure_reason - len,
		    "; %s: %s", e->symbol, e->error);
	}
	/* Cut: say so (each order's own reason is in the report in full). */
	if (len >= sizeof res->failure_reason)
		memcpy(res->failure_reason + sizeof res->failure_reason - 4, "...", 4);
}

int
executor_run(struct broker *b, const struct planner_plan *plan, const char *plan_event_id,
    const struct executor_options *opt, struct executor_result **ret, struct errctx *ec)
{
	struct run R = { .b = b, .o = opt, .event_id = plan_event_id, .ec = ec };
	struct executor_result *res;
	struct item *sells = NULL, *buys = NULL;
	struct broker_account acct;
	struct timespec ts;
	size_t ns = 0, nb = 0;
	int r;

	if (plan_event_id == NULL || *plan_event_id == '\0')
		return errctx_set(ec, -EINVAL, "executor: the plan's event id is required");
	if (opt->max_reprices < 0 || opt->max_reprices > 10 || opt->poll_interval_usec <= 0 ||
	    opt->reprice_interval_usec <= 0 || opt->phase_timeout_usec <= 0)
		return errctx_set(ec, -EINVAL, "executor: max_reprices 0..10 and positive intervals");
	res = xcalloc(1, sizeof *res);
	res->plan_id = xstrdup_or_null(plan->plan_id);
	res->mode = opt->mode;
	res->trades_required = planner_trades_required(plan);
	res->timestamp_usec = opt->timestamp_usec;
	if (res->timestamp_usec == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		res->timestamp_usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
	if (opt->mode == EXECUTOR_MODE_BOT || !res->trades_required) {
		/* Nothing to place: a success by definition (seed §8.1 step 2). */
		res->status = EXECUTOR_SUCCESS;
		res->success = true;
		*ret = res;
		return 0;
	}
	res->orders = xcalloc(plan->n_items, sizeof *res->orders);
	sells = xcalloc(plan->n_items, sizeof *sells);
	buys = xcalloc(plan->n_items, sizeof *buys);
	/* A blocked account refuses every order: say so once, up front. */
	r = b->ops->get_account(b, &acct, ec);
	if (r == 0 && acct.trading_blocked)
		r = errctx_set(ec, -EACCES, "account trading is blocked (status %s)", acct.status);
	if (r == 0)
		r = cancel_stale(&R);
	if (r == 0)
		r = b->ops->list_positions(b, &R.pos, &R.n_pos, ec);
	/* SELL items first, in plan order, then BUY items: their results too. */
	for (size_t i = 0; r == 0 && i < plan->n_items; i++)
		if (plan->items[i].action == PLANNER_SELL)
			r = setup_item(&R, &plan->items[i], &sells[ns++], &res->orders[res->n_orders++]);
	for (size_t i = 0; r == 0 && i < plan->n_items; i++)
		if (plan->items[i].action == PLANNER_BUY)
			r = setup_item(&R, &plan->items[i], &buys[nb++], &res->orders[res->n_orders++]);
	if (r == 0)
		r = executor_run_phase(&R, sells, ns);
	if (r == 0 && nb > 0) {
		/* After the sells settled: what they released is in buying power. */
		r = b->ops->get_account(b, &acct, ec);
		R.buying_power = acct.buying_power;
	}
	if (r == 0)
		r = executor_run_phase(&R, buys, nb);
	if (r == 0) {
		for (size_t i = 0; i < ns; i++)
			summarise(&R, &sells[i], res);
		for (size_t i = 0; i < nb; i++)
			summarise(&R, &buys[i], res);
		classify(opt, res);
	}
	if (r == -ENOLCK) {
		/* Fenced: leave nothing of ours working on an account another run
		 * now trades; the re-run resumes (or is superseded). */
		struct errctx cec = { 0 };

		R.ec = &cec;
		if (cancel_stale(&R) < 0)
			errctx_prefix(ec, "(cancelling this run's open orders failed too: %s)",
			    errctx_msg(&cec));
	}
	free(R.pos);
	free(sells);
	free(buys);
	if (r < 0) {
		executor_result_free(res);
		return executor_transient(r) ? r : errctx_prefix(ec, "executor");
	}
	*ret = res;
	return 0;
}

static size_t
count_own_open(const char *plan_event_id, const struct broker_order *open, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += order_id_is_run(plan_event_id, open[i].client_order_id);
	return c;
}

int
executor_settle_run(struct broker *b, const char *plan_event_id, const struct executor_options *opt,
    struct errctx *ec)
{
	struct run R = { .b = b, .o = opt, .event_id = plan_event_id, .ec = ec };
	struct broker_order *open = NULL;
	int64_t pause = opt->poll_interval_usec / 4 + 1;
	size_t n = 0, own;
	int r;

	r = cancel_stale(&R);
	for (int tries = 0; r == 0 && tries < 40; tries++) {
		r = b->ops->list_open_orders(b, &open, &n, ec);
		if (r < 0)
			return errctx_prefix(ec, "open orders");
		own = count_own_open(plan_event_id, open, n);
		free(open);
		open = NULL;
		if (own == 0)
			return 0;
		if (opt->sleep_cb != NULL)
			opt->sleep_cb(opt->clock_userdata, pause);
		else {
			struct timespec ts = { (time_t)(pause / 1000000), (long)(pause % 1000000) * 1000 };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	return r < 0 ? r : errctx_set(ec, -EAGAIN, "orders of this run still open after cancelling them");
}
