/* Fuzz target: the strategy DSL, parse + compile, then evaluate the program on
 * a small fixed set of synthetic bars (dsl_sample_bars: a deterministic walk
 * per ticker, FUZZ_DSL_BARS weekday sessions ending 2025-06-30), as of the last
 * day and as of a day inside the history. To reach the error paths too:
 * tickers starting with 'Z' get no bars (-ENOENT) and tickers starting with
 * 'Y' get only 12 bars (-ENODATA for most windows). A fresh bar store per
 * input keeps runs independent of each other. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/dsl_sample.h"
#include "fuzz.h"

#define FUZZ_DSL_BARS		160
#define FUZZ_DSL_SHORT_BARS	12
#define FUZZ_DSL_MAX_TICKERS	48
#define FUZZ_DSL_END_DAY	INT64_C(20269)	/* 2025-06-30 */

static void
add_bars(struct dsl_bars *b, const char *ticker)
{
	struct md_bar bars[FUZZ_DSL_BARS];
	int64_t days[FUZZ_DSL_BARS];
	double closes[FUZZ_DSL_BARS];
	size_t n = FUZZ_DSL_BARS, i;

	if (ticker[0] == 'Z')
		return;
	if (ticker[0] == 'Y')
		n = FUZZ_DSL_SHORT_BARS;
	dsl_sample_bars(ticker, 7, FUZZ_DSL_END_DAY, n, bars);
	for (i = 0; i < n; i++) {
		days[i] = bars[i].day;
		closes[i] = bars[i].close;
	}
	dsl_bars_add(b, ticker, days, closes, n);
}

static void
check_result(const struct dsl_result *res)
{
	double sum = 0;
	size_t i;

	FUZZ_CHECK(res->n > 0);
	for (i = 0; i < res->n; i++) {
		/* The parser refuses (asset ""): no allocation may name an empty ticker. */
		FUZZ_CHECK(res->w[i].ticker != NULL && res->w[i].ticker[0] != '\0');
		FUZZ_CHECK(res->w[i].weight >= 0 && res->w[i].weight <= 1 + 1e-9);
		if (i > 0)
			FUZZ_CHECK(strcmp(res->w[i - 1].ticker, res->w[i].ticker) < 0);
		sum += res->w[i].weight;
	}
	if (fabs(sum - 1) > 1e-6) {
		fprintf(stderr, "weights sum to %.17g\n", sum);
		abort();
	}
}

static void
evaluate(const struct dsl_program *p, int64_t as_of_day, const struct dsl_options *opt)
{
	const char *const *tickers;
	struct dsl_result res = { 0 };
	struct errctx ec = { 0 };
	struct dsl_bars *b;
	size_t n, i;
	int r;

	b = dsl_bars_new();
	n = dsl_program_tickers(p, &tickers);
	for (i = 0; i < n; i++)
		add_bars(b, tickers[i]);
	r = dsl_evaluate(p, b, as_of_day, opt, &res, &ec);
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "  evaluate as of %lld: %s\n", (long long)as_of_day,
		    r == 0 ? "ok" : errctx_msg(&ec));
	if (r == 0)
		check_result(&res);
	else
		FUZZ_CHECK(r == -EINVAL || r == -ENODATA || r == -ENOENT || r == -E2BIG);
	dsl_result_clear(&res);
	dsl_bars_free(b);
}

int
fuzz_dsl_one(const uint8_t *data, size_t size)
{
	struct dsl_options opt = { .trace = true };
	const char *const *tickers;
	struct dsl_program *p = NULL;
	struct errctx ec = { 0 };
	size_t n, i;
	int r;

	r = dsl_program_parse("fuzz.clj", (const char *)data, size, &p, &ec);
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "  parse: %s\n", r == 0 ? "ok" : errctx_msg(&ec));
	if (r < 0) {
		FUZZ_CHECK(r == -EBADMSG || r == -EINVAL || r == -E2BIG);
		FUZZ_CHECK(errctx_msg(&ec)[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(p != NULL);
	(void)dsl_program_name(p);
	(void)dsl_program_lookback(p);
	FUZZ_CHECK(dsl_program_nodes(p) > 0);
	n = dsl_program_tickers(p, &tickers);
	/* Not checked here: a ticker "" from "\0" inside a string literal (see
	 * regressions/dsl/dsl_lex-nul-*); the result check below catches it. */
	for (i = 0; i < n; i++)
		FUZZ_CHECK(tickers[i] != NULL);
	if (n <= FUZZ_DSL_MAX_TICKERS) {
		/* Options vary with the input so both settings get coverage. */
		opt.stdev_sample = (size & 1) != 0;
		opt.ties_stable = (size & 2) != 0;
		evaluate(p, FUZZ_DSL_END_DAY, &opt);
		opt.trace = false;
		evaluate(p, FUZZ_DSL_END_DAY - 40, &opt);
	}
	dsl_program_free(p);
	return 0;
}

FUZZ_ENTRY(fuzz_dsl_one)
