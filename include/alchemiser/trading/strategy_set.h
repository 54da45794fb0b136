/*
 * strategy_set: a set of strategy files with allocation weights (the seed's
 * strategy.prod.json: {"files": [...], "allocations": {"F.clj": 0.4, ...}}),
 * loaded and validated as a whole, evaluated with one market-data fetch, and
 * consolidated per seed-trading-spec §5.2. Stale, missing or future bars
 * fail the files that need them. A failing file fails the evaluation by
 * default; a policy may drop it instead (its weight in cash, or shared by
 * the others). The failure is reported in the result either way.
 * Thread:  a loaded set is immutable; evaluate it from one thread at a time
 *          per marketdata object (the seam is synchronous and may block: use a
 *          worker thread, not the event loop).
 * Memory:  strategy_set_free() frees the set (NULL-safe);
 *          strategy_set_result_clear() frees what strategy_set_evaluate()
 *          filled. Strings inside a result that point into the set are
 *          borrowed and valid while the set lives.
 */
#ifndef ALCHEMISER_TRADING_STRATEGY_SET_H
#define ALCHEMISER_TRADING_STRATEGY_SET_H

#include <stddef.h>
#include <stdint.h>

#include "alchemiser/trading/bars_freshness.h"
#include "alchemiser/trading/dsl.h"

struct errctx;
struct marketdata;
struct strategy_set;

struct strategy_set_entry {
	const char		 *file;		/* as written in the set ("1-KMLM.clj") */
	const char		 *path;		/* resolved against the set's directory */
	double			  allocation;	/* as written */
	double			  weight;	/* allocation / sum of allocations */
	const struct dsl_program *program;
};

/* Load a set file. Files are resolved relative to the set file's directory.
 * Validated: "files" is a non-empty array of unique strings; "allocations"
 * an object of numbers >= 0 whose keys are exactly the files (either key may
 * be absent: files only = equal weights, allocations only = its keys in
 * order); the sum is > 0; every file exists and parses. -EINVAL / -ENOENT /
 * -EBADMSG with the file and the reason. Call again on SIGHUP. */
int	strategy_set_load(const char *path, struct strategy_set **ret, struct errctx *ec);
/* A single strategy file as a set of one (weight 1): `--evaluate FILE.clj`. */
int	strategy_set_load_file(const char *clj_path, struct strategy_set **ret,
	    struct errctx *ec);
void	strategy_set_free(struct strategy_set *s);

size_t	strategy_set_count(const struct strategy_set *s);
const struct strategy_set_entry *strategy_set_entry(const struct strategy_set *s, size_t i);
/* Union of the tickers of every file (upper case, unique); borrowed. */
size_t	strategy_set_tickers(const struct strategy_set *s, const char *const **ret);
/* Bars of history to fetch (max over the files, see dsl_program_lookback). */
size_t	strategy_set_lookback(const struct strategy_set *s);

struct strategy_outcome {
	const char	 *file;		/* borrowed from the set */
	double		  weight;	/* the file's share of the set */
	int		  status;	/* 0, or the negative errno of its failure */
	char		 *error;	/* the failure's reason, NULL when status == 0 */
	struct dsl_result result;	/* its allocation (+ trace), empty on failure */
	int64_t		  bars_day;	/* oldest last bar among its tickers: the session
					 * its bars are really as of (0: unknown) */
};

/* What a failed file does to the run (trading.on_strategy_failure). */
enum strategy_failure_policy {
	STRATEGY_FAILURE_FAIL,		/* any failed file fails the evaluation (default) */
	STRATEGY_FAILURE_CASH,		/* drop it; its weight stays in cash */
	STRATEGY_FAILURE_RENORMALISE,	/* drop it; the others share its weight */
	_STRATEGY_FAILURE_MAX
};

struct strategy_set_policy {
	struct bars_freshness_policy	fresh;	/* see bars_freshness.h */
	enum strategy_failure_policy	on_failure;
};

struct strategy_set_result {
	struct strategy_outcome	*s;	/* one per file, set order */
	size_t			 ns;
	size_t			 nfailed;
	struct dsl_weight	*w;	/* consolidated target weights, by ticker; sum 1,
					 * or 1 - cash_weight */
	size_t			 n;
	double			 cash_weight;	/* left in cash by failed files (CASH) */
	struct bars_freshness	*fresh;	/* one per ticker of the set (set order); the
					 * symbols are borrowed from the set */
	size_t			 nfresh;
	int64_t			 session;	/* the session as_of_day asks for */
	int64_t			 bars_day;	/* oldest last bar over the set's tickers
						 * (0: none): what the bars are really as of */
};

/* Fetch the bars for every ticker once (as of as_of_day: days since
 * 1970-01-01, bars dated on or before it), check their freshness and
 * evaluate. A file whose tickers are not usable (bars_freshness.h) fails with
 * -ENOENT (no data) or -ENODATA (future, before the data starts, stale) and a
 * message naming the ticker and the dates; it is not evaluated. pol NULL:
 * every check strict (max_lag 0, no clock check), on_failure FAIL.
 * Returns 0 when the set produced an allocation; with on_failure FAIL any
 * failed file is an error ("N of M strategy files failed: FILE: reason; ...")
 * with ret holding every outcome; otherwise an error only when every file
 * failed. A market-data error fails the whole run. */
int	strategy_set_evaluate(const struct strategy_set *s, struct marketdata *md,
	    int64_t as_of_day, const struct dsl_options *opt,
	    const struct strategy_set_policy *pol, struct strategy_set_result *ret,
	    struct errctx *ec);
/* The same evaluation over bars already fetched: series[i] answers the set's
 * i-th ticker (strategy_set_tickers order) and may hold bars after
 * as_of_day, which the freshness checks and the evaluation never read; b
 * holds the same series (dsl_bars_add_md). strategy_set_evaluate() is this
 * after one fetch; a backtest calls it once per session on one fetch of the
 * whole history. */
int	strategy_set_evaluate_series(const struct strategy_set *s, struct dsl_bars *b,
	    const struct md_series *series, int64_t as_of_day, const struct dsl_options *opt,
	    const struct strategy_set_policy *pol, struct strategy_set_result *ret,
	    struct errctx *ec);
const char *strategy_failure_policy_to_string(enum strategy_failure_policy p);
/* "fail" | "cash" | "renormalise"; -EINVAL otherwise. */
int	strategy_failure_policy_from_string(const char *s, enum strategy_failure_policy *ret);
/* The same over bars already in a store (benchmarks, repeated evaluation):
 * no freshness checks (the caller vouches for the bars), failed files are
 * skipped and the rest renormalised, every file failing is an error. */
int	strategy_set_evaluate_bars(const struct strategy_set *s, struct dsl_bars *b,
	    int64_t as_of_day, const struct dsl_options *opt, struct strategy_set_result *ret,
	    struct errctx *ec);
void	strategy_set_result_clear(struct strategy_set_result *r);

/* The result as JSON for SignalGenerated / the report (new reference; the
 * caller decrefs):
 *   {"strategies": [{"file", "weight", "status": "ok"|"failed", "error"?,
 *                    "allocation": {SYM: w}, "trace": [...], "trace_omitted": n}],
 *    "target_weights": {SYM: w}, "failed": n}
 * Weights are JSON reals (doubles); json_dumps_shortest (core/json.h) prints
 * them as --evaluate does (0.06, not 0.059999999999999998); convert them to
 * decimal strings at the event edge. At most max_trace_lines lines of each
 * file's trace are kept (events have a size limit); 0 leaves traces out. */
struct json_t;
struct json_t *strategy_set_result_json(const struct strategy_set_result *r,
	    size_t max_trace_lines);

/* Fill b with the set's tickers from md (one daily_bars call). */
int	strategy_set_fetch(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
	    struct dsl_bars *b, struct errctx *ec);

#endif
