/*
 * dsl_cli: `alchemiserd --evaluate TARGET --data DIR --as-of YYYY-MM-DD
 * [--trace] [--allow-stale]` as a library call, so main.c only parses its options.
 * Thread:  any; blocking file I/O.
 * Memory:  nothing kept after the call.
 */
#ifndef ALCHEMISER_TRADING_DSL_CLI_H
#define ALCHEMISER_TRADING_DSL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Evaluate a strategy file (.clj) or a strategy set (.json) on the CSV
 * directory data_dir as of as_of ("YYYY-MM-DD"; NULL = the newest bar of the
 * set's tickers) and print the allocation to out as one JSON object on one
 * line, {"SYM": weight, ...}, tickers sorted, weights as the shortest decimal
 * that reads back exactly (dsl_format_number; they sum to
 * 1). The bars are checked like the signals stage checks them
 * (bars_freshness.h, no tolerance): a file reading missing, stale or future
 * bars, or an as-of date before a ticker's data starts, fails, and so does
 * the set (the daemon's default trading.on_strategy_failure = fail).
 * allow_stale (research) lets stale bars through with a "warning:" line.
 * Diagnostics go to err: each failing file as an "error:" line, the session
 * asked for and the session the bars are really as of, and with trace the
 * decision path of every file (each if with the values that decided it, each
 * filter ranking, each inverse-volatility weighting).
 * Returns the exit status: 0 ok, 1 evaluation failure (any file failed), 2
 * bad input (unreadable or invalid target, data directory or date). */
int	dsl_cli_evaluate(const char *target, const char *data_dir, const char *as_of, bool trace,
	    bool allow_stale, FILE *out, FILE *err);

/* The same with every option (--eval-budget: max_steps, 0 = the default
 * DSL_DEFAULT_STEPS; a file over it fails naming the budget). With trace,
 * each file's budget spent is printed after its decision path. */
struct dsl_cli_args {
	const char	*target, *data_dir, *as_of;
	bool		 trace, allow_stale;
	uint64_t	 max_steps;
};
int	dsl_cli_run(const struct dsl_cli_args *a, FILE *out, FILE *err);

#endif
