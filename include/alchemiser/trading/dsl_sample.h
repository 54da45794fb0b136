/*
 * dsl_sample: deterministic synthetic daily bars, for the project's sample
 * data set (tools/gen-sample-data, etc/sample-data/) and for tests that need
 * bars for every ticker of a strategy. The same (symbol, seed, end day,
 * count) always gives the same bytes on the same platform: a splitmix64
 * stream seeded from the symbol name drives a geometric random walk with a
 * per-symbol drift and volatility (daily sigma 0.8 % .. 4.8 %).
 * Thread:  any. Memory: nothing kept.
 */
#ifndef ALCHEMISER_TRADING_DSL_SAMPLE_H
#define ALCHEMISER_TRADING_DSL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct errctx;
struct md_bar;

/* Fill bars[0..n-1] with n weekday sessions ending on end_day (or the last
 * weekday before it), ascending. */
void	dsl_sample_bars(const char *symbol, uint64_t seed, int64_t end_day, size_t n,
	    struct md_bar *bars);
/* Write dir/SYMBOL.csv ('/' in the ticker becomes '.'), in the format
 * marketdata_csv_new reads. -errno on I/O errors. */
int	dsl_sample_write_csv(const char *dir, const char *symbol, uint64_t seed, int64_t end_day,
	    size_t n, struct errctx *ec);

#endif
