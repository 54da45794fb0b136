/*
 * executor_price: the executor's pure parts: limit pricing (seed §8.4, the
 * REST-quote anchor: we have no streaming quotes), re-pegging (§8.5), the
 * defaults, and the TradeExecuted execution_data JSON (§8.9).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/executor.h"

static struct decimal cents(struct decimal d);

#define CENT decimal_from_units(DECIMAL_SCALE / 100)

static const char *const status_names[_EXECUTOR_STATUS_MAX] = {
	[EXECUTOR_SUCCESS] = "SUCCESS",
	[EXECUTOR_PARTIAL_SUCCESS] = "PARTIAL_SUCCESS",
	[EXECUTOR_FAILURE] = "FAILURE",
};

void
executor_options_init(struct executor_options *o)
{
	memset(o, 0, sizeof *o);
	o->mode = EXECUTOR_MODE_TRADE;
	o->use_limit_orders = true;
	o->max_reprices = 1;
	o->reprice_interval_usec = 10 * INT64_C(1000000);
	o->poll_interval_usec = INT64_C(1000000);
	o->phase_timeout_usec = 120 * INT64_C(1000000);
	o->min_notional = decimal_from_units(DECIMAL_SCALE);
	o->reprice_step = decimal_from_units(2 * DECIMAL_SCALE / 100);
	o->partial_is_failure = true;
}

const char *
executor_status_to_string(enum executor_status s)
{
	return s < _EXECUTOR_STATUS_MAX ? status_names[s] : "?";
}

static struct decimal
cents(struct decimal d)
{
	decimal_round_to(d, 2, DECIMAL_ROUND_HALF_EVEN, &d);
	return d.units > 0 ? d : CENT;
}

int
executor_mid_price(struct decimal bid, struct decimal ask, struct decimal *ret)
{
	struct decimal sum;

	/* Seed price_discovery_utils: both sides needed and not inverted. */
	if (bid.units <= 0 || ask.units <= 0 || decimal_cmp(ask, bid) < 0)
		return -ENOENT;
	if (decimal_add(bid, ask, &sum) < 0)
		return -EOVERFLOW;
	return decimal_div(sum, decimal_from_units(2 * DECIMAL_SCALE), DECIMAL_ROUND_HALF_EVEN, ret);
}

int
executor_limit_price(enum broker_side side, struct decimal bid, struct decimal ask,
    struct decimal *ret)
{
	struct decimal p, mid;
	bool both = bid.units > 0 && ask.units > 0;

	if (bid.units <= 0 && ask.units <= 0)
		return -ENOENT;
	if (both)
		executor_mid_price(bid, ask, &mid);
	if (side == BROKER_SIDE_BUY) {
		decimal_add(bid, CENT, &p);
		if (ask.units > 0 && decimal_cmp(p, ask) >= 0) {
			decimal_sub(ask, CENT, &p);
			p = decimal_max(p, bid);
		}
		if (both)
			p = decimal_min(p, mid);
	} else {
		decimal_sub(ask, CENT, &p);
		if (bid.units > 0 && decimal_cmp(p, bid) <= 0) {
			decimal_add(bid, CENT, &p);
			p = ask.units > 0 ? decimal_min(ask, p) : p;
		}
		if (both)
			p = decimal_max(p, mid);
	}
	*ret = cents(p);
	return 0;
}

struct decimal
executor_price_adjust(struct decimal original, struct decimal target, struct decimal factor)
{
	struct decimal d, step, p;

	decimal_sub(target, original, &d);
	decimal_mul(d, factor, DECIMAL_ROUND_HALF_EVEN, &step);
	decimal_add(original, step, &p);
	return cents(p);
}

struct decimal
executor_reprice(enum broker_side side, struct decimal original, struct decimal bid,
    struct decimal ask, struct decimal step, const struct decimal *used, size_t n_used)
{
	struct decimal half = decimal_from_units(DECIMAL_SCALE / 2), x, cross, p;
	bool buy = side == BROKER_SIDE_BUY;
	struct decimal far = buy ? ask : bid;

	if (far.units <= 0)
		far = buy ? bid : ask;	/* one-sided quote: lean on what there is */
	if (original.units > 0)
		x = executor_price_adjust(original, far, half);
	else
		decimal_add(far, buy ? decimal_neg(CENT) : CENT, &x);
	/* Crossing allowed (seed default): at least step through the far side. */
	decimal_add(far, buy ? step : decimal_neg(step), &cross);
	p = cents(buy ? decimal_max(x, cross) : decimal_min(x, cross));
	for (size_t i = 0; i < n_used; i++)
		if (decimal_cmp(p, used[i]) == 0) {
			decimal_add(p, buy ? step : decimal_neg(step), &p);
			p = cents(p);
			i = (size_t)-1;	/* re-check against every used price */
		}
	return p;
}

bool
executor_should_escalate(int reprices, int max_reprices)
{
	return reprices >= max_reprices;
}

void
executor_result_free(struct executor_result *r)
{
	if (r == NULL)
		return;
	free(r->plan_id);
	free(r->orders);
	free(r);
}

json_t *
executor_result_to_json(const struct executor_result *r)
{
	json_t *o = json_object(), *orders = json_array(), *failed = json_array();
	char ts[RFC3339_STRLEN];

	json_object_set_new(o, "plan_id", r->plan_id ? json_string(r->plan_id) : json_null());
	json_object_set_new(o, "orders_placed", json_integer((json_int_t)r->orders_placed));
	json_object_set_new(o, "orders_succeeded", json_integer((json_int_t)r->orders_succeeded));
	json_set_decimal(o, "total_trade_value", r->total_trade_value);
	json_set_decimal(o, "filled_value", r->filled_value);
	json_object_set_new(o, "execution_timestamp",
	    json_string(time_format_rfc3339(r->timestamp_usec, ts)));
	json_object_set_new(o, "success", json_boolean(r->success));
	json_object_set_new(o, "status", json_string(executor_status_to_string(r->status)));
	json_object_set_new(o, "mode", json_string(r->mode == EXECUTOR_MODE_BOT ? "bot" : "trade"));
	json_object_set_new(o, "signal_only", json_boolean(r->mode == EXECUTOR_MODE_BOT));
	json_object_set_new(o, "trades_required", json_boolean(r->trades_required));
	for (size_t i = 0; i < r->n_orders; i++) {
		const struct executor_order *e = &r->orders[i];
		json_t *j = json_object();

		json_object_set_new(j, "symbol", json_string(e->symbol));
		json_object_set_new(j, "action", json_string(planner_action_to_string(e->action)));
		json_object_set_new(j, "side", json_string(e->action == PLANNER_SELL ? "sell" : "buy"));
		json_set_decimal(j, "trade_amount", e->trade_amount);
		json_set_decimal(j, "shares", e->qty);
		json_set_decimal(j, "filled_qty", e->filled_qty);
		if (e->avg_price.units > 0)
			json_set_decimal(j, "price", e->avg_price);
		else
			json_object_set_new(j, "price", json_null());
		json_object_set_new(j, "order_id", e->order_id[0] ? json_string(e->order_id) :
		    json_null());
		json_object_set_new(j, "client_order_id", e->client_order_id[0] ?
		    json_string(e->client_order_id) : json_null());
		json_object_set_new(j, "status", json_string(e->placed ?
		    broker_order_status_to_string(e->status) : "not_placed"));
		json_object_set_new(j, "success", json_boolean(e->success));
		json_object_set_new(j, "error_message", e->error[0] ? json_string(e->error) :
		    json_null());
		if (e->note[0] != '\0')
			json_object_set_new(j, "note", json_string(e->note));
		json_object_set_new(j, "timestamp", json_string(ts));
		json_object_set_new(j, "order_type", json_string(e->type == BROKER_ORDER_LIMIT ?
		    "LIMIT" : "MARKET"));
		if (e->filled_at_usec > 0) {
			char fts[RFC3339_STRLEN];

			json_object_set_new(j, "filled_at",
			    json_string(time_format_rfc3339(e->filled_at_usec, fts)));
		} else {
			json_object_set_new(j, "filled_at", json_null());
		}
		json_object_set_new(j, "attempts", json_integer(e->attempts));
		json_array_append_new(orders, j);
		if (!e->success)
			json_array_append_new(failed, json_string(e->symbol));
	}
	json_object_set_new(o, "orders", orders);
	json_object_set_new(o, "failed_symbols", failed);
	json_object_set_new(o, "failure_reason", r->failure_reason[0] ?
	    json_string(r->failure_reason) : json_null());
	return o;
}

json_t *
executor_trade_executed_json(const struct executor_result *r)
{
	json_t *data = executor_result_to_json(r), *o = json_object(), *meta = json_object();
	char ts[RFC3339_STRLEN];

	json_object_set_new(o, "success", json_boolean(r->success));
	json_object_set_new(o, "orders_placed", json_integer((json_int_t)r->orders_placed));
	json_object_set_new(o, "orders_succeeded", json_integer((json_int_t)r->orders_succeeded));
	json_object_set(o, "failure_reason", json_object_get(data, "failure_reason"));
	json_object_set(o, "failed_symbols", json_object_get(data, "failed_symbols"));
	json_object_set_new(meta, "execution_timestamp",
	    json_string(time_format_rfc3339(r->timestamp_usec, ts)));
	json_object_set_new(meta, "source", json_string("execution_v2"));
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "execution_data", data);
	return o;
}
