/*
 * backtest_stats: performance figures of an equity series, defined in
 * include/alchemiser/trading/backtest.h. Two passes (mean, then squared
 * deviations) rather than a running formula, so the figures agree with a
 * textbook reference (the test's Python statistics) to far below 1e-9.
 */
#include <math.h>
#include <string.h>

#include "alchemiser/trading/backtest.h"

void
backtest_stats(const double *equity, size_t n, double start, struct backtest_stats *ret)
{
	double mean = 0, ss = 0, down = 0, peak = start, years;
	long peak_i = -1;

	memset(ret, 0, sizeof(*ret));
	ret->n = n;
	ret->start = start;
	ret->end = n > 0 ? equity[n - 1] : start;
	ret->dd_peak = ret->dd_trough = ret->dd_recovery = -1;
	ret->total_return = start > 0 ? ret->end / start - 1 : NAN;
	years = (double)n / BACKTEST_SESSIONS_PER_YEAR;
	ret->cagr = n > 0 && start > 0 && ret->end > 0 ? pow(ret->end / start, 1.0 / years) - 1 : NAN;

	for (size_t i = 0; i < n; i++) {
		double prev = i == 0 ? start : equity[i - 1];

		mean += equity[i] / prev - 1;
	}
	mean = n > 0 ? mean / (double)n : NAN;
	for (size_t i = 0; i < n; i++) {
		double prev = i == 0 ? start : equity[i - 1], r = equity[i] / prev - 1;

		ss += (r - mean) * (r - mean);
		if (r < 0)
			down += r * r;
	}
	if (n >= 2 && ss > 0) {
		double sd = sqrt(ss / (double)(n - 1));

		ret->volatility = sd * sqrt(BACKTEST_SESSIONS_PER_YEAR);
		ret->sharpe = mean / sd * sqrt(BACKTEST_SESSIONS_PER_YEAR);
	} else {
		ret->volatility = n >= 2 ? 0 : NAN;
		ret->sharpe = NAN;
	}
	ret->sortino = n > 0 && down > 0 ?
	    mean / sqrt(down / (double)n) * sqrt(BACKTEST_SESSIONS_PER_YEAR) : NAN;

	/* Drawdown from the running peak; the start is the first peak. */
	ret->max_drawdown = 0;
	for (size_t i = 0; i < n; i++) {
		double dd;

		if (equity[i] > peak) {
			peak = equity[i];
			peak_i = (long)i;
		}
		dd = peak > 0 ? 1 - equity[i] / peak : 0;
		if (dd > ret->max_drawdown) {
			ret->max_drawdown = dd;
			ret->dd_peak = peak_i;
			ret->dd_trough = (long)i;
		}
	}
	if (ret->max_drawdown > 0) {
		double top = ret->dd_peak < 0 ? start : equity[ret->dd_peak];

		for (size_t i = (size_t)ret->dd_trough + 1; i < n; i++)
			if (equity[i] >= top) {
				ret->dd_recovery = (long)i;
				break;
			}
	}
	ret->calmar = ret->max_drawdown > 0 ? ret->cagr / ret->max_drawdown : NAN;
}
