/*
 * backtest_report: what a backtest writes: the JSON summary, the CSV files
 * (every number with %.17g, so a reader recomputes the statistics exactly)
 * and one self-contained HTML report: inline CSS, inline SVG charts from
 * core/svgchart, no script, nothing fetched. Summary cells carry the exact
 * value in data-value beside the rounded text, so a test (or a trader's
 * tool) can read the numbers back without parsing prose.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/svgchart.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/backtest.h"
#include "alchemiser/trading/calendar.h"

#define FAILURES_IN_JSON	100
#define ALLOC_SERIES_MAX	10	/* symbols drawn before "other" */

struct fig {
	double	turnover, turnover_annual, traded, costs;
	size_t	invested;
};

static json_t	*jnum(double v);
static const char *date_of(const struct backtest_result *r, long i, char *buf);
static json_t	*stats_json(const struct backtest_result *r, const struct backtest_stats *s);
static void	figures(const struct backtest_result *r, struct fig *f);
static void	csv_field(FILE *f, const char *s);
static void	html(FILE *f, const char *s);
static void	fmt_money(double v, char *buf, size_t size);
static void	cell(FILE *f, const char *key, const json_t *v, char kind);
static int	chart(FILE *f, const struct svgchart *c, struct errctx *ec);
static int	write_file(const char *dir, const char *name, const struct backtest_result *r,
		    const json_t *summary, int (*fn)(FILE *, const struct backtest_result *,
		    const json_t *, struct errctx *), struct errctx *ec);

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Date of session i; -1 is the start (the session before the first). */
static const char *
date_of(const struct backtest_result *r, long i, char *buf)
{
	int64_t day = i < 0 ? calendar_prev_trading_day(r->days[0].day) : r->days[i].day;

	return time_format_date(day, buf);
}

static json_t *
stats_json(const struct backtest_result *r, const struct backtest_stats *s)
{
	char a[11], b[11], c[11];

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:o}",
	    "start_equity", jnum(s->start), "end_equity", jnum(s->end),
	    "total_return", jnum(s->total_return), "cagr", jnum(s->cagr),
	    "volatility", jnum(s->volatility), "sharpe", jnum(s->sharpe),
	    "sortino", jnum(s->sortino), "max_drawdown", jnum(s->max_drawdown),
	    "max_drawdown_peak", date_of(r, s->max_drawdown > 0 ? s->dd_peak : -1, a),
	    "max_drawdown_trough", date_of(r, s->max_drawdown > 0 ? s->dd_trough : -1, b),
	    "max_drawdown_recovery", s->dd_recovery >= 0 ? json_string(date_of(r, s->dd_recovery, c)) :
	    json_null(), "calmar", jnum(s->calmar));
}

static void
figures(const struct backtest_result *r, struct fig *f)
{
	double sum_eq = 0, years = (double)r->ndays / BACKTEST_SESSIONS_PER_YEAR;

	memset(f, 0, sizeof(*f));
	for (size_t d = 0; d < r->ndays; d++) {
		double held = 0;

		sum_eq += r->days[d].equity;
		f->traded += r->days[d].traded;
		f->costs += r->days[d].costs;
		for (size_t s = 0; s < r->nsymbols; s++)
			held += r->held[d * r->nsymbols + s];
		f->invested += held > 0;
	}
	/* One-way turnover: half of buys plus sells, over the average equity. */
	f->turnover = sum_eq > 0 ? f->traded / 2 / (sum_eq / (double)r->ndays) : 0;
	f->turnover_annual = years > 0 ? f->turnover / years : 0;
}

json_t *
backtest_summary_json(const struct backtest_result *r)
{
	struct backtest_stats st, bs;
	struct fig fg;
	double *eq = xcalloc(r->ndays, sizeof(*eq)), *be = xcalloc(r->ndays, sizeof(*be));
	json_t *o, *b, *files, *fails;
	char d0[11], d1[11];
	char dec[DECIMAL_STRLEN];

	for (size_t d = 0; d < r->ndays; d++) {
		eq[d] = r->days[d].equity;
		be[d] = r->days[d].benchmark;
	}
	backtest_stats(eq, r->ndays, r->capital, &st);
	backtest_stats(be, r->ndays, r->capital, &bs);
	figures(r, &fg);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:b}",
	    "strategy", r->strategy, "from", time_format_date(r->days[0].day, d0),
	    "to", time_format_date(r->days[r->ndays - 1].day, d1), "sessions", (json_int_t)r->ndays,
	    "fill", r->fill == BACKTEST_FILL_OPEN ? "open" : "close", "capital", jnum(r->capital),
	    "cost_bps", jnum(r->cost_bps), "whole_shares", r->whole_shares);
	json_object_set_new(o, "cash_reserve", json_string(decimal_format(r->cash_reserve, dec)));
	json_object_set_new(o, "min_trade", json_string(decimal_format(r->min_trade, dec)));
	json_object_set_new(o, "on_strategy_failure",
	    json_string(strategy_failure_policy_to_string(r->policy.on_failure)));
	json_object_set_new(o, "bars_max_lag", json_integer((json_int_t)r->policy.fresh.max_lag));
	json_object_update(o, b = stats_json(r, &st));
	json_decref(b);
	json_object_set_new(o, "turnover", jnum(fg.turnover));
	json_object_set_new(o, "turnover_annual", jnum(fg.turnover_annual));
	json_object_set_new(o, "traded", jnum(fg.traded));
	json_object_set_new(o, "costs", jnum(fg.costs));
	json_object_set_new(o, "days_invested", json_integer((json_int_t)fg.invested));
	json_object_set_new(o, "trades", json_integer((json_int_t)r->nfills));
	json_object_set_new(o, "sessions_held", json_integer((json_int_t)r->sessions_held));
	b = stats_json(r, &bs);
	json_object_set_new(b, "symbol", json_string(r->benchmark));
	json_object_set_new(o, "benchmark", b);

	files = json_array();
	for (size_t f = 0; f < r->nfiles; f++) {
		double start = r->capital * r->file_weight[f];
		double end = r->file_equity[(r->ndays - 1) * r->nfiles + f];

		json_array_append_new(files, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:I}",
		    "file", r->files[f], "weight", jnum(r->file_weight[f]), "start_equity", jnum(start),
		    "end_equity", jnum(end), "total_return", jnum(start > 0 ? end / start - 1 : NAN),
		    "contribution", jnum(end - start), "sessions_failed", (json_int_t)r->file_failed[f]));
	}
	json_object_set_new(o, "files", files);
	fails = json_array();
	for (size_t i = 0; i < r->nfailures && i < FAILURES_IN_JSON; i++) {
		const struct backtest_failure *x = &r->failures[i];

		json_array_append_new(fails, json_pack("{s:s, s:o, s:s, s:b}", "date",
		    time_format_date(x->day, d0), "file", x->file ? json_string(x->file) : json_null(),
		    "error", x->error, "held", x->held));
	}
	json_object_set_new(o, "failures_total", json_integer((json_int_t)r->nfailures));
	json_object_set_new(o, "failures", fails);
	free(eq);
	free(be);
	return o;
}

/* ---- CSV ---- */

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int
csv_equity(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	double peak = r->capital, bpeak = r->capital;
	char d[11];

	fputs("date,as_of,equity,cash,benchmark,drawdown,benchmark_drawdown,traded,costs,held\n", f);
	for (size_t i = 0; i < r->ndays; i++) {
		const struct backtest_day *x = &r->days[i];
		char a[11];

		peak = fmax(peak, x->equity);
		bpeak = fmax(bpeak, x->benchmark);
		fprintf(f, "%s,%s,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d\n",
		    time_format_date(x->day, d), time_format_date(x->as_of, a), x->equity, x->cash,
		    x->benchmark, 1 - x->equity / peak, 1 - x->benchmark / bpeak, x->traded, x->costs,
		    x->held);
	}
	return 0;
}

/* Target weights with the digits --evaluate prints (the shortest decimal
 * that reads back exactly, dsl_format_number). */
static int
csv_allocations(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char d[11], a[11], num[DSL_NUM_BUF];

	fputs("date,as_of,symbol,weight\n", f);
	for (size_t i = 0; i < r->ndays; i++)
		for (size_t k = 0; k < r->days[i].ntarget; k++) {
			fprintf(f, "%s,%s,", time_format_date(r->days[i].day, d),
			    time_format_date(r->days[i].as_of, a));
			csv_field(f, r->days[i].target[k].ticker);
			fprintf(f, ",%s\n", dsl_format_number(r->days[i].target[k].weight, num));
		}
	return 0;
}

static int
csv_holdings(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char d[11];

	fputs("date,symbol,weight\n", f);
	for (size_t i = 0; i < r->ndays; i++)
		for (size_t s = 0; s < r->nsymbols; s++) {
			double w = r->held[i * r->nsymbols + s];

			if (w > 0) {
				fprintf(f, "%s,", time_format_date(r->days[i].day, d));
				csv_field(f, r->symbols[s]);
				fprintf(f, ",%.17g\n", w);
			}
		}
	return 0;
}

static int
csv_trades(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char d[11];

	fputs("date,symbol,side,qty,price,fill_price,notional,cost\n", f);
	for (size_t i = 0; i < r->nfills; i++) {
		const struct backtest_fill_rec *x = &r->fills[i];

		fprintf(f, "%s,", time_format_date(x->day, d));
		csv_field(f, r->symbols[x->sym]);
		fprintf(f, ",%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", x->buy ? "BUY" : "SELL", x->qty,
		    x->price, x->fill_price, x->notional, x->cost);
	}
	return 0;
}

static int
csv_files(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char d[11];

	fputs("date", f);
	for (size_t k = 0; k < r->nfiles; k++) {
		fputc(',', f);
		csv_field(f, r->files[k]);
	}
	fputc('\n', f);
	for (size_t i = 0; i < r->ndays; i++) {
		fputs(time_format_date(r->days[i].day, d), f);
		for (size_t k = 0; k < r->nfiles; k++)
			fprintf(f, ",%.17g", r->file_equity[i * r->nfiles + k]);
		fputc('\n', f);
	}
	return 0;
}

static int
csv_failures(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char d[11];

	fputs("date,file,held,error\n", f);
	for (size_t i = 0; i < r->nfailures; i++) {
		const struct backtest_failure *x = &r->failures[i];

		fprintf(f, "%s,", time_format_date(x->day, d));
		csv_field(f, x->file != NULL ? x->file : "");
		fprintf(f, ",%d,", x->held);
		csv_field(f, x->error);
		fputc('\n', f);
	}
	return 0;
}

static int
json_out(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	char *text = json_dumps_shortest(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text == NULL || fputs(text, f) < 0) {
		free(text);
		return errctx_set(ec, -EIO, "summary.json: write failed");
	}
	free(text);
	fputc('\n', f);
	return 0;
}

static int
html_out(FILE *f, const struct backtest_result *r, const json_t *summary, struct errctx *ec)
{
	return backtest_write_html(r, summary, f, ec);
}

static int
write_file(const char *dir, const char *name, const struct backtest_result *r,
    const json_t *summary, int (*fn)(FILE *, const struct backtest_result *, const json_t *,
    struct errctx *), struct errctx *ec)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "we");
	int rc;

	if (f == NULL) {
		rc = errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	rc = fn(f, r, summary, ec);
	if (ferror(f) && rc == 0)
		rc = errctx_set(ec, -EIO, "%s: write error", path);
	if (fclose(f) != 0 && rc == 0)
		rc = errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

int
backtest_write_outputs(const struct backtest_result *r, const char *dir, struct errctx *ec)
{
	json_t *summary;
	int rc;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return errctx_set(ec, -errno, "--out %s: %s", dir, strerror(errno));
	summary = backtest_summary_json(r);
	rc = write_file(dir, "summary.json", r, summary, json_out, ec);
	if (rc == 0)
		rc = write_file(dir, "equity.csv", r, summary, csv_equity, ec);
	if (rc == 0)
		rc = write_file(dir, "allocations.csv", r, summary, csv_allocations, ec);
	if (rc == 0)
		rc = write_file(dir, "holdings.csv", r, summary, csv_holdings, ec);
	if (rc == 0)
		rc = write_file(dir, "trades.csv", r, summary, csv_trades, ec);
	if (rc == 0)
		rc = write_file(dir, "files.csv", r, summary, csv_files, ec);
	if (rc == 0)
		rc = write_file(dir, "failures.csv", r, summary, csv_failures, ec);
	if (rc == 0)
		rc = write_file(dir, "report.html", r, summary, html_out, ec);
	json_decref(summary);
	return rc;
}

/* ---- HTML ---- */

static void
html(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* "$1,234,567.89" */
static void
fmt_money(double v, char *buf, size_t size)
{
	char digits[40], out[64];
	size_t n, k = 0, intlen;

	snprintf(digits, sizeof digits, "%.2f", fmin(fabs(v), 1e15));
	intlen = strcspn(digits, ".");
	for (n = 0; digits[n] != '\0' && k + 2 < sizeof out; n++) {
		if (n > 0 && n < intlen && (intlen - n) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[n];
	}
	out[k] = '\0';
	snprintf(buf, size, "%s$%s", v < 0 && strcmp(digits, "0.00") != 0 ? "-" : "", out);
}

/* A summary cell: kind p = percent, r = ratio, m = money, n = count, d = date.
 * data-value holds what the JSON holds (%.17g, or the string). */
static void
cell(FILE *f, const char *key, const json_t *v, char kind)
{
	char text[96];
	double x = json_is_number(v) ? json_number_value(v) : NAN;

	fprintf(f, "<td data-key=\"%s\" data-value=\"", key);
	if (json_is_string(v))
		html(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.17g", x);
	else
		fputs("null", f);
	fputs("\">", f);
	if (json_is_string(v))
		snprintf(text, sizeof text, "%s", json_string_value(v));
	else if (json_is_null(v) || v == NULL)
		snprintf(text, sizeof text, "n/a");
	else if (kind == 'p')
		snprintf(text, sizeof text, "%.2f%%", x * 100);
	else if (kind == 'r')
		snprintf(text, sizeof text, "%.2f", x);
	else if (kind == 'm')
		fmt_money(x, text, sizeof text);
	else
		snprintf(text, sizeof text, "%.0f", x);
	html(f, text);
	fputs("</td>", f);
}

static int
chart(FILE *f, const struct svgchart *c, struct errctx *ec)
{
	char *svg;
	int rc;

	if ((rc = svgchart_render(c, &svg, ec)) < 0)
		return rc;
	fprintf(f, "<figure id=\"fig-%s\">%s</figure>\n", c->id, svg);
	free(svg);
	return 0;
}

static const struct {
	const char	*key, *label;
	char		 kind;
	bool		 bench;
} summary_rows[] = {
	{ "start_equity", "Start equity", 'm', true },
	{ "end_equity", "End equity", 'm', true },
	{ "total_return", "Total return", 'p', true },
	{ "cagr", "CAGR", 'p', true },
	{ "volatility", "Volatility (annualised)", 'p', true },
	{ "sharpe", "Sharpe", 'r', true },
	{ "sortino", "Sortino", 'r', true },
	{ "max_drawdown", "Max drawdown", 'p', true },
	{ "max_drawdown_peak", "Drawdown peak", 'd', true },
	{ "max_drawdown_trough", "Drawdown trough", 'd', true },
	{ "max_drawdown_recovery", "Recovered", 'd', true },
	{ "calmar", "Calmar", 'r', true },
	{ "turnover_annual", "Turnover (per year)", 'r', false },
	{ "trades", "Trades", 'n', false },
	{ "costs", "Costs", 'm', false },
	{ "days_invested", "Sessions invested", 'n', false },
	{ "sessions_held", "Sessions without an allocation", 'n', false },
};

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static void
monthly_table(FILE *f, const struct backtest_result *r)
{
	double prev = r->capital, ystart = r->capital;
	int year = 0, y;
	unsigned m, dd;
	double row[12];
	bool have[12];

	fputs("<table id=\"monthly\"><thead><tr><th>Year</th>", f);
	for (int i = 0; i < 12; i++)
		fprintf(f, "<th>%s</th>", month_names[i]);
	fputs("<th>Year</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < r->ndays; i++) {
		bool last_of_month;
		unsigned nm;
		int ny;

		calendar_civil_from_days(r->days[i].day, &y, &m, &dd);
		if (y != year) {
			year = y;
			memset(have, 0, sizeof have);
		}
		if (i + 1 < r->ndays) {
			calendar_civil_from_days(r->days[i + 1].day, &ny, &nm, &dd);
			last_of_month = nm != m || ny != y;
		} else {
			ny = y + 1;
			last_of_month = true;
		}
		if (!last_of_month)
			continue;
		row[m - 1] = r->days[i].equity / prev - 1;
		have[m - 1] = true;
		prev = r->days[i].equity;
		if (ny != y) {
			fprintf(f, "<tr><th>%d</th>", y);
			for (int k = 0; k < 12; k++) {
				if (!have[k]) {
					fputs("<td></td>", f);
					continue;
				}
				/* No "-0.0%": a loss too small to show is shown as none. */
				fprintf(f, "<td class=\"%s\" data-value=\"%.17g\">%.1f%%</td>",
				    row[k] <= -0.0005 ? "neg" : "pos", row[k],
				    fabs(row[k]) < 0.0005 ? 0.0 : row[k] * 100);
			}
			fprintf(f, "<td class=\"year\" data-value=\"%.17g\">%.1f%%</td></tr>\n",
			    prev / ystart - 1, (prev / ystart - 1) * 100);
			ystart = prev;
		}
	}
	fputs("</tbody></table>\n", f);
}

/* The index of day among the sessions (r->days is in session order); -1 if absent. */
static long
session_index(const struct backtest_result *r, int64_t day)
{
	size_t lo = 0, hi = r->ndays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->ndays && r->days[lo].day == day ? (long)lo : -1;
}

static bool
same_file(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The failures table's rows: a file failing on consecutive sessions is one
 * row ("first – last (n sessions)") with the first session's error, and how
 * many of the others said something else (failures.csv has each). At most
 * FAILURES_IN_JSON rows; true when some failures were left out. */
static bool
failure_rows(FILE *f, const struct backtest_result *r)
{
	bool *done = xcalloc(r->nfailures + 1, sizeof *done);
	size_t i, j, rows = 0;
	bool more = false;
	char d0[16], d1[16];

	for (i = 0; i < r->nfailures; i++) {
		const struct backtest_failure *x = &r->failures[i];
		long last = session_index(r, x->day);
		size_t n = 1, differ = 0, end = i;

		if (done[i])
			continue;
		if (rows == FAILURES_IN_JSON) {
			more = true;
			break;
		}
		/* Failures are in session order: look ahead while the sessions can still follow on. */
		for (j = i + 1; last >= 0 && j < r->nfailures; j++) {
			long at = session_index(r, r->failures[j].day);

			if (at > last + 1)
				break;
			if (done[j] || at != last + 1 || !same_file(r->failures[j].file, x->file))
				continue;
			done[j] = true;
			differ += strcmp(r->failures[j].error, x->error) != 0;
			last = at;
			end = j;
			n++;
		}
		fputs("<tr><td>", f);
		if (n == 1)
			fputs(time_format_date(x->day, d0), f);
		else
			fprintf(f, "%s &#8211; %s (%zu sessions)", time_format_date(x->day, d0),
			    time_format_date(r->failures[end].day, d1), n);
		fputs("</td><td>", f);
		html(f, x->file != NULL ? x->file : "(session)");
		fputs("</td><td>", f);
		html(f, x->error);
		if (differ > 0)
			fprintf(f, " <span class=\"note\">(%zu of the later sessions said something else; "
			    "failures.csv has each)</span>", differ);
		fputs("</td></tr>\n", f);
		rows++;
	}
	fputs("</tbody></table>\n", f);
	free(done);
	return more;
}

int
backtest_write_html(const struct backtest_result *r, const json_t *summary, FILE *f,
    struct errctx *ec)
{
	size_t n = r->ndays, ns = r->nsymbols, nshow = 0, *order = NULL;
	const json_t *bench = json_object_get(summary, "benchmark");
	double *eq = xcalloc(n, sizeof(double)), *be = xcalloc(n, sizeof(double));
	double *dd = xcalloc(n, sizeof(double)), *bdd = xcalloc(n, sizeof(double));
	double *alloc = NULL, *fe = NULL, *avg = xcalloc(ns, sizeof(double)), peak, bpeak;
	struct svgchart_series ser[ALLOC_SERIES_MAX + 2], fser[64];
	char **labels = xcalloc(n, sizeof(char *)), d0[11], d1[11];
	int rc = 0;

	peak = bpeak = r->capital;
	for (size_t i = 0; i < n; i++) {
		labels[i] = xstrdup(time_format_date(r->days[i].day, d0));
		eq[i] = r->days[i].equity;
		be[i] = r->days[i].benchmark;
		peak = fmax(peak, eq[i]);
		bpeak = fmax(bpeak, be[i]);
		dd[i] = eq[i] / peak - 1;
		bdd[i] = be[i] / bpeak - 1;
		for (size_t s = 0; s < ns; s++)
			avg[s] += r->held[i * ns + s] / (double)n;
	}

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\"><title>Backtest: ", f);
	html(f, r->strategy);
	fputs("</title><style>\n"
	    "body{font-family:sans-serif;margin:2em auto;max-width:960px;color:#222}\n"
	    "table{border-collapse:collapse;margin:1em 0}th,td{padding:3px 8px;border-bottom:1px solid #ddd;"
	    "text-align:right}th:first-child,td:first-child{text-align:left}\n"
	    "td.neg{color:#b00}td.pos{color:#070}figure{margin:1.5em 0}\n"
	    ".note{color:#555;font-size:90%}\n</style></head><body>\n<h1>Backtest: ", f);
	html(f, r->strategy);
	fprintf(f, "</h1>\n<p class=\"note\">%s to %s, %zu NYSE sessions; fill %s; costs %.4g bps a fill; "
	    "%s shares; starting capital ", time_format_date(r->days[0].day, d0),
	    time_format_date(r->days[n - 1].day, d1), n,
	    r->fill == BACKTEST_FILL_OPEN ? "at the open with signals through the previous session" :
	    "at the close with signals through the same session", r->cost_bps,
	    r->whole_shares ? "whole" : "fractional");
	{
		char cap[64];

		fmt_money(r->capital, cap, sizeof cap);
		html(f, cap);
	}
	fputs("; benchmark ", f);
	html(f, r->benchmark);
	fputs(" bought and held.</p>\n", f);

	/* Summary */
	fputs("<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th></th><th>Strategy</th><th>", f);
	html(f, r->benchmark);
	fputs("</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < ELEMENTSOF(summary_rows); i++) {
		char key[96];

		fprintf(f, "<tr><th>%s</th>", summary_rows[i].label);
		cell(f, summary_rows[i].key, json_object_get(summary, summary_rows[i].key),
		    summary_rows[i].kind);
		if (summary_rows[i].bench) {
			snprintf(key, sizeof key, "benchmark.%s", summary_rows[i].key);
			cell(f, key, json_object_get(bench, summary_rows[i].key), summary_rows[i].kind);
		} else
			fputs("<td></td>", f);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);

	/* Charts */
	{
		struct svgchart_series s2[2] = {
			{ .name = "Strategy", .y = eq, .color = "#1f77b4" },
			{ .name = r->benchmark, .y = be, .color = "#7f7f7f" },
		};
		struct svgchart c = { .kind = SVGCHART_LINE, .title = "Equity (log scale)", .id = "equity",
		    .log_y = true, .unit = SVGCHART_UNIT_MONEY, .n = n,
		    .x_labels = (const char *const *)labels, .series = s2, .nseries = 2, .width = 920 };

		fputs("<h2>Equity</h2>\n", f);
		if ((rc = chart(f, &c, ec)) < 0)
			goto out;
		s2[0].y = dd;
		s2[1].y = bdd;
		c = (struct svgchart){ .kind = SVGCHART_AREA, .title = "Drawdown", .id = "drawdown",
		    .unit = SVGCHART_UNIT_PERCENT, .n = n, .x_labels = (const char *const *)labels,
		    .series = s2, .nseries = 2, .width = 920, .height = 220 };
		if ((rc = chart(f, &c, ec)) < 0)
			goto out;
	}

	/* Allocation over time: the most held symbols, the rest as "other", and cash. */
	order = xcalloc(ns, sizeof(*order));
	for (size_t s = 0; s < ns; s++)
		if (avg[s] > 0)
			order[nshow++] = s;
	for (size_t a = 0; a < nshow; a++)	/* by average weight, then name */
		for (size_t b = a + 1; b < nshow; b++)
			if (avg[order[b]] > avg[order[a]]) {
				size_t t = order[a];

				order[a] = order[b];
				order[b] = t;
			}
	{
		size_t shown = nshow > ALLOC_SERIES_MAX ? ALLOC_SERIES_MAX : nshow, k = 0;
		struct svgchart c;

		alloc = xcalloc(n * (shown + 2), sizeof(double));
		for (size_t i = 0; i < n; i++) {
			double sum = 0, other = 0;

			for (size_t j = 0; j < nshow; j++) {
				double w = r->held[i * ns + order[j]];

				if (j < shown)
					alloc[j * n + i] = w;
				else
					other += w;
				sum += w;
			}
			alloc[shown * n + i] = other;
			alloc[(shown + 1) * n + i] = sum < 1 ? 1 - sum : 0;
		}
		for (size_t j = 0; j < shown; j++)
			ser[k++] = (struct svgchart_series){ .name = r->symbols[order[j]], .y = &alloc[j * n] };
		if (nshow > shown)
			ser[k++] = (struct svgchart_series){ .name = "other", .y = &alloc[shown * n],
			    .color = "#bbbbbb" };
		ser[k++] = (struct svgchart_series){ .name = "cash", .y = &alloc[(shown + 1) * n],
		    .color = "#eeeeee" };
		c = (struct svgchart){ .kind = SVGCHART_STACKED, .title = "Allocation at the close",
		    .id = "allocation", .unit = SVGCHART_UNIT_PERCENT, .n = n,
		    .x_labels = (const char *const *)labels, .series = ser, .nseries = k, .width = 920 };
		fputs("<h2>Allocation</h2>\n", f);
		if ((rc = chart(f, &c, ec)) < 0)
			goto out;
	}

	/* Per-file attribution */
	{
		size_t nf = r->nfiles < ELEMENTSOF(fser) ? r->nfiles : ELEMENTSOF(fser);
		const json_t *files = json_object_get(summary, "files");
		struct svgchart c;

		fe = xcalloc(n * (nf ? nf : 1), sizeof(double));
		for (size_t k = 0; k < nf; k++) {
			for (size_t i = 0; i < n; i++)
				fe[k * n + i] = r->file_equity[i * r->nfiles + k];
			fser[k] = (struct svgchart_series){ .name = r->files[k], .y = &fe[k * n] };
		}
		c = (struct svgchart){ .kind = SVGCHART_LINE, .title = "Each file traded alone at its weight",
		    .id = "files", .unit = SVGCHART_UNIT_MONEY, .n = n,
		    .x_labels = (const char *const *)labels, .series = fser, .nseries = nf, .width = 920 };
		fputs("<h2>Per-file contribution</h2>\n", f);
		if (nf > 0 && (rc = chart(f, &c, ec)) < 0)
			goto out;
		fputs("<table id=\"files\"><thead><tr><th>File</th><th>Weight</th><th>Start</th><th>End</th>"
		    "<th>Return</th><th>Contribution</th><th>Sessions failed</th></tr></thead><tbody>\n", f);
		for (size_t k = 0; k < json_array_size(files); k++) {
			const json_t *x = json_array_get(files, k);

			fputs("<tr><td>", f);
			html(f, json_string_value(json_object_get(x, "file")));
			fputs("</td>", f);
			cell(f, "weight", json_object_get(x, "weight"), 'p');
			cell(f, "start_equity", json_object_get(x, "start_equity"), 'm');
			cell(f, "end_equity", json_object_get(x, "end_equity"), 'm');
			cell(f, "total_return", json_object_get(x, "total_return"), 'p');
			cell(f, "contribution", json_object_get(x, "contribution"), 'm');
			cell(f, "sessions_failed", json_object_get(x, "sessions_failed"), 'n');
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table>\n<p class=\"note\">Each file runs in its own account with its set "
		    "weight of the capital, the same planner, fills and costs; the files' sum differs from "
		    "the combined account where the minimum trade and the renormalisation of failed files "
		    "act differently.</p>\n", f);
	}

	fputs("<h2>Monthly returns</h2>\n", f);
	monthly_table(f, r);

	fprintf(f, "<h2>Failures</h2>\n<p>%zu failure%s", r->nfailures, r->nfailures == 1 ? "" : "s");
	fprintf(f, "; %zu session%s without an allocation (trading.on_strategy_failure = %s: "
	    "positions held).</p>\n", r->sessions_held, r->sessions_held == 1 ? "" : "s",
	    strategy_failure_policy_to_string(r->policy.on_failure));
	if (r->nfailures > 0) {
		fputs("<table id=\"failures\"><thead><tr><th>Sessions</th><th>File</th><th>Error</th></tr>"
		    "</thead><tbody>\n", f);
		if (failure_rows(f, r))
			fputs("<p class=\"note\">The first 100 rows are shown; failures.csv has all.</p>\n", f);
	}
	fputs("<h2>Method</h2>\n<p class=\"note\">Every NYSE session is evaluated with the engine "
	    "the daemon trades with and rebalanced with its planner (cash reserve, minimum trade). "
	    "Returns are daily; volatility is the sample standard deviation times &#8730;252; Sharpe "
	    "and Sortino use a zero risk-free rate; CAGR counts 252 sessions a year; drawdowns are "
	    "from the running peak, the starting capital being the first.</p>\n</body></html>\n", f);
out:
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	free(order);
	free(alloc);
	free(fe);
	free(avg);
	free(eq);
	free(be);
	free(dd);
	free(bdd);
	return rc;
}
