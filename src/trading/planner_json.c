/*
 * planner_json: the RebalancePlanned event's rebalance_plan in the seed's
 * field layout (shared/schemas/rebalance_plan.py), money and weights as
 * decimal strings. 2.27.4 could not decode its own event; this one
 * round-trips (tests/unit/trading/test_planner.c).
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/planner.h"

static int badmsg(struct errctx *ec);
static void set_str_or_null(json_t *o, const char *k, const char *v);
static int opt_dup(const json_t *o, const char *k, const char *prefix, char **dst,
    struct errctx *ec);
static int decode_item(const json_t *j, size_t i, struct planner_item *it, struct errctx *ec);
static bool symbol_ok(const char *s);
static int check_item(const char *prefix, const struct planner_item *it, struct errctx *ec);

/* Every decode failure is a schema failure of the event: keep the reason,
 * report -EBADMSG. */
static int
badmsg(struct errctx *ec)
{
	if (ec != NULL)
		ec->code = -EBADMSG;
	return -EBADMSG;
}

static void
set_str_or_null(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v != NULL ? json_string(v) : json_null());
}

json_t *
planner_plan_to_json(const struct planner_plan *p)
{
	json_t *o = json_object(), *items = json_array(), *meta = json_object();
	char ts[RFC3339_STRLEN];

	json_object_set_new(o, "schema_version", json_string("1.0"));
	set_str_or_null(o, "correlation_id", p->correlation_id);
	set_str_or_null(o, "causation_id", p->causation_id);
	json_object_set_new(o, "timestamp", json_string(time_format_rfc3339(p->timestamp_usec, ts)));
	set_str_or_null(o, "plan_id", p->plan_id);
	for (size_t i = 0; i < p->n_items; i++) {
		const struct planner_item *it = &p->items[i];
		json_t *j = json_object();

		json_object_set_new(j, "symbol", json_string(it->symbol));
		json_set_decimal(j, "current_weight", it->current_weight);
		json_set_decimal(j, "target_weight", it->target_weight);
		json_set_decimal(j, "weight_diff", it->weight_diff);
		json_set_decimal(j, "target_value", it->target_value);
		json_set_decimal(j, "current_value", it->current_value);
		json_set_decimal(j, "trade_amount", it->trade_amount);
		json_object_set_new(j, "action", json_string(planner_action_to_string(it->action)));
		json_object_set_new(j, "priority", json_integer(it->priority));
		json_array_append_new(items, j);
	}
	json_object_set_new(o, "items", items);
	json_set_decimal(o, "total_portfolio_value", p->total_portfolio_value);
	json_set_decimal(o, "total_trade_value", p->total_trade_value);
	json_object_set_new(o, "max_drift_tolerance", json_string("0.05"));
	json_object_set_new(o, "execution_urgency", json_string("NORMAL"));
	json_object_set_new(o, "estimated_duration_minutes", json_null());
	json_set_decimal(meta, "portfolio_value", p->total_portfolio_value);
	json_set_decimal(meta, "cash_balance", p->cash_balance);
	json_object_set_new(meta, "position_count", json_integer((json_int_t)p->position_count));
	json_object_set_new(meta, "module", json_string("portfolio_v2"));
	json_set_decimal(meta, "min_trade_threshold", p->min_trade_threshold);
	set_str_or_null(meta, "strategy_name", p->strategy_name);
	json_object_set_new(o, "metadata", meta);
	return o;
}

json_t *
planner_rebalance_planned_json(const struct planner_plan *p)
{
	json_t *o = json_object(), *cmp = json_object(), *meta = json_object();
	json_t *tv = json_object(), *cv = json_object(), *dv = json_object();
	char ts[RFC3339_STRLEN];

	for (size_t i = 0; i < p->n_comparison; i++) {
		json_set_decimal(tv, p->comparison[i].symbol, p->comparison[i].target);
		json_set_decimal(cv, p->comparison[i].symbol, p->comparison[i].current);
		json_set_decimal(dv, p->comparison[i].symbol, p->comparison[i].delta);
	}
	json_object_set_new(cmp, "target_values", tv);
	json_object_set_new(cmp, "current_values", cv);
	json_object_set_new(cmp, "deltas", dv);
	json_object_set_new(o, "rebalance_plan", planner_plan_to_json(p));
	json_object_set_new(o, "allocation_comparison", cmp);
	json_object_set_new(o, "trades_required", json_boolean(planner_trades_required(p)));
	json_object_set_new(meta, "analysis_timestamp",
	    json_string(time_format_rfc3339(p->timestamp_usec, ts)));
	json_object_set_new(meta, "source", json_string("portfolio_v2"));
	json_object_set_new(o, "metadata", meta);
	return o;
}

static int
opt_dup(const json_t *o, const char *k, const char *prefix, char **dst, struct errctx *ec)
{
	const char *s = NULL;
	int r = json_opt_str(o, k, prefix, &s, ec);

	if (r == 0)
		*dst = xstrdup_or_null(s);
	return r;
}

/* What a ticker can look like (upper case, as the planner writes it): it is
 * put in broker URLs and order bodies, so nothing else gets that far. */
static bool
symbol_ok(const char *s)
{
	bool alnum, prev_alnum = false;

	for (; *s != '\0'; s++) {
		alnum = (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');
		/* A '.', '/' or '-' only between letters or digits: BRK.B, BTC/USD. */
		if (!alnum && (!prev_alnum || strchr("./-", *s) == NULL || s[1] == '\0'))
			return false;
		prev_alnum = alnum;
	}
	return prev_alnum;
}

/* A decoded plan is acted on: refuse what the planner never writes, so a
 * forged or corrupted event cannot turn into an order nobody planned. The
 * side is the action, and the amount's sign must agree with it (a "BUY" of
 * -5000 is not bought as 5000); values are never negative, weights are
 * fractions. */
static int
check_item(const char *prefix, const struct planner_item *it, struct errctx *ec)
{
	static const struct decimal one = { DECIMAL_SCALE }, minus_one = { -DECIMAL_SCALE };
	const struct { const char *name; struct decimal v, lo, hi; } range[] = {
		{ "current_weight", it->current_weight, DECIMAL_ZERO, one },
		{ "target_weight", it->target_weight, DECIMAL_ZERO, one },
		{ "weight_diff", it->weight_diff, minus_one, one },
	};
	char a[DECIMAL_STRLEN];

	for (size_t i = 0; i < ELEMENTSOF(range); i++)
		if (decimal_cmp(range[i].v, range[i].lo) < 0 || decimal_cmp(range[i].v, range[i].hi) > 0)
			return errctx_set(ec, -EBADMSG, "field '%s.%s': %s is not within %s..1", prefix,
			    range[i].name, decimal_format(range[i].v, a), range[i].lo.units < 0 ? "-1" : "0");
	if (decimal_is_negative(it->target_value) || decimal_is_negative(it->current_value))
		return errctx_set(ec, -EBADMSG, "field '%s': target_value and current_value must not "
		    "be negative", prefix);
	switch (it->action) {
	case PLANNER_BUY:
		if (it->trade_amount.units <= 0)
			return errctx_set(ec, -EBADMSG, "field '%s.trade_amount': a BUY needs a positive "
			    "amount, got %s", prefix, decimal_format(it->trade_amount, a));
		break;
	case PLANNER_SELL:
		if (it->trade_amount.units >= 0)
			return errctx_set(ec, -EBADMSG, "field '%s.trade_amount': a SELL needs a negative "
			    "amount, got %s", prefix, decimal_format(it->trade_amount, a));
		break;
	default:
		if (!decimal_is_zero(it->trade_amount))
			return errctx_set(ec, -EBADMSG, "field '%s.trade_amount': a HOLD has amount 0, "
			    "got %s", prefix, decimal_format(it->trade_amount, a));
		break;
	}
	return 0;
}

static int
decode_item(const json_t *j, size_t i, struct planner_item *it, struct errctx *ec)
{
	char prefix[48];
	const char *s;
	int64_t prio;
	int r;

	snprintf(prefix, sizeof prefix, "items[%zu]", i);
	if (!json_is_object(j))
		return errctx_set(ec, -EBADMSG, "field '%s': expected object", prefix);
	r = json_req_str(j, "symbol", prefix, &s, ec);
	if (r < 0)
		return r;
	if (*s == '\0' || strlen(s) >= sizeof it->symbol || !symbol_ok(s))
		return errctx_set(ec, -EBADMSG, "field '%s.symbol': must be 1..%zu characters of "
		    "A-Z and 0-9, with . / - only between them", prefix, sizeof it->symbol - 1);
	snprintf(it->symbol, sizeof it->symbol, "%s", s);
	if ((r = json_req_decimal(j, "current_weight", prefix, &it->current_weight, ec)) < 0 ||
	    (r = json_req_decimal(j, "target_weight", prefix, &it->target_weight, ec)) < 0 ||
	    (r = json_req_decimal(j, "weight_diff", prefix, &it->weight_diff, ec)) < 0 ||
	    (r = json_req_decimal(j, "target_value", prefix, &it->target_value, ec)) < 0 ||
	    (r = json_req_decimal(j, "current_value", prefix, &it->current_value, ec)) < 0 ||
	    (r = json_req_decimal(j, "trade_amount", prefix, &it->trade_amount, ec)) < 0 ||
	    (r = json_req_str(j, "action", prefix, &s, ec)) < 0 ||
	    (r = json_req_int(j, "priority", prefix, &prio, ec)) < 0)
		return badmsg(ec);
	if (planner_action_from_string(s, &it->action) < 0)
		return errctx_set(ec, -EBADMSG, "field '%s.action': '%s' is not BUY, SELL or HOLD",
		    prefix, s);
	if (prio < 1 || prio > 5)
		return errctx_set(ec, -EBADMSG, "field '%s.priority': %lld is not within 1..5",
		    prefix, (long long)prio);
	it->priority = (int)prio;
	return check_item(prefix, it, ec);
}

int
planner_plan_from_json(const json_t *o, struct planner_plan **ret, struct errctx *ec)
{
	struct planner_plan *p;
	const json_t *items, *meta;
	const char *ts = NULL;
	int64_t count = 0;
	int r;

	if (!json_is_object(o))
		return errctx_set(ec, -EBADMSG, "rebalance_plan: expected object");
	items = json_object_get(o, "items");
	if (!json_is_array(items) || json_array_size(items) == 0)
		return errctx_set(ec, -EBADMSG, "field 'items': expected a non-empty array");
	p = xcalloc(1, sizeof *p);
	p->n_items = json_array_size(items);
	p->items = xcalloc(p->n_items, sizeof *p->items);
	if ((r = opt_dup(o, "plan_id", NULL, &p->plan_id, ec)) < 0 ||
	    (r = opt_dup(o, "correlation_id", NULL, &p->correlation_id, ec)) < 0 ||
	    (r = opt_dup(o, "causation_id", NULL, &p->causation_id, ec)) < 0 ||
	    (r = json_opt_str(o, "timestamp", NULL, &ts, ec)) < 0)
		goto fail;
	if (ts != NULL && (r = time_parse_rfc3339(ts, &p->timestamp_usec, ec)) < 0) {
		errctx_prefix(ec, "field 'timestamp'");
		goto fail;
	}
	for (size_t i = 0; i < p->n_items; i++)
		if ((r = decode_item(json_array_get(items, i), i, &p->items[i], ec)) < 0)
			goto fail;
	if ((r = json_req_decimal(o, "total_portfolio_value", NULL, &p->total_portfolio_value,
	    ec)) < 0 ||
	    (r = json_req_decimal(o, "total_trade_value", NULL, &p->total_trade_value, ec)) < 0)
		goto fail;
	if (decimal_is_negative(p->total_trade_value)) {
		r = errctx_set(ec, -EBADMSG, "field 'total_trade_value': must not be negative");
		goto fail;
	}
	meta = json_object_get(o, "metadata");
	if (json_is_object(meta)) {
		/* Informational: present in our events, absent in hand-written ones. */
		if (json_object_get(meta, "cash_balance") != NULL &&
		    (r = json_req_decimal(meta, "cash_balance", "metadata", &p->cash_balance, ec)) < 0)
			goto fail;
		if (json_object_get(meta, "min_trade_threshold") != NULL &&
		    (r = json_req_decimal(meta, "min_trade_threshold", "metadata",
		    &p->min_trade_threshold, ec)) < 0)
			goto fail;
		if (json_is_integer(json_object_get(meta, "position_count")) &&
		    (r = json_req_int(meta, "position_count", "metadata", &count, ec)) < 0)
			goto fail;
		p->position_count = count > 0 ? (size_t)count : 0;
		if ((r = opt_dup(meta, "strategy_name", "metadata", &p->strategy_name, ec)) < 0)
			goto fail;
	}
	*ret = p;
	return 0;
fail:
	planner_plan_free(p);
	(void)r;
	return badmsg(ec);
}
