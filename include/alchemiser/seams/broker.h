/*
 * broker: the brokerage seam (Alpaca Trading API v2 in production, the SQLite
 * paper broker in the embedded default). The shape follows Alpaca's REST API
 * because that is the broker we must match; the paper broker imitates it,
 * including its error codes, so the executor has one set of paths to test.
 *
 * Errors (negative errno, reason in *ec):
 *   -ENOENT     no such order / position / asset
 *   -EEXIST     duplicate client_order_id (Alpaca 422 code 40010001): the order
 *               was already submitted; look it up with get_order_by_client_id
 *   -EACCES     refused: bad keys, insufficient buying power or quantity,
 *               trading blocked (Alpaca 401/403)
 *   -EBADMSG    the request is invalid (Alpaca 400/422 other than the above)
 *   -EAGAIN     throttled or server trouble after the bounded retries (429, 5xx);
 *               for submit_order: the order was NOT found by its
 *               client_order_id after the failure, so a later retry is safe
 *   -ETIMEDOUT, -ECONNRESET  transport trouble after the retries
 *   -EPROTO     malformed answer
 * Thread:  every call blocks and may be made from any worker thread
 *          concurrently; implementations lock or keep per-call handles.
 * Memory:  result structs are filled by value; arrays returned through
 *          **ret are owned by the caller and freed with free(). Arguments are
 *          borrowed for the duration of the call.
 */
#ifndef ALCHEMISER_SEAMS_BROKER_H
#define ALCHEMISER_SEAMS_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/core/decimal.h"

struct errctx;
struct broker;

#define BROKER_SYMBOL_MAX	16	/* incl. NUL; Alpaca symbols are <= 10 characters */
#define BROKER_ORDER_ID_MAX	64	/* incl. NUL; Alpaca ids are 36-character UUIDs */
#define BROKER_CLIENT_ID_MAX	49	/* incl. NUL; 48 keeps old Alpaca clients happy */

struct broker_account {
	struct decimal	equity;
	struct decimal	cash;
	struct decimal	buying_power;
	struct decimal	portfolio_value;	/* Alpaca's legacy alias of equity */
	struct decimal	last_equity;		/* previous close */
	bool		trading_blocked;	/* trading_blocked || account_blocked ||
						 * trade_suspended_by_user */
	bool		account_blocked;	/* Alpaca's account_blocked */
	bool		trade_suspended;	/* Alpaca's trade_suspended_by_user */
	char		status[24];		/* "ACTIVE", ... ("" = not reported) */
	char		id[64];			/* the account's identity: Alpaca's account id,
						 * the paper broker's "paper-<created>"; "" if unknown */
};

struct broker_position {
	char		symbol[BROKER_SYMBOL_MAX];
	struct decimal	qty;			/* shares held (long only) */
	struct decimal	qty_available;		/* not reserved by open sell orders */
	struct decimal	avg_entry_price;
	struct decimal	market_value;
	struct decimal	current_price;
};

struct broker_clock {
	int64_t		timestamp_usec;
	bool		is_open;
	int64_t		next_open_usec;
	int64_t		next_close_usec;
};

/* One trading day; non-trading days are absent, as in Alpaca's calendar. */
struct broker_calendar_day {
	int64_t		days;			/* days since 1970-01-01 */
	int		open_minute;		/* minutes after midnight, New York time */
	int		close_minute;		/* 960 (16:00), 780 (13:00) on early closes */
};

struct broker_asset {
	char		symbol[BROKER_SYMBOL_MAX];
	bool		tradable;
	bool		fractionable;
};

struct broker_quote {
	struct decimal	bid;			/* 0 = no bid */
	struct decimal	ask;			/* 0 = no ask */
	struct decimal	bid_size;
	struct decimal	ask_size;
	int64_t		timestamp_usec;
};

enum broker_side {
	BROKER_SIDE_BUY,
	BROKER_SIDE_SELL,
	_BROKER_SIDE_MAX
};

enum broker_order_type {
	BROKER_ORDER_MARKET,
	BROKER_ORDER_LIMIT,
	/* Never placed by the daemon; read so that others' orders on the
	 * account (manual stops, brackets) parse. */
	BROKER_ORDER_STOP,
	BROKER_ORDER_STOP_LIMIT,
	BROKER_ORDER_TRAILING_STOP,
	_BROKER_ORDER_MAX
};

/* Alpaca's statuses that matter to us; the rest map to the nearest (see
 * broker_order_status_from_string). */
enum broker_order_status {
	BROKER_STATUS_NEW,			/* new, accepted, pending_new, held,
						 * done_for_day, calculated, ... */
	BROKER_STATUS_PARTIALLY_FILLED,
	BROKER_STATUS_FILLED,
	BROKER_STATUS_PENDING_CANCEL,
	BROKER_STATUS_CANCELED,
	BROKER_STATUS_EXPIRED,			/* also done_for_day counts as not terminal */
	BROKER_STATUS_REJECTED,
	BROKER_STATUS_REPLACED,			/* only when no replaced_by was given:
						 * the Alpaca adapter follows it */
	_BROKER_STATUS_MAX
};

/* Time in force is always "day": that is all fractional orders allow. */
struct broker_order_request {
	const char		*symbol;
	enum broker_side	 side;
	enum broker_order_type	 type;
	bool			 use_notional;	/* dollar amount instead of qty (market only) */
	struct decimal		 qty;
	struct decimal		 notional;
	struct decimal		 limit_price;	/* limit orders */
	const char		*client_order_id; /* required: our idempotency key */
};

struct broker_order {
	char			 id[BROKER_ORDER_ID_MAX];
	char			 client_order_id[BROKER_CLIENT_ID_MAX];
	char			 symbol[BROKER_SYMBOL_MAX];
	enum broker_side	 side;
	enum broker_order_type	 type;
	enum broker_order_status status;
	struct decimal		 qty;		/* 0 for a notional order until filled */
	struct decimal		 notional;
	struct decimal		 limit_price;
	struct decimal		 stop_price;	/* stop, stop_limit (others' orders) */
	struct decimal		 filled_qty;
	struct decimal		 filled_avg_price; /* 0 when nothing filled */
	int64_t			 submitted_at_usec;
	int64_t			 filled_at_usec;	/* 0 when not filled */
	char			 replaced_by[BROKER_ORDER_ID_MAX]; /* "" unless replaced */
};

/* One point of the daily equity history. */
struct broker_history_point {
	int64_t		timestamp_usec;		/* start of the day (New York midnight) */
	struct decimal	equity;
	struct decimal	profit_loss;		/* vs the previous point (first: 0) */
};

struct broker_ops {
	const char *name;
	/* Limit orders take whole shares only (Alpaca): the executor splits a
	 * fractional quantity (broker_request_fit_fractional). */
	bool	whole_share_limits;
	int	(*get_account)(struct broker *b, struct broker_account *ret, struct errctx *ec);
	int	(*list_positions)(struct broker *b, struct broker_position **ret, size_t *n,
		    struct errctx *ec);
	int	(*get_clock)(struct broker *b, struct broker_clock *ret, struct errctx *ec);
	/* Trading days in [start_days, end_days], both inclusive. */
	int	(*get_calendar)(struct broker *b, int64_t start_days, int64_t end_days,
		    struct broker_calendar_day **ret, size_t *n, struct errctx *ec);
	int	(*get_asset)(struct broker *b, const char *symbol, struct broker_asset *ret,
		    struct errctx *ec);
	int	(*get_quote)(struct broker *b, const char *symbol, struct broker_quote *ret,
		    struct errctx *ec);
	/* Submit once: never blindly re-submitted inside. */
	int	(*submit_order)(struct broker *b, const struct broker_order_request *req,
		    struct broker_order *ret, struct errctx *ec);
	int	(*get_order)(struct broker *b, const char *id, struct broker_order *ret,
		    struct errctx *ec);
	int	(*get_order_by_client_id)(struct broker *b, const char *client_order_id,
		    struct broker_order *ret, struct errctx *ec);
	/* 0 when the cancel was accepted (the order may still fill meanwhile: read
	 * it back); -ENOENT unknown; -EBADMSG not cancelable (already terminal). */
	int	(*cancel_order)(struct broker *b, const char *id, struct errctx *ec);
	int	(*list_open_orders)(struct broker *b, struct broker_order **ret, size_t *n,
		    struct errctx *ec);
	/* Every order, open or closed, submitted after after_usec (broker time),
	 * oldest first: what a run placed, whatever became of its positions. */
	int	(*list_orders_after)(struct broker *b, int64_t after_usec,
		    struct broker_order **ret, size_t *n, struct errctx *ec);
	/* Daily equity for the last `days` calendar days (oldest first). */
	int	(*portfolio_history)(struct broker *b, int days, struct broker_history_point **ret,
		    size_t *n, struct errctx *ec);
	void	(*free)(struct broker *b);
};

struct broker {
	const struct broker_ops *ops;
};

/* NULL-safe. */
static inline void
broker_free(struct broker *b)
{
	if (b != NULL)
		b->ops->free(b);
}

/* Names as Alpaca spells them ("buy", "limit", "partially_filled"). */
const char *broker_side_to_string(enum broker_side s);
const char *broker_order_type_to_string(enum broker_order_type t);
const char *broker_order_status_to_string(enum broker_order_status s);
/* -EINVAL for unknown text. Statuses: Alpaca's full list maps onto ours. */
int	broker_side_from_string(const char *s, enum broker_side *ret);
int	broker_order_type_from_string(const char *s, enum broker_order_type *ret);
int	broker_order_status_from_string(const char *s, enum broker_order_status *ret);
/* filled, canceled, expired, rejected, replaced. */
bool	broker_order_status_is_terminal(enum broker_order_status s);
/* 0 when the account may trade; -EACCES with the reason (blocked, suspended
 * by the user, a status other than ACTIVE) otherwise. Checked before planning. */
int	broker_account_check(const struct broker_account *a, struct errctx *ec);
/* Alpaca's fractional rule (docs/alpaca-contract.md): a fractional quantity
 * only on a market order with time_in_force day. A limit order with a
 * fractional qty becomes its whole shares, or, with less than one share, a
 * market order for the fraction; the executor's next attempt places what the
 * whole-share leg left over. */
void	broker_request_fit_fractional(struct broker_order_request *req);

#endif
