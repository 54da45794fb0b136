/*
 * marketdata: the market-data seam (CSV directory in the embedded default,
 * Alpaca Market Data v2 in production). The signals stage fetches daily bars
 * once per run for every ticker of the strategy set.
 * Thread:  the ops are synchronous and may block on I/O: call them from a
 *          worker thread, never from the event loop. One marketdata object is
 *          used by one thread at a time.
 * Memory:  daily_bars fills a caller-provided array of struct md_series whose
 *          contents the implementation allocates; release them with
 *          md_series_clear() (NULL-safe, idempotent). The seam itself is freed
 *          with its free op (marketdata_free() is the NULL-safe wrapper).
 */
#ifndef ALCHEMISER_SEAMS_MARKETDATA_H
#define ALCHEMISER_SEAMS_MARKETDATA_H

#include <stddef.h>
#include <stdint.h>

struct errctx;
struct marketdata;

/* One completed daily session. day = days since 1970-01-01 (the session date
 * in New York). Prices are split- and dividend-adjusted as of the fetch. */
struct md_bar {
	int64_t	day;
	double	open, high, low, close, volume;
};

struct md_series {
	char		*symbol;	/* upper-case ticker as requested */
	struct md_bar	*bars;		/* ascending by day, no duplicates */
	size_t		 n;		/* 0: the source has no data for symbol */
	int64_t		 later_day;	/* n == 0 only: the first bar the source has
					 * after as_of_day when it knows one (CSV), else 0
					 * (lets a caller say "before the data starts") */
};

void	md_series_clear(struct md_series *s);

struct md_quote {
	double	bid, ask;	/* > 0 when known; both set to the one known side */
	double	price;		/* mid, or the last close for sources without quotes */
	int64_t	time_usec;	/* wall clock of the quote, 0 if unknown */
};

struct marketdata_ops {
	const char *name;
	/* Daily bars for n symbols, dated on or before as_of_day, at least the
	 * last lookback bars (an implementation may return more). out[i]
	 * answers symbols[i]; a symbol the source does not know gets n = 0
	 * (not an error; later_day tells "before its data starts" from "no
	 * data" where the source can). Errors are for the source as a whole (I/O,
	 * protocol, auth): then out is left cleared. */
	int	(*daily_bars)(struct marketdata *md, const char *const *symbols, size_t n,
		    int64_t as_of_day, size_t lookback, struct md_series *out,
		    struct errctx *ec);
	/* Latest quote for symbol; -ENOENT when there is none. */
	int	(*latest_quote)(struct marketdata *md, const char *symbol,
		    struct md_quote *ret, struct errctx *ec);
	void	(*free)(struct marketdata *md);
};

struct marketdata {
	const struct marketdata_ops *ops;
};

static inline void
marketdata_free(struct marketdata *md)
{
	if (md != NULL)
		md->ops->free(md);
}

/* CSV directory: one DIR/SYMBOL.csv per ticker, header
 * "date,open,high,low,close,volume", dates YYYY-MM-DD ascending. Files are
 * read at each call (so an updated directory is seen without a restart).
 * latest_quote answers the last close as bid = ask = price.
 * -ENOENT if dir is not a readable directory. */
struct marketdata *marketdata_csv_new(const char *dir, struct errctx *ec);

/* Parse one CSV file's text (exposed for tests and tools): bars dated on or
 * before as_of_day (INT64_MAX = all). -EBADMSG with "line N: ..." on bad
 * input (wrong header, bad date or number, dates not strictly ascending). */
int	marketdata_csv_parse(const char *text, size_t len, int64_t as_of_day,
	    struct md_bar **ret, size_t *ret_n, struct errctx *ec);

struct secret;

/* Alpaca Market Data v2 daily bars (multi-symbol endpoint, all pages) and
 * latest quotes. Every string and secret is copied. */
struct marketdata_alpaca_config {
	const char		*base_url;	/* default "https://data.alpaca.markets" */
	const struct secret	*key_id;	/* APCA-API-KEY-ID (required) */
	const struct secret	*secret_key;	/* APCA-API-SECRET-KEY (required) */
	const char		*feed;		/* default "iex" (free plan); "sip" when paid */
	const char		*adjustment;	/* default "all" (§7 item 23); raw|split|dividend|all */
	unsigned		 max_attempts;	/* per HTTP request, default 4 */
	int64_t			 backoff_usec;	/* first wait after 429/5xx/network error, doubled
						 * per attempt, default 500 ms; a 429's
						 * Retry-After (seconds or HTTP date) is
						 * waited for, else X-Ratelimit-Reset when
						 * later (both capped at 60 s) */
	int64_t			 timeout_usec;	/* whole HTTP request, default 30 s */
	unsigned		 symbols_per_request;	/* default 100 */
};

/* Completed sessions only: a bar dated today (New York) is dropped before
 * 16:15 New York time. 401/403 give -EACCES, exhausted retries -EAGAIN (or
 * the network error), malformed JSON -EPROTO. */
struct marketdata *marketdata_alpaca_new(const struct marketdata_alpaca_config *cfg,
	    struct errctx *ec);

#endif
