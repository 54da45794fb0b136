/*
 * planner: the rebalance plan of seed-trading-spec §7.3 as a pure function:
 * target weights + held positions + the account's portfolio value -> a list
 * of dollar trades (BUY / SELL / HOLD) in execution order, and the JSON of the
 * RebalancePlanned event's rebalance_plan (money as decimal strings).
 *
 * Algorithm (seed 2.27.4): investable E = V x (1 - cash_reserve); for every
 * symbol of targets u positions: target = w x E, current = qty x price,
 * trade = target - current; weights over B = max(sum current, sum target);
 * priority from |trade| (>=10000:1, >=1000:2, >=100:3, >=50:4, else 5);
 * alphabetical, then stable by (SELL, BUY, HOLD; priority); then every trade
 * below M = V x min_trade (cents, half-up) becomes HOLD in place.
 * Deliberate fixes of the seed's defects:
 *   - a full exit (symbol no longer targeted) is sold even below M, so no
 *     orphan positions stay behind (seed_suppress_small_exits restores 2.27.4);
 *   - non-positive cash is not an error: the plan is made and sells run first;
 *   - an all-zero portfolio gives HOLD items with priority 5, not invalid ones.
 * Share quantities are not decided here (the plan is in dollars):
 * planner_order_qty() is the rule the executor uses (rounding on buys only).
 *
 * Thread:  pure functions, any thread.
 * Memory:  a plan is owned by the caller and freed with planner_plan_free();
 *          inputs are borrowed for the call and copied where kept.
 */
#ifndef ALCHEMISER_TRADING_PLANNER_H
#define ALCHEMISER_TRADING_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "alchemiser/core/decimal.h"

struct errctx;

#define PLANNER_SYMBOL_MAX 16	/* incl. NUL; the seed allows 10 characters */

enum planner_action {
	PLANNER_BUY,
	PLANNER_SELL,
	PLANNER_HOLD,
	_PLANNER_ACTION_MAX
};

struct planner_target {
	const char	*symbol;
	double		 weight;	/* fraction of the investable value, 0..1 */
};

struct planner_position {
	const char	*symbol;
	struct decimal	 qty;		/* shares held (qty_available in the seed) */
	struct decimal	 price;		/* current price (> 0) */
};

struct planner_input {
	const struct planner_target	*targets;
	size_t				 n_targets;
	const struct planner_position	*positions;
	size_t				 n_positions;
	struct decimal			 portfolio_value;	/* V: the account's */
	struct decimal			 cash;			/* metadata only */
	struct decimal			 cash_reserve;		/* 0.01 = 1 % */
	struct decimal			 min_trade;		/* 0.01 = 1 % of V */
	bool				 seed_suppress_small_exits;
	/* Identity (copied into the plan; any may be NULL). */
	const char			*plan_id;
	const char			*correlation_id;
	const char			*causation_id;
	const char			*strategy_name;
	int64_t				 timestamp_usec;
};

struct planner_item {
	char			symbol[PLANNER_SYMBOL_MAX];
	struct decimal		current_weight;
	struct decimal		target_weight;
	struct decimal		weight_diff;
	struct decimal		target_value;
	struct decimal		current_value;
	struct decimal		trade_amount;	/* signed dollars; 0 for HOLD */
	enum planner_action	action;
	int			priority;	/* 1..5 */
};

/* Seed §7.1 step 3, informational (units are mixed on purpose: the target is
 * a fraction, the current a percentage of V, as 2.27.4 publishes them). */
struct planner_comparison {
	char			symbol[PLANNER_SYMBOL_MAX];
	struct decimal		target;		/* target weight, fraction */
	struct decimal		current;	/* 100 x market value / V (0 if V <= 0) */
	struct decimal		delta;		/* target - current */
};

struct planner_plan {
	char			*plan_id;
	char			*correlation_id;
	char			*causation_id;
	char			*strategy_name;
	int64_t			 timestamp_usec;
	struct planner_item	*items;
	size_t			 n_items;
	struct decimal		 total_portfolio_value;	/* V */
	struct decimal		 total_trade_value;	/* sum |trade_amount| */
	struct decimal		 cash_balance;
	struct decimal		 min_trade_threshold;	/* M */
	size_t			 position_count;
	struct planner_comparison *comparison;	/* alphabetical; NULL when decoded */
	size_t			 n_comparison;
};

/* Build the plan. -EINVAL (with the reason) for: no symbols at all, a weight
 * outside 0..1 or not finite, a held position without a positive price, a
 * negative quantity, a duplicate symbol, a symbol too long. */
int	planner_build(const struct planner_input *in, struct planner_plan **ret,
	    struct errctx *ec);
void	planner_plan_free(struct planner_plan *p);
/* True when any item is BUY or SELL (the event's trades_required). */
bool	planner_trades_required(const struct planner_plan *p);

const char *planner_action_to_string(enum planner_action a);	/* "BUY" ... */
int	planner_action_from_string(const char *s, enum planner_action *ret);

/* The seed's rebalance_plan object: schema_version, correlation_id,
 * causation_id, timestamp, plan_id, items[{symbol, current_weight,
 * target_weight, weight_diff, target_value, current_value, trade_amount,
 * action, priority}], total_portfolio_value, total_trade_value,
 * max_drift_tolerance, execution_urgency, estimated_duration_minutes,
 * metadata{portfolio_value, cash_balance, position_count, module,
 * min_trade_threshold, strategy_name}. Money and weights are decimal strings. */
json_t	*planner_plan_to_json(const struct planner_plan *p);
/* The RebalancePlanned payload beside the base fields: rebalance_plan,
 * allocation_comparison {target_values, current_values, deltas} (empty
 * objects for a decoded plan), trades_required, metadata {analysis_timestamp,
 * source}. */
json_t	*planner_rebalance_planned_json(const struct planner_plan *p);
/* Decode the same layout; money accepted as strings or numbers. -EBADMSG
 * naming the field on anything malformed. */
int	planner_plan_from_json(const json_t *obj, struct planner_plan **ret, struct errctx *ec);

/* Shares for one order (the executor's rule, here so it is tested with the
 * plan). SELL of a full exit: exactly held. Other SELLs: min(|trade| / price,
 * held), rounded DOWN (6 places, or whole shares when not fractionable) so a
 * sell never exceeds the position. BUY: |trade| / price, 6 places half-even
 * when fractionable, else whole shares rounded down. -ERANGE when the result
 * is zero. */
int	planner_order_qty(enum planner_action action, struct decimal trade_amount,
	    struct decimal price, struct decimal held, bool full_exit, bool fractionable,
	    struct decimal *ret, struct errctx *ec);

/* Glue for the portfolio stage (planner_broker.c). */
struct broker;

/* consolidated_portfolio.target_allocations of SignalGenerated (ticker ->
 * weight as decimal string or number) -> targets (symbols copied, upper-case).
 * -EBADMSG for a non-object, a weight outside 0..1, or a sum outside
 * (0, 1.01]. Free with planner_targets_free(). */
int	planner_targets_from_json(const json_t *allocations, struct planner_target **ret,
	    size_t *n, struct errctx *ec);
void	planner_targets_free(struct planner_target *t, size_t n);

struct planner_options {
	struct decimal	cash_reserve;			/* trading.cash_reserve */
	struct decimal	min_trade;			/* trading.min_trade */
	bool		seed_suppress_small_exits;	/* trading.keep_small_positions */
	/* Count open orders as if they fill: buys add, sells take away what is
	 * left of them. Orders of the run with this plan event id (NULL: none)
	 * are not counted: the executor resumes those itself. */
	bool		count_open_orders;
	const char	*own_plan_event_id;
};

/* Read the account and positions from the broker (positions valued at the
 * broker's current_price, else the quote mid) and build the plan with V =
 * the account's portfolio_value. Broker errors pass through unchanged. */
int	planner_build_from_broker(struct broker *b, const struct planner_target *targets,
	    size_t n_targets, const struct planner_options *opt, const char *plan_id,
	    const char *correlation_id, const char *causation_id, int64_t now_usec,
	    struct planner_plan **ret, struct errctx *ec);

#endif
