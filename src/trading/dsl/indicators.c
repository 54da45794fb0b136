/* The DSL's indicators as pure functions over close series (formulas and
 * minimum-history rules in include/alchemiser/trading/indicators.h). Rolling
 * windows are summed directly, not with running sums, so each value is as
 * accurate as a fresh two-pass computation over its window. */
#include <math.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/indicators.h"

static const struct {
	const char	*name;
	int		 def;
} kinds[_INDICATOR_MAX] = {
	[INDICATOR_RSI]		 = { "rsi", 14 },
	[INDICATOR_CURRENT_PRICE] = { "current-price", 1 },
	[INDICATOR_MA_PRICE]	 = { "moving-average-price", 200 },
	[INDICATOR_EMA_PRICE]	 = { "exponential-moving-average-price", 12 },
	[INDICATOR_MA_RETURN]	 = { "moving-average-return", 21 },
	[INDICATOR_CUM_RETURN]	 = { "cumulative-return", 60 },
	[INDICATOR_STDEV_RETURN] = { "stdev-return", 6 },
	[INDICATOR_MAX_DRAWDOWN] = { "max-drawdown", 60 },
	[INDICATOR_STDEV_PRICE]	 = { "stdev-price", 6 },
};

static void	fill_nan(double *out, size_t from, size_t to);

const char *
indicator_name(enum indicator_kind kind)
{
	return (unsigned)kind < _INDICATOR_MAX ? kinds[kind].name : "?";
}

int
indicator_from_name(const char *name)
{
	int k;

	for (k = 0; k < _INDICATOR_MAX; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return k;
	return -1;
}

int
indicator_default_window(enum indicator_kind kind)
{
	return (unsigned)kind < _INDICATOR_MAX ? kinds[kind].def : 1;
}

size_t
indicator_min_history(enum indicator_kind kind, int window)
{
	size_t w = window > 0 ? (size_t)window : 1;

	switch (kind) {
	case INDICATOR_RSI:
	case INDICATOR_CURRENT_PRICE:
		return 1;
	case INDICATOR_MA_RETURN:
	case INDICATOR_CUM_RETURN:
	case INDICATOR_STDEV_RETURN:
		return w + 1;
	case INDICATOR_STDEV_PRICE:
		return w < 2 ? 2 : w;	/* a sample deviation needs two closes */
	default:
		return w;
	}
}

bool
indicator_short_is_zero(enum indicator_kind kind, int window, size_t n)
{
	size_t w = window > 0 ? (size_t)window : 1;

	switch (kind) {
	case INDICATOR_MA_RETURN:
	case INDICATOR_MAX_DRAWDOWN:
		return n < w;
	case INDICATOR_CUM_RETURN:
		return n <= w;
	default:
		return false;
	}
}

size_t
indicator_lookback(enum indicator_kind kind, int window)
{
	size_t w = window > 0 ? (size_t)window : 1;

	if (kind == INDICATOR_RSI || kind == INDICATOR_EMA_PRICE)
		return w + 10 * w;
	return indicator_min_history(kind, window);
}

static void
fill_nan(double *out, size_t from, size_t to)
{
	size_t t;

	for (t = from; t < to; t++)
		out[t] = NAN;
}

void
indicator_rsi(const double *p, size_t n, int w, double *out)
{
	double a = 1.0 / w, g = 0.0, l = 0.0;
	size_t t;

	for (t = 0; t < n; t++) {
		double gain = 0.0, loss = 0.0;

		if (t > 0) {
			double d = p[t] - p[t - 1];

			gain = d > 0 ? d : 0.0;
			loss = d < 0 ? -d : 0.0;
		}
		/* Seeded with the first element, which is 0 (§7 item 16). */
		g = t == 0 ? gain : (1.0 - a) * g + a * gain;
		l = t == 0 ? loss : (1.0 - a) * l + a * loss;
		if (t + 1 < (size_t)w)
			out[t] = 50.0;
		else if (l == 0.0)
			out[t] = g > 0.0 ? 100.0 : 50.0;
		else
			out[t] = 100.0 - 100.0 / (1.0 + g / l);
	}
}

void
indicator_current_price(const double *p, size_t n, double *out)
{
	memcpy(out, p, n * sizeof(*out));
}

void
indicator_ma_price(const double *p, size_t n, int w, double *out)
{
	size_t t, k;

	fill_nan(out, 0, n < (size_t)w - 1 ? n : (size_t)w - 1);
	for (t = (size_t)w - 1; t < n; t++) {
		double s = 0.0;

		for (k = t + 1 - (size_t)w; k <= t; k++)
			s += p[k];
		out[t] = s / w;
	}
}

void
indicator_ema_price(const double *p, size_t n, int w, double *out)
{
	double a = 2.0 / (w + 1.0), e = 0.0;
	size_t t;

	for (t = 0; t < n; t++) {
		e = t == 0 ? p[0] : (1.0 - a) * e + a * p[t];
		out[t] = t + 1 < (size_t)w ? NAN : e;
	}
}

void
indicator_ma_return(const double *p, size_t n, int w, double *out)
{
	size_t t, k;

	fill_nan(out, 0, n < (size_t)w ? n : (size_t)w);
	for (t = (size_t)w; t < n; t++) {
		double s = 0.0;

		for (k = t + 1 - (size_t)w; k <= t; k++)
			s += p[k] / p[k - 1] - 1.0;
		out[t] = 100.0 * s / w;
	}
}

void
indicator_cum_return(const double *p, size_t n, int w, double *out)
{
	size_t t;

	fill_nan(out, 0, n < (size_t)w ? n : (size_t)w);
	for (t = (size_t)w; t < n; t++)
		out[t] = 100.0 * (p[t] / p[t - (size_t)w] - 1.0);
}

void
indicator_stdev_return(const double *p, size_t n, int w, bool sample, double *out)
{
	size_t t, k;
	double div = sample ? w - 1.0 : (double)w;

	fill_nan(out, 0, n < (size_t)w ? n : (size_t)w);
	for (t = (size_t)w; t < n; t++) {
		double m = 0.0, v = 0.0;

		for (k = t + 1 - (size_t)w; k <= t; k++)
			m += 100.0 * (p[k] / p[k - 1] - 1.0);
		m /= w;
		for (k = t + 1 - (size_t)w; k <= t; k++) {
			double d = 100.0 * (p[k] / p[k - 1] - 1.0) - m;

			v += d * d;
		}
		out[t] = div > 0 ? sqrt(v / div) : NAN;
	}
}

void
indicator_max_drawdown(const double *p, size_t n, int w, double *out)
{
	size_t t, k;

	fill_nan(out, 0, n < (size_t)w - 1 ? n : (size_t)w - 1);
	for (t = (size_t)w - 1; t < n; t++) {
		double peak = p[t + 1 - (size_t)w], dd = 0.0;

		for (k = t + 1 - (size_t)w; k <= t; k++) {
			if (p[k] > peak)
				peak = p[k];
			if (1.0 - p[k] / peak > dd)
				dd = 1.0 - p[k] / peak;
		}
		out[t] = 100.0 * dd;
	}
}

void
indicator_stdev_price(const double *p, size_t n, int w, double *out)
{
	size_t t, k;

	fill_nan(out, 0, n < (size_t)w - 1 ? n : (size_t)w - 1);
	for (t = (size_t)w - 1; t < n; t++) {
		double m = 0.0, v = 0.0;

		for (k = t + 1 - (size_t)w; k <= t; k++)
			m += p[k];
		m /= w;
		for (k = t + 1 - (size_t)w; k <= t; k++)
			v += (p[k] - m) * (p[k] - m);
		out[t] = w > 1 ? sqrt(v / (w - 1.0)) : NAN;
	}
}

void
indicator_series(enum indicator_kind kind, int w, unsigned flags, const double *p, size_t n,
    double *out)
{
	if (w < 1)
		w = 1;
	switch (kind) {
	case INDICATOR_RSI: indicator_rsi(p, n, w, out); break;
	case INDICATOR_CURRENT_PRICE: indicator_current_price(p, n, out); break;
	case INDICATOR_MA_PRICE: indicator_ma_price(p, n, w, out); break;
	case INDICATOR_EMA_PRICE: indicator_ema_price(p, n, w, out); break;
	case INDICATOR_MA_RETURN: indicator_ma_return(p, n, w, out); break;
	case INDICATOR_CUM_RETURN: indicator_cum_return(p, n, w, out); break;
	case INDICATOR_STDEV_RETURN:
		indicator_stdev_return(p, n, w, (flags & INDICATOR_F_SAMPLE) != 0, out);
		break;
	case INDICATOR_MAX_DRAWDOWN: indicator_max_drawdown(p, n, w, out); break;
	case INDICATOR_STDEV_PRICE: indicator_stdev_price(p, n, w, out); break;
	default: fill_nan(out, 0, n); break;
	}
}

double
indicator_last(enum indicator_kind kind, int w, unsigned flags, const double *p, size_t n)
{
	double *out, v;

	if (n == 0)
		return NAN;
	out = xmalloc(n * sizeof(*out));
	indicator_series(kind, w, flags, p, n, out);
	v = out[n - 1];
	free(out);
	return v;
}
