/*
 * broker: the seam's shared vocabulary (names as Alpaca spells them), used by
 * both implementations and by the executor's JSON.
 */
#include <errno.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/seams/broker.h"

static const char *const side_names[_BROKER_SIDE_MAX] = {
	[BROKER_SIDE_BUY] = "buy",
	[BROKER_SIDE_SELL] = "sell",
};

static const char *const type_names[_BROKER_ORDER_MAX] = {
	[BROKER_ORDER_MARKET] = "market",
	[BROKER_ORDER_LIMIT] = "limit",
	[BROKER_ORDER_STOP] = "stop",
	[BROKER_ORDER_STOP_LIMIT] = "stop_limit",
	[BROKER_ORDER_TRAILING_STOP] = "trailing_stop",
};

static const char *const status_names[_BROKER_STATUS_MAX] = {
	[BROKER_STATUS_NEW] = "new",
	[BROKER_STATUS_PARTIALLY_FILLED] = "partially_filled",
	[BROKER_STATUS_FILLED] = "filled",
	[BROKER_STATUS_PENDING_CANCEL] = "pending_cancel",
	[BROKER_STATUS_CANCELED] = "canceled",
	[BROKER_STATUS_EXPIRED] = "expired",
	[BROKER_STATUS_REJECTED] = "rejected",
	[BROKER_STATUS_REPLACED] = "replaced",
};

/* Alpaca statuses folded onto ours: working ones read as "new" (the executor
 * only needs working / filled / terminal-unfilled). */
static const struct {
	const char *name;
	enum broker_order_status status;
} status_aliases[] = {
	{ "accepted", BROKER_STATUS_NEW },
	{ "pending_new", BROKER_STATUS_NEW },
	{ "accepted_for_bidding", BROKER_STATUS_NEW },
	{ "pending_review", BROKER_STATUS_NEW },
	{ "held", BROKER_STATUS_NEW },
	{ "stopped", BROKER_STATUS_NEW },
	{ "suspended", BROKER_STATUS_NEW },
	{ "pending_replace", BROKER_STATUS_NEW },
	/* Not filled: no more fills today (filled_qty says how much did). */
	{ "done_for_day", BROKER_STATUS_NEW },
	{ "calculated", BROKER_STATUS_NEW },
	{ "cancelled", BROKER_STATUS_CANCELED },
};

const char *
broker_side_to_string(enum broker_side s)
{
	return s < _BROKER_SIDE_MAX ? side_names[s] : "?";
}

const char *
broker_order_type_to_string(enum broker_order_type t)
{
	return t < _BROKER_ORDER_MAX ? type_names[t] : "?";
}

const char *
broker_order_status_to_string(enum broker_order_status s)
{
	return s < _BROKER_STATUS_MAX ? status_names[s] : "?";
}

int
broker_side_from_string(const char *s, enum broker_side *ret)
{
	for (int i = 0; i < _BROKER_SIDE_MAX; i++)
		if (s != NULL && strcmp(s, side_names[i]) == 0) {
			*ret = (enum broker_side)i;
			return 0;
		}
	return -EINVAL;
}

int
broker_order_type_from_string(const char *s, enum broker_order_type *ret)
{
	for (int i = 0; i < _BROKER_ORDER_MAX; i++)
		if (s != NULL && strcmp(s, type_names[i]) == 0) {
			*ret = (enum broker_order_type)i;
			return 0;
		}
	return -EINVAL;
}

int
broker_order_status_from_string(const char *s, enum broker_order_status *ret)
{
	if (s == NULL)
		return -EINVAL;
	for (int i = 0; i < _BROKER_STATUS_MAX; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum broker_order_status)i;
			return 0;
		}
	for (size_t i = 0; i < sizeof(status_aliases) / sizeof(status_aliases[0]); i++)
		if (strcmp(s, status_aliases[i].name) == 0) {
			*ret = status_aliases[i].status;
			return 0;
		}
	return -EINVAL;
}

bool
broker_order_status_is_terminal(enum broker_order_status s)
{
	return s == BROKER_STATUS_FILLED || s == BROKER_STATUS_CANCELED ||
	    s == BROKER_STATUS_EXPIRED || s == BROKER_STATUS_REJECTED ||
	    s == BROKER_STATUS_REPLACED;
}

int
broker_account_check(const struct broker_account *a, struct errctx *ec)
{
	if (a->trade_suspended)
		return errctx_set(ec, -EACCES, "account: trading is suspended by the user "
		    "(trade_suspended_by_user)");
	if (a->account_blocked)
		return errctx_set(ec, -EACCES, "account: the account is blocked (account_blocked)");
	if (a->trading_blocked)
		return errctx_set(ec, -EACCES, "account: trading is blocked (trading_blocked)");
	if (a->status[0] != '\0' && strcmp(a->status, "ACTIVE") != 0)
		return errctx_set(ec, -EACCES, "account: status is %s, not ACTIVE", a->status);
	return 0;
}

void
broker_request_fit_fractional(struct broker_order_request *req)
{
	struct decimal whole;

	if (req->type != BROKER_ORDER_LIMIT || req->use_notional)
		return;
	decimal_round_to(req->qty, 0, DECIMAL_ROUND_DOWN, &whole);
	if (decimal_cmp(whole, req->qty) == 0)
		return;
	if (whole.units > 0) {
		req->qty = whole;
	} else {
		req->type = BROKER_ORDER_MARKET;
		req->limit_price = DECIMAL_ZERO;
	}
}
