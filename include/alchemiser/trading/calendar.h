/*
 * calendar: the NYSE trading calendar, computed from the exchange's rules for
 * any year (no table to go stale): weekends, the ten full-day holidays with
 * their weekend observance, and the 13:00 early closes. One-off closures
 * (national days of mourning, 9/11, hurricanes) are not computable and are
 * not included.
 *
 * Rules: a holiday on Saturday is observed on the Friday before, on Sunday on
 * the Monday after, except New Year's Day: on a Saturday it is not observed at
 * all (the exchange keeps the last day of the year open). Juneteenth from 2022.
 * Early closes: 3 July when it is a Monday..Thursday, the day after
 * Thanksgiving, 24 December when it is a Monday..Thursday.
 * Thread:  pure functions, any thread.
 * Memory:  no allocation.
 */
#ifndef ALCHEMISER_TRADING_CALENDAR_H
#define ALCHEMISER_TRADING_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define CALENDAR_OPEN_MINUTE	570	/* 09:30 New York */
#define CALENDAR_CLOSE_MINUTE	960	/* 16:00 */
#define CALENDAR_EARLY_CLOSE_MINUTE 780	/* 13:00 */

enum calendar_kind {
	CALENDAR_TRADING,
	CALENDAR_EARLY_CLOSE,		/* trading, closes 13:00 */
	CALENDAR_WEEKEND,
	CALENDAR_HOLIDAY,
	_CALENDAR_KIND_MAX
};

struct calendar_day {
	int64_t		days;		/* days since 1970-01-01 */
	enum calendar_kind kind;
	int		open_minute;	/* New York minutes after midnight; 0 when closed */
	int		close_minute;
	const char	*name;		/* holiday or early-close reason, else NULL (static) */
};

/* Civil date helpers (proleptic Gregorian). */
int64_t	calendar_days_from_civil(int year, unsigned month, unsigned day);
void	calendar_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day);
unsigned calendar_weekday(int64_t days);	/* 0 = Sunday .. 6 = Saturday */
/* Easter Sunday (Gregorian computus) of year, as days. */
int64_t	calendar_easter(int year);

void	calendar_day_info(int64_t days, struct calendar_day *ret);
bool	calendar_is_trading_day(int64_t days);
/* Nearest trading day strictly after / before days. */
int64_t	calendar_next_trading_day(int64_t days);
int64_t	calendar_prev_trading_day(int64_t days);

/* Offset of New York from UTC at an instant (-18000 or -14400), US rules since 2007. */
int	calendar_new_york_offset_sec(int64_t utc_usec);
/* New York civil day of a UTC instant. */
int64_t	calendar_new_york_days(int64_t utc_usec);
/* UTC instant of a New York local minute on a day. */
int64_t	calendar_new_york_instant_usec(int64_t days, int minute);

/* Market state at an instant: open now?, the next open and next close after now
 * (next_close is the close of the current session when open). */
void	calendar_market_state(int64_t utc_usec, bool *is_open, int64_t *next_open_usec,
	    int64_t *next_close_usec);

#endif
