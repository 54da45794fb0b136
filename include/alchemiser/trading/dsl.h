/*
 * dsl: the Composer-style strategy language (s-expression .clj files):
 * parse once into a compiled program, evaluate against daily bars as of a
 * day. Semantics: ../shared/design/dsl-semantics.md §7 (see docs in
 * src/trading/dsl/README.md for the choices made where §7 leaves room).
 * Thread:  a dsl_program is immutable after parsing and may be evaluated from
 *          several threads at once, each with its own dsl_bars. A dsl_bars
 *          caches indicator series and is used by one thread at a time.
 *          Evaluation recurses once per nesting level (depth is capped at
 *          DSL_MAX_DEPTH): it needs about 1 KiB of stack per level, so any
 *          thread with the default 8 MiB stack is enough.
 * Memory:  dsl_program_* and dsl_bars_* own what they allocate; free with
 *          their _free (NULL-safe). A struct dsl_result is filled by
 *          dsl_evaluate and released with dsl_result_clear.
 */
#ifndef ALCHEMISER_TRADING_DSL_H
#define ALCHEMISER_TRADING_DSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/trading/indicators.h"

struct errctx;
struct md_series;
struct dsl_program;
struct dsl_bars;

#define DSL_TICKER_MAX	  24			/* characters; longer tickers are refused */
#define DSL_MAX_DEPTH	  1000			/* bracket nesting; the corpus needs 196 */
#define DSL_MAX_FILE	  (4u * 1024 * 1024)	/* bytes per strategy file (the corpus's
							 * largest is 2.2 MB) */
/* Memory bound of a file of n bytes: its program (AST, names, labels) at most
 * DSL_MEM_PROGRAM n + 1 MiB (an expression takes about 100 bytes: a file
 * averaging under 4 bytes an expression, "1 1 1 ...", is refused; the seed
 * files average 10 to 65), one evaluation's values and the block holdings it
 * adds at most DSL_MEM_EVAL n + 32 MiB (the seed files need under 1 MiB);
 * past either the file fails with -E2BIG. So a file never needs more than
 * 33 n + 33 MiB: under 170 MiB at the size limit, counting its text. */
#define DSL_MEM_PROGRAM		24
#define DSL_MEM_PROGRAM_SLACK	(1u << 20)
#define DSL_MEM_EVAL		8
#define DSL_MEM_EVAL_SLACK	(32u << 20)

/* Parse and compile text (name is used in messages, e.g. the file name).
 * Syntax errors: -EBADMSG "name:LINE:COL: reason near 'excerpt'"; unknown
 * operators and wrong arity: -EINVAL with the same position prefix; input
 * over DSL_MAX_FILE, nesting over DSL_MAX_DEPTH or a program over its
 * memory bound (DSL_MEM_PROGRAM): -E2BIG. */
int	dsl_program_parse(const char *name, const char *text, size_t len,
	    struct dsl_program **ret, struct errctx *ec);
/* Read path and parse it (name = the file's base name). */
int	dsl_program_load(const char *path, struct dsl_program **ret, struct errctx *ec);
void	dsl_program_free(struct dsl_program *p);

const char *dsl_program_name(const struct dsl_program *p);
/* Every ticker the program may use (upper case, unique, first-use order);
 * borrowed, valid while p lives. */
size_t	dsl_program_tickers(const struct dsl_program *p, const char *const **ret);
/* Bars of history the program needs for every indicator to be warmed up,
 * including the simulated block histories of filter and inverse-volatility
 * (a fetch size hint for market-data sources that need one). */
size_t	dsl_program_lookback(const struct dsl_program *p);
/* Number of AST nodes (tests and benchmarks). */
size_t	dsl_program_nodes(const struct dsl_program *p);
/* Bytes the program holds (its arena and tables), and of its source text. */
size_t	dsl_program_memory(const struct dsl_program *p);
size_t	dsl_program_source_bytes(const struct dsl_program *p);

/* Bar store: close series per ticker plus the indicator cache. */
struct dsl_bars *dsl_bars_new(void);
void	dsl_bars_free(struct dsl_bars *b);
/* Add (or replace) a ticker's closes; days ascending, copied. */
void	dsl_bars_add(struct dsl_bars *b, const char *symbol, const int64_t *days,
	    const double *closes, size_t n);
/* Add every series of a market-data answer. */
void	dsl_bars_add_md(struct dsl_bars *b, const struct md_series *s, size_t n);
size_t	dsl_bars_count(const struct dsl_bars *b);
/* Keep the simulated block histories (the memoised holdings of each block on
 * each past day, see dsl_sim.c) between dsl_evaluate() calls on b, per
 * program and per option set, instead of building them anew for every call.
 * A block's holdings on a day depend only on the bars up to that day, so the
 * results are the same; evaluating as of consecutive days (a backtest) then
 * costs one new day of history per block instead of the whole window. Memory
 * grows with the days evaluated; adding bars or turning it off drops what is
 * kept. Every program evaluated on b must outlive b or the next drop. */
void	dsl_bars_keep_histories(struct dsl_bars *b, bool on);

/* Indicator values supplied instead of market data (tests: the indicator oracle of
 * seed-trading-spec Appendix A). Return 0 and *ret, or a negative errno. With
 * an oracle, blocks competing in filter / inverse-volatility are scored by the
 * fallback (weighted average of today's member scores). */
typedef int (*dsl_indicator_oracle_cb)(void *arg, const char *ticker,
    enum indicator_kind kind, int window, double *ret);

struct dsl_options {
	bool	trace;		/* record the decision path */
	bool	stdev_sample;	/* stdev-return divisor w-1 (default w) */
	bool	ties_stable;	/* filter ties keep candidate order (default: alphabetical) */
	dsl_indicator_oracle_cb oracle;
	void	*oracle_arg;
	/* Evaluation budget of one file as of one day, in steps: one per node
	 * evaluated plus one per point of a block's simulated history walked.
	 * Past it the file fails with -E2BIG naming the budget (nested filters
	 * of blocks can cost minutes, see dsl_sim.c). 0: DSL_DEFAULT_STEPS. */
	uint64_t max_steps;
	/* Memory one evaluation may take (values and new block holdings) in
	 * bytes; 0: DSL_MEM_EVAL x the file's size + DSL_MEM_EVAL_SLACK. */
	size_t	 max_memory;
};

/* Generous for the real corpus: its costliest file (3-Starburst.clj) needs
 * 1.7 million steps as of any day on six years of bars (src/trading/dsl/
 * README.md); 50 million is a few seconds of evaluation.
 * trading.eval_budget / --eval-budget set it. */
#define DSL_DEFAULT_STEPS	UINT64_C(50000000)

struct dsl_weight {
	char	*ticker;
	double	 weight;
};

struct dsl_result {
	struct dsl_weight *w;		/* sorted by ticker; weights sum to 1 */
	size_t	 n;
	char	**trace;		/* decision path lines (opt->trace), else NULL */
	size_t	 ntrace;
	size_t	 indicator_calls;	/* indicator values read (cache hits included) */
	size_t	 blocks_simulated;	/* block histories built for filter / inv-vol */
	uint64_t steps;			/* budget spent (dsl_options.max_steps) */
	size_t	 memory;		/* peak bytes of values and new holdings (dsl.h) */
};

void	dsl_result_clear(struct dsl_result *r);

/* Evaluate p with the bars of b as of as_of_day (days since 1970-01-01):
 * every series ends with its last bar dated on or before that day. opt may be
 * NULL (defaults). Errors: -EINVAL (semantic: if without else, empty or
 * invalid allocation, ...), -ENODATA (not enough history, with ticker and
 * window), -ENOENT (no bars at all for a ticker), -E2BIG (depth). */
int	dsl_evaluate(const struct dsl_program *p, struct dsl_bars *b, int64_t as_of_day,
	    const struct dsl_options *opt, struct dsl_result *ret, struct errctx *ec);

/* Parse "YYYY-MM-DD" into days since 1970-01-01 (-EINVAL otherwise). */
int	dsl_parse_date(const char *s, int64_t *ret_days, struct errctx *ec);
/* "YYYY-MM-DD"; buf >= 11. */
char	*dsl_format_date(int64_t days, char *buf);
/* The shortest %g form of V that reads back as exactly V (0.06, not
 * 0.059999999999999998): json_format_real of core/json.h, the one rule
 * for every output; BUF holds DSL_NUM_BUF bytes. */
#define DSL_NUM_BUF 32
char	*dsl_format_number(double v, char *buf);

#endif
