/*
 * order_id: deterministic client_order_id of an order, so a re-run of the same
 * plan finds the orders it already placed instead of placing them again.
 *   "alc-" RUN(10 hex) "-" KEY(12 hex) "-" attempt
 * RUN = SHA-256(plan event id), KEY = SHA-256(plan event id, symbol, side,
 * attempt). The run prefix finds "this run's" open orders; the attempt number
 * (0 = first limit, then re-prices, then the market escalation) makes each
 * replacement order a new id, as Alpaca requires ids to be unique forever.
 * Thread:  pure functions, any thread.
 * Memory:  caller buffers.
 */
#ifndef ALCHEMISER_TRADING_ORDER_ID_H
#define ALCHEMISER_TRADING_ORDER_ID_H

#include <stdbool.h>

#include "alchemiser/seams/broker.h"

#define ORDER_ID_PREFIX_MAX 16	/* "alc-" + 10 hex + "-" + NUL */

void	order_id_run_prefix(const char *plan_event_id, char out[ORDER_ID_PREFIX_MAX]);
void	order_id_make(const char *plan_event_id, const char *symbol, enum broker_side side,
	    int attempt, char out[BROKER_CLIENT_ID_MAX]);
/* True when cid was made for this plan event id. */
/* Whether cid has the daemon's prefix ("alc-"): false for orders placed by
 * hand or by other tools. */
bool	order_id_is_daemon(const char *cid);
bool	order_id_is_run(const char *plan_event_id, const char *cid);

#endif
