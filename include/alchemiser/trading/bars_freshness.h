/*
 * bars_freshness: may a strategy trade on a ticker's daily bars as of a day?
 * A ticker is usable when it has bars and its last bar (on or before the
 * as-of day) is the NYSE session the as-of day asks for: the last trading day
 * on or before it (trading/calendar.h). The checks, in order:
 *   future        the as-of day is after the last completed session by the
 *                 clock: no bar can exist for it yet;
 *   missing       the source has no bar for the ticker at all;
 *   before start  every bar the source has is dated after the as-of day;
 *   stale         the last bar trails the session by more than max_lag
 *                 sessions (a tolerance for vendors that publish late).
 * allow_stale (research only) turns "stale" into a warning; the other states
 * always fail. The calendar knows the exchange's rules, not one-off closures
 * (days of mourning): on such a day every ticker looks one session stale.
 * Thread:  pure functions, any thread.
 * Memory:  a struct bars_freshness borrows its symbol from the series it was
 *          checked from; nothing to free.
 */
#ifndef ALCHEMISER_TRADING_BARS_FRESHNESS_H
#define ALCHEMISER_TRADING_BARS_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct md_series;

enum bars_freshness_state {
	BARS_FRESH,
	BARS_FUTURE,
	BARS_MISSING,
	BARS_BEFORE_START,
	BARS_STALE,
	_BARS_FRESHNESS_MAX
};

struct bars_freshness_policy {
	int64_t		today_session;	/* last completed session by the clock (days);
					 * 0: the as-of day is not checked against it */
	unsigned	max_lag;	/* sessions the last bar may trail the session */
	bool		allow_stale;	/* research: stale bars warn instead of failing */
};

struct bars_freshness {
	const char	*symbol;	/* borrowed from the series */
	enum bars_freshness_state state;
	int64_t		 as_of;		/* the as-of day asked for */
	int64_t		 session;	/* the session it asks for (trading day <= as_of) */
	int64_t		 today_session;	/* copied from the policy */
	int64_t		 first_day;	/* first and last bar on or before as_of (n > 0) */
	int64_t		 last_day;
	int64_t		 later_day;	/* BEFORE_START: the first bar the source has */
	unsigned	 behind;	/* sessions last_day trails session (capped) */
	unsigned	 max_lag;
	bool		 tolerated;	/* stale but allowed (max_lag or allow_stale) */
};

/* The NYSE session an as-of day asks for: the day itself when it is a
 * trading day, else the trading day before it. */
int64_t	bars_freshness_session(int64_t as_of_day);
/* The last completed session at an instant: before 16:15 New York (15
 * minutes after the regular close, for the day's bar to settle; early-close
 * days too) it is the previous trading day. */
int64_t	bars_freshness_last_completed(int64_t now_usec);
/* Trading days in (from, to], capped at 100000; 0 when to <= from. */
unsigned bars_freshness_sessions_between(int64_t from_day, int64_t to_day);

/* Check one series (bars on or before as_of_day, as a market-data source
 * returns them) against p. */
void	bars_freshness_check(const struct md_series *s, int64_t as_of_day,
	    const struct bars_freshness_policy *p, struct bars_freshness *ret);
/* Usable for evaluation: fresh, or stale within the tolerance. */
bool	bars_freshness_ok(const struct bars_freshness *f);
/* One sentence naming the ticker and the dates ("SPY: last bar 2026-11-19 is
 * 1 session before the as-of session 2026-11-20 (tolerance 0 sessions)");
 * "" for a fresh series. Returns buf. */
char	*bars_freshness_describe(const struct bars_freshness *f, char *buf, size_t len);
const char *bars_freshness_state_to_string(enum bars_freshness_state s);

#endif
