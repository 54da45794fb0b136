/* backtest: hand-computed small cases (every expected number below is worked
 * out in the comments, not by the engine), the statistics by hand, failure
 * handling, no look-ahead (truncating the data after D changes nothing up to
 * D) and kept block histories equal to fresh ones on the seed corpus. Real
 * parts throughout: CSV files on disk read by the CSV market-data source, the
 * DSL, the planner. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/backtest.h"
#include "alchemiser/trading/calendar.h"
#include "alchemiser/trading/dsl_sample.h"
#include "alchemiser/trading/strategy_set.h"
#include "helpers.h"

#define TOL 1e-9

static void	put(const char *dir, const char *name, const char *text);
static void	rm_flat_dir(const char *dir);
static int64_t	day_of(const char *s);
static struct backtest_options defaults(const char *from, const char *to);
static struct backtest_result *run(const char *dir, const char *clj, const struct backtest_options *o,
		    struct strategy_set **set);
static void	hand_data(const char *dir);

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
rm_flat_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static int64_t
day_of(const char *s)
{
	int64_t d;
	struct errctx ec = { 0 };

	ck_assert_ok(dsl_parse_date(s, &d, &ec), &ec);
	return d;
}

/* Cash reserve 1 %, no minimum trade, 10 bps, $10,000, fractional shares. */
static struct backtest_options
defaults(const char *from, const char *to)
{
	struct backtest_options o = {
		.from_day = day_of(from), .to_day = day_of(to), .fill = BACKTEST_FILL_OPEN,
		.capital = 10000, .cost_bps = 10, .benchmark = "SPY",
		.cash_reserve = decimal_from_units(DECIMAL_SCALE / 100),
		.min_trade = decimal_from_units(0),
		.min_notional = decimal_from_units(DECIMAL_SCALE),
	};

	return o;
}

static struct backtest_result *
run(const char *dir, const char *clj, const struct backtest_options *o, struct strategy_set **set)
{
	struct backtest_result *r = NULL;
	struct marketdata *md;
	struct errctx ec = { 0 };
	char *path = xasprintf("%s/s.clj", dir);

	put(dir, "s.clj", clj);
	ck_assert_ok(strategy_set_load_file(path, set, &ec), &ec);
	md = marketdata_csv_new(dir, &ec);
	ck_assert_ptr_nonnull(md);
	ck_assert_ok(backtest_run(*set, path, md, o, &r, &ec), &ec);
	marketdata_free(md);
	free(path);
	return r;
}

/* Fri 31 Jan 2025 and the week of 3..7 Feb (no holiday). Opens equal the
 * previous close except where the case needs otherwise. */
static void
hand_data(const char *dir)
{
	put(dir, "AAA.csv", "date,open,high,low,close,volume\n"
	    "2025-01-31,100,100,100,100,1\n"
	    "2025-02-03,100,110,100,110,1\n"
	    "2025-02-04,110,110,99,99,1\n"
	    "2025-02-05,99,99,99,99,1\n"
	    "2025-02-06,99,99,99,99,1\n"
	    "2025-02-07,99,99,99,99,1\n");
	put(dir, "BBB.csv", "date,open,high,low,close,volume\n"
	    "2025-01-31,50,50,50,50,1\n"
	    "2025-02-03,50,50,50,50,1\n"
	    "2025-02-04,50,55,50,55,1\n"
	    "2025-02-05,55,55,55,55,1\n"
	    "2025-02-06,55,55,55,55,1\n"
	    "2025-02-07,55,55,55,55,1\n");
	put(dir, "SPY.csv", "date,open,high,low,close,volume\n"
	    "2025-01-31,400,400,400,400,1\n"
	    "2025-02-03,400,420,400,420,1\n"
	    "2025-02-04,420,420,378,378,1\n"
	    "2025-02-05,378,378,378,378,1\n"
	    "2025-02-06,378,378,378,378,1\n"
	    "2025-02-07,378,378,378,378,1\n");
}

#define EQUAL_AB "(defsymphony \"t\" {} (weight-equal [(asset \"AAA\") (asset \"BBB\")]))"

START_TEST(test_backtest_hand_fill_at_open)
{
	char *dir = test_tmpdir();
	struct backtest_options o = defaults("2025-02-01", "2025-02-04");
	struct strategy_set *set = NULL;
	struct backtest_result *r;

	hand_data(dir);
	r = run(dir, EQUAL_AB, &o, &set);
	ck_assert_uint_eq(r->ndays, 2);
	ck_assert_int_eq(r->days[0].day, day_of("2025-02-03"));
	ck_assert_int_eq(r->days[0].as_of, day_of("2025-01-31"));	/* signal: previous session */
	/* 3 Feb at the open: V = 10000, investable 9900, 4950 each.
	 * AAA 4950 / 100 = 49.5 sh at 100.1 = 4954.95; BBB 4950 / 50 = 99 sh at
	 * 50.05 = 4954.95; cash 10000 - 9909.9 = 90.1; costs 2 x 4.95 = 9.9.
	 * Close: 90.1 + 49.5 x 110 + 99 x 50 = 10485.1. */
	ck_assert_uint_eq(r->nfills, 4);
	ck_assert(r->fills[0].buy && r->fills[1].buy);
	ck_assert_double_eq_tol(r->fills[0].qty, 49.5, TOL);
	ck_assert_double_eq_tol(r->fills[1].qty, 99, TOL);
	ck_assert_double_eq_tol(r->fills[0].fill_price, 100.1, TOL);
	ck_assert_double_eq_tol(r->days[0].traded, 9900, TOL);
	ck_assert_double_eq_tol(r->days[0].costs, 9.9, TOL);
	ck_assert_double_eq_tol(r->days[0].cash, 90.1, TOL);
	ck_assert_double_eq_tol(r->days[0].equity, 10485.1, TOL);
	/* 4 Feb at the open (110, 50): V = 10485.1, investable 10380.249, target
	 * 5190.1245 each. AAA holds 5445: SELL 254.8755 = 2.31705 sh at 109.89
	 * -> +254.6206245 (cost 0.2548755). BBB holds 4950: BUY 240.1245 =
	 * 4.80249 sh at 50.05 -> -240.3646245 (cost 0.2401245). Cash 104.356.
	 * Close (99, 55): 104.356 + 47.18295 x 99 + 103.80249 x 55 = 10484.605. */
	ck_assert(!r->fills[2].buy && r->fills[3].buy);	/* sells first */
	ck_assert_double_eq_tol(r->fills[2].qty, 2.31705, TOL);
	ck_assert_double_eq_tol(r->fills[3].qty, 4.80249, TOL);
	ck_assert_double_eq_tol(r->days[1].traded, 495, TOL);
	ck_assert_double_eq_tol(r->days[1].costs, 0.495, TOL);
	ck_assert_double_eq_tol(r->days[1].cash, 104.356, TOL);
	ck_assert_double_eq_tol(r->days[1].equity, 10484.605, TOL);
	/* Held weights at the close: 47.18295 x 99 / 10484.605. */
	ck_assert_double_eq_tol(r->held[1 * r->nsymbols + 0] + r->held[1 * r->nsymbols + 1],
	    (10484.605 - 104.356) / 10484.605, TOL);
	/* Benchmark bought at the first open (400): 10000 x 420/400, x 378/400. */
	ck_assert_double_eq_tol(r->days[0].benchmark, 10500, TOL);
	ck_assert_double_eq_tol(r->days[1].benchmark, 9450, TOL);
	/* Attribution: one file at weight 1 trades exactly like the set. */
	ck_assert_double_eq_tol(r->file_equity[1], 10484.605, TOL);
	{
		json_t *s = backtest_summary_json(r);
		double mean_eq = (10485.1 + 10484.605) / 2;

		/* Turnover: (9900 + 495) / 2 over the mean equity; drawdown from 10485.1. */
		ck_assert_double_eq_tol(json_real_value(json_object_get(s, "turnover")),
		    10395.0 / 2 / mean_eq, TOL);
		ck_assert_double_eq_tol(json_real_value(json_object_get(s, "max_drawdown")),
		    1 - 10484.605 / 10485.1, TOL);
		ck_assert_str_eq(json_string_value(json_object_get(s, "max_drawdown_peak")), "2025-02-03");
		ck_assert_str_eq(json_string_value(json_object_get(s, "max_drawdown_trough")), "2025-02-04");
		ck_assert_double_eq_tol(json_real_value(json_object_get(s, "costs")), 10.395, TOL);
		ck_assert_int_eq(json_integer_value(json_object_get(s, "trades")), 4);
		ck_assert_int_eq(json_integer_value(json_object_get(s, "days_invested")), 2);
		json_decref(s);
	}
	backtest_result_free(r);
	strategy_set_free(set);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_backtest_hand_fill_at_close)
{
	char *dir = test_tmpdir();
	struct backtest_options o = defaults("2025-02-03", "2025-02-03");
	struct strategy_set *set = NULL;
	struct backtest_result *r;

	hand_data(dir);
	o.fill = BACKTEST_FILL_CLOSE;
	r = run(dir, EQUAL_AB, &o, &set);
	ck_assert_uint_eq(r->ndays, 1);
	ck_assert_int_eq(r->days[0].as_of, day_of("2025-02-03"));	/* signal: the session */
	/* At the close (110, 50): 4950 / 110 = 45 sh at 110.11 = 4954.95;
	 * 99 sh at 50.05 = 4954.95; cash 90.1; equity 90.1 + 4950 + 4950. */
	ck_assert_double_eq_tol(r->fills[0].qty, 45, TOL);
	ck_assert_double_eq_tol(r->days[0].equity, 9990.1, TOL);
	/* Benchmark bought at the first close. */
	ck_assert_double_eq_tol(r->days[0].benchmark, 10000, TOL);
	backtest_result_free(r);
	strategy_set_free(set);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_backtest_hand_whole_shares_no_cost)
{
	char *dir = test_tmpdir();
	struct backtest_options o = defaults("2025-02-03", "2025-02-03");
	struct strategy_set *set = NULL;
	struct backtest_result *r;

	hand_data(dir);
	o.whole_shares = true;
	o.cost_bps = 0;
	r = run(dir, EQUAL_AB, &o, &set);
	/* 4950 / 100 = 49.5 -> 49 whole shares; 99 of BBB; cash 10000 - 4900 - 4950 = 150.
	 * Close: 150 + 49 x 110 + 99 x 50 = 10490. */
	ck_assert_double_eq_tol(r->fills[0].qty, 49, TOL);
	ck_assert_double_eq_tol(r->days[0].cash, 150, TOL);
	ck_assert_double_eq_tol(r->days[0].costs, 0, TOL);
	ck_assert_double_eq_tol(r->days[0].equity, 10490, TOL);
	backtest_result_free(r);
	strategy_set_free(set);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_backtest_failing_file_reported_and_held)
{
	char *dir = test_tmpdir();
	struct backtest_options o = defaults("2025-02-03", "2025-02-06");
	struct strategy_set *set = NULL;
	struct backtest_result *r;

	hand_data(dir);
	/* A 3-bar average: as of 31 Jan there is 1 bar, as of 3 Feb 2, as of 4 Feb 3. */
	r = run(dir, "(defsymphony \"t\" {} (if (> (moving-average-price \"AAA\" {:window 3}) 0) "
	    "(asset \"AAA\") (asset \"BBB\")))", &o, &set);
	ck_assert_uint_eq(r->ndays, 4);
	/* 3 and 4 Feb: the only file fails, nothing trades, the cash is held. */
	ck_assert(r->days[0].held && r->days[1].held && !r->days[2].held);
	ck_assert_uint_eq(r->sessions_held, 2);
	ck_assert_double_eq_tol(r->days[1].equity, 10000, TOL);
	ck_assert_uint_eq(r->days[1].ntarget, 0);
	ck_assert_uint_eq(r->nfailures, 2);
	ck_assert_int_eq(r->failures[0].day, day_of("2025-02-03"));
	ck_assert_int_eq(r->failures[1].day, day_of("2025-02-04"));
	ck_assert(r->failures[0].held);
	ck_assert_msg(strstr(r->failures[0].file, "s.clj") != NULL, "%s", r->failures[0].file);
	ck_assert_msg(strstr(r->failures[0].error, "needs 3 bars") != NULL, "%s", r->failures[0].error);
	ck_assert_uint_eq(r->file_failed[0], 2);
	/* The report groups the two consecutive sessions into one row. */
	{
		struct errctx ec = { 0 };
		json_t *sum = backtest_summary_json(r);
		char *html = NULL, *tbl, *tend;
		size_t len = 0;
		FILE *mf = open_memstream(&html, &len);

		ck_assert_ok(backtest_write_html(r, sum, mf, &ec), &ec);
		fclose(mf);
		tbl = strstr(html, "<table id=\"failures\">");
		ck_assert_ptr_nonnull(tbl);
		tend = strstr(tbl, "</table>");
		ck_assert_ptr_nonnull(tend);
		*tend = '\0';
		ck_assert_msg(strstr(tbl, "<tr><td>2025-02-03 &#8211; 2025-02-04 (2 sessions)</td>") != NULL,
		    "%s", tbl);
		ck_assert_ptr_null(strstr(strstr(tbl, "</thead>"), "<tr><td>2025-02-04"));
		free(html);
		json_decref(sum);
	}
	/* 5 Feb: signal as of 4 Feb, AAA bought at the open of 99:
	 * 9900 / 99 = 100 sh at 99.099 = 9909.9; equity 90.1 + 100 x 99 = 9990.1. */
	ck_assert_str_eq(r->days[2].target[0].ticker, "AAA");
	ck_assert_double_eq_tol(r->days[2].equity, 9990.1, TOL);
	backtest_result_free(r);
	strategy_set_free(set);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

/* Two files at 0.5 each; b.clj fails on 3 Feb (a 3-bar average as of 31 Jan).
 * The configured policy decides, as in the signals stage. */
START_TEST(test_backtest_failure_policy)
{
	static const struct {
		enum strategy_failure_policy p;
		bool	held;
		double	equity;
	} cases[] = {
		/* fail: nothing trades, the cash is held */
		{ STRATEGY_FAILURE_FAIL, true, 10000 },
		/* cash: BBB 0.5 of 9900 = 4950 = 99 sh at 50.05; cash 5045.05 + 99 x 50 */
		{ STRATEGY_FAILURE_CASH, false, 9995.05 },
		/* renormalise: BBB gets all 9900 = 198 sh at 50.05; cash 90.1 + 198 x 50 */
		{ STRATEGY_FAILURE_RENORMALISE, false, 9990.1 },
	};
	char *dir = test_tmpdir(), *path = xasprintf("%s/set.json", dir);
	struct backtest_options o = defaults("2025-02-03", "2025-02-03");
	struct errctx ec = { 0 };

	hand_data(dir);
	put(dir, "a.clj", "(defsymphony \"a\" {} (asset \"BBB\"))");
	put(dir, "b.clj", "(defsymphony \"b\" {} (if (> (moving-average-price \"AAA\" {:window 3}) 0) "
	    "(asset \"AAA\") (asset \"BBB\")))");
	put(dir, "set.json", "{\"files\": [\"a.clj\", \"b.clj\"], "
	    "\"allocations\": {\"a.clj\": 0.5, \"b.clj\": 0.5}}");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct strategy_set *set = NULL;
		struct backtest_result *r = NULL;
		struct marketdata *md = marketdata_csv_new(dir, &ec);

		ck_assert_ok(strategy_set_load(path, &set, &ec), &ec);
		o.policy.on_failure = cases[i].p;
		ck_assert_ok(backtest_run(set, path, md, &o, &r, &ec), &ec);
		ck_assert_msg(r->days[0].held == cases[i].held, "policy %s",
		    strategy_failure_policy_to_string(cases[i].p));
		ck_assert_double_eq_tol(r->days[0].equity, cases[i].equity, TOL);
		ck_assert_uint_eq(r->nfailures, 1);
		ck_assert_str_eq(r->failures[0].file, "b.clj");
		ck_assert(r->failures[0].held == cases[i].held);
		/* a.clj alone at 0.5 of the capital: 4950 in BBB whatever the policy. */
		ck_assert_double_eq_tol(r->file_equity[0], 5000 - 4954.95 + 4950, TOL);
		backtest_result_free(r);
		strategy_set_free(set);
		marketdata_free(md);
	}
	free(path);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

START_TEST(test_backtest_stats_by_hand)
{
	const double eq[] = { 110, 99, 121 };
	struct backtest_stats s;
	/* r = 0.1, -0.1, 121/99 - 1 = 2/9; mean = (2/9) / 3 = 2/27. */
	double r[] = { 0.1, -0.1, 2.0 / 9 }, mean = 2.0 / 27, ss = 0, sd;

	for (int i = 0; i < 3; i++)
		ss += (r[i] - mean) * (r[i] - mean);
	sd = sqrt(ss / 2);
	backtest_stats(eq, 3, 100, &s);
	ck_assert_double_eq_tol(s.total_return, 0.21, TOL);
	ck_assert_double_eq_tol(s.cagr, pow(1.21, 252.0 / 3) - 1, 1e-9 * pow(1.21, 84));
	ck_assert_double_eq_tol(s.volatility, sd * sqrt(252), TOL);
	ck_assert_double_eq_tol(s.sharpe, mean / sd * sqrt(252), TOL);
	/* downside: sqrt(0.01 / 3) */
	ck_assert_double_eq_tol(s.sortino, mean / sqrt(0.01 / 3) * sqrt(252), TOL);
	/* peak 110 (index 0), trough 99 (index 1): 10 %, recovered at index 2. */
	ck_assert_double_eq_tol(s.max_drawdown, 0.1, TOL);
	ck_assert_int_eq(s.dd_peak, 0);
	ck_assert_int_eq(s.dd_trough, 1);
	ck_assert_int_eq(s.dd_recovery, 2);
	ck_assert_double_eq_tol(s.calmar, s.cagr / 0.1, TOL * s.calmar);
	/* A loss from the start: the start is the peak (index -1), never recovered. */
	backtest_stats((const double[]){ 90, 95 }, 2, 100, &s);
	ck_assert_int_eq(s.dd_peak, -1);
	ck_assert_int_eq(s.dd_trough, 0);
	ck_assert_int_eq(s.dd_recovery, -1);
	/* Flat: no volatility, ratios undefined. */
	backtest_stats((const double[]){ 100, 100 }, 2, 100, &s);
	ck_assert(isnan(s.sharpe) && isnan(s.sortino) && isnan(s.calmar));
	ck_assert_double_eq(s.max_drawdown, 0);
}
END_TEST

START_TEST(test_backtest_rejects_bad_options)
{
	char *dir = test_tmpdir(), *path = xasprintf("%s/s.clj", dir);
	struct backtest_options o = defaults("2025-02-03", "2025-02-04");
	struct backtest_result *r = NULL;
	struct strategy_set *set = NULL;
	struct marketdata *md;
	struct errctx ec = { 0 };

	hand_data(dir);
	put(dir, "s.clj", EQUAL_AB);
	ck_assert_ok(strategy_set_load_file(path, &set, &ec), &ec);
	md = marketdata_csv_new(dir, &ec);
	o.capital = 0;
	ck_assert_err(backtest_run(set, path, md, &o, &r, &ec), -EINVAL, &ec);
	o = defaults("2025-02-08", "2025-02-09");	/* a weekend */
	ck_assert_err(backtest_run(set, path, md, &o, &r, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "no NYSE session"));
	o = defaults("2025-02-03", "2025-02-04");
	o.benchmark = "NOPE";
	ck_assert_err(backtest_run(set, path, md, &o, &r, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "NOPE"));
	ck_assert_ptr_null(r);
	marketdata_free(md);
	strategy_set_free(set);
	free(path);
	rm_flat_dir(dir);
	free(dir);
}
END_TEST

/* Copy each CSV of src into dst keeping the rows dated on or before last. */
static void
truncate_copy(const char *src, const char *dst, const char *last)
{
	DIR *d = opendir(src);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char *in, *out, line[512];
		FILE *fi, *fo;

		if (strstr(e->d_name, ".csv") == NULL)
			continue;
		in = xasprintf("%s/%s", src, e->d_name);
		out = xasprintf("%s/%s", dst, e->d_name);
		fi = fopen(in, "r");
		fo = fopen(out, "w");
		ck_assert(fi != NULL && fo != NULL);
		while (fgets(line, sizeof line, fi) != NULL)
			if (strncmp(line, "date", 4) == 0 || strncmp(line, last, 10) <= 0)
				fputs(line, fo);
		fclose(fi);
		fclose(fo);
		free(in);
		free(out);
	}
	closedir(d);
}

static struct backtest_result *
run_set(const char *set_path, const char *data, const struct backtest_options *o,
    struct strategy_set **set)
{
	struct backtest_result *r = NULL;
	struct marketdata *md;
	struct errctx ec = { 0 };

	ck_assert_ok(strategy_set_load(set_path, set, &ec), &ec);
	md = marketdata_csv_new(data, &ec);
	ck_assert_ptr_nonnull(md);
	ck_assert_ok(backtest_run(*set, set_path, md, o, &r, &ec), &ec);
	marketdata_free(md);
	return r;
}

static void
assert_same_days(const struct backtest_result *a, const struct backtest_result *b, size_t n)
{
	ck_assert_uint_ge(a->ndays, n);
	ck_assert_uint_ge(b->ndays, n);
	for (size_t d = 0; d < n; d++) {
		ck_assert_int_eq(a->days[d].day, b->days[d].day);
		ck_assert_msg(a->days[d].equity == b->days[d].equity, "equity differs on session %zu", d);
		ck_assert(a->days[d].cash == b->days[d].cash);
		ck_assert(a->days[d].benchmark == b->days[d].benchmark);
		ck_assert_uint_eq(a->days[d].ntarget, b->days[d].ntarget);
		for (size_t k = 0; k < a->days[d].ntarget; k++) {
			ck_assert_str_eq(a->days[d].target[k].ticker, b->days[d].target[k].ticker);
			ck_assert_msg(a->days[d].target[k].weight == b->days[d].target[k].weight,
			    "weight of %s differs on session %zu", a->days[d].target[k].ticker, d);
		}
		for (size_t f = 0; f < a->nfiles; f++)
			ck_assert(a->file_equity[d * a->nfiles + f] == b->file_equity[d * b->nfiles + f]);
	}
}

START_TEST(test_backtest_no_lookahead)
{
	char *set_path = test_data_path("../../etc/strategies/strategy.json");
	char *data = test_data_path("../../etc/sample-data");
	struct backtest_options o = defaults("2025-06-02", "2026-11-20");
	struct strategy_set *set = NULL;
	struct backtest_result *full;

	test_rng_seed("test_backtest_no_lookahead");
	o.fill = (enum backtest_fill)_i;	/* both fill models */
	full = run_set(set_path, data, &o, &set);
	strategy_set_free(set);
	for (int k = 0; k < 4; k++) {
		/* A random session D of the run: data after D removed. */
		size_t cut = (size_t)(test_rng_next() % (full->ndays - 1));
		char *dir = test_tmpdir(), last[11];
		struct backtest_options ot = o;
		struct backtest_result *part;

		dsl_format_date(full->days[cut].day, last);
		truncate_copy(data, dir, last);
		ot.to_day = full->days[cut].day;
		part = run_set(set_path, dir, &ot, &set);
		ck_assert_uint_eq(part->ndays, cut + 1);
		assert_same_days(full, part, cut + 1);
		backtest_result_free(part);
		strategy_set_free(set);
		rm_flat_dir(dir);
		free(dir);
	}
	backtest_result_free(full);
	free(set_path);
	free(data);
}
END_TEST

/* Kept block histories give what a fresh evaluation each day gives, on the
 * seed corpus (nested filters over blocks) with generated bars. */
START_TEST(test_backtest_kept_histories_equal_fresh)
{
	char *set_path = test_shared_path("strategies/strategy.dev.json");
	char *dir = test_tmpdir();
	struct backtest_options o = defaults("2026-10-26", "2026-11-06");
	struct backtest_result *kept, *fresh;
	struct strategy_set *set = NULL;
	const char *const *tickers;
	struct errctx ec = { 0 };
	size_t nt;

	if (set_path == NULL) {
		free(dir);
		return;	/* no ../shared on a plain clone (a hard failure under CI) */
	}
	ck_assert_ok(strategy_set_load(set_path, &set, &ec), &ec);
	nt = strategy_set_tickers(set, &tickers);
	for (size_t i = 0; i < nt; i++)
		ck_assert_ok(dsl_sample_write_csv(dir, tickers[i], 1, day_of("2026-11-20"), 900, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SPY", 1, day_of("2026-11-20"), 900, &ec), &ec);
	strategy_set_free(set);
	kept = run_set(set_path, dir, &o, &set);
	strategy_set_free(set);
	o.fresh_histories = true;
	fresh = run_set(set_path, dir, &o, &set);
	ck_assert_uint_eq(kept->ndays, 10);
	assert_same_days(kept, fresh, kept->ndays);
	ck_assert_uint_eq(kept->nfailures, fresh->nfailures);
	backtest_result_free(kept);
	backtest_result_free(fresh);
	strategy_set_free(set);
	rm_flat_dir(dir);
	free(dir);
	free(set_path);
}
END_TEST

static Suite *
backtest_suite(void)
{
	Suite *s = suite_create("backtest");
	TCase *hand = tcase_create("hand"), *prop = tcase_create("properties");

	tcase_add_test(hand, test_backtest_hand_fill_at_open);
	tcase_add_test(hand, test_backtest_hand_fill_at_close);
	tcase_add_test(hand, test_backtest_hand_whole_shares_no_cost);
	tcase_add_test(hand, test_backtest_failing_file_reported_and_held);
	tcase_add_test(hand, test_backtest_failure_policy);
	tcase_add_test(hand, test_backtest_stats_by_hand);
	tcase_add_test(hand, test_backtest_rejects_bad_options);
	tcase_add_loop_test(prop, test_backtest_no_lookahead, 0, 2);
	tcase_add_test(prop, test_backtest_kept_histories_equal_fresh);
	tcase_set_timeout(prop, 240);
	suite_add_tcase(s, hand);
	suite_add_tcase(s, prop);
	return s;
}

ALC_TEST_MAIN(backtest_suite)
