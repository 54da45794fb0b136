/*
 * executor_history: what one run placed, read back from the broker by its
 * deterministic client_order_ids (order_id.h). A run that ends without
 * executing now (stage execution: superseded) reports from this what it
 * placed before (a kill after its orders, before its claim completed), so
 * its email and run record never say "no orders" of a run that traded.
 * Which symbols: the broker's own list of the run's orders. A run re-plans
 * at execution from what the account holds then, so it may sell whole a
 * position its RebalancePlanned never named; once sold, no plan, target,
 * position or open order names it, and only the broker remembers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/order_id.h"

/* max_reprices is at most 10: attempts 0..10 limits, then one market. */
#define HISTORY_MAX_ATTEMPTS 12

static int chain_of(struct broker *b, const char *plan_event_id, const char *symbol,
    enum broker_side side, struct executor_order *out, struct errctx *ec);
static void add_once(const char **syms, size_t *n, const char *sym);
static const char **run_symbols(const char *plan_event_id, const char *const *hint,
    size_t n_hint, const struct broker_order *list, size_t n_list, size_t *n);

/* One chain: attempts 0.. until an id the broker does not know. Leaves
 * out->placed false when attempt 0 is unknown (nothing placed). */
static int
chain_of(struct broker *b, const char *plan_event_id, const char *symbol, enum broker_side side,
    struct executor_order *out, struct errctx *ec)
{
	char cid[BROKER_CLIENT_ID_MAX];
	struct decimal value = DECIMAL_ZERO, v;
	struct broker_order o;
	int r;

	memset(out, 0, sizeof *out);
	snprintf(out->symbol, sizeof out->symbol, "%s", symbol);
	out->action = side == BROKER_SIDE_SELL ? PLANNER_SELL : PLANNER_BUY;
	for (int k = 0; k < HISTORY_MAX_ATTEMPTS; k++) {
		order_id_make(plan_event_id, symbol, side, k, cid);
		r = b->ops->get_order_by_client_id(b, cid, &o, ec);
		if (r == -ENOENT) {
			errctx_clear(ec);
			break;
		}
		if (r < 0)
			return errctx_prefix(ec, "order %s", cid);
		if (k == 0)
			out->qty = o.qty;
		out->placed = true;
		out->attempts++;
		out->status = o.status;
		out->type = o.type;
		snprintf(out->order_id, sizeof out->order_id, "%s", o.id);
		snprintf(out->client_order_id, sizeof out->client_order_id, "%s", o.client_order_id);
		decimal_add(out->filled_qty, o.filled_qty, &out->filled_qty);
		decimal_mul(o.filled_qty, o.filled_avg_price, DECIMAL_ROUND_HALF_EVEN, &v);
		decimal_add(value, v, &value);
		if (o.filled_at_usec > out->filled_at_usec)
			out->filled_at_usec = o.filled_at_usec;
	}
	if (!out->placed)
		return 0;
	if (out->filled_qty.units > 0) {
		decimal_div(value, out->filled_qty, DECIMAL_ROUND_HALF_EVEN, &out->avg_price);
		decimal_round_to(out->avg_price, 4, DECIMAL_ROUND_HALF_EVEN, &out->avg_price);
		out->success = true;
		/* The last attempt may be cancelled after an earlier one filled
		 * part: what the chain did is what filled. */
		out->status = decimal_cmp(out->filled_qty, out->qty) >= 0 ?
		    BROKER_STATUS_FILLED : BROKER_STATUS_PARTIALLY_FILLED;
	} else
		snprintf(out->error, sizeof out->error, "not filled (%s)",
		    broker_order_status_to_string(out->status));
	decimal_round_to(value, 2, DECIMAL_ROUND_HALF_EVEN, &out->trade_amount);
	return 0;
}

/* Each symbol once: a duplicate would report its orders twice. */
static void
add_once(const char **syms, size_t *n, const char *sym)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(syms[i], sym) == 0)
			return;
	syms[(*n)++] = sym;
}

/* hint, then the symbols of the run's own orders in list. The array is the
 * caller's; its strings point into hint and list. */
static const char **
run_symbols(const char *plan_event_id, const char *const *hint, size_t n_hint,
    const struct broker_order *list, size_t n_list, size_t *n)
{
	const char **syms = xcalloc(n_hint + n_list + 1, sizeof *syms);

	*n = 0;
	for (size_t i = 0; i < n_hint; i++)
		add_once(syms, n, hint[i]);
	for (size_t i = 0; i < n_list; i++)
		if (order_id_is_run(plan_event_id, list[i].client_order_id))
			add_once(syms, n, list[i].symbol);
	return syms;
}

int
executor_run_history(struct broker *b, const char *plan_event_id, int64_t since_usec,
    const char *const *hint, size_t n_hint, struct executor_result **ret, struct errctx *ec)
{
	struct executor_result *res;
	struct broker_order *list = NULL;
	struct timespec ts;
	const char **symbols;
	size_t n, n_list = 0;
	int r = 0;

	if (plan_event_id == NULL || *plan_event_id == '\0')
		return errctx_set(ec, -EINVAL, "executor: the plan's event id is required");
	r = b->ops->list_orders_after(b, since_usec, &list, &n_list, ec);
	if (r < 0)
		return errctx_prefix(ec, "orders since the plan");
	symbols = run_symbols(plan_event_id, hint, n_hint, list, n_list, &n);
	res = xcalloc(1, sizeof *res);
	res->mode = EXECUTOR_MODE_TRADE;
	clock_gettime(CLOCK_REALTIME, &ts);
	res->timestamp_usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	res->orders = xcalloc(n * 2 + 1, sizeof *res->orders);
	/* Sells first, as a run places them. */
	for (int pass = 0; r == 0 && pass < 2; pass++) {
		enum broker_side side = pass == 0 ? BROKER_SIDE_SELL : BROKER_SIDE_BUY;

		for (size_t i = 0; r == 0 && i < n; i++) {
			struct executor_order *o = &res->orders[res->n_orders];

			r = chain_of(b, plan_event_id, symbols[i], side, o, ec);
			if (r < 0 || !o->placed)
				continue;
			res->n_orders++;
			res->orders_placed++;
			if (o->success) {
				res->orders_succeeded++;
				decimal_add(res->total_trade_value, o->trade_amount,
				    &res->total_trade_value);
				decimal_add(res->filled_value, o->trade_amount, &res->filled_value);
			}
		}
	}
	free(symbols);
	free(list);
	if (r < 0) {
		executor_result_free(res);
		return r;
	}
	res->trades_required = res->n_orders > 0;
	res->status = res->orders_placed == 0 || res->orders_succeeded == res->orders_placed ?
	    EXECUTOR_SUCCESS : res->orders_succeeded > 0 ? EXECUTOR_PARTIAL_SUCCESS :
	    EXECUTOR_FAILURE;
	res->success = true;	/* nothing failed now: this is what was, not an outcome */
	*ret = res;
	return 0;
}
