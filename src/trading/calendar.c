/*
 * calendar: NYSE trading days from the rules (see the header). Civil dates and
 * the New York offset come from core/timeutil; this file only adds the
 * exchange's rules.
 */
#include <stddef.h>

#include "alchemiser/core/timeutil.h"
#include "alchemiser/trading/calendar.h"

#define SEC_PER_DAY	INT64_C(86400)
#define NO_DAY		INT64_MIN	/* "not observed this year" */

static int64_t nth_weekday(int year, unsigned month, unsigned weekday, int n);
static int64_t last_weekday(int year, unsigned month, unsigned weekday);
static int64_t observed(int64_t days, bool saturday_to_friday);
static int64_t floor_div(int64_t a, int64_t b);

int64_t
calendar_days_from_civil(int year, unsigned month, unsigned day)
{
	return time_days_from_civil(year, month, day);
}

void
calendar_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day)
{
	time_civil_from_days(days, year, month, day);
}

unsigned
calendar_weekday(int64_t days)
{
	return time_weekday_from_days(days);
}

int64_t
calendar_easter(int year)
{
	/* Anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int month = (h + l - 7 * m + 114) / 31;
	int day = (h + l - 7 * m + 114) % 31 + 1;

	return calendar_days_from_civil(year, (unsigned)month, (unsigned)day);
}

void
calendar_day_info(int64_t days, struct calendar_day *ret)
{
	int year;
	unsigned month, day, wd = calendar_weekday(days);
	int64_t thanksgiving;

	calendar_civil_from_days(days, &year, &month, &day);
	ret->days = days;
	ret->kind = CALENDAR_TRADING;
	ret->open_minute = CALENDAR_OPEN_MINUTE;
	ret->close_minute = CALENDAR_CLOSE_MINUTE;
	ret->name = NULL;

	thanksgiving = nth_weekday(year, 11, 4, 4);
	struct {
		int64_t days;
		const char *name;
	} hol[] = {
		/* Saturday New Year's: no Friday closure (the year-end stays open). */
		{ calendar_weekday(calendar_days_from_civil(year, 1, 1)) == 6 ? NO_DAY :
		    observed(calendar_days_from_civil(year, 1, 1), false), "New Year's Day" },
		{ nth_weekday(year, 1, 1, 3), "Martin Luther King Jr. Day" },
		{ nth_weekday(year, 2, 1, 3), "Washington's Birthday" },
		{ calendar_easter(year) - 2, "Good Friday" },
		{ last_weekday(year, 5, 1), "Memorial Day" },
		{ year >= 2022 ? observed(calendar_days_from_civil(year, 6, 19), true) : NO_DAY,
		    "Juneteenth" },
		{ observed(calendar_days_from_civil(year, 7, 4), true), "Independence Day" },
		{ nth_weekday(year, 9, 1, 1), "Labor Day" },
		{ thanksgiving, "Thanksgiving Day" },
		{ observed(calendar_days_from_civil(year, 12, 25), true), "Christmas Day" },
	};

	if (wd == 0 || wd == 6) {
		ret->kind = CALENDAR_WEEKEND;
		ret->open_minute = ret->close_minute = 0;
		return;
	}
	for (size_t i = 0; i < sizeof(hol) / sizeof(hol[0]); i++) {
		if (hol[i].days == days) {
			ret->kind = CALENDAR_HOLIDAY;
			ret->open_minute = ret->close_minute = 0;
			ret->name = hol[i].name;
			return;
		}
	}
	/* Early closes: a weekday that is not itself a holiday (checked above).
	 * 3 July and 24 December on a Friday are the observed holidays. */
	if ((month == 7 && day == 3 && wd <= 4) || (month == 12 && day == 24 && wd <= 4) ||
	    days == thanksgiving + 1) {
		ret->kind = CALENDAR_EARLY_CLOSE;
		ret->close_minute = CALENDAR_EARLY_CLOSE_MINUTE;
		ret->name = month == 7 ? "Independence Day eve" :
		    month == 12 ? "Christmas Eve" : "Day after Thanksgiving";
	}
}

bool
calendar_is_trading_day(int64_t days)
{
	struct calendar_day cd;

	calendar_day_info(days, &cd);
	return cd.kind == CALENDAR_TRADING || cd.kind == CALENDAR_EARLY_CLOSE;
}

int64_t
calendar_next_trading_day(int64_t days)
{
	/* At most 4 closed days in a row (e.g. Good Friday + weekend). */
	do
		days++;
	while (!calendar_is_trading_day(days));
	return days;
}

int64_t
calendar_prev_trading_day(int64_t days)
{
	do
		days--;
	while (!calendar_is_trading_day(days));
	return days;
}

int
calendar_new_york_offset_sec(int64_t utc_usec)
{
	return time_new_york_offset_sec(utc_usec);
}

int64_t
calendar_new_york_days(int64_t utc_usec)
{
	int64_t sec = floor_div(utc_usec, USEC_PER_SEC);

	return floor_div(sec + calendar_new_york_offset_sec(utc_usec), SEC_PER_DAY);
}

int64_t
calendar_new_york_instant_usec(int64_t days, int minute)
{
	int64_t local = days * SEC_PER_DAY + (int64_t)minute * 60;
	/* Guess with standard time, then correct: exact away from the 02:00
	 * transitions, which no session time is near. */
	int off = calendar_new_york_offset_sec((local + 18000) * USEC_PER_SEC);

	return (local - off) * USEC_PER_SEC;
}

void
calendar_market_state(int64_t utc_usec, bool *is_open, int64_t *next_open_usec,
    int64_t *next_close_usec)
{
	int64_t today = calendar_new_york_days(utc_usec);
	struct calendar_day cd;
	int64_t open, close, d;

	calendar_day_info(today, &cd);
	*is_open = false;
	if (cd.kind == CALENDAR_TRADING || cd.kind == CALENDAR_EARLY_CLOSE) {
		open = calendar_new_york_instant_usec(today, cd.open_minute);
		close = calendar_new_york_instant_usec(today, cd.close_minute);
		if (utc_usec < open) {
			*next_open_usec = open;
			*next_close_usec = close;
			return;
		}
		if (utc_usec < close) {
			*is_open = true;
			*next_close_usec = close;
			d = calendar_next_trading_day(today);
			calendar_day_info(d, &cd);
			*next_open_usec = calendar_new_york_instant_usec(d, cd.open_minute);
			return;
		}
	}
	d = calendar_next_trading_day(today);
	calendar_day_info(d, &cd);
	*next_open_usec = calendar_new_york_instant_usec(d, cd.open_minute);
	*next_close_usec = calendar_new_york_instant_usec(d, cd.close_minute);
}

/* n-th (1-based) weekday (0 = Sunday) of a month. */
static int64_t
nth_weekday(int year, unsigned month, unsigned weekday, int n)
{
	int64_t first = calendar_days_from_civil(year, month, 1);
	unsigned wd = calendar_weekday(first);

	return first + (weekday + 7 - wd) % 7 + 7 * (n - 1);
}

static int64_t
last_weekday(int year, unsigned month, unsigned weekday)
{
	int64_t last = month == 12 ? calendar_days_from_civil(year, 12, 31) :
	    calendar_days_from_civil(year, month + 1, 1) - 1;
	unsigned wd = calendar_weekday(last);

	return last - (wd + 7 - weekday) % 7;
}

/* Saturday -> Friday (when allowed), Sunday -> Monday. */
static int64_t
observed(int64_t days, bool saturday_to_friday)
{
	unsigned wd = calendar_weekday(days);

	if (wd == 6)
		return saturday_to_friday ? days - 1 : NO_DAY;
	if (wd == 0)
		return days + 1;
	return days;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
