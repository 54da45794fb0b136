/* bench_dsl: strategy engine speed on the seed corpus.
 *
 *   bench/bench_dsl [STRATEGIES_DIR]
 *
 * STRATEGIES_DIR defaults to $SHARED_DIR/testdata/strategies, else
 * ../shared/testdata/strategies. Bars are generated in memory (dsl_sample.h,
 * three years of weekdays for every ticker), so the numbers measure parsing
 * and evaluation only. Prints one table: parse time of 3-Starburst.clj, set
 * load times, evaluation of the dev and prod sets with a cold indicator cache
 * and on cached bars (median of repeated runs), and the peak RSS. The goal
 * from issue 5: the whole dev set in under 50 ms after load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/dsl_sample.h"
#include "alchemiser/trading/strategy_set.h"

#define RUNS 15

static double	now_ms(void);
static int	cmp_double(const void *a, const void *b);
static double	median(double *v, size_t n);
static char	*slurp(const char *path, size_t *len);
static void	row(const char *what, double ms, const char *note);
static int	bench_set(const char *dir, const char *name, int64_t as_of);

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void
row(const char *what, double ms, const char *note)
{
	printf("| %-56s | %10.3f | %-34s |\n", what, ms, note);
}

static int
bench_set(const char *dir, const char *name, int64_t as_of)
{
	char *path = xasprintf("%s/%s", dir, name), what[96], note[64];
	struct strategy_set *set;
	struct strategy_set_result res;
	struct dsl_bars *bars;
	struct md_bar *mb;
	const char *const *t;
	struct errctx ec;
	double t0, times[RUNS];
	size_t n, i, k;

	t0 = now_ms();
	if (strategy_set_load(path, &set, &ec) < 0) {
		fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
		free(path);
		return -1;
	}
	snprintf(what, sizeof(what), "load %s (parse %zu files)", name, strategy_set_count(set));
	row(what, now_ms() - t0, "");
	n = strategy_set_tickers(set, &t);
	bars = dsl_bars_new();
	mb = xcalloc(780, sizeof(*mb));
	for (i = 0; i < n; i++) {
		int64_t days[780];
		double cl[780];

		dsl_sample_bars(t[i], 7, as_of, 780, mb);
		for (k = 0; k < 780; k++) {
			days[k] = mb[k].day;
			cl[k] = mb[k].close;
		}
		dsl_bars_add(bars, t[i], days, cl, 780);
	}
	free(mb);
	t0 = now_ms();
	if (strategy_set_evaluate_bars(set, bars, as_of, NULL, &res, &ec) < 0) {
		fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
		return -1;
	}
	snprintf(what, sizeof(what), "evaluate %s, cold indicator cache", name);
	snprintf(note, sizeof(note), "%zu tickers, %zu holdings", n, res.n);
	row(what, now_ms() - t0, note);
	strategy_set_result_clear(&res);
	for (i = 0; i < RUNS; i++) {
		t0 = now_ms();
		if (strategy_set_evaluate_bars(set, bars, as_of, NULL, &res, &ec) < 0 ||
		    res.nfailed > 0) {
			fprintf(stderr, "bench_dsl: run %zu: %s\n", i, errctx_msg(&ec));
			return -1;
		}
		times[i] = now_ms() - t0;
		strategy_set_result_clear(&res);
	}
	snprintf(what, sizeof(what), "evaluate %s, cached bars (median of %d)", name, RUNS);
	row(what, median(times, RUNS), strcmp(name, "strategy.dev.json") == 0 ?
	    "goal < 50 ms" : "");
	dsl_bars_free(bars);
	strategy_set_free(set);
	free(path);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *shared = getenv("SHARED_DIR");
	char *dir = argc > 1 ? xstrdup(argv[1]) : xasprintf("%s/testdata/strategies",
	    shared != NULL && *shared != '\0' ? shared : "../shared");
	char *path = xasprintf("%s/3-Starburst.clj", dir), *text, note[64];
	double times[RUNS], t0;
	struct dsl_program *p;
	struct errctx ec;
	struct rusage ru;
	int64_t as_of;
	size_t len, i;

	text = slurp(path, &len);
	if (text == NULL) {
		fprintf(stderr, "bench_dsl: cannot read %s (pass the strategies directory)\n", path);
		return 2;
	}
	dsl_parse_date("2026-11-20", &as_of, &ec);
	printf("| %-56s | %10s | %-34s |\n", "what", "ms", "note");
	printf("|%s|%s|%s|\n", "----------------------------------------------------------", "------------",
	    "------------------------------------");
	for (i = 0; i < RUNS; i++) {
		t0 = now_ms();
		if (dsl_program_parse("3-Starburst.clj", text, len, &p, &ec) < 0) {
			fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
			return 1;
		}
		times[i] = now_ms() - t0;
		if (i + 1 < RUNS)
			dsl_program_free(p);
	}
	snprintf(note, sizeof(note), "%.1f MB, %zu nodes", len / 1e6, dsl_program_nodes(p));
	dsl_program_free(p);
	row("parse 3-Starburst.clj (median)", median(times, RUNS), note);
	if (bench_set(dir, "strategy.dev.json", as_of) < 0 ||
	    bench_set(dir, "strategy.prod.json", as_of) < 0)
		return 1;
	getrusage(RUSAGE_SELF, &ru);
	snprintf(note, sizeof(note), "%.1f MiB", ru.ru_maxrss / 1024.0);
	printf("| %-56s | %10s | %-34s |\n", "peak RSS (getrusage)", "", note);
	free(text);
	free(path);
	free(dir);
	return 0;
}
