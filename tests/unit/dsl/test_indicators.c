/* Indicators: golden values from an independent implementation
 * (tests/data/dsl/README.md), the worked examples of seed-trading-spec §3.3 /
 * dsl-semantics §2.2, and the minimum-history rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/indicators.h"
#include "../helpers.h"

static double *load_series(const char *name, size_t *n);
static void	check_golden(const char *name);

static double *
load_series(const char *name, size_t *n)
{
	char *rel = xasprintf("dsl/indicators-%s-series.csv", name), *path = test_data_path(rel);
	char *text = test_read_file(path, NULL), *line, *save = NULL;
	double *p = NULL;
	size_t cap = 0;

	*n = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		unsigned idx;
		double v;

		if (sscanf(line, "%u,%lf", &idx, &v) != 2)
			continue;	/* header */
		ck_assert_uint_eq(idx, *n);
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			p = xreallocarray(p, cap, sizeof(*p));
		}
		p[(*n)++] = v;
	}
	free(text);
	free(path);
	free(rel);
	return p;
}

static void
check_golden(const char *name)
{
	char *rel = xasprintf("dsl/indicators-%s-golden.csv", name), *path = test_data_path(rel);
	char *text = test_read_file(path, NULL), *line, *save = NULL;
	size_t n, checked = 0;
	double *p = load_series(name, &n), *out = xmalloc(n * sizeof(*out));
	char last_kind[64] = "";
	int last_w = -1;
	bool seen[_INDICATOR_MAX] = { false };

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char kind[64];
		int w, k;
		unsigned t;
		double want;

		if (sscanf(line, "%63[^,],%d,%u,%lf", kind, &w, &t, &want) != 4)
			continue;
		k = indicator_from_name(kind);
		ck_assert_msg(k >= 0, "unknown indicator %s", kind);
		ck_assert_uint_lt(t, n);
		if (strcmp(kind, last_kind) != 0 || w != last_w) {
			indicator_series(k, w, 0, p, n, out);
			snprintf(last_kind, sizeof(last_kind), "%s", kind);
			last_w = w;
		}
		ck_assert_msg(fabs(out[t] - want) <= 1e-9 * fabs(want) + 1e-12,
		    "%s %s(%d)[%u]: got %.17g want %.17g", name, kind, w, t, out[t], want);
		/* The series value at t is the value over the prefix alone. */
		if (t % 97 == 0)
			ck_assert_msg(fabs(indicator_last(k, w, 0, p, t + 1) - out[t]) <= 1e-12 * fabs(want),
			    "prefix %s(%d)[%u]", kind, w, t);
		seen[k] = true;
		checked++;
	}
	ck_assert_uint_gt(checked, 1000);
	for (int k = 0; k < _INDICATOR_MAX; k++)
		if (k != INDICATOR_CURRENT_PRICE)
			ck_assert_msg(seen[k], "%s: no golden values for %s", name, indicator_name(k));
	free(out);
	free(p);
	free(text);
	free(path);
	free(rel);
}

START_TEST(test_indicators_golden_walk)
{
	check_golden("walk");
}
END_TEST

START_TEST(test_indicators_golden_volatile)
{
	check_golden("volatile");
}
END_TEST

#define LAST(kind, w, flags, arr) \
	indicator_last(kind, w, flags, arr, sizeof(arr) / sizeof(arr[0]))

START_TEST(test_indicators_worked_examples)
{
	/* seed-trading-spec §3.3 "code gives" column and dsl-semantics §2.2. */
	static const double rsi_p[] = { 100, 102, 101, 103, 105, 104, 106 };
	static const double mar_p[] = { 100, 102, 101, 103, 105, 104 };
	static const double sd_p[] = { 100, 102, 98, 105, 103, 107 };
	static const double dd_p[] = { 100, 105, 98, 102, 95, 110 };
	static const double dd4_p[] = { 100, 110, 95, 105, 90, 100 };
	static const double cr_p[] = { 100, 102, 98, 105, 110 };
	static const double ema_p[] = { 100, 102, 101, 103, 105 };

	ck_assert_double_eq_tol(LAST(INDICATOR_RSI, 6, 0, rsi_p), 80.2632, 1e-4);
	ck_assert_double_eq_tol(LAST(INDICATOR_MA_RETURN, 3, 0, mar_p), 0.98985, 1e-5);
	ck_assert_double_eq_tol(LAST(INDICATOR_STDEV_RETURN, 3, INDICATOR_F_SAMPLE, sd_p), 4.58234, 1e-5);
	ck_assert_double_eq_tol(LAST(INDICATOR_STDEV_RETURN, 3, 0, sd_p), 3.7415, 1e-4);
	ck_assert_double_eq_tol(LAST(INDICATOR_STDEV_PRICE, 3, 0, sd_p), 2.0, 1e-12);
	ck_assert_double_eq_tol(LAST(INDICATOR_MAX_DRAWDOWN, 3, 0, dd_p), 6.86275, 1e-5);
	ck_assert_double_eq_tol(LAST(INDICATOR_MAX_DRAWDOWN, 4, 0, dd4_p), 14.2857, 1e-4);
	ck_assert_double_eq_tol(LAST(INDICATOR_CUM_RETURN, 3, 0, cr_p), 7.84314, 1e-5);
	ck_assert_double_eq_tol(LAST(INDICATOR_EMA_PRICE, 3, 0, ema_p), 103.5, 1e-9);
	ck_assert_double_eq(LAST(INDICATOR_CURRENT_PRICE, 1, 0, ema_p), 105.0);
}
END_TEST

START_TEST(test_indicators_rsi_edges)
{
	static const double up[] = { 1, 2, 3, 4, 5 };
	static const double flat[] = { 5, 5, 5, 5, 5 };
	double out[5];

	/* All gains: 100; no moves at all: 0/0 gives 50; a prefix shorter than
	 * the window gives 50 (§7 item 16). */
	ck_assert_double_eq(LAST(INDICATOR_RSI, 3, 0, up), 100.0);
	ck_assert_double_eq(LAST(INDICATOR_RSI, 3, 0, flat), 50.0);
	indicator_rsi(up, 5, 3, out);
	ck_assert_double_eq(out[0], 50.0);
	ck_assert_double_eq(out[1], 50.0);
	ck_assert_double_eq(out[2], 100.0);
}
END_TEST

START_TEST(test_indicators_min_history)
{
	static const double p[] = { 10, 11, 12, 13, 14 };

	ck_assert_uint_eq(indicator_min_history(INDICATOR_RSI, 14), 1);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_CURRENT_PRICE, 1), 1);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_MA_PRICE, 5), 5);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_EMA_PRICE, 5), 5);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_MA_RETURN, 5), 6);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_CUM_RETURN, 5), 6);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_STDEV_RETURN, 5), 6);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_MAX_DRAWDOWN, 5), 5);
	ck_assert_uint_eq(indicator_min_history(INDICATOR_STDEV_PRICE, 5), 5);
	/* Exactly at the minimum a value exists; one bar short it does not. */
	ck_assert(isfinite(indicator_last(INDICATOR_MA_PRICE, 5, 0, p, 5)));
	ck_assert(isnan(indicator_last(INDICATOR_MA_PRICE, 5, 0, p, 4)));
	ck_assert(isfinite(indicator_last(INDICATOR_CUM_RETURN, 4, 0, p, 5)));
	ck_assert(isnan(indicator_last(INDICATOR_CUM_RETURN, 5, 0, p, 5)));
	ck_assert(isnan(indicator_last(INDICATOR_STDEV_RETURN, 5, 0, p, 5)));
	ck_assert(isnan(indicator_last(INDICATOR_EMA_PRICE, 5, 0, p, 4)));
	ck_assert(isnan(indicator_last(INDICATOR_RSI, 5, 0, p, 0)));
	ck_assert_int_eq(indicator_from_name("stdev-price"), INDICATOR_STDEV_PRICE);
	ck_assert_int_eq(indicator_from_name("volatility"), -1);
	ck_assert_int_eq(indicator_default_window(INDICATOR_MA_PRICE), 200);
	ck_assert_int_eq(indicator_default_window(INDICATOR_STDEV_RETURN), 6);
}
END_TEST

static Suite *
indicators_suite(void)
{
	Suite *s = suite_create("indicators");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_add_test(tc, test_indicators_golden_walk);
	tcase_add_test(tc, test_indicators_golden_volatile);
	suite_add_tcase(s, tc);
	tc = tcase_create("formulas");
	tcase_add_test(tc, test_indicators_worked_examples);
	tcase_add_test(tc, test_indicators_rsi_edges);
	tcase_add_test(tc, test_indicators_min_history);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(indicators_suite)
