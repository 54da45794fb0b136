/*
 * executor_run: the executor's private state (src/trading/executor*.c only).
 * Thread:  one run, one thread. Memory: owned by executor_run().
 */
#ifndef ALCHEMISER_TRADING_EXECUTOR_RUN_H
#define ALCHEMISER_TRADING_EXECUTOR_RUN_H

#include "alchemiser/trading/executor.h"

#define MAX_PRICES 16

struct item {
	const struct planner_item *pi;
	struct executor_order	*out;
	enum broker_side	 side;
	bool			 full_exit;
	bool			 fractionable;
	bool			 have_qty;	/* desired is known */
	struct decimal		 desired;
	struct decimal		 filled_prev;	/* by settled attempts */
	struct decimal		 value_prev;	/* their filled x avg price */
	int			 next_attempt;
	bool			 has_open;
	struct broker_order	 open;
	int64_t			 placed_at;
	struct decimal		 used[MAX_PRICES];
	size_t			 n_used;
	bool			 done;
	bool			 bp_retried;	/* placed again after a buying-power refusal */
};

struct run {
	struct broker			*b;
	const struct executor_options	*o;
	const char			*event_id;
	struct broker_position		*pos;
	size_t				 n_pos;
	struct decimal			 buying_power;
	struct errctx			*ec;
};

/* Chains of one phase (sells or buys): place, watch, re-price, escalate. */
int	executor_run_phase(struct run *R, struct item *items, size_t n);
void	executor_fail_item(struct item *it, const char *fmt, const char *reason);
/* rem rounds to nothing, or (fractionable buys) is worth less than min_notional. */
bool	executor_too_small(const struct run *R, const struct item *it, struct decimal rem,
	    struct decimal price);
struct decimal executor_remaining(const struct item *it);
int64_t	executor_now(const struct run *R);
/* Worth retrying the whole run later (it resumes). */
bool	executor_transient(int r);

#endif
