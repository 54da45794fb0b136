/*
 * dsl_cli: `alchemiserd --evaluate TARGET --data DIR --as-of YYYY-MM-DD
 * [--trace]` as a library call, so main.c only parses its options.
 * Thread:  any; blocking file I/O.
 * Memory:  nothing kept after the call.
 */
#ifndef ALCHEMISER_TRADING_DSL_CLI_H
#define ALCHEMISER_TRADING_DSL_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Evaluate a strategy file (.clj) or a strategy set (.json) on the CSV
 * directory data_dir as of as_of ("YYYY-MM-DD"; NULL = the newest bar) and
 * print the allocation to out as one JSON object on one line,
 * {"SYM": weight, ...}, tickers sorted, weights with %.17g (they sum to 1).
 * Diagnostics go to err: a set's failing files as "warning:" lines, and with
 * trace the decision path of every file (each if with the values that decided
 * it, each filter ranking, each inverse-volatility weighting).
 * Returns the exit status: 0 ok, 1 evaluation failure (every file failed, or
 * the one file did), 2 bad input (unreadable or invalid target, data
 * directory or date). */
int	dsl_cli_evaluate(const char *target, const char *data_dir, const char *as_of, bool trace,
	    FILE *out, FILE *err);

#endif
