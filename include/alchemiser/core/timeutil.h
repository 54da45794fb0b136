/*
 * timeutil: clocks, RFC 3339 timestamps and civil (proleptic Gregorian) dates.
 * Times are int64 microseconds: *_usec since the Unix epoch for wall-clock
 * (wire timestamps only) and since an arbitrary origin for CLOCK_MONOTONIC
 * (deadlines). Convert to seconds only at the AWS edge.
 * Thread:  pure functions, any thread.
 * Memory:  caller-provided buffers.
 */
#ifndef ALCHEMISER_CORE_TIMEUTIL_H
#define ALCHEMISER_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

struct errctx;

#define USEC_PER_SEC  INT64_C(1000000)
#define USEC_PER_MSEC INT64_C(1000)
#define USEC_PER_DAY  (INT64_C(86400) * USEC_PER_SEC)
/* "2026-11-23T12:34:56.123456Z" plus NUL, with room to spare. */
#define RFC3339_STRLEN 40

int64_t	time_now_realtime_usec(void);
int64_t	time_now_monotonic_usec(void);

/* One pause of a lock poller (SQLite's busy handler): count is the attempt
 * (0 = the first collision, which sets *since_usec). Sleeps a short step and
 * returns true, or returns false once timeout_usec has passed since then.
 * Steps: 50 us doubling to 1 ms, 1 ms steps up to 100 ms of waiting, 5 ms
 * after. Why not sqlite3_busy_timeout: its 1, 2, 5 ... 100 ms sleeps miss
 * locks held well under a millisecond, and a connection sleeping that way
 * starves beside connections that poll in short steps. */
bool	time_lock_wait(int count, int64_t *since_usec, int64_t timeout_usec);

/* Parse RFC 3339 / ISO 8601 as the Python system writes it: "Z" or "+HH:MM"
 * offsets, 0-9 fractional digits (beyond microseconds truncated), "T" or a space
 * as separator. A missing offset is taken as UTC (Python's naive isoformat).
 * Seconds are required; "t"/"z" are accepted; leap second :60 is refused (as
 * Python does); years 0000..9999. -EINVAL with the reason otherwise. */
int	time_parse_rfc3339(const char *s, int64_t *ret_usec, struct errctx *ec);
/* Format as UTC with "Z": seconds precision when the microseconds are zero,
 * else exactly 6 fractional digits. buf >= RFC3339_STRLEN. */
char	*time_format_rfc3339(int64_t usec, char *buf);

/* Civil dates (proleptic Gregorian). days = days since 1970-01-01 (may be
 * negative); month 1..12 and day 1..31 are the caller's to validate (use
 * time_parse_date for input); years must fit an int. */
int64_t	time_days_from_civil(int year, unsigned month, unsigned day);
void	time_civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day);
/* 0 = Sunday ... 6 = Saturday. */
unsigned time_weekday_from_days(int64_t days);
/* Parse "YYYY-MM-DD" (validated, incl. leap years) into days. */
int	time_parse_date(const char *s, int64_t *ret_days, struct errctx *ec);
/* "YYYY-MM-DD"; buf >= 11 (a year outside 0000..9999 is cut to fit). */
char	*time_format_date(int64_t days, char *buf);

/* Offset of America/New_York from UTC at the given instant, in seconds
 * (-18000 or -14400), from the US DST rules in force since 2007 (EDT from the
 * second Sunday of March 07:00 UTC to the first Sunday of November 06:00 UTC);
 * earlier years get the same rules, not their historical ones. */
int	time_new_york_offset_sec(int64_t utc_usec);

#endif
