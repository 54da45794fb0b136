/*
 * broker_sim: the built-in paper broker of the embedded default, a broker seam
 * kept in SQLite (tables broker_sim_*, so it can share the daemon's state
 * file). A cash account without margin: starting cash, long positions with
 * fractional shares, buying power = cash minus what open buy orders reserve,
 * orders with Alpaca's lifecycle (new -> partially_filled / filled / canceled /
 * rejected) and Alpaca's client_order_id rule (a duplicate is -EEXIST).
 *
 * Fills: a market order fills at once at the reference price moved by the
 * slippage against us (buy above, sell below); a limit order fills when its
 * limit reaches that price, at that price, else it rests and is matched again
 * on every later call (so a price change can fill it). The reference price
 * comes from price_cb (e.g. the market-data seam's last close) or, when that
 * has none, from broker_sim_set_price(). The quote is synthetic: the reference
 * price -/+ half the spread. Orders are DAY orders: one still open on a later
 * New York day reads as "expired". Market hours are not enforced (the stage
 * decides when to trade).
 * Refusals as Alpaca answers them: buy beyond buying power or sell beyond the
 * available quantity -> -EACCES (nothing stored); a non-tradable or unpriced
 * symbol -> the order is stored as "rejected".
 * Test modes (ours, not Alpaca's behaviour on demand): order_delay_usec (a
 * slow broker), fill_on_cancel (an order that fills while it is being
 * cancelled: the cancel is accepted, the fill wins) and quote_lags_fills
 * (fills past the quoted ask).
 *
 * Thread:  any worker thread; one connection guarded by a mutex, each change in
 *          one IMMEDIATE transaction (other processes wait busy_timeout_ms).
 * Memory:  the returned broker is freed with broker_free(); options are copied.
 */
#ifndef ALCHEMISER_TRADING_BROKER_SIM_H
#define ALCHEMISER_TRADING_BROKER_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/seams/broker.h"

struct errctx;

/* Reference price of symbol; -ENOENT when unknown (the table is consulted next). */
typedef int (*broker_sim_price_cb)(void *userdata, const char *symbol, struct decimal *ret,
    struct errctx *ec);
/* Wall clock in microseconds (tests pin it). */
typedef int64_t (*broker_sim_now_cb)(void *userdata);

struct broker_sim_options {
	const char		*state_path;		/* SQLite file, created if absent */
	struct decimal		 starting_cash;		/* first open of a fresh file only */
	int			 slippage_bps;		/* 0..1000, default 0 */
	int			 spread_bps;		/* synthetic quote, 0..1000; at least
							 * 2 x slippage is used */
	/* 0 = off. 1..99: a limit order's first fill takes this percentage of its
	 * quantity and the order then stays partially_filled (tests the executor's
	 * remaining-quantity path). */
	int			 partial_fill_pct;
	bool			 refuse_orders;		/* every order is accepted, then rejected */
	int			 busy_timeout_ms;	/* 0 = 5000 */
	int64_t			 order_delay_usec;	/* tests: pause before taking each order */
	/* Tests: the race of a cancel with a fill. A cancel of an open order is
	 * accepted (0, as Alpaca's 204), but the order fills in full first (at its
	 * limit, or the market's price), and reads filled afterwards. */
	bool			 fill_on_cancel;
	/* Tests: a fast market. The quote does not widen for the slippage, so a
	 * market buy fills above the ask (by slippage - half the spread) and a
	 * buy sized from the quote can be refused for buying power. */
	bool			 quote_lags_fills;
	broker_sim_price_cb	 price_cb;		/* may be NULL */
	void			*price_userdata;
	broker_sim_now_cb	 now_cb;		/* NULL = real time */
	void			*now_userdata;
};

int	broker_sim_new(const struct broker_sim_options *opt, struct broker **ret,
	    struct errctx *ec);
/* Reference price kept in the state file (used when price_cb has none). */
int	broker_sim_set_price(struct broker *b, const char *symbol, struct decimal price,
	    struct errctx *ec);
/* Asset flags; a symbol never set is tradable and fractionable. */
int	broker_sim_set_asset(struct broker *b, const char *symbol, bool tradable,
	    bool fractionable, struct errctx *ec);
/* Add (or, negative, remove) cash: deposits, and setting up tests. */
int	broker_sim_adjust_cash(struct broker *b, struct decimal amount, struct errctx *ec);
/* Number of orders ever submitted (tests: "no new order"). */
int	broker_sim_order_count(struct broker *b, int64_t *ret, struct errctx *ec);

#endif
