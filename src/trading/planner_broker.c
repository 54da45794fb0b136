/*
 * planner_broker: what the portfolio stage needs around planner_build(): the
 * targets out of a SignalGenerated event and the snapshot out of the broker
 * (seed §7.1, §7.2, without the cash <= 0 failure).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/planner.h"

void
planner_targets_free(struct planner_target *t, size_t n)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)t[i].symbol);
	free(t);
}

int
planner_targets_from_json(const json_t *alloc, struct planner_target **ret, size_t *n,
    struct errctx *ec)
{
	struct planner_target *t;
	const char *key;
	json_t *v;
	double sum = 0;
	size_t k = 0;

	if (!json_is_object(alloc) || json_object_size(alloc) == 0)
		return errctx_set(ec, -EBADMSG, "target_allocations: expected a non-empty object");
	t = xcalloc(json_object_size(alloc), sizeof *t);
	json_object_foreach((json_t *)alloc, key, v) {
		double w;
		char *sym;

		if (json_is_string(v)) {
			char *end;

			w = strtod(json_string_value(v), &end);
			if (*end != '\0' || end == json_string_value(v))
				w = NAN;
		} else {
			w = json_is_number(v) ? json_number_value(v) : NAN;
		}
		if (!isfinite(w) || w < 0 || w > 1) {
			planner_targets_free(t, k);
			return errctx_set(ec, -EBADMSG, "target_allocations.%s: weight must be 0..1",
			    key);
		}
		sym = xstrdup(key);
		for (char *c = sym; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		t[k].symbol = sym;
		t[k].weight = w;
		sum += w;
		k++;
	}
	if (sum <= 0 || sum > 1.01) {
		planner_targets_free(t, k);
		return errctx_set(ec, -EBADMSG, "target_allocations: weights sum to %g", sum);
	}
	*ret = t;
	*n = k;
	return 0;
}

int
planner_build_from_broker(struct broker *b, const struct planner_target *targets,
    size_t n_targets, const struct planner_options *opt, const char *plan_id,
    const char *correlation_id, const char *causation_id, int64_t now_usec,
    struct planner_plan **ret, struct errctx *ec)
{
	struct broker_account acct;
	struct broker_position *pos = NULL;
	struct planner_position *pp;
	struct planner_input in = { 0 };
	size_t n = 0;
	int r;

	r = b->ops->get_account(b, &acct, ec);
	if (r < 0)
		return errctx_prefix(ec, "account");
	/* An account that cannot trade fails the run here, with its reason,
	 * before a plan is made or an order refused. */
	r = broker_account_check(&acct, ec);
	if (r < 0)
		return r;
	r = b->ops->list_positions(b, &pos, &n, ec);
	if (r < 0)
		return errctx_prefix(ec, "positions");
	pp = xcalloc(n + 1, sizeof *pp);
	for (size_t i = 0; i < n; i++) {
		pp[i].symbol = pos[i].symbol;
		pp[i].qty = pos[i].qty;
		pp[i].price = pos[i].current_price;
		if (pp[i].price.units <= 0 && pp[i].qty.units > 0) {
			struct broker_quote q;

			r = b->ops->get_quote(b, pos[i].symbol, &q, ec);
			if (r == 0 && executor_mid_price(q.bid, q.ask, &pp[i].price) < 0)
				r = errctx_set(ec, -ENOENT, "no usable quote for %s", pos[i].symbol);
			if (r < 0) {
				errctx_prefix(ec, "price of held %s", pos[i].symbol);
				goto out;
			}
		}
	}
	in.targets = targets;
	in.n_targets = n_targets;
	in.positions = pp;
	in.n_positions = n;
	in.portfolio_value = acct.portfolio_value;
	in.cash = acct.cash;
	in.cash_reserve = opt->cash_reserve;
	in.min_trade = opt->min_trade;
	in.seed_suppress_small_exits = opt->seed_suppress_small_exits;
	in.plan_id = plan_id;
	in.correlation_id = correlation_id;
	in.causation_id = causation_id;
	in.strategy_name = "unknown";	/* what 2.27.4 derives from the DSL payload */
	in.timestamp_usec = now_usec;
	r = planner_build(&in, ret, ec);
out:
	free(pp);
	free(pos);
	return r;
}
