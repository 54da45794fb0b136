/*
 * svgchart: see include/alchemiser/core/svgchart.h. The output is a pure
 * function of the description (no clock, no randomness, "%.2f" coordinates in
 * the C locale), so a report built twice from the same data is byte-identical.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/svgchart.h"
#include "alchemiser/core/xalloc.h"

#define SVGCHART_SERIES_MAX	64
#define SVGCHART_POINTS_MAX	1000000

struct sbuf {
	char	*d;
	size_t	 len;
	size_t	 cap;
};

/* Plot geometry: the data rectangle in pixels and the y domain it shows. */
struct frame {
	double	x0, x1, y0, y1;		/* left, right, top, bottom */
	double	lo, hi;			/* y domain (log10 of it when log) */
	bool	log;
	size_t	n;
	bool	bands;			/* bars: one band per point */
};

static void	sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void	sb_escaped(struct sbuf *b, const char *s);
static bool	color_ok(const char *c);
static bool	id_ok(const char *id);
static const char *series_color(const struct svgchart *c, size_t s);
static double	value(const struct svgchart *c, size_t s, size_t i);
static double	nice_step(double span, int target);
static int	data_range(const struct svgchart *c, double *lo, double *hi, struct errctx *ec);
static double	px_x(const struct frame *f, size_t i);
static double	px_y(const struct frame *f, double v);
static void	draw_axes(struct sbuf *b, const struct svgchart *c, const struct frame *f,
		    const double *ticks, size_t nticks, int decimals);
static void	draw_line(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s);
static void	draw_area(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s,
		    const double *below, const double *top);
static void	draw_bars(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s);
static void	draw_legend(struct sbuf *b, const struct svgchart *c, double x, double y);
static void	write_desc(struct sbuf *b, const struct svgchart *c);

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
static const char *const kind_names[] = {
	[SVGCHART_LINE] = "Line chart", [SVGCHART_AREA] = "Area chart",
	[SVGCHART_STACKED] = "Stacked area chart", [SVGCHART_BAR] = "Bar chart",
};

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->d ? b->d + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();	/* only an invalid format can get here */
		if (b->len + (size_t)n < b->cap)
			break;
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->d = xreallocarray(b->d, b->cap, 1);
	}
	b->len += (size_t)n;
}

static void
sb_escaped(struct sbuf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': sb_printf(b, "&amp;"); break;
		case '<': sb_printf(b, "&lt;"); break;
		case '>': sb_printf(b, "&gt;"); break;
		case '"': sb_printf(b, "&quot;"); break;
		case '\'': sb_printf(b, "&#39;"); break;
		default:
			/* Control characters are not allowed in XML 1.0 text. */
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				sb_printf(b, " ");
			else
				sb_printf(b, "%c", *s);
		}
	}
}

static bool
color_ok(const char *c)
{
	size_t n;

	if (c == NULL || c[0] != '#')
		return false;
	n = strlen(c + 1);
	if (n != 3 && n != 6)
		return false;
	for (size_t i = 1; i <= n; i++)
		if (!isxdigit((unsigned char)c[i]))
			return false;
	return true;
}

static bool
id_ok(const char *id)
{
	if (id[0] == '\0' || strlen(id) > 64)
		return false;
	for (; *id != '\0'; id++)
		if (!isalnum((unsigned char)*id) && *id != '-' && *id != '_')
			return false;
	return true;
}

static const char *
series_color(const struct svgchart *c, size_t s)
{
	if (c->series[s].color != NULL)
		return c->series[s].color;
	return palette[s % ELEMENTSOF(palette)];
}

/* The value as drawn: a gap (NAN) for what cannot be drawn. */
static double
value(const struct svgchart *c, size_t s, size_t i)
{
	double v = c->series[s].y[i];

	if (!isfinite(v) || (c->log_y && v <= 0))
		return NAN;
	return v;
}

/* A 1, 2 or 5 times a power of ten close to span/target. */
static double
nice_step(double span, int target)
{
	double raw = span / target, mag = pow(10, floor(log10(raw))), f = raw / mag;

	if (f < 1.5)
		return mag;
	if (f < 3.5)
		return 2 * mag;
	if (f < 7.5)
		return 5 * mag;
	return 10 * mag;
}

static int
data_range(const struct svgchart *c, double *lo, double *hi, struct errctx *ec)
{
	double mn = INFINITY, mx = -INFINITY;

	for (size_t i = 0; i < c->n; i++) {
		double stack = 0;

		for (size_t s = 0; s < c->nseries; s++) {
			double v = value(c, s, i);

			if (c->kind == SVGCHART_STACKED) {
				/* Negative shares cannot be stacked; they draw as zero. */
				stack += isfinite(v) && v > 0 ? v : 0;
				v = stack;
			}
			if (isnan(v))
				continue;
			mn = fmin(mn, v);
			mx = fmax(mx, v);
		}
	}
	if (!isfinite(mn)) {
		if (c->log_y)
			return errctx_set(ec, -EINVAL, "chart '%s': no positive value for a log scale",
			    c->title);
		mn = mx = 0;
	}
	if (c->kind != SVGCHART_LINE) {
		/* Areas and bars are measured from zero. */
		mn = fmin(mn, 0);
		mx = fmax(mx, 0);
	}
	if (mx - mn <= fabs(mx) * 1e-12) {
		double pad = mx != 0 ? fabs(mx) * 0.1 : 1;

		mx += pad;
		if (!c->log_y && !(c->kind != SVGCHART_LINE && mn == 0))
			mn -= pad;
		else if (c->log_y)
			mn /= 1.1;
	}
	*lo = mn;
	*hi = mx;
	return 0;
}

static double
px_x(const struct frame *f, size_t i)
{
	if (f->bands)
		return f->x0 + (f->x1 - f->x0) * ((double)i + 0.5) / (double)f->n;
	if (f->n == 1)
		return (f->x0 + f->x1) / 2;
	return f->x0 + (f->x1 - f->x0) * (double)i / (double)(f->n - 1);
}

static double
px_y(const struct frame *f, double v)
{
	double t;

	if (f->log)
		v = log10(v);
	t = (v - f->lo) / (f->hi - f->lo);
	return f->y1 - t * (f->y1 - f->y0);
}

void
svgchart_format(enum svgchart_unit unit, double v, int decimals, char *buf, size_t size)
{
	const char *prefix = unit == SVGCHART_UNIT_MONEY ? "$" : "", *suffix = "";
	char digits[64], grouped[96];
	double a;
	size_t n, k = 0, intlen;
	bool neg;

	if (size == 0)
		return;
	if (!isfinite(v)) {
		snprintf(buf, size, "n/a");
		return;
	}
	if (unit == SVGCHART_UNIT_PERCENT) {
		v *= 100;
		suffix = "%";
	}
	neg = v < 0;
	a = fabs(v);
	if (unit != SVGCHART_UNIT_PERCENT && a >= 1e9) {
		a /= 1e9;
		suffix = "B";
		decimals = decimals < 0 ? (a == floor(a) ? 0 : 1) : decimals;
	} else if (unit != SVGCHART_UNIT_PERCENT && a >= 1e6) {
		a /= 1e6;
		suffix = "M";
		decimals = decimals < 0 ? (a == floor(a) ? 0 : 1) : decimals;
	} else if (unit != SVGCHART_UNIT_PERCENT && a >= 1e4) {
		a /= 1e3;
		suffix = "k";
		/* "$90k" beside "$100k"; "$12.3k" where the digit matters. */
		decimals = decimals < 0 ? (a == floor(a) ? 0 : 1) : decimals;
	}
	if (decimals < 0)
		decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a > 0 ? 3 : 0;
	if (decimals > 10)
		decimals = 10;
	snprintf(digits, sizeof digits, "%.*f", decimals, a);
	if (strspn(digits, "0.") == strlen(digits))
		neg = false;	/* no "-0" */
	/* Thousands separators in the integer part. */
	intlen = strcspn(digits, ".");
	for (n = 0; digits[n] != '\0' && k + 2 < sizeof grouped; n++) {
		if (n > 0 && n < intlen && (intlen - n) % 3 == 0)
			grouped[k++] = ',';
		grouped[k++] = digits[n];
	}
	grouped[k] = '\0';
	snprintf(buf, size, "%s%s%s%s", neg ? "-" : "", prefix, grouped, suffix);
}

static void
draw_axes(struct sbuf *b, const struct svgchart *c, const struct frame *f,
    const double *ticks, size_t nticks, int decimals)
{
	size_t nx, step;
	char label[64];

	sb_printf(b, "<g class=\"axes\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#444\">");
	for (size_t t = 0; t < nticks; t++) {
		double y = px_y(f, ticks[t]);

		svgchart_format(c->unit, ticks[t], decimals, label, sizeof label);
		sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>",
		    f->x0, y, f->x1, y);
		sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>",
		    f->x0 - 6, y + 4, label);
	}
	/* x ticks: every band when they fit, else about seven spread evenly. */
	nx = (size_t)((f->x1 - f->x0) / 70);
	nx = nx < 2 ? 2 : nx;
	step = c->n <= nx ? 1 : (c->n + nx - 1) / nx;
	for (size_t i = 0; i < c->n; i += step) {
		double x = px_x(f, i);

		sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444\"/>",
		    x, f->y1, x, f->y1 + 4);
		sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", x, f->y1 + 16);
		if (c->x_labels != NULL)
			sb_escaped(b, c->x_labels[i]);
		else
			sb_printf(b, "%zu", i);
		sb_printf(b, "</text>");
	}
	sb_printf(b, "<path class=\"axis\" d=\"M%.2f %.2fV%.2fH%.2f\" fill=\"none\" stroke=\"#444\"/>",
	    f->x0, f->y0, f->y1, f->x1);
	if (!f->log && f->lo < 0 && f->hi > 0)
		sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#888\"/>",
		    f->x0, px_y(f, 0), f->x1, px_y(f, 0));
	sb_printf(b, "</g>");
}

static void
draw_line(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s)
{
	bool pen = false;

	sb_printf(b, "<path class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
	    "stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"", series_color(c, s));
	for (size_t i = 0; i < c->n; i++) {
		double v = value(c, s, i);

		if (isnan(v)) {
			pen = false;
			continue;
		}
		sb_printf(b, "%s%.2f %.2f", pen ? "L" : "M", px_x(f, i), px_y(f, v));
		/* A lone point still shows as a dot (round cap on a zero-length segment). */
		if (!pen && (i + 1 == c->n || isnan(value(c, s, i + 1))))
			sb_printf(b, "h0");
		pen = true;
	}
	sb_printf(b, "\"/>");
	/* A 1.5-pixel dot is easy to miss: the first day of an equity curve is
	 * one point, so lone points also get a marker the eye finds. */
	for (size_t i = 0; i < c->n; i++) {
		double v = value(c, s, i);

		if (isnan(v) || (i > 0 && !isnan(value(c, s, i - 1))) ||
		    (i + 1 < c->n && !isnan(value(c, s, i + 1))))
			continue;
		sb_printf(b, "<circle class=\"point\" cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>",
		    px_x(f, i), px_y(f, v), series_color(c, s));
	}
}

/* A filled band between below[] and top[] (data units). */
static void
draw_area(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s,
    const double *below, const double *top)
{
	const char *col = series_color(c, s);

	sb_printf(b, "<path class=\"series\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\" "
	    "stroke-width=\"1\" d=\"", col, c->kind == SVGCHART_AREA ? "0.3" : "0.85", col);
	for (size_t i = 0; i < c->n; i++)
		sb_printf(b, "%s%.2f %.2f", i == 0 ? "M" : "L", px_x(f, i), px_y(f, top[i]));
	for (size_t i = c->n; i-- > 0;)
		sb_printf(b, "L%.2f %.2f", px_x(f, i), px_y(f, below[i]));
	sb_printf(b, "Z\"/>");
}

static void
draw_bars(struct sbuf *b, const struct svgchart *c, const struct frame *f, size_t s)
{
	double band = (f->x1 - f->x0) / (double)c->n, w = band * 0.8 / (double)c->nseries;
	double base = px_y(f, 0);
	bool split = c->sign_colors && c->nseries == 1;

	for (int pass = 0; pass < (split ? 2 : 1); pass++) {
		bool any = false;

		for (size_t i = 0; i < c->n; i++) {
			double v = value(c, s, i), x;

			if (isnan(v) || v == 0 || (split && (pass == 0) != (v > 0)))
				continue;
			if (!any)
				sb_printf(b, "<path class=\"series\" fill=\"%s\" d=\"",
				    pass == 1 ? "#d62728" : series_color(c, s));
			any = true;
			x = f->x0 + band * (double)i + band * 0.1 + w * (double)s;
			sb_printf(b, "M%.2f %.2fV%.2fH%.2fV%.2fZ", x, base, px_y(f, v), x + w, base);
		}
		if (any)
			sb_printf(b, "\"/>");
	}
}

static void
draw_legend(struct sbuf *b, const struct svgchart *c, double x, double y)
{
	sb_printf(b, "<g class=\"legend\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#222\">");
	for (size_t s = 0; s < c->nseries; s++) {
		const char *name = c->series[s].name;

		sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"10\" height=\"10\" fill=\"%s\"/>",
		    x, y - 9, series_color(c, s));
		sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\">", x + 14, y);
		if (name != NULL)
			sb_escaped(b, name);
		else
			sb_printf(b, "series %zu", s + 1);
		sb_printf(b, "</text>");
		/* Roughly 6.5 px per character at 11 px sans-serif. */
		x += 24 + 6.5 * (double)(name != NULL ? strlen(name) : 8);
	}
	sb_printf(b, "</g>");
}

/* The text equivalent: what a screen reader says instead of the picture. */
static void
write_desc(struct sbuf *b, const struct svgchart *c)
{
	char v[64];

	sb_printf(b, "%s%s, %zu point%s", kind_names[c->kind], c->log_y ? " (log scale)" : "",
	    c->n, c->n == 1 ? "" : "s");
	if (c->x_labels != NULL) {
		sb_printf(b, " from ");
		sb_escaped(b, c->x_labels[0]);
		sb_printf(b, " to ");
		sb_escaped(b, c->x_labels[c->n - 1]);
	}
	sb_printf(b, ".");
	for (size_t s = 0; s < c->nseries; s++) {
		double first = NAN, last = NAN, mn = INFINITY, mx = -INFINITY;

		for (size_t i = 0; i < c->n; i++) {
			double x = c->series[s].y[i];

			if (!isfinite(x))
				continue;
			if (isnan(first))
				first = x;
			last = x;
			mn = fmin(mn, x);
			mx = fmax(mx, x);
		}
		sb_printf(b, " ");
		if (c->series[s].name != NULL)
			sb_escaped(b, c->series[s].name);
		else
			sb_printf(b, "series %zu", s + 1);
		if (isnan(first)) {
			sb_printf(b, ": no values.");
			continue;
		}
		svgchart_format(c->unit, first, -1, v, sizeof v);
		sb_printf(b, ": first %s", v);
		svgchart_format(c->unit, last, -1, v, sizeof v);
		sb_printf(b, ", last %s", v);
		svgchart_format(c->unit, mn, -1, v, sizeof v);
		sb_printf(b, ", minimum %s", v);
		svgchart_format(c->unit, mx, -1, v, sizeof v);
		sb_printf(b, ", maximum %s.", v);
	}
}

int
svgchart_render(const struct svgchart *c, char **ret, struct errctx *ec)
{
	struct sbuf b = { 0 };
	struct frame f = { 0 };
	double lo = 0, hi = 1, ticks[64], *below = NULL, *top = NULL;
	int w, h, decimals = 0, r;
	size_t nticks = 0;
	char id[80];

	*ret = NULL;
	if (c->title == NULL || c->title[0] == '\0')
		return errctx_set(ec, -EINVAL, "chart without a title");
	if ((unsigned)c->kind >= _SVGCHART_KIND_MAX || (unsigned)c->unit >= _SVGCHART_UNIT_MAX)
		return errctx_set(ec, -EINVAL, "chart '%s': unknown kind or unit", c->title);
	if (c->n == 0 || c->n > SVGCHART_POINTS_MAX || c->nseries == 0 ||
	    c->nseries > SVGCHART_SERIES_MAX || c->series == NULL)
		return errctx_set(ec, -EINVAL, "chart '%s': %zu points in %zu series (want 1..%d, 1..%d)",
		    c->title, c->n, c->nseries, SVGCHART_POINTS_MAX, SVGCHART_SERIES_MAX);
	if (c->log_y && c->kind != SVGCHART_LINE)
		return errctx_set(ec, -EINVAL, "chart '%s': a log scale is for line charts only", c->title);
	if (c->id != NULL && !id_ok(c->id))
		return errctx_set(ec, -EINVAL, "chart '%s': id must be 1-64 of [A-Za-z0-9_-]", c->title);
	if (c->width < 0 || c->height < 0 || c->width > 10000 || c->height > 10000)
		return errctx_set(ec, -EINVAL, "chart '%s': size %dx%d", c->title, c->width, c->height);
	for (size_t s = 0; s < c->nseries; s++) {
		if (c->series[s].y == NULL)
			return errctx_set(ec, -EINVAL, "chart '%s': series %zu has no values", c->title, s);
		if (c->series[s].color != NULL && !color_ok(c->series[s].color))
			return errctx_set(ec, -EINVAL, "chart '%s': colour of series %zu is not #rgb or #rrggbb",
			    c->title, s);
	}
	r = data_range(c, &lo, &hi, ec);
	if (r < 0)
		return r;

	w = c->width > 0 ? c->width : 720;
	h = c->height > 0 ? c->height : 300;
	f.x0 = 72;
	f.x1 = w - 16;
	f.y0 = c->nseries > 1 ? 50 : 34;
	f.y1 = h - 28;
	if (f.x1 - f.x0 < 20 || f.y1 - f.y0 < 20)
		return errctx_set(ec, -EINVAL, "chart '%s': %dx%d is too small", c->title, w, h);
	f.n = c->n;
	f.bands = c->kind == SVGCHART_BAR;
	f.log = c->log_y;

	if (f.log) {
		/* 1-2-5 ticks per decade; 1..9 when the range is under two decades. */
		static const double steps125[] = { 1, 2, 5 }, steps19[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
		double llo = log10(lo), lhi = log10(hi), pad = (lhi - llo) * 0.04;
		bool fine = lhi - llo < 1.3;
		const double *st = fine ? steps19 : steps125;
		size_t nst = fine ? ELEMENTSOF(steps19) : ELEMENTSOF(steps125);

		f.lo = llo - pad;
		f.hi = lhi + pad;
		for (int e = (int)floor(f.lo); e <= (int)ceil(f.hi) && nticks < ELEMENTSOF(ticks); e++)
			for (size_t k = 0; k < nst && nticks < ELEMENTSOF(ticks); k++) {
				double t = st[k] * pow(10, e);

				if (log10(t) >= f.lo && log10(t) <= f.hi)
					ticks[nticks++] = t;
			}
		if (nticks >= 2) {
			/* Thin out ticks closer than a label's height (1..9 in a tall decade). */
			size_t k = 1;
			double last = ticks[0];

			for (size_t t = 1; t < nticks; t++)
				if (fabs(px_y(&f, ticks[t]) - px_y(&f, last)) >= 16)
					last = ticks[k++] = ticks[t];
			nticks = k;
		}
		if (nticks < 2) {
			/* Under a tenth of a decade: linear ticks placed on the log axis. */
			double step = nice_step(hi - lo, 4);

			nticks = 0;
			for (double t = ceil(lo / step) * step; t <= hi && nticks < ELEMENTSOF(ticks); t += step)
				ticks[nticks++] = t;
			decimals = step >= 1 ? 0 : (int)ceil(-log10(step));
		} else {
			decimals = ticks[0] >= 1 ? 0 : (int)ceil(-log10(ticks[0]));
		}
		if (c->unit != SVGCHART_UNIT_PERCENT && ticks[0] >= 1e4)
			decimals = -1;	/* abbreviated: "$90k" */
	} else {
		double step = nice_step(hi - lo, 5), unit_step = step;

		/* A rounding error past a tick (weights summing to 1 + 1e-16) is
		 * not worth another step of axis. */
		f.lo = floor(lo / step + 1e-9) * step;
		f.hi = ceil(hi / step - 1e-9) * step;
		for (int k = 0; nticks < ELEMENTSOF(ticks); k++) {
			double t = f.lo + step * k;

			if (t > f.hi + step * 1e-9)
				break;
			ticks[nticks++] = fabs(t) < step * 1e-9 ? 0 : t;
		}
		if (c->unit == SVGCHART_UNIT_PERCENT)
			unit_step *= 100;
		if (c->unit != SVGCHART_UNIT_PERCENT && fmax(fabs(f.lo), fabs(f.hi)) >= 1e4)
			decimals = -1;	/* abbreviated: let the formatter pick */
		else
			decimals = unit_step >= 1 ? 0 : (int)ceil(-log10(unit_step) - 1e-9);
	}

	if (c->id != NULL)
		snprintf(id, sizeof id, "%s", c->id);
	else {
		/* Stable per title, so two charts on one page get distinct ids. */
		uint32_t hsh = 2166136261u;

		for (const char *p = c->title; *p != '\0'; p++)
			hsh = (hsh ^ (unsigned char)*p) * 16777619u;
		snprintf(id, sizeof id, "svgchart-%08x", hsh);
	}

	sb_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svgchart\" id=\"%s\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-labelledby=\"%s-title %s-desc\">", id, w, h, w, h, id, id);
	sb_printf(&b, "<title id=\"%s-title\">", id);
	sb_escaped(&b, c->title);
	sb_printf(&b, "</title><desc id=\"%s-desc\">", id);
	write_desc(&b, c);
	sb_printf(&b, "</desc>");
	sb_printf(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", w, h);
	sb_printf(&b, "<text x=\"%.2f\" y=\"18\" font-family=\"sans-serif\" font-size=\"14\" "
	    "font-weight=\"bold\" fill=\"#222\">", f.x0);
	sb_escaped(&b, c->title);
	sb_printf(&b, "</text>");
	if (c->nseries > 1)
		draw_legend(&b, c, f.x0, 38);
	draw_axes(&b, c, &f, ticks, nticks, decimals);

	sb_printf(&b, "<g class=\"data\">");
	if (c->kind == SVGCHART_AREA || c->kind == SVGCHART_STACKED) {
		below = xcalloc(c->n, sizeof *below);
		top = xcalloc(c->n, sizeof *top);
	}
	for (size_t s = 0; s < c->nseries; s++) {
		switch (c->kind) {
		case SVGCHART_LINE:
			draw_line(&b, c, &f, s);
			break;
		case SVGCHART_AREA:
		case SVGCHART_STACKED:
			for (size_t i = 0; i < c->n; i++) {
				double v = value(c, s, i);

				v = isnan(v) ? 0 : v;
				if (c->kind == SVGCHART_STACKED) {
					below[i] = s == 0 ? 0 : top[i];
					top[i] = below[i] + (v > 0 ? v : 0);
				} else {
					below[i] = 0;
					top[i] = v;
				}
			}
			draw_area(&b, c, &f, s, below, top);
			break;
		case SVGCHART_BAR:
			draw_bars(&b, c, &f, s);
			break;
		case _SVGCHART_KIND_MAX:
			break;
		}
	}
	free(below);
	free(top);
	sb_printf(&b, "</g></svg>");
	*ret = b.d;
	return 0;
}
