/*
 * indicators: the technical indicators of the strategy DSL as pure functions
 * over a close-price series (oldest first), in double precision.
 * Thread:  pure functions, any thread.
 * Memory:  the caller provides every array; nothing is allocated.
 *
 * Each *_series function fills out[t] (0 <= t < n) with the indicator value
 * computed over the prefix p[0..t] only (every formula is causal), so the
 * value "as of" bar t is out[t] and the value for the whole series is
 * out[n-1]. out[t] is NaN where the prefix is shorter than the minimum history
 * (indicator_min_history()).
 *
 * Formulas (dsl-semantics.md §7 items 16-21; p = closes, w = window):
 *   rsi               Wilder smoothing, alpha = 1/w, over all history, seeded
 *                     with 0 at the first bar (gain_0 = loss_0 = 0);
 *                     100 - 100/(1 + G/L); L = 0 < G gives 100, 0/0 gives 50.
 *                     A prefix shorter than w gives 50 (item 16), so the
 *                     minimum history is 1 bar.
 *   current-price     p[t].                                  min 1 bar
 *   moving-average-price  mean of the last w closes.         min w bars
 *   exponential-moving-average-price  E_0 = p_0,
 *                     E_t = (1-a)E_{t-1} + a p_t, a = 2/(w+1); all history;
 *                     the first w-1 values are missing.      min w bars
 *   moving-average-return  100 x mean of the last w simple returns.
 *                                                            min w+1 bars
 *   cumulative-return 100 x (p_t / p_{t-w} - 1).             min w+1 bars
 *   stdev-return      standard deviation of the last w daily percent
 *                     returns (100 r), not annualised; divisor w
 *                     (population, item 19) or w-1 with INDICATOR_F_SAMPLE.
 *                                                            min w+1 bars
 *   max-drawdown      peak-to-trough over the last w closes, positive
 *                     percent: 100 x max_k (1 - x_k / max(x_0..x_k)).
 *                                                            min w bars
 *   stdev-price       sample standard deviation (divisor w-1) of the last w
 *                     closes, in price units.                min w bars
 * Short data is an error for the caller to report (the Python engine's
 * "0.0 when short" quirk is not copied), except for rsi as said above.
 */
#ifndef ALCHEMISER_TRADING_INDICATORS_H
#define ALCHEMISER_TRADING_INDICATORS_H

#include <stdbool.h>
#include <stddef.h>

enum indicator_kind {
	INDICATOR_RSI,
	INDICATOR_CURRENT_PRICE,
	INDICATOR_MA_PRICE,
	INDICATOR_EMA_PRICE,
	INDICATOR_MA_RETURN,
	INDICATOR_CUM_RETURN,
	INDICATOR_STDEV_RETURN,
	INDICATOR_MAX_DRAWDOWN,
	INDICATOR_STDEV_PRICE,
	_INDICATOR_MAX
};

/* stdev-return with divisor w-1 instead of w (the 2.27.4 choice). */
#define INDICATOR_F_SAMPLE 0x1u

/* DSL operator name ("rsi", "moving-average-price", ...). */
const char *indicator_name(enum indicator_kind kind);
/* Kind for a DSL operator name; -1 if it is not an indicator. */
int	indicator_from_name(const char *name);
/* Window used when the strategy gives none (rsi 14, moving-average-price 200,
 * moving-average-return 21, cumulative-return 60, EMA 12, stdev-return 6,
 * stdev-price 6, max-drawdown 60; current-price 1). */
int	indicator_default_window(enum indicator_kind kind);
/* Bars needed before the value exists (see the table above). */
size_t	indicator_min_history(enum indicator_kind kind, int window);
/* §7 item 18 / dsl-semantics 2.2 short-data rule: true when n bars are too
 * few for KIND and the value is 0.0 rather than an error (the Python
 * engine's rule): moving-average-return n < w, cumulative-return n <= w,
 * max-drawdown n < w. moving-average-return with n == w stays an error. */
bool	indicator_short_is_zero(enum indicator_kind kind, int window, size_t n);
/* Bars a data fetch should cover so that the value is fully warmed up:
 * the minimum history, plus 10 windows for the all-history smoothers
 * (rsi, EMA), whose seed then weighs less than e^-10. */
size_t	indicator_lookback(enum indicator_kind kind, int window);

void	indicator_rsi(const double *p, size_t n, int w, double *out);
void	indicator_current_price(const double *p, size_t n, double *out);
void	indicator_ma_price(const double *p, size_t n, int w, double *out);
void	indicator_ema_price(const double *p, size_t n, int w, double *out);
void	indicator_ma_return(const double *p, size_t n, int w, double *out);
void	indicator_cum_return(const double *p, size_t n, int w, double *out);
void	indicator_stdev_return(const double *p, size_t n, int w, bool sample, double *out);
void	indicator_max_drawdown(const double *p, size_t n, int w, double *out);
void	indicator_stdev_price(const double *p, size_t n, int w, double *out);

/* Dispatch on kind; flags: INDICATOR_F_*. w must be >= 1. */
void	indicator_series(enum indicator_kind kind, int w, unsigned flags,
	    const double *p, size_t n, double *out);
/* Value over the whole series (out[n-1]) without a caller buffer; NaN when
 * the history is too short. Allocates a scratch array of n doubles. */
double	indicator_last(enum indicator_kind kind, int w, unsigned flags,
	    const double *p, size_t n);

#endif
