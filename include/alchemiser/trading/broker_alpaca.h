/*
 * broker_alpaca: the broker seam over Alpaca's Trading API v2 (and the Market
 * Data API v2 for the latest quote), with blocking libcurl easy handles.
 *
 * Retries: idempotent calls (every GET, cancel) are retried up to
 * max_attempts on 429 (after Retry-After, in seconds or as an HTTP date, or
 * X-Ratelimit-Reset, up to 60 s), 5xx
 * and transport failures, with exponential back-off and jitter. An order POST
 * is never blindly repeated: after an ambiguous failure (5xx, 429, timeout,
 * dropped connection) the order is looked up by its client_order_id; found ->
 * that order is the answer; absent -> back off and POST again (safe: Alpaca
 * refuses a second order with the same client_order_id); still failing ->
 * -EAGAIN. Error mapping in include/alchemiser/seams/broker.h.
 * Wire conventions kept here, not above: share classes are BRK/B for the
 * daemon and BRK.B for Alpaca (both directions); a replaced order is
 * followed to its replaced_by; open orders are read 500 a page, and an
 * unreadable one the daemon did not place is skipped (docs/alpaca-contract.md).
 * Secrets: the key id and secret go only into the two request headers; no
 * error message, log line or debug output carries them.
 *
 * Thread:  any worker thread; idle curl handles are pooled (keep-alive)
 *          under a mutex, a handle is used by one call at a time.
 * Memory:  options are copied (secrets duplicated); broker_free() wipes them.
 */
#ifndef ALCHEMISER_TRADING_BROKER_ALPACA_H
#define ALCHEMISER_TRADING_BROKER_ALPACA_H

#include <stdint.h>

#include "alchemiser/seams/broker.h"

struct errctx;
struct secret;

#define BROKER_ALPACA_PAPER_URL "https://paper-api.alpaca.markets"
#define BROKER_ALPACA_LIVE_URL  "https://api.alpaca.markets"
#define BROKER_ALPACA_DATA_URL  "https://data.alpaca.markets"

struct broker_alpaca_options {
	const char		*base_url;	/* trading; NULL = paper */
	const char		*data_url;	/* market data; NULL = BROKER_ALPACA_DATA_URL */
	const char		*data_feed;	/* "iex" (NULL) or "sip" */
	const struct secret	*key_id;	/* required */
	const struct secret	*secret_key;	/* required */
	int			 max_attempts;		/* 0 = 3 */
	int64_t			 backoff_usec;		/* first back-off; 0 = 500 ms */
	int64_t			 max_backoff_usec;	/* cap of our own back-off; 0 = 10 s
						 * (a Retry-After is honoured up to 60 s) */
	int64_t			 timeout_usec;		/* whole request; 0 = 30 s */
	int64_t			 connect_timeout_usec;	/* 0 = 10 s */
};

int	broker_alpaca_new(const struct broker_alpaca_options *opt, struct broker **ret,
	    struct errctx *ec);

#endif
