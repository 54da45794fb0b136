#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report_pnl.h"

struct point {
	int64_t		days;
	struct decimal	equity;
};

static unsigned	days_in_month(int year, unsigned month);
static int64_t	shift_months(int64_t days, int64_t months);
static void	period_fill(struct report_pnl_period *p, int64_t start, int64_t end);
static int	pct_of(struct decimal part, struct decimal whole, struct decimal *ret);
static size_t	collect_points(const json_t *history, const struct report_pnl_period *period,
		    struct point **ret, bool *ret_base);

#define SECONDS_PER_DAY 86400

static unsigned
days_in_month(int year, unsigned month)
{
	static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : dim[(month - 1) % 12];
}

/* The same day of the month `months` later (negative: earlier), clamped to the
 * target month's last day. */
static int64_t
shift_months(int64_t days, int64_t months)
{
	int year;
	unsigned month, day, dim;
	int64_t idx;

	time_civil_from_days(days, &year, &month, &day);
	idx = (int64_t)year * 12 + (month - 1) + months;
	/* floor division: idx may be negative only for absurd inputs, kept exact anyway */
	year = (int)(idx >= 0 ? idx / 12 : (idx - 11) / 12);
	month = (unsigned)(idx - (int64_t)year * 12) + 1;
	dim = days_in_month(year, month);
	return time_days_from_civil(year, month, day < dim ? day : dim);
}

static void
period_fill(struct report_pnl_period *p, int64_t start, int64_t end)
{
	p->start_days = start;
	p->end_days = end;
	time_format_date(start, p->start);
	time_format_date(end, p->end);
}

int
report_pnl_weekly(int64_t today_days, int n, struct report_pnl_period *ret, struct errctx *ec)
{
	int64_t end;

	if (n < 1 || n > REPORT_PNL_MAX_WEEKS)
		return errctx_set(ec, -EINVAL, "pnl weekly: %d weeks is outside 1..%d", n,
		    REPORT_PNL_MAX_WEEKS);
	*ret = (struct report_pnl_period){ 0 };
	end = today_days - time_weekday_from_days(today_days);
	period_fill(ret, end - (7 * (int64_t)n - 1), end);
	snprintf(ret->label, sizeof(ret->label), "%d week%s", n, n == 1 ? "" : "s");
	return 0;
}

int
report_pnl_monthly(int64_t today_days, int n, struct report_pnl_period *ret, struct errctx *ec)
{
	int year;
	unsigned month, day;
	int64_t first_this_month;

	if (n < 1 || n > REPORT_PNL_MAX_MONTHS)
		return errctx_set(ec, -EINVAL, "pnl monthly: %d months is outside 1..%d", n,
		    REPORT_PNL_MAX_MONTHS);
	*ret = (struct report_pnl_period){ 0 };
	time_civil_from_days(today_days, &year, &month, &day);
	first_this_month = time_days_from_civil(year, month, 1);
	/* The last N whole months: the current (partial) month is not one of them. */
	period_fill(ret, shift_months(first_this_month, -(int64_t)n), first_this_month - 1);
	snprintf(ret->label, sizeof(ret->label), "%d month%s", n, n == 1 ? "" : "s");
	return 0;
}

int
report_pnl_alpaca_period(int64_t today_days, const char *period, struct report_pnl_period *ret,
    struct errctx *ec)
{
	size_t digits = period != NULL ? strspn(period, "0123456789") : 0;
	int64_t n, start;
	char unit;

	if (digits == 0 || digits > 3 || period[digits] == '\0' || period[digits + 1] != '\0')
		return errctx_set(ec, -EINVAL, "pnl period '%s': expected <1-999><D|W|M|A>, e.g. "
		    "1W, 3M, 1A", period != NULL ? period : "(null)");
	n = strtol(period, NULL, 10);
	unit = (char)toupper((unsigned char)period[digits]);
	if (n < 1)
		return errctx_set(ec, -EINVAL, "pnl period '%s': the count must be at least 1",
		    period);
	switch (unit) {
	case 'D': start = today_days - n; break;
	case 'W': start = today_days - 7 * n; break;
	case 'M': start = shift_months(today_days, -n); break;
	case 'A': start = shift_months(today_days, -12 * n); break;
	default:
		return errctx_set(ec, -EINVAL, "pnl period '%s': unit must be D, W, M or A", period);
	}
	*ret = (struct report_pnl_period){ 0 };
	period_fill(ret, start, today_days);
	snprintf(ret->label, sizeof(ret->label), "%" PRId64 "%c", n, unit);
	return 0;
}

/* part / whole x 100, or -EDOM when whole is 0. */
static int
pct_of(struct decimal part, struct decimal whole, struct decimal *ret)
{
	struct decimal q;
	int r;

	if (decimal_is_zero(whole))
		return -EDOM;
	r = decimal_div(part, whole, DECIMAL_ROUND_HALF_EVEN, &q);
	if (r < 0)
		return r;
	return decimal_mul(q, decimal_from_units(100 * DECIMAL_SCALE), DECIMAL_ROUND_HALF_EVEN, ret);
}

/* The points inside the period, oldest first, preceded by the last point before
 * it (the previous close, *ret_base set) when the history has one. */
static size_t
collect_points(const json_t *history, const struct report_pnl_period *period, struct point **ret,
    bool *ret_base)
{
	const json_t *ts = json_object_get(history, "timestamp");
	const json_t *eq = json_object_get(history, "equity");
	struct point *pts, base = { .days = INT64_MIN };
	size_t i, n = 1, len;

	*ret = NULL;
	*ret_base = false;
	if (!json_is_array(ts) || !json_is_array(eq))
		return 0;
	len = json_array_size(ts) < json_array_size(eq) ? json_array_size(ts) : json_array_size(eq);
	if (len == 0)
		return 0;
	/* Slot 0 is kept for the previous close. */
	pts = xcalloc(len + 1, sizeof(*pts));
	for (i = 0; i < len; i++) {
		const json_t *t = json_array_get(ts, i);
		struct point pt;
		json_int_t secs;

		if (!json_is_integer(t) || !report_value_decimal(json_array_get(eq, i), &pt.equity))
			continue;
		secs = json_integer_value(t);
		pt.days = secs >= 0 ? secs / SECONDS_PER_DAY :
		    (secs - SECONDS_PER_DAY + 1) / SECONDS_PER_DAY;
		if (pt.days < period->start_days && pt.days > base.days)
			base = pt;
		else if (pt.days >= period->start_days && pt.days <= period->end_days)
			pts[n++] = pt;
	}
	if (base.days != INT64_MIN) {
		pts[0] = base;
		*ret_base = true;
	} else {
		memmove(pts, pts + 1, (n - 1) * sizeof(*pts));
		n--;
	}
	*ret = pts;
	return n;
}

int
report_pnl_render(const json_t *history, const struct report_pnl_period *period, bool detailed,
    struct report *ret, struct errctx *ec)
{
	static const char *const head[] = { "Date", "Equity", "P&L", "P&L %" };
	struct report_doc d;
	struct point *pts = NULL;
	struct decimal pnl, pct;
	char b1[REPORT_MONEY_STRLEN], b2[REPORT_MONEY_STRLEN], b3[REPORT_MONEY_STRLEN];
	char b4[REPORT_MONEY_STRLEN], b5[REPORT_MONEY_STRLEN], label[32], *title, *status, *p;
	bool have_pnl, has_base;
	size_t n, i, first;

	if (!json_is_object(history))
		return errctx_set(ec, -EINVAL, "pnl report: history is %s, not an object",
		    history != NULL ? json_type_name(history) : "missing");
	n = collect_points(history, period, &pts, &has_base);
	first = has_base ? 1 : 0;
	if (n <= first)
		n = 0;	/* a previous close alone says nothing about the period */
	snprintf(label, sizeof(label), "%s", period->label);
	/* Title case as the seed printed it: "3 months" -> "3 Months". */
	for (p = label; *p != '\0'; p++)
		if (p == label || p[-1] == ' ')
			*p = (char)toupper((unsigned char)*p);
	*ret = (struct report){ 0 };
	have_pnl = n > 0 && decimal_sub(pts[n - 1].equity, pts[0].equity, &pnl) == 0;
	ret->subject = xasprintf("The Alchemiser - Portfolio P&L Report - %s (%s to %s)", label,
	    period->start, period->end);
	title = xasprintf("Portfolio P&L Report - %s", label);
	status = xasprintf("Period: %s to %s", period->start, period->end);
	report_doc_begin(&d, title, title, status, false);
	report_doc_section(&d, "Summary");
	report_doc_kv_begin(&d);
	report_doc_kv(&d, "Period", status + strlen("Period: "));
	if (n > 0 && has_base) {
		char date[16], *v;

		time_format_date(pts[0].days, date);
		v = xasprintf("%s (close of %s)", report_format_money(pts[0].equity, false, b1), date);
		report_doc_kv(&d, "Starting Value", v);
		free(v);
	} else
		report_doc_kv(&d, "Starting Value", n > 0 ? report_format_money(pts[0].equity, false,
		    b1) : NULL);
	report_doc_kv(&d, "Ending Value", n > 0 ? report_format_money(pts[n - 1].equity, false, b2) :
	    NULL);
	report_doc_kv(&d, "Total P&L", have_pnl ? report_format_money(pnl, true, b3) : NULL);
	report_doc_kv(&d, "Total P&L %", have_pnl && pct_of(pnl, pts[0].equity, &pct) == 0 ?
	    report_format_pct(pct, true, b4) : NULL);
	report_doc_kv_end(&d);
	if (n == 0)
		report_doc_para(&d, "No portfolio history was available for this period.");
	if (detailed && n > 0) {
		report_doc_section(&d, "Daily Breakdown");
		report_doc_table_begin(&d, 4, head);
		for (i = first; i < n; i++) {
			struct decimal dp = DECIMAL_ZERO, dpct = DECIMAL_ZERO;
			const char *cells[4];
			char date[16];

			if (i > 0 && decimal_sub(pts[i].equity, pts[i - 1].equity, &dp) == 0 &&
			    pct_of(dp, pts[i - 1].equity, &dpct) < 0)
				dpct = DECIMAL_ZERO;
			time_format_date(pts[i].days, date);
			cells[0] = date;
			cells[1] = report_format_money(pts[i].equity, false, b1);
			cells[2] = report_format_money(dp, true, b2);
			cells[3] = report_format_pct(dpct, true, b5);
			report_doc_table_row(&d, cells);
		}
		report_doc_table_end(&d);
	}
	report_doc_finish(&d, ret);
	free(title);
	free(status);
	free(pts);
	return 0;
}
