#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"

/* Longest input quoted back in an error message. */
#define QUOTE_MAX 64
#define SEC_PER_DAY INT64_C(86400)

static int64_t	floor_div(int64_t a, int64_t b);
static bool	is_leap(int64_t year);
static unsigned	days_in_month(int64_t year, unsigned month);
static bool	digits(const char *s, int n, int *ret);
static int	parse_ymd(const char *s, int *year, unsigned *month, unsigned *day);
static int64_t	nth_sunday(int year, unsigned month, unsigned n);

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool
is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned
days_in_month(int64_t year, unsigned month)
{
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && is_leap(year))
		return 29;
	return mdays[month - 1];
}

/* Exactly n ASCII digits (no sign, no space: sscanf would accept both). */
static bool
digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

int64_t
time_now_realtime_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t
time_now_monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/*
 * Why a March-based year: with the leap day last, the day of the year is a
 * linear function of the month (the 153-day five-month cycle), and whole
 * 400-year eras of 146097 days handle every century rule at once.
 */
int64_t
time_days_from_civil(int year, unsigned month, unsigned day)
{
	int64_t y = (int64_t)year - (month <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;				/* 0..399 */
	int64_t mp = month > 2 ? (int64_t)month - 3 : (int64_t)month + 9;	/* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1;	/* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* 0..146096 */

	/* 719468 days from 0000-03-01 to 1970-01-01. */
	return era * 146097 + doe - 719468;
}

void
time_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

	*day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int)(yoe + era * 400 + (m <= 2));
}

unsigned
time_weekday_from_days(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	int64_t w = (days + 4) % 7;

	return (unsigned)(w < 0 ? w + 7 : w);
}

/* "YYYY-MM-DD" at s, validated; 0 or -EINVAL. */
static int
parse_ymd(const char *s, int *year, unsigned *month, unsigned *day)
{
	int y, m, d;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return -EINVAL;
	if (m < 1 || m > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)m))
		return -EINVAL;
	*year = y;
	*month = (unsigned)m;
	*day = (unsigned)d;
	return 0;
}

int
time_parse_date(const char *s, int64_t *ret_days, struct errctx *ec)
{
	int year;
	unsigned month, day;

	if (s == NULL)
		return errctx_set(ec, -EINVAL, "missing date");
	/* Why check the length first: parse_ymd reads ten bytes. */
	for (int i = 0; i < 10; i++)
		if (s[i] == '\0')
			goto invalid;
	if (s[10] != '\0' || parse_ymd(s, &year, &month, &day) < 0)
		goto invalid;
	*ret_days = time_days_from_civil(year, month, day);
	return 0;
invalid:
	return errctx_set(ec, -EINVAL, "'%.*s' is not a valid YYYY-MM-DD date", QUOTE_MAX, s);
}

/* Why snprintf with 11: the header promises buf >= 11; a year beyond 9999 or
 * before 0 is truncated rather than overrunning. */
char *
time_format_date(int64_t days, char *buf)
{
	int year;
	unsigned month, day;

	time_civil_from_days(days, &year, &month, &day);
	snprintf(buf, 11, "%04d-%02u-%02u", year, month, day);
	return buf;
}

/*
 * Grammar: date ("T" | "t" | " ") HH:MM:SS ["." 1*9DIGIT] ["Z" | "z" | ("+" | "-") HH:MM].
 * Seconds are required (RFC 3339 and Python's isoformat() both write them);
 * leap second 60 is refused, as Python's datetime does.
 */
int
time_parse_rfc3339(const char *s, int64_t *ret_usec, struct errctx *ec)
{
	const char *p, *why;
	int year, hh, mi, ss, frac_usec = 0, off_sec = 0;
	unsigned month, day;
	int64_t secs;

	if (s == NULL)
		return errctx_set(ec, -EINVAL, "missing timestamp");
	for (int i = 0; i < 19; i++)
		if (s[i] == '\0') {
			why = "too short";
			goto invalid;
		}
	why = "bad date";
	if (parse_ymd(s, &year, &month, &day) < 0)
		goto invalid;
	why = "expected 'T' or ' ' after the date";
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		goto invalid;
	why = "bad time of day";
	p = s + 11;
	if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mi) || p[5] != ':' ||
	    !digits(p + 6, 2, &ss))
		goto invalid;
	if (hh > 23 || mi > 59 || ss > 59)
		goto invalid;
	p += 8;
	if (*p == '.') {
		int n = 0;

		why = "bad fraction of a second (1 to 9 digits)";
		for (p++; *p >= '0' && *p <= '9' && n <= 9; p++, n++)
			if (n < 6)	/* beyond microseconds: truncated */
				frac_usec = frac_usec * 10 + (*p - '0');
		if (n < 1 || n > 9)
			goto invalid;
		for (; n < 6; n++)
			frac_usec *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;

		why = "bad UTC offset (+HH:MM)";
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			goto invalid;
		if (oh > 23 || om > 59)
			goto invalid;
		off_sec = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	}
	/* else naive: UTC, as Python's naive isoformat() is in the system we replace */
	why = "trailing characters";
	if (*p != '\0')
		goto invalid;

	secs = time_days_from_civil(year, month, day) * SEC_PER_DAY + hh * 3600 + mi * 60 + ss;
	*ret_usec = (secs - off_sec) * USEC_PER_SEC + frac_usec;
	return 0;
invalid:
	return errctx_set(ec, -EINVAL, "'%.*s' is not an RFC 3339 timestamp: %s", QUOTE_MAX, s,
	    why);
}

/* v in exactly n decimal digits, zero-padded, at p; returns the end. */
static char *
put_digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

char *
time_format_rfc3339(int64_t usec, char *buf)
{
	/* Why no days * USEC_PER_DAY: near INT64_MIN that product overflows. */
	int64_t days = usec / USEC_PER_DAY, rem = usec % USEC_PER_DAY, sod, us;

	if (rem < 0) {
		rem += USEC_PER_DAY;
		days--;
	}
	sod = rem / USEC_PER_SEC;
	us = rem % USEC_PER_SEC;
	int year;
	unsigned month, day;

	time_civil_from_days(days, &year, &month, &day);
	if (year >= 0 && year <= 9999) {
		/* The same text without snprintf: every received event's timestamp is
		 * formatted to check its normal form (issue #13). */
		char *p = buf;

		p = put_digits(p, (unsigned)year, 4);
		*p++ = '-';
		p = put_digits(p, month, 2);
		*p++ = '-';
		p = put_digits(p, day, 2);
		*p++ = 'T';
		p = put_digits(p, (unsigned)(sod / 3600), 2);
		*p++ = ':';
		p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
		*p++ = ':';
		p = put_digits(p, (unsigned)(sod % 60), 2);
		if (us != 0) {
			*p++ = '.';
			p = put_digits(p, (unsigned)us, 6);
		}
		*p++ = 'Z';
		*p = '\0';
		return buf;
	}
	if (us == 0)
		snprintf(buf, RFC3339_STRLEN, "%04d-%02u-%02uT%02d:%02d:%02dZ", year, month, day,
		    (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
	else
		snprintf(buf, RFC3339_STRLEN, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", year, month,
		    day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)us);
	return buf;
}

/* Day number of the n-th Sunday (1-based) of month in year. */
static int64_t
nth_sunday(int year, unsigned month, unsigned n)
{
	int64_t first = time_days_from_civil(year, month, 1);
	unsigned wd = time_weekday_from_days(first);

	return first + (7 - wd) % 7 + 7 * (int64_t)(n - 1);
}

/*
 * Why in UTC: the switch happens at 02:00 local, which is 07:00 UTC in March
 * (still EST) and 06:00 UTC in November (still EDT); comparing UTC instants
 * avoids the ambiguous and missing local hours entirely.
 */
int
time_new_york_offset_sec(int64_t utc_usec)
{
	int64_t secs = floor_div(utc_usec, USEC_PER_SEC);
	int64_t start, end;
	int year;
	unsigned month, day;

	time_civil_from_days(floor_div(secs, SEC_PER_DAY), &year, &month, &day);
	start = nth_sunday(year, 3, 2) * SEC_PER_DAY + 7 * 3600;
	end = nth_sunday(year, 11, 1) * SEC_PER_DAY + 6 * 3600;
	return secs >= start && secs < end ? -4 * 3600 : -5 * 3600;
}

bool
time_lock_wait(int count, int64_t *since_usec, int64_t timeout_usec)
{
	int64_t now = time_now_monotonic_usec(), waited, step;
	struct timespec ts;

	if (count == 0)
		*since_usec = now;
	waited = now - *since_usec;
	if (waited >= timeout_usec)
		return false;
	step = count < 5 ? INT64_C(50) << count : waited < 100000 ? 1000 : 5000;
	if (step > timeout_usec - waited)
		step = timeout_usec - waited;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)step * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return true;
}
