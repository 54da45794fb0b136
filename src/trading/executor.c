/*
 * executor: the order chains of one plan run (see the header for the
 * contract). Each item is a small state machine: resolve what earlier runs
 * already placed (by client_order_id), place the next attempt for what
 * remains, watch it, re-price or escalate when it ages, stop when filled,
 * refused or out of time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/executor_run.h"
#include "alchemiser/trading/order_id.h"

static void sleep_usec(const struct run *R, int64_t usec);
static struct decimal held_qty(const struct run *R, const char *symbol);
static bool cap_sell_to_available(const struct run *R, const struct item *it,
    struct decimal *q);
static void absorb(struct item *it, const struct broker_order *o);
static void note_order(struct item *it, const struct broker_order *o);
static int quote_price(struct run *R, const char *symbol, struct broker_quote *q,
    struct decimal *mid);
static int size_chain(struct run *R, struct item *it, struct decimal price,
    const struct broker_quote *quote);
static int watch(struct run *R, struct item *it);

static bool buying_power_refusal(int r, const struct item *it, const struct errctx *ec);
static int shrink_for_buying_power(struct run *R, struct item *it,
    struct broker_order_request *req);
static int resolve_chain(struct run *R, struct item *it);
static int place_next(struct run *R, struct item *it);
static int settle(struct run *R, struct item *it);
static int cancel_open(struct run *R, struct item *it);

bool
executor_transient(int r)
{
	return errno_is_transient(r);
}

int64_t
executor_now(const struct run *R)
{
	struct timespec ts;

	if (R->o->now_cb != NULL)
		return R->o->now_cb(R->o->clock_userdata);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_usec(const struct run *R, int64_t usec)
{
	struct timespec ts = { (time_t)(usec / 1000000), (long)(usec % 1000000) * 1000 };

	if (R->o->sleep_cb != NULL) {
		R->o->sleep_cb(R->o->clock_userdata, usec);
		return;
	}
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
executor_fail_item(struct item *it, const char *fmt, const char *reason)
{
	if ((size_t)snprintf(it->out->error, sizeof it->out->error, fmt, reason) >=
	    sizeof it->out->error)
		memcpy(it->out->error + sizeof it->out->error - 4, "...", 4);
	it->out->placed = true;	/* seed §8.6: a refused attempt counts as placed */
	it->done = true;
}

static struct decimal
held_qty(const struct run *R, const char *symbol)
{
	for (size_t i = 0; i < R->n_pos; i++)
		if (strcmp(R->pos[i].symbol, symbol) == 0)
			return R->pos[i].qty;
	return DECIMAL_ZERO;
}

/*
 * Shares locked by open orders the daemon did not place (a manual stop) are
 * not in qty_available, and Alpaca refuses a sell of more than that whole:
 * sell what is free and leave the rest with its owner. false when nothing is.
 */
static bool
cap_sell_to_available(const struct run *R, const struct item *it, struct decimal *q)
{
	for (size_t i = 0; i < R->n_pos; i++)
		if (strcmp(R->pos[i].symbol, it->pi->symbol) == 0 &&
		    decimal_cmp(*q, R->pos[i].qty_available) > 0)
			*q = decimal_is_negative(R->pos[i].qty_available) ? DECIMAL_ZERO :
			    R->pos[i].qty_available;
	return q->units > 0;
}

/* What the chain still has to trade: desired - filled (settled + open). */
struct decimal
executor_remaining(const struct item *it)
{
	struct decimal r;

	decimal_sub(it->desired, it->filled_prev, &r);
	if (it->has_open)
		decimal_sub(r, it->open.filled_qty, &r);
	return decimal_is_negative(r) ? DECIMAL_ZERO : r;
}

bool
executor_too_small(const struct run *R, const struct item *it, struct decimal rem,
    struct decimal price)
{
	struct decimal q, v;

	decimal_round_to(rem, it->fractionable ? 6 : 0, DECIMAL_ROUND_DOWN, &q);
	if (q.units <= 0)
		return true;
	if (it->side == BROKER_SIDE_BUY && it->fractionable && price.units > 0) {
		decimal_mul(q, price, DECIMAL_ROUND_HALF_EVEN, &v);
		return decimal_cmp(v, R->o->min_notional) < 0;
	}
	return false;
}

/* Fold a terminal attempt into the chain's totals. */
static void
absorb(struct item *it, const struct broker_order *o)
{
	struct decimal v;

	decimal_add(it->filled_prev, o->filled_qty, &it->filled_prev);
	decimal_mul(o->filled_qty, o->filled_avg_price, DECIMAL_ROUND_HALF_EVEN, &v);
	decimal_add(it->value_prev, v, &it->value_prev);
	if (o->filled_at_usec > 0)
		it->out->filled_at_usec = o->filled_at_usec;
	if (o->type == BROKER_ORDER_LIMIT && it->n_used < MAX_PRICES)
		it->used[it->n_used++] = o->limit_price;
}

static void
note_order(struct item *it, const struct broker_order *o)
{
	snprintf(it->out->order_id, sizeof it->out->order_id, "%s", o->id);
	snprintf(it->out->client_order_id, sizeof it->out->client_order_id, "%s",
	    o->client_order_id);
	it->out->status = o->status;
	it->out->type = o->type;
	it->out->placed = true;
}

/* Find what earlier runs placed for this item: attempts 0.. until an id is
 * unknown. Open ones (a crash mid-chain) are cancelled and absorbed. A chain
 * whose last attempt filled reached its quantity: under a live plan it is
 * done, though the plan (made now, after other runs traded the account)
 * may ask for more (or the other way): this run traded this leg already,
 * and a run whose message came back after it finished (killed before its
 * claim completed) must not trade it twice. */
static int
resolve_chain(struct run *R, struct item *it)
{
	int max = R->o->max_reprices + 2;
	struct broker_order o;
	char cid[BROKER_CLIENT_ID_MAX];
	bool filled = false;
	int r;

	if (R->o->plan_is_live) {
		/* The same goes for a leg this run traded the other way: a plan
		 * made now does not undo it. */
		order_id_make(R->event_id, it->pi->symbol, it->side == BROKER_SIDE_BUY ?
		    BROKER_SIDE_SELL : BROKER_SIDE_BUY, 0, cid);
		r = R->b->ops->get_order_by_client_id(R->b, cid, &o, R->ec);
		if (r == 0) {
			it->done = true;
			return 0;
		}
		if (r != -ENOENT)
			return r;
		errctx_clear(R->ec);
	}
	for (int k = 0; k < max; k++) {
		order_id_make(R->event_id, it->pi->symbol, it->side, k, cid);
		r = R->b->ops->get_order_by_client_id(R->b, cid, &o, R->ec);
		if (r == -ENOENT) {
			errctx_clear(R->ec);
			it->next_attempt = k;
			if (filled && R->o->plan_is_live)
				it->done = true;
			return 0;
		}
		filled = o.status == BROKER_STATUS_FILLED;
		if (r < 0)
			return r;
		if (k == 0 && !R->o->plan_is_live) {
			it->desired = o.qty;
			it->have_qty = true;
		}
		it->out->attempts++;
		note_order(it, &o);
		it->open = o;
		it->has_open = true;
		if (!broker_order_status_is_terminal(o.status)) {
			r = cancel_open(R, it);
			if (r < 0)
				return r;
			if (it->has_open)
				return errctx_set(R->ec, -EAGAIN, "order %s did not settle after cancel",
				    cid);
		} else {
			absorb(it, &o);
			it->has_open = false;
		}
		if (o.status == BROKER_STATUS_REJECTED) {
			/* The broker said no: a re-run does not ask again. */
			snprintf(it->out->error, sizeof it->out->error, "order %s rejected", cid);
			it->done = true;
			return 0;
		}
	}
	it->next_attempt = max;
	return 0;
}

/* Cancel the open attempt and wait (bounded) until the broker says it is
 * terminal; absorbs it then. Leaves has_open set if it did not settle. */
static int
cancel_open(struct run *R, struct item *it)
{
	struct broker_order o;
	int r;

	r = R->b->ops->cancel_order(R->b, it->open.id, R->ec);
	if (r < 0 && r != -EBADMSG && r != -ENOENT)
		return r;	/* -EBADMSG: already terminal, read it back */
	errctx_clear(R->ec);
	for (int tries = 0; tries < 20; tries++) {
		r = R->b->ops->get_order(R->b, it->open.id, &o, R->ec);
		if (r < 0)
			return r;
		if (broker_order_status_is_terminal(o.status)) {
			note_order(it, &o);
			absorb(it, &o);
			it->has_open = false;
			return 0;
		}
		sleep_usec(R, R->o->poll_interval_usec / 4 + 1);
	}
	it->open = o;
	return 0;
}

static int
quote_price(struct run *R, const char *symbol, struct broker_quote *q, struct decimal *mid)
{
	int r = R->b->ops->get_quote(R->b, symbol, q, R->ec);

	if (r < 0)
		return r;
	if (executor_mid_price(q->bid, q->ask, mid) == 0)
		return 0;
	/* One-sided quote: the side there is (seed §4.2). */
	*mid = q->bid.units > 0 ? q->bid : q->ask;
	if (mid->units <= 0)
		return errctx_set(R->ec, -ENOENT, "no usable quote for %s", symbol);
	return 0;
}

/* Quantity of a new chain (seed §8.3 with the fixes of planner_order_qty),
 * capped by buying power for buys. The cap prices shares at the ask plus 1 %:
 * a market order fills above the quote, and the broker refuses the whole
 * order when the estimate is short. */
static int
size_chain(struct run *R, struct item *it, struct decimal price,
    const struct broker_quote *quote)
{
	struct decimal amount = decimal_abs(it->pi->trade_amount), cost, q, cap;
	int r;

	if (it->side == BROKER_SIDE_BUY && it->fractionable &&
	    decimal_cmp(amount, R->o->min_notional) < 0) {
		executor_fail_item(it, "%s", "Skipped: estimated notional below minimum");
		it->out->placed = false;	/* the one exception */
		return 0;
	}
	r = planner_order_qty(it->pi->action, it->pi->trade_amount, price,
	    held_qty(R, it->pi->symbol), it->full_exit, it->fractionable, &q, R->ec);
	if (r < 0) {
		executor_fail_item(it, "quantity: %s", errctx_msg(R->ec));
		errctx_clear(R->ec);
		return 0;
	}
	if (it->side == BROKER_SIDE_SELL && !cap_sell_to_available(R, it, &q)) {
		executor_fail_item(it, "%s", "Skipped: every share is held by open orders the "
		    "daemon did not place");
		it->out->placed = false;	/* nothing to place: not a refusal */
		return 0;
	}
	if (it->side == BROKER_SIDE_BUY) {
		decimal_mul(decimal_max(quote->ask, price), decimal_from_units(DECIMAL_SCALE +
		    DECIMAL_SCALE / 100), DECIMAL_ROUND_CEIL, &cap);
		decimal_mul(q, cap, DECIMAL_ROUND_HALF_EVEN, &cost);
		if (decimal_cmp(cost, R->buying_power) > 0) {
			/* Within buying power: buy what it allows. */
			decimal_div(R->buying_power, cap, DECIMAL_ROUND_DOWN, &q);
			decimal_round_to(q, it->fractionable ? 6 : 0, DECIMAL_ROUND_DOWN, &q);
			if (executor_too_small(R, it, q, price)) {
				executor_fail_item(it, "%s", "insufficient buying power");
				return 0;
			}
			decimal_mul(q, cap, DECIMAL_ROUND_HALF_EVEN, &cost);
		}
		decimal_sub(R->buying_power, cost, &R->buying_power);
	}
	/* A live plan's amount is what is left after this run's earlier fills. */
	if (R->o->plan_is_live)
		decimal_add(q, it->filled_prev, &q);
	it->desired = q;
	it->have_qty = true;
	return 0;
}

static int
place_next(struct run *R, struct item *it)
{
	struct broker_order_request req = { 0 };
	struct broker_quote q;
	struct decimal mid, rem;
	char cid[BROKER_CLIENT_ID_MAX];
	int k = it->next_attempt, r;

	if (k >= R->o->max_reprices + 2) {
		it->done = true;
		return 0;
	}
	/* Done already (a fill, or a resumed chain that completed)? No quote needed. */
	if (it->have_qty && executor_too_small(R, it, executor_remaining(it), DECIMAL_ZERO)) {
		it->done = true;
		return 0;
	}
	r = quote_price(R, it->pi->symbol, &q, &mid);
	if (r == -ENOENT) {
		executor_fail_item(it, "no quote: %s", errctx_msg(R->ec));
		errctx_clear(R->ec);
		return 0;
	}
	if (r < 0)
		return r;
	if (!it->have_qty) {
		r = size_chain(R, it, mid, &q);
		if (r < 0 || it->done)
			return r;
	}
	rem = executor_remaining(it);
	if (executor_too_small(R, it, rem, mid)) {
		it->done = true;
		return 0;
	}
	req.symbol = it->pi->symbol;
	req.side = it->side;
	req.qty = rem;
	req.client_order_id = cid;
	req.type = R->o->use_limit_orders && k <= R->o->max_reprices ? BROKER_ORDER_LIMIT :
	    BROKER_ORDER_MARKET;
	if (req.type == BROKER_ORDER_LIMIT) {
		if (k == 0 || it->n_used == 0)
			r = executor_limit_price(it->side, q.bid, q.ask, &req.limit_price);
		else
			req.limit_price = executor_reprice(it->side, it->used[it->n_used - 1], q.bid,
			    q.ask, R->o->reprice_step, it->used, it->n_used);
		if (r < 0)
			req.type = BROKER_ORDER_MARKET;
	}
	if (R->b->ops->whole_share_limits)
		broker_request_fit_fractional(&req);	/* Alpaca's fractional rule */
	order_id_make(R->event_id, it->pi->symbol, it->side, k, cid);
	/* Looked up first: a crash between submit and our bookkeeping. */
	r = R->b->ops->get_order_by_client_id(R->b, cid, &it->open, R->ec);
	if (r == -ENOENT) {
		char why[256] = "";

		errctx_clear(R->ec);
		/* Fencing: a run that lost the account places nothing more. */
		if (R->o->fence_cb != NULL && !R->o->fence_cb(R->o->fence_userdata, why, sizeof why))
			return errctx_set(R->ec, -ENOLCK, "not placing %s %s: %s",
			    broker_side_to_string(it->side), it->pi->symbol, why);
		r = R->b->ops->submit_order(R->b, &req, &it->open, R->ec);
		if (buying_power_refusal(r, it, R->ec)) {
			/* Once, smaller; same client_order_id (a 403 stores no order).
			 * A new order: the fence is asked again. */
			r = shrink_for_buying_power(R, it, &req);
			if (r == 0 && R->o->fence_cb != NULL &&
			    !R->o->fence_cb(R->o->fence_userdata, why, sizeof why))
				return errctx_set(R->ec, -ENOLCK, "not placing %s %s: %s",
				    broker_side_to_string(it->side), it->pi->symbol, why);
			if (r == 0)
				r = R->b->ops->submit_order(R->b, &req, &it->open, R->ec);
			if (r == -EACCES)
				errctx_prefix(R->ec, "refused again after placing it smaller");
		}
		if (r == -EEXIST) {
			errctx_clear(R->ec);
			r = R->b->ops->get_order_by_client_id(R->b, cid, &it->open, R->ec);
		}
	}
	it->out->placed = true;
	if (r == -EACCES || r == -EBADMSG || r == -EINVAL || r == -ENOENT) {
		executor_fail_item(it, "order refused: %s", errctx_msg(R->ec));
		errctx_clear(R->ec);
		return 0;
	}
	if (r < 0)
		return r;
	it->next_attempt = k + 1;
	it->out->attempts++;
	it->has_open = true;
	it->placed_at = executor_now(R);
	note_order(it, &it->open);
	if (broker_order_status_is_terminal(it->open.status))
		return settle(R, it);
	return 0;
}

/* A buy the broker refused for want of buying power, not yet placed again. */
static bool
buying_power_refusal(int r, const struct item *it, const struct errctx *ec)
{
	return r == -EACCES && it->side == BROKER_SIDE_BUY && !it->bp_retried &&
	    strcasestr(errctx_msg(ec), "buying power") != NULL;
}

/*
 * Why: the cap of size_chain prices shares at the ask + 1 %; the broker may
 * price a buy higher (a market that moved past the quote, Alpaca's 2.5-4 %
 * estimate of a market buy), refuse the last buy, and fail the run although a
 * slightly smaller order fits. Read what is true now (buying power, quote) and
 * size the order within it at the ask + 5 %; always smaller than the refused
 * one, never more than the chain still wants. The chain then wants only that
 * much (later attempts of it re-price the same smaller quantity). Nothing
 * worth placing: the refusal stands (-EACCES, as before).
 */
static int
shrink_for_buying_power(struct run *R, struct item *it, struct broker_order_request *req)
{
	struct decimal price, q, cost, cut, floor95;
	char was[DECIMAL_STRLEN], now[DECIMAL_STRLEN], bp[DECIMAL_STRLEN];
	_cleanup_free_ char *refusal = xstrdup(errctx_msg(R->ec));
	struct broker_account acct;
	struct broker_quote quote;
	int r;

	it->bp_retried = true;
	errctx_clear(R->ec);
	r = R->b->ops->get_account(R->b, &acct, R->ec);
	if (r < 0)
		return errctx_prefix(R->ec, "buying power after a refusal");
	r = R->b->ops->get_quote(R->b, it->pi->symbol, &quote, R->ec);
	if (r < 0)
		return errctx_prefix(R->ec, "quote after a refusal");
	price = decimal_max(quote.ask, quote.bid);
	if (req->type == BROKER_ORDER_LIMIT)
		price = decimal_max(price, req->limit_price);
	decimal_mul(price, decimal_from_units(DECIMAL_SCALE + DECIMAL_SCALE / 20),
	    DECIMAL_ROUND_CEIL, &price);
	if (price.units <= 0 || decimal_is_negative(acct.buying_power))
		return errctx_set(R->ec, -EACCES, "%s", refusal);
	decimal_div(acct.buying_power, price, DECIMAL_ROUND_DOWN, &q);
	/* Smaller than the refused order in any case: the broker's estimate
	 * was above ours, so ours is no proof that the same quantity fits. */
	decimal_mul(req->qty, decimal_from_units(DECIMAL_SCALE - DECIMAL_SCALE / 20),
	    DECIMAL_ROUND_DOWN, &floor95);
	q = decimal_min(q, decimal_min(floor95, executor_remaining(it)));
	decimal_round_to(q, it->fractionable ? 6 : 0, DECIMAL_ROUND_DOWN, &q);
	if (executor_too_small(R, it, q, price))
		return errctx_set(R->ec, -EACCES, "%s (buying power %s: nothing smaller fits)",
		    refusal, decimal_format(acct.buying_power, bp));
	/* The chain wants only what is placed now. */
	decimal_sub(req->qty, q, &cut);
	decimal_sub(it->desired, cut, &it->desired);
	decimal_mul(q, price, DECIMAL_ROUND_HALF_EVEN, &cost);
	decimal_sub(acct.buying_power, cost, &R->buying_power);
	if (decimal_is_negative(R->buying_power))
		R->buying_power = DECIMAL_ZERO;
	(void)snprintf(it->out->note, sizeof it->out->note, "refused for buying power at %s "
	    "shares; placed again with %s (buying power %s)", decimal_format(req->qty, was),
	    decimal_format(q, now), decimal_format(acct.buying_power, bp));
	req->qty = q;
	if (R->b->ops->whole_share_limits)
		broker_request_fit_fractional(req);
	return 0;
}

/* The open attempt is terminal: fold it in, then finish or go on. */
static int
settle(struct run *R, struct item *it)
{
	enum broker_order_status st = it->open.status;

	absorb(it, &it->open);
	it->has_open = false;
	if (st == BROKER_STATUS_REJECTED) {
		snprintf(it->out->error, sizeof it->out->error, "order %s rejected",
		    it->open.client_order_id);
		it->done = true;
		return 0;
	}
	return place_next(R, it);
}

static int
watch(struct run *R, struct item *it)
{
	struct broker_order o;
	int r;

	r = R->b->ops->get_order(R->b, it->open.id, &o, R->ec);
	if (r < 0)
		return r;
	it->open = o;
	note_order(it, &o);
	if (broker_order_status_is_terminal(o.status))
		return settle(R, it);
	if (o.type == BROKER_ORDER_LIMIT &&
	    executor_now(R) - it->placed_at >= R->o->reprice_interval_usec) {
		r = cancel_open(R, it);
		if (r < 0 || it->has_open)
			return r;	/* not settled yet: next poll */
		if (it->open.status == BROKER_STATUS_REJECTED)
			return settle(R, it);
		return place_next(R, it);
	}
	return 0;
}

int
executor_run_phase(struct run *R, struct item *items, size_t n)
{
	int64_t deadline = executor_now(R) + R->o->phase_timeout_usec;
	bool busy;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (items[i].done)
			continue;	/* refused before any order (asset) */
		r = resolve_chain(R, &items[i]);
		if (r == 0 && !items[i].done)
			r = place_next(R, &items[i]);
		if (r < 0)
			return errctx_prefix(R->ec, "%s %s", planner_action_to_string(items[i].pi->action),
			    items[i].pi->symbol);
	}
	for (;;) {
		busy = false;
		for (size_t i = 0; i < n; i++)
			busy |= items[i].has_open;
		if (!busy)
			return 0;
		if (executor_now(R) >= deadline)
			break;
		sleep_usec(R, R->o->poll_interval_usec);
		for (size_t i = 0; i < n; i++) {
			if (!items[i].has_open)
				continue;
			r = watch(R, &items[i]);
			if (r < 0)
				return errctx_prefix(R->ec, "%s", items[i].pi->symbol);
		}
	}
	/* Out of time: stop what is still working and keep what filled. */
	for (size_t i = 0; i < n; i++) {
		if (!items[i].has_open)
			continue;
		r = cancel_open(R, &items[i]);
		if (r < 0)
			return r;
		snprintf(items[i].out->error, sizeof items[i].out->error,
		    "not filled within the phase time limit");
		items[i].has_open = false;
		items[i].done = true;
	}
	return 0;
}

