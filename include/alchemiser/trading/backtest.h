/*
 * backtest: the strategy set that trades, run over history. For every NYSE
 * session from..to it evaluates the set exactly as the signals stage does
 * (strategy_set_evaluate_series, the code of strategy_set_evaluate and so of
 * --evaluate: the same freshness checks on the bars a fetch as of that day
 * returns, the same consolidation, the configured failure policy; when the
 * policy fails the session, nothing trades that session),
 * plans the rebalance exactly as the portfolio stage does (planner_build with
 * the configured cash reserve, minimum trade and small-exit rule; quantities
 * by planner_order_qty, the executor's rule) and fills it with the model
 * below. Each file also runs alone in its own account with its share of the
 * capital (attribution: what each file would have earned at its set weight).
 *
 * Fill models:
 *   BACKTEST_FILL_OPEN (default, what the daemon does): the signal uses bars
 *     through the previous session (the 09:35 run sees yesterday's close as
 *     its last bar), the plan values positions at the session's open and
 *     every order fills at that open.
 *   BACKTEST_FILL_CLOSE (as Composer's backtests appear to do): the signal
 *     uses bars through the session itself and orders fill at its close.
 * Costs: each fill's price moves cost_bps against the trader (buys pay
 * p x (1 + c), sells get p x (1 - c)), as the paper broker's slippage does.
 * Buys that need more cash than there is are cut to what the cash buys.
 * Prices: a ticker without a bar on a session reads its last close (open =
 * that close); a target without any price yet is not bought (recorded as a
 * failure of the session).
 * No look-ahead: bars after a signal's as-of day are never read (the bar
 * store answers "as of" by index; the test truncates the data to prove it).
 *
 * Thread:  one thread per run (the marketdata seam blocks).
 * Memory:  backtest_run() returns a result the caller frees with
 *          backtest_result_free(); the set and md are borrowed for the call,
 *          except file names, which the result borrows from the set (keep
 *          the set alive while the result is used).
 */
#ifndef ALCHEMISER_TRADING_BACKTEST_H
#define ALCHEMISER_TRADING_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/strategy_set.h"

struct errctx;
struct marketdata;
struct strategy_set;

#define BACKTEST_SESSIONS_PER_YEAR 252

enum backtest_fill {
	BACKTEST_FILL_OPEN,
	BACKTEST_FILL_CLOSE,
	_BACKTEST_FILL_MAX
};

typedef void (*backtest_progress_cb)(void *arg, size_t done, size_t total, int64_t day);

struct backtest_options {
	int64_t		 from_day;		/* first session on or after */
	int64_t		 to_day;		/* last session on or before */
	enum backtest_fill fill;
	double		 capital;		/* starting cash, > 0 */
	double		 cost_bps;		/* 0..1000 */
	bool		 whole_shares;		/* false: fractional (6 places) */
	struct decimal	 cash_reserve;		/* trading.cash_reserve */
	struct decimal	 min_trade;		/* trading.min_trade */
	struct decimal	 min_notional;		/* trading.min_notional (buys below skipped) */
	bool		 keep_small_positions;	/* trading.keep_small_positions */
	const char	*benchmark;		/* buy-and-hold comparison ticker, e.g. "SPY" */
	/* The signals stage's policy: trading.bars_max_lag, trading.on_strategy_failure
	 * (fresh.today_session 0: history has no clock to check against). */
	struct strategy_set_policy policy;
	bool		 fresh_histories;	/* tests: rebuild block histories every day */
	uint64_t	 max_steps;		/* evaluation budget per file and day (0: default) */
	backtest_progress_cb progress;		/* optional, called after each session */
	void		*progress_arg;
};

struct backtest_fill_rec {
	int64_t		 day;
	uint32_t	 sym;			/* index into result symbols */
	bool		 buy;
	double		 qty;
	double		 price;			/* reference price (open or close) */
	double		 fill_price;		/* price with costs */
	double		 notional;		/* qty x price */
	double		 cost;			/* qty x |fill_price - price| */
};

struct backtest_failure {
	int64_t		 day;			/* the session */
	const char	*file;			/* borrowed from the set; NULL: the session as a whole */
	char		*error;
	bool		 held;			/* every file failed: no rebalance */
};

struct backtest_day {
	int64_t		 day;			/* the session */
	int64_t		 as_of;			/* the signal's last bar day */
	double		 equity;		/* at the close, after the day's fills */
	double		 cash;
	double		 benchmark;		/* buy-and-hold equity of the benchmark */
	double		 traded;		/* sum of fill notionals */
	double		 costs;
	bool		 held;			/* no allocation (every file failed) */
	struct dsl_weight *target;		/* the consolidated allocation (owned) */
	size_t		 ntarget;
};

struct backtest_result {
	char		 *strategy;		/* the set's path as given */
	enum backtest_fill fill;
	double		  capital;
	double		  cost_bps;
	bool		  whole_shares;
	struct decimal	  cash_reserve, min_trade;
	struct strategy_set_policy policy;
	char		 *benchmark;
	/* files of the set */
	size_t		  nfiles;
	const char	**files;		/* borrowed from the set */
	double		 *file_weight;
	double		 *file_equity;		/* ndays x nfiles, each file alone */
	size_t		 *file_failed;		/* sessions each file failed */
	/* every symbol priced: the set's tickers, then the benchmark */
	size_t		  nsymbols;
	char		**symbols;
	double		 *held;			/* ndays x nsymbols: weights at the close */
	struct backtest_day *days;
	size_t		  ndays;
	struct backtest_fill_rec *fills;
	size_t		  nfills;
	struct backtest_failure *failures;
	size_t		  nfailures;
	size_t		  sessions_held;
};

/* Run. -EINVAL for bad options (empty range, capital <= 0, ...); -ENOENT
 * when the benchmark has no bars; market-data errors pass through. A file
 * failing on a session is not an error (see failures). */
int	backtest_run(const struct strategy_set *set, const char *strategy, struct marketdata *md,
	    const struct backtest_options *o, struct backtest_result **ret, struct errctx *ec);
void	backtest_result_free(struct backtest_result *r);

/* Statistics of one equity series (backtest_stats.c). Daily returns r_i =
 * E_i / E_{i-1} - 1 with E_{-1} = start; volatility = sample standard
 * deviation x sqrt(252); Sharpe = mean / sample sd x sqrt(252) (risk-free
 * 0); Sortino = mean / sqrt(sum(min(r, 0)^2) / n) x sqrt(252); CAGR over
 * n / 252 years; drawdown = 1 - E / running peak, the start counting as the
 * first peak (index -1); Calmar = CAGR / max drawdown. A ratio whose
 * denominator is 0 is NAN (null in JSON). */
struct backtest_stats {
	size_t	n;
	double	start, end;
	double	total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar;
	long	dd_peak, dd_trough, dd_recovery;	/* indexes; -1 = the start / none */
};

void	backtest_stats(const double *equity, size_t n, double start, struct backtest_stats *ret);

/* The summary (stdout of --backtest): see alchemiserd(8). New reference. */
json_t	*backtest_summary_json(const struct backtest_result *r);
/* Write equity.csv, allocations.csv, trades.csv, files.csv, failures.csv,
 * summary.json and report.html into dir (created if missing). */
int	backtest_write_outputs(const struct backtest_result *r, const char *dir, struct errctx *ec);
/* The self-contained HTML report (no network: inline CSS and SVG). */
int	backtest_write_html(const struct backtest_result *r, const json_t *summary, FILE *out,
	    struct errctx *ec);

/* --backtest as a library call (main.c only parses options). Prints the
 * summary to out, progress (when err is a terminal) and warnings to err.
 * Returns the exit status: 0 ok, 1 the run failed, 2 bad input. */
struct config;
struct backtest_cli {
	const char	*target;		/* SET.json or FILE.clj */
	const char	*data_dir;
	const char	*from, *to;		/* YYYY-MM-DD */
	const char	*out_dir;		/* NULL: summary only */
	const char	*fill;			/* "open" | "close" | NULL */
	const char	*cost_bps;		/* NULL: trading.slippage_bps */
	const char	*capital;		/* NULL: trading.starting_cash */
	const char	*benchmark;		/* NULL: SPY */
	bool		 whole_shares;
	uint64_t	 max_steps;		/* --eval-budget; 0: trading.eval_budget */
};
int	backtest_cli_run(const struct backtest_cli *a, const struct config *cfg, FILE *out, FILE *err);

#endif
