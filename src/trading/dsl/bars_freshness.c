/* Freshness of daily bars against the NYSE calendar (see bars_freshness.h). */
#include <stdio.h>

#include "alchemiser/core/timeutil.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/bars_freshness.h"
#include "alchemiser/trading/calendar.h"

#define SESSIONS_CAP	100000u
/* The day's bar settles after the close; Alpaca drops it before this too. */
#define SETTLE_MINUTES	15

static const char *const state_names[_BARS_FRESHNESS_MAX] = {
	[BARS_FRESH] = "fresh",
	[BARS_FUTURE] = "future",
	[BARS_MISSING] = "missing",
	[BARS_BEFORE_START] = "before-start",
	[BARS_STALE] = "stale",
};

const char *
bars_freshness_state_to_string(enum bars_freshness_state s)
{
	return s < _BARS_FRESHNESS_MAX ? state_names[s] : "?";
}

int64_t
bars_freshness_session(int64_t as_of_day)
{
	return calendar_is_trading_day(as_of_day) ? as_of_day : calendar_prev_trading_day(as_of_day);
}

int64_t
bars_freshness_last_completed(int64_t now_usec)
{
	int64_t day = calendar_new_york_days(now_usec);

	/* 16:15 on early-close days too: the Alpaca source drops the day's bar
	 * until then, and a session must not count before its bar can exist. */
	if (calendar_is_trading_day(day) && now_usec >=
	    calendar_new_york_instant_usec(day, CALENDAR_CLOSE_MINUTE + SETTLE_MINUTES))
		return day;
	return calendar_prev_trading_day(day);
}

unsigned
bars_freshness_sessions_between(int64_t from_day, int64_t to_day)
{
	unsigned n = 0;
	int64_t d = from_day;

	while (d < to_day && n < SESSIONS_CAP) {
		d = calendar_next_trading_day(d);
		if (d <= to_day)
			n++;
	}
	return n;
}

void
bars_freshness_check(const struct md_series *s, int64_t as_of_day,
    const struct bars_freshness_policy *p, struct bars_freshness *ret)
{
	*ret = (struct bars_freshness){
		.symbol = s->symbol, .as_of = as_of_day,
		.session = bars_freshness_session(as_of_day),
		.today_session = p->today_session, .max_lag = p->max_lag,
	};
	if (s->n > 0) {
		ret->first_day = s->bars[0].day;
		ret->last_day = s->bars[s->n - 1].day;
	}
	if (p->today_session > 0 && ret->session > p->today_session) {
		ret->state = BARS_FUTURE;
		return;
	}
	if (s->n == 0) {
		ret->later_day = s->later_day;
		ret->state = s->later_day > as_of_day ? BARS_BEFORE_START : BARS_MISSING;
		return;
	}
	ret->behind = bars_freshness_sessions_between(ret->last_day, ret->session);
	if (ret->behind == 0)
		return;
	ret->state = BARS_STALE;
	ret->tolerated = ret->behind <= p->max_lag || p->allow_stale;
}

bool
bars_freshness_ok(const struct bars_freshness *f)
{
	return f->state == BARS_FRESH || (f->state == BARS_STALE && f->tolerated);
}

char *
bars_freshness_describe(const struct bars_freshness *f, char *buf, size_t len)
{
	char a[11], b[11], c[11];

	switch (f->state) {
	case BARS_FUTURE:
		snprintf(buf, len, "%s: the as-of date %s is in the future: the last completed "
		    "NYSE session is %s", f->symbol, time_format_date(f->as_of, a),
		    time_format_date(f->today_session, b));
		break;
	case BARS_MISSING:
		snprintf(buf, len, "%s: no market data at all (needed for the as-of session %s)",
		    f->symbol, time_format_date(f->session, a));
		break;
	case BARS_BEFORE_START:
		snprintf(buf, len, "%s: the as-of date %s is before its data starts (first bar %s)",
		    f->symbol, time_format_date(f->as_of, a), time_format_date(f->later_day, b));
		break;
	case BARS_STALE:
		snprintf(buf, len, "%s: last bar %s is %u session%s before the as-of session %s "
		    "(bars from %s; tolerance %u session%s)%s", f->symbol,
		    time_format_date(f->last_day, a), f->behind, f->behind == 1 ? "" : "s",
		    time_format_date(f->session, b), time_format_date(f->first_day, c), f->max_lag,
		    f->max_lag == 1 ? "" : "s", f->tolerated ? ", allowed" : "");
		break;
	default:
		if (len > 0)
			buf[0] = '\0';
		break;
	}
	return buf;
}
