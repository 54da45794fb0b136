/* marketdata seam over a directory of CSV files (the embedded default and
 * `--evaluate --data DIR`): DIR/SYMBOL.csv, "date,open,high,low,close,volume",
 * ascending dates. A ticker with '/' (BRK/B) is read from BRK.B.csv. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"

#define CSV_MAX_FILE (64u * 1024 * 1024)
#define LINE_MAX_BYTES 256

struct md_csv {
	struct marketdata md;
	char		*dir;
};

static char	*symbol_path(const struct md_csv *c, const char *symbol);
static int	read_file(const char *path, char **ret, size_t *len, struct errctx *ec);
static int	csv_daily_bars(struct marketdata *md, const char *const *symbols, size_t n,
	    int64_t as_of_day, size_t lookback, struct md_series *out, struct errctx *ec);
static int	csv_latest_quote(struct marketdata *md, const char *symbol, struct md_quote *ret,
	    struct errctx *ec);
static void	csv_free(struct marketdata *md);
static int64_t	first_day(const char *text, size_t len);
static int	check_prices(const struct md_bar *b, size_t lineno, struct errctx *ec);
static bool	fast_decimal(const char *s, size_t n, double *ret);
static int	parse_number(const char *s, size_t n, double *ret);
static int	parse_bar(const char *line, size_t len, struct md_bar *b, char *date);
struct month_memo;
static bool	fast_bar(const char *s, size_t n, struct month_memo *mm, struct md_bar *b);

static const struct marketdata_ops csv_ops = {
	.name = "csv",
	.daily_bars = csv_daily_bars,
	.latest_quote = csv_latest_quote,
	.free = csv_free,
};

static int
check_prices(const struct md_bar *b, size_t lineno, struct errctx *ec)
{
	const double v[5] = { b->open, b->high, b->low, b->close, b->volume };
	static const char *const name[5] = { "open", "high", "low", "close", "volume" };
	size_t i;

	for (i = 0; i < 5; i++) {
		if (i < 4 && !(isfinite(v[i]) && v[i] > 0))
			return errctx_set(ec, -EBADMSG, "line %zu: %s must be a finite number > 0, got %g",
			    lineno, name[i], v[i]);
		if (i == 4 && !(isfinite(v[i]) && v[i] >= 0))
			return errctx_set(ec, -EBADMSG, "line %zu: volume must be a finite number >= 0, got %g",
			    lineno, v[i]);
	}
	return 0;
}

/* Plain decimals ("14.9735", "724531": what every bar file holds) of at
 * most 15 digits: the digits as an integer, exact in a double (< 2^53),
 * divided by an exact power of ten is the correctly rounded value, the one
 * strtod returns (Clinger's fast path). Anything else goes to strtod. */
static bool
fast_decimal(const char *s, size_t n, double *ret)
{
	static const double pow10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	    1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	uint64_t m = 0;
	size_t i, digits = 0, frac = 0;
	bool dot = false;

	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			m = m * 10 + (uint64_t)(s[i] - '0');
			digits++;
			frac += dot;
		} else if (s[i] == '.' && !dot) {
			dot = true;
		} else {
			return false;
		}
	}
	if (digits == 0 || digits > 15)
		return false;
	*ret = (double)m / pow10[frac];
	return true;
}

/* One numeric field of n bytes, wholly a number (as sscanf's %lf took it:
 * strtod's syntax, so inf and NaN parse and check_prices refuses them). */
static int
parse_number(const char *s, size_t n, double *ret)
{
	char buf[64], *end;

	if (fast_decimal(s, n, ret))
		return 0;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*ret = strtod(buf, &end);
	return end == buf + n ? 0 : -1;
}

/* "date,open,high,low,close,volume" without its newline; date gets the
 * date field (at most 10 of [0-9-], as the format's %10[0-9-] took it). */
static int
parse_bar(const char *line, size_t len, struct md_bar *b, char *date)
{
	double *const field[5] = { &b->open, &b->high, &b->low, &b->close, &b->volume };
	const char *p = line, *end = line + len, *comma;
	size_t k, n;

	comma = memchr(p, ',', len);
	if (comma == NULL || comma == p || comma - p > 10)
		return -1;
	for (n = 0; p + n < comma; n++) {
		if (!((p[n] >= '0' && p[n] <= '9') || p[n] == '-'))
			return -1;
		date[n] = p[n];
	}
	date[n] = '\0';
	p = comma + 1;
	for (k = 0; k < 5; k++) {
		comma = k < 4 ? memchr(p, ',', (size_t)(end - p)) : end;
		if (comma == NULL || parse_number(p, (size_t)(comma - p), field[k]) < 0)
			return -1;
		p = comma + 1;
	}
	return 0;
}

/* The month of the previous row: its first day and length (rows of a month
 * share them, so a date costs a few digit checks). */
struct month_memo {
	unsigned	y, m;		/* m == 0: none yet */
	int64_t		first;
	unsigned	len;
};

/* The shape of every generated and downloaded row in one pass:
 * "YYYY-MM-DD," then five plain decimals (fast_decimal's syntax and values)
 * separated by commas. A valid date gives what dsl_parse_date gives (the
 * proleptic Gregorian day; month 1-12, day within the month). false for
 * anything else, which the general path (parse_bar, dsl_parse_date) reads
 * or refuses with its messages. */
static bool
fast_bar(const char *s, size_t n, struct month_memo *mm, struct md_bar *b)
{
	static const double pow10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	    1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	double *const field[5] = { &b->open, &b->high, &b->low, &b->close, &b->volume };
	static const unsigned char dpos[8] = { 0, 1, 2, 3, 5, 6, 8, 9 };
	unsigned dig[8], y, m, d, k;
	size_t i;

	if (n < 11 || s[4] != '-' || s[7] != '-' || s[10] != ',')
		return false;
	for (k = 0; k < 8; k++) {
		dig[k] = (unsigned)(unsigned char)s[dpos[k]] - '0';
		if (dig[k] > 9)
			return false;
	}
	y = dig[0] * 1000 + dig[1] * 100 + dig[2] * 10 + dig[3];
	m = dig[4] * 10 + dig[5];
	d = dig[6] * 10 + dig[7];
	if (m != mm->m || y != mm->y) {
		if (m < 1 || m > 12)
			return false;
		mm->first = time_days_from_civil((int)y, m, 1);
		mm->len = (unsigned)((m == 12 ? time_days_from_civil((int)y + 1, 1, 1) :
		    time_days_from_civil((int)y, m + 1, 1)) - mm->first);
		mm->y = y;
		mm->m = m;
	}
	if (d < 1 || d > mm->len)
		return false;
	b->day = mm->first + (int64_t)d - 1;
	for (i = 11, k = 0; k < 5; k++) {
		uint64_t v = 0;
		size_t start = i, frac = 0, digits;
		unsigned c;

		/* digits, then an optional dot and digits */
		for (; i < n && (c = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
			v = v * 10 + c;
		if (i < n && s[i] == '.') {
			size_t f0 = ++i;

			for (; i < n && (c = (unsigned)(unsigned char)s[i] - '0') <= 9; i++)
				v = v * 10 + c;
			frac = i - f0;
			start++;	/* the dot is not a digit */
		}
		digits = i - start;
		if ((i < n && s[i] != ',') || digits == 0 || digits > 15)
			return false;
		*field[k] = (double)v / pow10[frac];
		if (k < 4 && i++ >= n)	/* step over the comma; a row of fewer fields */
			return false;
	}
	return i == n;	/* a comma after the volume: the general path refuses it */
}

void
md_series_clear(struct md_series *s)
{
	if (s == NULL)
		return;
	free(s->symbol);
	free(s->bars);
	memset(s, 0, sizeof(*s));
}

int
marketdata_csv_parse(const char *text, size_t len, int64_t as_of_day, struct md_bar **ret,
    size_t *ret_n, struct errctx *ec)
{
	static const char header[] = "date,open,high,low,close,volume";
	struct month_memo mm = { 0 };
	struct md_bar *bars = NULL;
	size_t n = 0, cap = 0, pos = 0, lineno = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		char date[16];
		struct md_bar b;

		pos += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		if (ll >= LINE_MAX_BYTES) {
			r = errctx_set(ec, -EBADMSG, "line %zu: too long", lineno);
			goto fail;
		}
		if (lineno == 1) {
			if (ll != sizeof(header) - 1 || memcmp(line, header, ll) != 0) {
				r = errctx_set(ec, -EBADMSG, "line 1: header must be '%s'", header);
				goto fail;
			}
			continue;
		}
		/* A purpose-built reader: sscanf and strtod were most of a cold
		 * --evaluate (issue 14); the same syntax and every check stay. */
		memset(&b, 0, sizeof(b));
		if (fast_bar(line, ll, &mm, &b)) {
			/* the common row, read in one pass */
		} else if (parse_bar(line, ll, &b, date) < 0) {
			r = errctx_set(ec, -EBADMSG, "line %zu: expected date,open,high,low,close,volume",
			    lineno);
			goto fail;
		} else if (dsl_parse_date(date, &b.day, NULL) < 0) {
			r = errctx_set(ec, -EBADMSG, "line %zu: bad date '%s'", lineno, date);
			goto fail;
		}
		/* inf, NaN, zero or negative in any price column would poison every
		 * indicator reading it: refuse the file, naming the line. */
		if ((r = check_prices(&b, lineno, ec)) < 0)
			goto fail;
		if (n > 0 && b.day <= bars[n - 1].day) {
			r = errctx_set(ec, -EBADMSG, "line %zu: dates must be strictly ascending", lineno);
			goto fail;
		}
		if (b.day > as_of_day)
			break;
		if (n == cap) {
			/* First as many as rows of 40 bytes fill the file (daily
			 * bars are 45-55): one allocation, no copies, for most. */
			cap = cap ? 2 * cap : len / 40 + 16;
			bars = xreallocarray(bars, cap, sizeof(*bars));
		}
		bars[n++] = b;
	}
	if (lineno == 0) {
		r = errctx_set(ec, -EBADMSG, "line 1: empty file");
		goto fail;
	}
	*ret = bars;
	*ret_n = n;
	return 0;
fail:
	free(bars);
	return r;
}

static char *
symbol_path(const struct md_csv *c, const char *symbol)
{
	char *name = xstrdup(symbol), *s;

	for (s = name; *s != '\0'; s++) {
		if (*s == '/')
			*s = '.';
		/* Never a path outside the directory. */
		else if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			*s = '_';
	}
	s = name[0] == '.' ? NULL : xasprintf("%s/%s.csv", c->dir, name);
	free(name);
	return s;
}

static int
read_file(const char *path, char **ret, size_t *len, struct errctx *ec)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	*ret = NULL;
	if (f == NULL)
		return errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || (size_t)st.st_size > CSV_MAX_FILE) {
		fclose(f);
		return errctx_set(ec, -E2BIG, "%s: too large", path);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	buf[*len] = '\0';
	*ret = buf;
	return 0;
}

/* The first bar's day of a file with no bar on or before the as-of day (0
 * when it has none): "before its data starts", not "no data". */
static int64_t
first_day(const char *text, size_t len)
{
	struct md_bar *bars = NULL;
	size_t n = 0;
	int64_t d = 0;

	if (marketdata_csv_parse(text, len, INT64_MAX, &bars, &n, NULL) == 0 && n > 0)
		d = bars[0].day;
	free(bars);
	return d;
}

static int
csv_daily_bars(struct marketdata *md, const char *const *symbols, size_t n, int64_t as_of_day,
    size_t lookback, struct md_series *out, struct errctx *ec)
{
	struct md_csv *c = (struct md_csv *)md;
	size_t i;
	int r;

	(void)lookback;	/* a local file is read whole */
	memset(out, 0, n * sizeof(*out));
	for (i = 0; i < n; i++) {
		char *path = symbol_path(c, symbols[i]), *text;
		size_t len = 0;

		out[i].symbol = xstrdup(symbols[i]);
		if (path == NULL || access(path, F_OK) != 0) {
			free(path);
			continue;	/* unknown ticker: n = 0 */
		}
		r = read_file(path, &text, &len, ec);
		if (r == 0) {
			r = marketdata_csv_parse(text, len, as_of_day, &out[i].bars, &out[i].n, ec);
			if (r == 0 && out[i].n == 0)
				out[i].later_day = first_day(text, len);
			free(text);
			if (r < 0)
				errctx_prefix(ec, "%s", path);
		}
		free(path);
		if (r < 0) {
			for (size_t k = 0; k <= i; k++)
				md_series_clear(&out[k]);
			return r;
		}
	}
	return 0;
}

static int
csv_latest_quote(struct marketdata *md, const char *symbol, struct md_quote *ret,
    struct errctx *ec)
{
	struct md_series s;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = csv_daily_bars(md, &symbol, 1, INT64_MAX, 1, &s, ec)) < 0)
		return r;
	if (s.n == 0) {
		md_series_clear(&s);
		return errctx_set(ec, -ENOENT, "no data for %s", symbol);
	}
	ret->bid = ret->ask = ret->price = s.bars[s.n - 1].close;
	md_series_clear(&s);
	return 0;
}

static void
csv_free(struct marketdata *md)
{
	struct md_csv *c = (struct md_csv *)md;

	if (c == NULL)
		return;
	free(c->dir);
	free(c);
}

struct marketdata *
marketdata_csv_new(const char *dir, struct errctx *ec)
{
	struct md_csv *c;
	struct stat st;

	if (dir == NULL || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		errctx_set(ec, -ENOENT, "market data directory '%s' does not exist", dir ? dir : "");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->md.ops = &csv_ops;
	c->dir = xstrdup(dir);
	return &c->md;
}
