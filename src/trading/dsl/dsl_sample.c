/* Deterministic sample bars (see dsl_sample.h). Integer PRNG, prices rounded
 * to 4 decimals on output, so the files are stable and small. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/dsl_sample.h"

static uint64_t	splitmix(uint64_t *s);
static double	uniform(uint64_t *s);
static double	normal(uint64_t *s);
static bool	weekday(int64_t day);

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
	return ((splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);	/* (0, 1) */
}

static double
normal(uint64_t *s)
{
	double u = uniform(s), v = uniform(s);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static bool
weekday(int64_t day)
{
	int64_t wd = ((day % 7) + 7 + 4) % 7;	/* 1970-01-01 was a Thursday (4) */

	return wd != 0 && wd != 6;
}

void
dsl_sample_bars(const char *symbol, uint64_t seed, int64_t end_day, size_t n, struct md_bar *bars)
{
	uint64_t s = seed ^ 0x5bd1e9955bd1e995ull;
	double price, sigma, mu;
	int64_t day = end_day;
	size_t i, k;

	for (k = 0; symbol[k] != '\0'; k++)
		s = (s ^ (unsigned char)symbol[k]) * 0x100000001b3ull;
	price = 10.0 + 290.0 * uniform(&s);
	sigma = 0.008 + 0.04 * uniform(&s);
	mu = (uniform(&s) - 0.45) * 0.002;
	/* Dates first (backwards from end_day), then the walk forwards. */
	for (i = n; i-- > 0;) {
		while (!weekday(day))
			day--;
		bars[i].day = day--;
	}
	for (i = 0; i < n; i++) {
		double open = price * (1.0 + 0.2 * sigma * normal(&s));
		double close = price * exp(mu + sigma * normal(&s));
		double hi = fmax(open, close) * (1.0 + sigma * 0.5 * uniform(&s));
		double lo = fmin(open, close) * (1.0 - sigma * 0.5 * uniform(&s));

		if (close < 0.5)	/* keep penny paths away from rounding to 0 */
			close = 0.5 + uniform(&s);
		bars[i].open = round(open * 1e4) / 1e4;
		bars[i].close = round(close * 1e4) / 1e4;
		bars[i].high = round(fmax(hi, fmax(open, close)) * 1e4) / 1e4;
		bars[i].low = round(fmin(lo, fmin(open, close)) * 1e4) / 1e4;
		bars[i].volume = floor(1e5 + 5e6 * uniform(&s));
		price = bars[i].close;
	}
}

int
dsl_sample_write_csv(const char *dir, const char *symbol, uint64_t seed, int64_t end_day, size_t n,
    struct errctx *ec)
{
	struct md_bar *bars = xcalloc(n ? n : 1, sizeof(*bars));
	char *name = xstrdup(symbol), *path, *p, date[16];
	FILE *f;
	size_t i;
	int r = 0;

	for (p = name; *p != '\0'; p++)
		if (*p == '/')
			*p = '.';
	path = xasprintf("%s/%s.csv", dir, name);
	dsl_sample_bars(symbol, seed, end_day, n, bars);
	f = fopen(path, "w");
	if (f == NULL) {
		r = errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	fputs("date,open,high,low,close,volume\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s,%.4f,%.4f,%.4f,%.4f,%.0f\n", dsl_format_date(bars[i].day, date),
		    bars[i].open, bars[i].high, bars[i].low, bars[i].close, bars[i].volume);
	if (fclose(f) != 0)
		r = errctx_set(ec, -EIO, "%s: write failed", path);
out:
	free(path);
	free(name);
	free(bars);
	return r;
}
