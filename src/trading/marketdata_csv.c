/* marketdata seam over a directory of CSV files (the embedded default and
 * `--evaluate --data DIR`): DIR/SYMBOL.csv, "date,open,high,low,close,volume",
 * ascending dates. A ticker with '/' (BRK/B) is read from BRK.B.csv. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"

#define CSV_MAX_FILE (64u * 1024 * 1024)

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
	struct md_bar *bars = NULL;
	size_t n = 0, cap = 0, pos = 0, lineno = 0;
	int r;

	*ret = NULL;
	*ret_n = 0;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		char buf[256], date[16];
		struct md_bar b;
		int consumed = 0;

		pos += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		if (ll >= sizeof(buf)) {
			r = errctx_set(ec, -EBADMSG, "line %zu: too long", lineno);
			goto fail;
		}
		memcpy(buf, line, ll);
		buf[ll] = '\0';
		if (lineno == 1) {
			if (strcmp(buf, header) != 0) {
				r = errctx_set(ec, -EBADMSG, "line 1: header must be '%s'", header);
				goto fail;
			}
			continue;
		}
		if (sscanf(buf, "%10[0-9-],%lf,%lf,%lf,%lf,%lf%n", date, &b.open, &b.high, &b.low,
		    &b.close, &b.volume, &consumed) != 6 || buf[consumed] != '\0') {
			r = errctx_set(ec, -EBADMSG, "line %zu: expected date,open,high,low,close,volume",
			    lineno);
			goto fail;
		}
		if (dsl_parse_date(date, &b.day, NULL) < 0) {
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
			cap = cap ? 2 * cap : 512;
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
