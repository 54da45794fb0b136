/*
 * planner: seed-trading-spec §7.3 over decimals (see the header for the rules
 * and the deliberate departures from 2.27.4).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/planner.h"

static int cmp_work(const void *a, const void *b);
static int copy_symbol(char dst[PLANNER_SYMBOL_MAX], const char *src, struct errctx *ec);

/* Seed priority bands of |trade| in dollars. */
static const int64_t priority_floor[] = { 10000, 1000, 100, 50 };

static const char *const action_names[_PLANNER_ACTION_MAX] = {
	[PLANNER_BUY] = "BUY",
	[PLANNER_SELL] = "SELL",
	[PLANNER_HOLD] = "HOLD",
};

/* Sort rank of the seed: SELL 0, BUY 1, HOLD 2. */
static const int action_rank[_PLANNER_ACTION_MAX] = {
	[PLANNER_SELL] = 0,
	[PLANNER_BUY] = 1,
	[PLANNER_HOLD] = 2,
};

struct work {
	char		symbol[PLANNER_SYMBOL_MAX];
	double		weight;
	bool		targeted;
	struct decimal	qty;
	struct decimal	price;
};

static int collect(const struct planner_input *in, struct work **ret, size_t *n,
    struct errctx *ec);
static int weight_times(double w, struct decimal e, struct decimal *ret);
static int priority_of(struct decimal trade);

const char *
planner_action_to_string(enum planner_action a)
{
	return a < _PLANNER_ACTION_MAX ? action_names[a] : "?";
}

int
planner_action_from_string(const char *s, enum planner_action *ret)
{
	for (int i = 0; i < _PLANNER_ACTION_MAX; i++)
		if (s != NULL && strcmp(s, action_names[i]) == 0) {
			*ret = (enum planner_action)i;
			return 0;
		}
	return -EINVAL;
}

void
planner_plan_free(struct planner_plan *p)
{
	if (p == NULL)
		return;
	free(p->plan_id);
	free(p->correlation_id);
	free(p->causation_id);
	free(p->strategy_name);
	free(p->items);
	free(p->comparison);
	free(p);
}

bool
planner_trades_required(const struct planner_plan *p)
{
	for (size_t i = 0; i < p->n_items; i++)
		if (p->items[i].action != PLANNER_HOLD)
			return true;
	return false;
}

/* By symbol, targets first: duplicates end up side by side. */
static int
cmp_work(const void *a, const void *b)
{
	const struct work *x = a, *y = b;
	int c = strcmp(x->symbol, y->symbol);

	return c != 0 ? c : (int)y->targeted - (int)x->targeted;
}

static int
copy_symbol(char dst[PLANNER_SYMBOL_MAX], const char *src, struct errctx *ec)
{
	size_t len = src != NULL ? strlen(src) : 0;

	if (len == 0 || len >= PLANNER_SYMBOL_MAX)
		return errctx_set(ec, -EINVAL, "symbol '%s': must be 1..%d characters",
		    src != NULL ? src : "", PLANNER_SYMBOL_MAX - 1);
	for (size_t i = 0; i <= len; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	return 0;
}

/* targets u held positions, upper-cased, alphabetical, validated: every
 * entry sorted by symbol (targets before positions), then one merging pass,
 * so duplicates are neighbours and the whole is O(n log n). */
static int
collect(const struct planner_input *in, struct work **ret, size_t *n, struct errctx *ec)
{
	struct work *w = xcalloc(in->n_targets + in->n_positions + 1, sizeof *w);
	size_t k = 0, out = 0;
	int r;

	for (size_t i = 0; i < in->n_targets; i++, k++) {
		r = copy_symbol(w[k].symbol, in->targets[i].symbol, ec);
		if (r < 0)
			goto fail;
		if (!isfinite(in->targets[i].weight) || in->targets[i].weight < 0 ||
		    in->targets[i].weight > 1.000001) {
			r = errctx_set(ec, -EINVAL, "target %s: weight %g is not within 0..1",
			    w[k].symbol, in->targets[i].weight);
			goto fail;
		}
		w[k].weight = in->targets[i].weight;
		w[k].targeted = true;
	}
	for (size_t i = 0; i < in->n_positions; i++) {
		const struct planner_position *p = &in->positions[i];

		r = copy_symbol(w[k].symbol, p->symbol, ec);
		if (r < 0)
			goto fail;
		if (decimal_is_negative(p->qty)) {
			r = errctx_set(ec, -EINVAL, "position %s: negative quantity", w[k].symbol);
			goto fail;
		}
		if (decimal_is_zero(p->qty))
			continue;	/* not held */
		if (p->price.units <= 0) {
			r = errctx_set(ec, -EINVAL, "position %s: no positive price to value it",
			    w[k].symbol);
			goto fail;
		}
		w[k].qty = p->qty;
		w[k].price = p->price;
		k++;
	}
	qsort(w, k, sizeof *w, cmp_work);
	for (size_t i = 0; i < k; i++) {
		if (out > 0 && strcmp(w[out - 1].symbol, w[i].symbol) == 0) {
			struct work *prev = &w[out - 1];

			if (w[i].targeted || !prev->targeted || !decimal_is_zero(prev->qty)) {
				r = errctx_set(ec, -EINVAL, "%s %s listed twice",
				    w[i].targeted ? "target" : "position", w[i].symbol);
				goto fail;
			}
			prev->qty = w[i].qty;	/* the position of a target */
			prev->price = w[i].price;
			continue;
		}
		w[out++] = w[i];
	}
	if (out == 0) {
		r = errctx_set(ec, -EINVAL, "nothing to plan: no targets and no positions");
		goto fail;
	}
	*ret = w;
	*n = out;
	return 0;
fail:
	free(w);
	return r;
}

/* w x e in long double (64-bit mantissa on x86-64), rounded half-even to
 * 10^-8: the double weight carries the seed's float precision, the product
 * does not lose more. */
static int
weight_times(double w, struct decimal e, struct decimal *ret)
{
	long double p = (long double)w * (long double)e.units;
	long double f = floorl(p), diff = p - f;
	long double q = diff > 0.5L ? f + 1 : diff < 0.5L ? f :
	    (fmodl(f, 2.0L) == 0 ? f : f + 1);

	if (q > (long double)INT64_MAX || q < (long double)-INT64_MAX)
		return -EOVERFLOW;
	ret->units = (int64_t)q;
	return 0;
}

static int
priority_of(struct decimal trade)
{
	struct decimal a = decimal_abs(trade);

	for (size_t i = 0; i < ELEMENTSOF(priority_floor); i++)
		if (a.units >= priority_floor[i] * DECIMAL_SCALE)
			return (int)i + 1;
	return 5;
}

#define CHECK(expr) do { r = (expr); if (r < 0) goto overflow; } while (0)

int
planner_build(const struct planner_input *in, struct planner_plan **ret, struct errctx *ec)
{
	struct work *w = NULL;
	struct planner_item *items = NULL;
	struct planner_plan *p;
	struct decimal e, one_minus, sum_cur = DECIMAL_ZERO, sum_tgt = DECIMAL_ZERO, base, m;
	size_t n = 0, k;
	int r;

	if (decimal_is_negative(in->cash_reserve) || decimal_cmp(in->cash_reserve,
	    decimal_from_units(DECIMAL_SCALE)) >= 0)
		return errctx_set(ec, -EINVAL, "cash reserve must be within [0, 1)");
	if (decimal_is_negative(in->min_trade))
		return errctx_set(ec, -EINVAL, "minimum trade fraction must not be negative");
	r = collect(in, &w, &n, ec);
	if (r < 0)
		return r;
	items = xcalloc(n, sizeof *items);
	CHECK(decimal_sub(decimal_from_units(DECIMAL_SCALE), in->cash_reserve, &one_minus));
	CHECK(decimal_mul(in->portfolio_value, one_minus, DECIMAL_ROUND_HALF_EVEN, &e));
	if (decimal_is_negative(e))
		e = DECIMAL_ZERO;	/* nothing investable; sells still happen */
	for (size_t i = 0; i < n; i++) {
		struct planner_item *it = &items[i];

		memcpy(it->symbol, w[i].symbol, sizeof it->symbol);
		CHECK(weight_times(w[i].weight, e, &it->target_value));
		CHECK(decimal_mul(w[i].qty, w[i].price, DECIMAL_ROUND_HALF_EVEN, &it->current_value));
		CHECK(decimal_add(sum_cur, it->current_value, &sum_cur));
		CHECK(decimal_add(sum_tgt, it->target_value, &sum_tgt));
	}
	base = decimal_max(sum_cur, sum_tgt);
	for (size_t i = 0; i < n; i++) {
		struct planner_item *it = &items[i];

		CHECK(decimal_sub(it->target_value, it->current_value, &it->trade_amount));
		it->action = decimal_is_zero(it->trade_amount) ? PLANNER_HOLD :
		    decimal_is_negative(it->trade_amount) ? PLANNER_SELL : PLANNER_BUY;
		if (base.units > 0) {
			CHECK(decimal_div(it->current_value, base, DECIMAL_ROUND_HALF_EVEN,
			    &it->current_weight));
			CHECK(decimal_div(it->target_value, base, DECIMAL_ROUND_HALF_EVEN,
			    &it->target_weight));
		}
		CHECK(decimal_sub(it->target_weight, it->current_weight, &it->weight_diff));
		it->priority = priority_of(it->trade_amount);
	}

	p = xcalloc(1, sizeof *p);
	p->items = xcalloc(n, sizeof *p->items);
	/* Stable sort by (action rank, priority) over the alphabetical order: 15
	 * buckets taken in turn keep each bucket's alphabetical order. */
	k = 0;
	for (int rank = 0; rank < 3; rank++)
		for (int prio = 1; prio <= 5; prio++)
			for (size_t i = 0; i < n; i++)
				if (action_rank[items[i].action] == rank && items[i].priority == prio)
					p->items[k++] = items[i];
	p->n_items = n;

	/* The threshold is applied after sorting, in place (seed §7.3 step 7). */
	m = DECIMAL_ZERO;
	if (in->portfolio_value.units > 0) {
		CHECK(decimal_mul(in->portfolio_value, in->min_trade, DECIMAL_ROUND_HALF_EVEN, &m));
		CHECK(decimal_round_to(m, 2, DECIMAL_ROUND_HALF_UP, &m));
	}
	for (size_t i = 0; i < n; i++) {
		struct planner_item *it = &p->items[i];
		bool full_exit = it->action == PLANNER_SELL && decimal_is_zero(it->target_value);

		if (it->action != PLANNER_HOLD && decimal_cmp(decimal_abs(it->trade_amount), m) < 0 &&
		    (!full_exit || in->seed_suppress_small_exits)) {
			it->action = PLANNER_HOLD;
			it->trade_amount = DECIMAL_ZERO;
		}
		CHECK(decimal_add(p->total_trade_value, decimal_abs(it->trade_amount),
		    &p->total_trade_value));
		if (!decimal_is_zero(it->current_value))
			p->position_count++;
	}
	p->comparison = xcalloc(n, sizeof *p->comparison);
	p->n_comparison = n;
	for (size_t i = 0; i < n; i++) {
		struct planner_comparison *c = &p->comparison[i];
		struct decimal pct;

		memcpy(c->symbol, w[i].symbol, sizeof c->symbol);
		CHECK(decimal_from_double(w[i].weight, DECIMAL_ROUND_HALF_EVEN, &c->target));
		if (in->portfolio_value.units > 0) {
			CHECK(decimal_mul(items[i].current_value, decimal_from_units(100 * DECIMAL_SCALE),
			    DECIMAL_ROUND_HALF_EVEN, &pct));
			CHECK(decimal_div(pct, in->portfolio_value, DECIMAL_ROUND_HALF_EVEN,
			    &c->current));
		}
		CHECK(decimal_sub(c->target, c->current, &c->delta));
	}
	p->min_trade_threshold = m;
	p->total_portfolio_value = in->portfolio_value;
	p->cash_balance = in->cash;
	p->timestamp_usec = in->timestamp_usec;
	p->plan_id = xstrdup_or_null(in->plan_id);
	p->correlation_id = xstrdup_or_null(in->correlation_id);
	p->causation_id = xstrdup_or_null(in->causation_id);
	p->strategy_name = xstrdup_or_null(in->strategy_name);
	free(items);
	free(w);
	*ret = p;
	return 0;
overflow:
	free(items);
	free(w);
	return errctx_set(ec, r, "plan arithmetic out of range (portfolio value too large?)");
}

int
planner_order_qty(enum planner_action action, struct decimal trade_amount, struct decimal price,
    struct decimal held, bool full_exit, bool fractionable, struct decimal *ret,
    struct errctx *ec)
{
	struct decimal raw, q;
	int r;

	if (action == PLANNER_SELL && full_exit) {
		/* Exactly what is held: no rounding that could leave dust or overshoot. */
		if (held.units <= 0)
			return errctx_set(ec, -ERANGE, "nothing held to sell");
		*ret = held;
		return 0;
	}
	if (price.units <= 0)
		return errctx_set(ec, -EINVAL, "no positive price");
	r = decimal_div(decimal_abs(trade_amount), price, DECIMAL_ROUND_HALF_EVEN, &raw);
	if (r < 0)
		return errctx_set(ec, r, "quantity out of range");
	if (action == PLANNER_SELL) {
		if (held.units <= 0)
			return errctx_set(ec, -ERANGE, "nothing held to sell");
		if (decimal_cmp(raw, held) >= 0) {
			q = held;
		} else {
			r = decimal_round_to(raw, fractionable ? 6 : 0, DECIMAL_ROUND_DOWN, &q);
			if (r < 0)
				return errctx_set(ec, r, "quantity out of range");
		}
	} else if (action == PLANNER_BUY) {
		r = decimal_round_to(raw, fractionable ? 6 : 0, fractionable ?
		    DECIMAL_ROUND_HALF_EVEN : DECIMAL_ROUND_DOWN, &q);
		if (r < 0)
			return errctx_set(ec, r, "quantity out of range");
	} else {
		return errctx_set(ec, -EINVAL, "no quantity for a HOLD");
	}
	if (q.units <= 0)
		return errctx_set(ec, -ERANGE, "zero quantity after rounding");
	*ret = q;
	return 0;
}
