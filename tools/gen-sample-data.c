/* gen-sample-data: write deterministic daily bars (dsl_sample.h) for every
 * ticker of the given strategy files / sets, or for tickers named directly.
 *
 *   gen-sample-data [--end YYYY-MM-DD] [--days N] [--seed N] OUTDIR TARGET...
 *
 * TARGET: FILE.clj, SET.json or a ticker. Defaults: --end 2026-11-20,
 * --days 600 (about two and a half years of weekdays), --seed 1.
 * etc/sample-data/ is the output for etc/strategies/strategy.json with the
 * defaults (tests/unit/dsl/test_strategy_set.c checks it byte for byte):
 *
 *   make tools/gen-sample-data
 *   tools/gen-sample-data etc/sample-data etc/strategies/strategy.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/dsl_sample.h"
#include "alchemiser/trading/strategy_set.h"

static int	emit(const char *dir, const char *sym, uint64_t seed, int64_t end, size_t days);
static bool	has_suffix(const char *s, const char *suf);

static bool
has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int
emit(const char *dir, const char *sym, uint64_t seed, int64_t end, size_t days)
{
	struct errctx ec;

	if (dsl_sample_write_csv(dir, sym, seed, end, days, &ec) < 0) {
		fprintf(stderr, "gen-sample-data: %s\n", errctx_msg(&ec));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *end_s = "2026-11-20", *dir;
	size_t days = 600;
	uint64_t seed = 1;
	int64_t end;
	struct errctx ec;
	int i;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--end") == 0)
			end_s = argv[i + 1];
		else if (strcmp(argv[i], "--days") == 0)
			days = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (argc - i < 2 || days == 0 || dsl_parse_date(end_s, &end, &ec) < 0) {
		fprintf(stderr, "usage: gen-sample-data [--end YYYY-MM-DD] [--days N] [--seed N] "
		    "OUTDIR TARGET...\n");
		return 2;
	}
	dir = argv[i++];
	for (; i < argc; i++) {
		struct strategy_set *set;
		const char *const *t;
		size_t n, k;
		int r;

		if (!has_suffix(argv[i], ".clj") && !has_suffix(argv[i], ".json")) {
			if (emit(dir, argv[i], seed, end, days) < 0)
				return 1;
			continue;
		}
		r = has_suffix(argv[i], ".json") ? strategy_set_load(argv[i], &set, &ec) :
		    strategy_set_load_file(argv[i], &set, &ec);
		if (r < 0) {
			fprintf(stderr, "gen-sample-data: %s\n", errctx_msg(&ec));
			return 2;
		}
		n = strategy_set_tickers(set, &t);
		for (k = 0; k < n; k++)
			if (emit(dir, t[k], seed, end, days) < 0) {
				strategy_set_free(set);
				return 1;
			}
		strategy_set_free(set);
	}
	return 0;
}
