/*
 * report_pnl: the P&L email for the {"action":"pnl_analysis"} command, and the
 * period arithmetic behind it (seed-router-spec §7, with the monthly defect fixed).
 * Periods, all on UTC calendar days:
 *   weekly(N):  end = the most recent Sunday (today when today is a Sunday),
 *               start = end - (7N - 1) days, a Monday;
 *   monthly(N): the LAST N complete calendar months: from the 1st of the month N
 *               months before the current one to the last day of the previous month
 *               (any N, across years; the seed took the single month N months ago);
 *   Alpaca period "<n>D|W|M|A" ("1W", "3M", "1A"): end = today, start = the same
 *               calendar date n units earlier (clamped to the month's end: 3M before
 *               May 31 is Feb 28/29).
 * The history is Alpaca's portfolio-history shape, which the stage builds from the
 * broker seam: {"timestamp": [epoch seconds...], "equity": [decimal string or
 * number...]} (other members ignored; null equity entries skipped, as Alpaca
 * returns null before the account was funded). The points whose UTC date lies in
 * the period make the daily rows; the start value is the last equity before the
 * period (the previous close) when the history has one, else the first in the
 * period (the seed's rule, which lost the first day's P&L). end value = the last
 * in the period, P&L = end - start, P&L % = P&L / start x 100 (n/a when start is
 * 0); each daily row compares with the point before it.
 * Thread:  any. Memory: *ret is filled with new strings (report_clear()).
 */
#ifndef ALCHEMISER_MAIL_REPORT_PNL_H
#define ALCHEMISER_MAIL_REPORT_PNL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "alchemiser/mail/report.h"

struct errctx;

#define REPORT_PNL_MAX_WEEKS	520
#define REPORT_PNL_MAX_MONTHS	240

struct report_pnl_period {
	int64_t	start_days;	/* first day, days since 1970-01-01, inclusive */
	int64_t	end_days;	/* last day, inclusive */
	char	start[11];	/* "YYYY-MM-DD" */
	char	end[11];
	char	label[32];	/* "1 week", "3 months", "1M" */
};

/* today_days: the current UTC day (days since 1970-01-01, see core/timeutil.h:
 * time_now_realtime_usec() / USEC_PER_DAY). -EINVAL for n outside
 * 1..REPORT_PNL_MAX_WEEKS / 1..REPORT_PNL_MAX_MONTHS. */
int	report_pnl_weekly(int64_t today_days, int n, struct report_pnl_period *ret,
	    struct errctx *ec);
int	report_pnl_monthly(int64_t today_days, int n, struct report_pnl_period *ret,
	    struct errctx *ec);
/* -EINVAL unless period is 1-3 digits then D, W, M or A (case-insensitive). */
int	report_pnl_alpaca_period(int64_t today_days, const char *period,
	    struct report_pnl_period *ret, struct errctx *ec);

/* Render the report; detailed adds the daily breakdown table. -EINVAL when
 * history is not an object; an empty history renders "n/a" values. */
int	report_pnl_render(const json_t *history, const struct report_pnl_period *period,
	    bool detailed, struct report *ret, struct errctx *ec);

#endif
