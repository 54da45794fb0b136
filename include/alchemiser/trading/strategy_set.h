/*
 * strategy_set: a set of strategy files with allocation weights (the seed's
 * strategy.prod.json: {"files": [...], "allocations": {"F.clj": 0.4, ...}}),
 * loaded and validated as a whole, evaluated with one market-data fetch, and
 * consolidated per seed-trading-spec §5.2. A failing file is skipped and the
 * others renormalised; the failure is reported in the result. Every file
 * failing is an error.
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
};

struct strategy_set_result {
	struct strategy_outcome	*s;	/* one per file, set order */
	size_t			 ns;
	size_t			 nfailed;
	struct dsl_weight	*w;	/* consolidated target weights, by ticker, sum 1 */
	size_t			 n;
};

/* Fetch the bars for every ticker once (as of as_of_day: days since
 * 1970-01-01, bars dated on or before it) and evaluate. Returns 0 when at
 * least one file produced an allocation (failures are in ret->s[i]); when
 * every file fails, the first failure's code with "every strategy failed"
 * (ret still holds each outcome). A market-data error fails the whole run. */
int	strategy_set_evaluate(const struct strategy_set *s, struct marketdata *md,
	    int64_t as_of_day, const struct dsl_options *opt, struct strategy_set_result *ret,
	    struct errctx *ec);
/* The same over bars already in a store (benchmarks, repeated evaluation). */
int	strategy_set_evaluate_bars(const struct strategy_set *s, struct dsl_bars *b,
	    int64_t as_of_day, const struct dsl_options *opt, struct strategy_set_result *ret,
	    struct errctx *ec);
void	strategy_set_result_clear(struct strategy_set_result *r);

/* The result as JSON for SignalGenerated / the report (new reference; the
 * caller decrefs):
 *   {"strategies": [{"file", "weight", "status": "ok"|"failed", "error"?,
 *                    "allocation": {SYM: w}, "trace": [...], "trace_omitted": n}],
 *    "target_weights": {SYM: w}, "failed": n}
 * Weights are JSON reals (doubles, round-trip precision); convert them to
 * decimal strings at the event edge. At most max_trace_lines lines of each
 * file's trace are kept (events have a size limit); 0 leaves traces out. */
struct json_t;
struct json_t *strategy_set_result_json(const struct strategy_set_result *r,
	    size_t max_trace_lines);

/* Fill b with the set's tickers from md (one daily_bars call). */
int	strategy_set_fetch(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
	    struct dsl_bars *b, struct errctx *ec);

#endif
