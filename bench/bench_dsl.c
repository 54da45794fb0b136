/* bench_dsl: strategy engine speed on the seed corpus.
 *
 *   bench/bench_dsl [STRATEGIES_DIR [ALCHEMISERD]]
 *
 * STRATEGIES_DIR defaults to $SHARED_DIR/testdata/strategies, else
 * ../shared/testdata/strategies. Bars are generated in memory (dsl_sample.h,
 * three years of weekdays for every ticker), so the numbers measure parsing
 * and evaluation only. Prints one table: parse time of 3-Starburst.clj, set
 * load times, evaluation of the dev and prod sets with a cold indicator cache
 * and on cached bars (median of repeated runs), and the peak RSS. The goal
 * from issue 5: the whole dev set in under 50 ms after load.
 *
 * A second table (issue 14) runs ALCHEMISERD (default src/alchemiserd)
 * --evaluate as fresh processes on CSV bars written to a temporary folder
 * (tools/gen-sample-data's bars: 600 weekdays, seed 1): the 10 seed files as
 * one set, then each file alone (median over files of each file's median),
 * wall time and CPU time (user + sys of the child, which a machine shared by
 * other jobs inflates less), and the set's peak RSS. With BASELINE (another
 * alchemiserd, e.g. main's), its runs alternate with ALCHEMISERD's, run by
 * run, and get rows of their own: a busy machine slows both alike. Then 100k
 * distinct tickers in one file through the engine in process (load,
 * freshness, evaluation, consolidation; bars in memory, since 100k CSV files
 * would measure the file system). Goals beside.
 *
 *   bench/bench_dsl [STRATEGIES_DIR [ALCHEMISERD [BASELINE]]] */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
static int	run_cold(const char *bin, const char *target, const char *data, double *wall,
		    double *cpu, long *rss_kib);
static int	bench_cold(const char *dir, const char *const bins[2]);
static int	bench_many(const char *tmp, int64_t as_of);
static void	row2(const char *what, double now, const char *goal, const char *note);
static void	rm_dir(const char *dir);

static const char *const seed_files[] = { "1-KMLM.clj", "2-Nuclear.clj", "3-Starburst.clj",
    "4-What.clj", "5-Coin.clj", "6-TQQQ-FLT.clj", "7-Phoenix.clj", "TECL.clj", "Ult.clj",
    "test.clj" };
#define NSEED (sizeof(seed_files) / sizeof(seed_files[0]))
#define COLD_RUNS 7

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

static void
row2(const char *what, double now, const char *goal, const char *note)
{
	printf("| %-44s | %10.1f | %-8s | %-40s |\n", what, now, goal, note);
}

/* One `--evaluate TARGET --data DATA` as a fresh process: wall and CPU ms,
 * peak RSS in KiB. */
static int
run_cold(const char *bin, const char *target, const char *data, double *wall, double *cpu,
    long *rss_kib)
{
	struct rusage ru;
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "--evaluate", target, "--data", data, "--as-of", "2026-11-20",
		    (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*wall = now_ms() - t0;
	*cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	*rss_kib = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void
rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static int
bench_cold(const char *dir, const char *const bins[2])
{
	char tmpl[] = "/tmp/bench-dsl.XXXXXX", *tmp, *setp, note[96], what[64];
	double wall[2][COLD_RUNS], cpu[2][COLD_RUNS], fwall[2][NSEED], fcpu[2][NSEED], w, c;
	long rss[2][COLD_RUNS];
	const char *tag[2] = { "", " [baseline]" };
	struct errctx ec;
	int64_t end;
	size_t i, k, r, b, nb = bins[1] != NULL ? 2 : 1;
	FILE *f;

	if ((tmp = mkdtemp(tmpl)) == NULL || access(bins[0], X_OK) != 0 ||
	    (nb == 2 && access(bins[1], X_OK) != 0)) {
		fprintf(stderr, "bench_dsl: %s not executable: cold rows skipped\n", bins[0]);
		return 0;
	}
	dsl_parse_date("2026-11-20", &end, &ec);
	setp = xasprintf("%s/all.json", tmp);
	f = fopen(setp, "w");
	fputs("{\"files\": [", f);
	for (i = 0; i < NSEED; i++) {
		char *p = xasprintf("%s/%s", dir, seed_files[i]);
		struct strategy_set *s;
		const char *const *t;
		size_t n;

		fprintf(f, "%s\"%s\"", i ? ", " : "", p);
		if (strategy_set_load_file(p, &s, &ec) < 0) {
			fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
			return -1;
		}
		n = strategy_set_tickers(s, &t);
		for (k = 0; k < n; k++)
			if (dsl_sample_write_csv(tmp, t[k], 1, end, 600, &ec) < 0) {
				fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
				return -1;
			}
		strategy_set_free(s);
		free(p);
	}
	fputs("]}\n", f);
	fclose(f);
	/* page cache warm, as in production */
	for (b = 0; b < nb; b++)
		(void)run_cold(bins[b], setp, tmp, &w, &c, &rss[b][0]);
	for (r = 0; r < COLD_RUNS; r++)
		for (b = 0; b < nb; b++)
			if (run_cold(bins[b], setp, tmp, &wall[b][r], &cpu[b][r], &rss[b][r]) < 0) {
				fprintf(stderr, "bench_dsl: %s --evaluate %s failed\n", bins[b], setp);
				return -1;
			}
	for (b = 0; b < nb; b++) {
		double m[COLD_RUNS];

		for (r = 0; r < COLD_RUNS; r++)
			m[r] = (double)rss[b][r];
		w = median(wall[b], COLD_RUNS);
		c = median(cpu[b], COLD_RUNS);
		snprintf(note, sizeof(note), "median of %d; CPU %.1f ms; RSS %.1f MiB", COLD_RUNS, c,
		    median(m, COLD_RUNS) / 1024);
		snprintf(what, sizeof(what), "10 seed files as one set, one cold process%s", tag[b]);
		row2(what, w, "<= 40", note);
	}
	for (i = 0; i < NSEED; i++) {
		char *p = xasprintf("%s/%s", dir, seed_files[i]);

		for (r = 0; r < COLD_RUNS; r++)
			for (b = 0; b < nb; b++)
				if (run_cold(bins[b], p, tmp, &wall[b][r], &cpu[b][r], &rss[b][r]) < 0) {
					fprintf(stderr, "bench_dsl: %s --evaluate %s failed\n", bins[b],
					    p);
					return -1;
				}
		for (b = 0; b < nb; b++) {
			fwall[b][i] = median(wall[b], COLD_RUNS);
			fcpu[b][i] = median(cpu[b], COLD_RUNS);
		}
		free(p);
	}
	for (b = 0; b < nb; b++) {
		c = median(fcpu[b], NSEED);	/* sorts: the last is the largest */
		w = median(fwall[b], NSEED);
		snprintf(note, sizeof(note), "max %.1f; CPU median %.1f ms, max %.1f", fwall[b][NSEED - 1],
		    c, fcpu[b][NSEED - 1]);
		snprintf(what, sizeof(what), "each seed file alone, cold (median)%s", tag[b]);
		row2(what, w, "<= 10", note);
	}
	for (r = 0; r < COLD_RUNS; r++) {
		pid_t pid = fork();
		struct rusage ru;
		double t0 = now_ms();
		int st;

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			execl(bins[0], bins[0], "--version", (char *)NULL);
			_exit(127);
		}
		wait4(pid, &st, 0, &ru);
		wall[0][r] = now_ms() - t0;
		cpu[0][r] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	}
	snprintf(note, sizeof(note), "CPU %.1f ms", median(cpu[0], COLD_RUNS));
	row2("process start (--version), for reference", median(wall[0], COLD_RUNS), "", note);
	free(setp);
	bench_many(tmp, end);
	rm_dir(tmp);
	return 0;
}

/* 100k distinct tickers in one weight-equal, plus a file sharing one. */
static int
bench_many(const char *tmp, int64_t as_of)
{
	enum { N = 100000, BARS = 3 };
	static const struct strategy_set_policy pol = { .on_failure = STRATEGY_FAILURE_FAIL };
	char *p = xasprintf("%s/big.clj", tmp), note[96];
	struct strategy_set *s;
	struct strategy_set_result res;
	struct md_series *series;
	const char *const *t;
	struct dsl_bars *b;
	struct errctx ec;
	double t0, t1, t2, t3;
	size_t i, k, n;
	FILE *f = fopen(p, "w");

	fputs("(defsymphony \"big\" {} (weight-equal [", f);
	for (i = 0; i < N; i++)
		fprintf(f, "(asset T%05zu) ", i);
	fputs("]))\n", f);
	fclose(f);
	t0 = now_ms();
	if (strategy_set_load_file(p, &s, &ec) < 0) {
		fprintf(stderr, "bench_dsl: %s\n", errctx_msg(&ec));
		return -1;
	}
	t1 = now_ms();
	n = strategy_set_tickers(s, &t);
	series = xcalloc(n, sizeof(*series));
	for (i = 0; i < n; i++) {
		series[i].symbol = xstrdup(t[i]);
		series[i].bars = xcalloc(BARS, sizeof(*series[i].bars));
		series[i].n = BARS;
		for (k = 0; k < BARS; k++) {
			struct md_bar *bar = &series[i].bars[k];

			bar->day = as_of - (int64_t)(BARS - 1 - k);
			bar->open = bar->high = bar->low = bar->close = 10 + (double)(i % 7);
		}
	}
	t2 = now_ms();
	b = dsl_bars_new();
	dsl_bars_add_md(b, series, n);
	if (strategy_set_evaluate_series(s, b, series, as_of, NULL, &pol, &res, &ec) < 0 ||
	    res.n != N) {
		fprintf(stderr, "bench_dsl: 100k tickers: %s\n", errctx_msg(&ec));
		return -1;
	}
	t3 = now_ms();
	snprintf(note, sizeof(note), "load %.0f ms + bars, freshness, eval %.0f ms", t1 - t0,
	    t3 - t2);
	row2("100k distinct tickers, one file (in process)", (t1 - t0) + (t3 - t2), "<= 1000", note);
	strategy_set_result_clear(&res);
	dsl_bars_free(b);
	for (i = 0; i < n; i++)
		md_series_clear(&series[i]);
	free(series);
	strategy_set_free(s);
	free(p);
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
	printf("\n| %-44s | %10s | %-8s | %-40s |\n", "cold start and scale (issue 14)", "now ms",
	    "goal ms", "note");
	printf("|%s|%s|%s|%s|\n", "----------------------------------------------", "------------",
	    "----------", "------------------------------------------");
	{
		const char *bins[2] = { argc > 2 ? argv[2] : "src/alchemiserd",
		    argc > 3 ? argv[3] : NULL };

		if (bench_cold(dir, bins) < 0)
			return 1;
	}
	free(text);
	free(path);
	free(dir);
	return 0;
}
