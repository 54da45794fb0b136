/*
 * executor: turns a rebalance plan into broker orders, exactly once.
 *
 * A run: (1) cancel this run's stale open orders (client_order_id prefix of
 * the plan event id); (2) SELL items, in plan order, and wait for them
 * (bounded); (3) BUY items within the account's buying power, and wait.
 * Each item is a chain of attempts with deterministic client_order_ids
 * (order_id.h): attempt 0 is a DAY limit priced from the quote (seed §8.4),
 * attempts 1..max_reprices re-price across the spread after
 * reprice_interval (seed §8.5), the next attempt is a market order. Every
 * replacement is for the REMAINING quantity after partial fills (2.27.4
 * re-sent the original quantity to market). Before placing an attempt the
 * executor looks its id up, so a re-run after a crash resumes the chain and
 * never places an order twice; the quantity of a resumed item is the one its
 * first attempt was placed with.
 * Errors: broker refusals of one order (-EACCES, -EBADMSG) fail that item and
 * the run goes on, except a buy refused for buying power (the cap prices
 * shares at the ask + 1 %; a fast market, or Alpaca's own 2.5-4 % estimate
 * of a market buy, can need more): the executor reads buying power and the
 * quote again and places that order once more, smaller (within buying power
 * at the ask + 5 %, never above what the chain still wants), and says so in
 * the order's note; refused again, the item fails as before; trouble that a retry may cure (-EAGAIN, -ETIMEDOUT,
 * -ECONNRESET, -EIO) ends the run with that code: the message is retried and
 * the re-run resumes. A fence (fence_cb) that says no ends it with -ENOLCK
 * before the next new order, after cancelling this run's open orders. "bot" mode (signal only) places nothing.
 * Results follow the seed's rule (§8.9): an order succeeded when it ends
 * filled or partially filled; SUCCESS when all placed succeeded, PARTIAL when
 * some did, FAILURE when none (or none placed); success = SUCCESS, or
 * PARTIAL when partial_is_failure is false.
 *
 * Thread:  one run per call, blocking, on a worker thread.
 * Memory:  the result is the caller's (executor_result_free).
 */
#ifndef ALCHEMISER_TRADING_EXECUTOR_H
#define ALCHEMISER_TRADING_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/trading/planner.h"

struct errctx;

enum executor_mode {
	EXECUTOR_MODE_TRADE,
	EXECUTOR_MODE_BOT,		/* signal only: no orders */
	_EXECUTOR_MODE_MAX
};

enum executor_status {
	EXECUTOR_SUCCESS,
	EXECUTOR_PARTIAL_SUCCESS,
	EXECUTOR_FAILURE,
	_EXECUTOR_STATUS_MAX
};

/* Clock hooks (tests drive time; NULL = CLOCK_MONOTONIC and nanosleep). */
typedef int64_t (*executor_now_cb)(void *userdata);
typedef void (*executor_sleep_cb)(void *userdata, int64_t usec);
/* Fencing: asked before each new order; false = this run may place no more
 * (why says so, up to why_size bytes). */
typedef bool (*executor_fence_cb)(void *userdata, char *why, size_t why_size);

struct executor_options {
	enum executor_mode	mode;
	bool			use_limit_orders;	/* false: market orders from the start */
	int			max_reprices;		/* limit re-prices before market (0..10) */
	int64_t			reprice_interval_usec;	/* age of a limit before re-pricing */
	int64_t			poll_interval_usec;	/* between order status checks */
	int64_t			phase_timeout_usec;	/* bound on one phase's wait */
	struct decimal		min_notional;		/* fractional buys below are skipped */
	struct decimal		reprice_step;		/* seed repeg_min_improvement: 0.02 */
	bool			partial_is_failure;	/* seed default true */
	int64_t			timestamp_usec;		/* execution_timestamp (0 = now) */
	/* The plan was made now, from positions that include what this run's
	 * earlier attempts filled (stage execution re-plans under the account
	 * lease): a resumed chain then wants filled-so-far + the plan's amount,
	 * not its first attempt's quantity. */
	bool			plan_is_live;
	executor_now_cb		now_cb;
	executor_sleep_cb	sleep_cb;
	void			*clock_userdata;
	/* NULL = no fence. When it says no, the run places nothing more,
	 * cancels its own open orders and ends with -ENOLCK (stage execution:
	 * the account lease was lost, the message waits to resume). */
	executor_fence_cb	fence_cb;
	void			*fence_userdata;
};

/* The defaults: trade mode, limit orders, 1 re-price (2.27.4's effective
 * count), 10 s interval, 1 s polls, 120 s per phase, $1.00, 0.02, partial =
 * failure. */
void	executor_options_init(struct executor_options *o);

struct executor_order {
	char			symbol[BROKER_SYMBOL_MAX];
	enum planner_action	action;
	struct decimal		trade_amount;	/* |planned dollars| */
	struct decimal		qty;		/* shares asked for (the chain's) */
	struct decimal		filled_qty;	/* over every attempt */
	struct decimal		avg_price;	/* volume-weighted over attempts; 0 if none */
	char			order_id[BROKER_ORDER_ID_MAX];		/* last attempt's */
	char			client_order_id[BROKER_CLIENT_ID_MAX];	/* last attempt's */
	enum broker_order_status status;	/* filled / partially_filled / last status */
	enum broker_order_type	type;		/* of the last attempt */
	int			attempts;	/* orders placed for the item, incl. resumed */
	bool			placed;		/* an order was attempted */
	bool			success;
	char			error[192];	/* why not, "" on success */
	/* What the executor changed on its own, "" if nothing: a buy the broker
	 * refused for buying power and that was placed again, smaller. */
	char			note[192];
	int64_t			filled_at_usec;
};

struct executor_result {
	char			*plan_id;
	enum executor_mode	 mode;
	enum executor_status	 status;
	bool			 success;
	bool			 trades_required;
	size_t			 orders_placed;
	size_t			 orders_succeeded;
	struct decimal		 total_trade_value;	/* seed: planned dollars of succeeded */
	struct decimal		 filled_value;		/* sum filled_qty x avg_price */
	int64_t			 timestamp_usec;
	struct executor_order	*orders;
	size_t			 n_orders;
	char			 failure_reason[256];	/* "" on success */
};

/* Run plan (whose RebalancePlanned event id is plan_event_id) against b. */
int	executor_run(struct broker *b, const struct planner_plan *plan, const char *plan_event_id,
	    const struct executor_options *opt, struct executor_result **ret, struct errctx *ec);
void	executor_result_free(struct executor_result *r);
/* Cancel this run's open orders (client_order_id prefix of plan_event_id)
 * and wait, bounded, until the broker says each is terminal, so positions
 * read next include everything they filled. -EAGAIN if one did not settle. */
int	executor_settle_run(struct broker *b, const char *plan_event_id,
	    const struct executor_options *opt, struct errctx *ec);

/* What the run of plan_event_id placed at the broker (each side, every
 * attempt, by client_order_id), whatever happened to it since: one order per
 * chain (quantity of its first attempt, fills summed over all, the last
 * attempt's ids and status; filled or partially filled when anything
 * filled). The symbols looked up are those of the run's own orders in the
 * broker's list of orders submitted after since_usec (so a position it sold
 * whole counts, though nothing names it now), and symbols (its plan's items
 * and targets: found even if the broker's clock lags since_usec). A run that
 * places nothing now reports its earlier orders with it (stage execution,
 * superseded). success is true; status classifies the chains found (SUCCESS
 * when none). */
int	executor_run_history(struct broker *b, const char *plan_event_id, int64_t since_usec,
	    const char *const *symbols, size_t n, struct executor_result **ret,
	    struct errctx *ec);

/* The seed's TradeExecuted execution_data: plan_id, orders_placed,
 * orders_succeeded, total_trade_value (text), execution_timestamp, success,
 * status, mode, orders[{symbol, action, side, trade_amount, shares,
 * filled_qty, price, order_id, client_order_id, status, success,
 * error_message, timestamp, order_type, filled_at, attempts}], plus
 * filled_value, failure_reason and failed_symbols. The brief's names: id =
 * order_id, qty = shares, avg price = price. */
json_t	*executor_result_to_json(const struct executor_result *r);
/* The TradeExecuted payload beside the base fields: execution_data (above),
 * success, orders_placed, orders_succeeded, failure_reason (null on
 * success), failed_symbols, metadata {execution_timestamp, source}. */
json_t	*executor_trade_executed_json(const struct executor_result *r);
const char *executor_status_to_string(enum executor_status s);

/* Pricing rules (seed §8.4 REST anchor, §8.5 re-peg), public for tests.
 * Prices are quantised to cents half-even; a non-positive result is 0.01. */
int	executor_mid_price(struct decimal bid, struct decimal ask, struct decimal *ret);
int	executor_limit_price(enum broker_side side, struct decimal bid, struct decimal ask,
	    struct decimal *ret);
/* original + factor x (target - original), cents. */
struct decimal executor_price_adjust(struct decimal original, struct decimal target,
	    struct decimal factor);
/* Re-peg: half way to the far side, crossing it by step; a price already used
 * moves by step further. */
struct decimal executor_reprice(enum broker_side side, struct decimal original,
	    struct decimal bid, struct decimal ask, struct decimal step,
	    const struct decimal *used, size_t n_used);
bool	executor_should_escalate(int reprices, int max_reprices);

#endif
