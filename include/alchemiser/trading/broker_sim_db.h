/*
 * broker_sim_db: the storage half of broker_sim (private to src/trading).
 * Thread:  every function expects the caller to hold s->lock.
 * Memory:  arrays returned through **ret belong to the caller (free()).
 */
#ifndef ALCHEMISER_TRADING_BROKER_SIM_DB_H
#define ALCHEMISER_TRADING_BROKER_SIM_DB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/trading/broker_sim.h"

struct sqlite3;
struct errctx;

struct sim {
	struct broker		 base;
	struct sqlite3		*db;
	pthread_mutex_t		 lock;
	struct broker_sim_options opt;
	char			*path;
	int64_t			 busy_since_usec;	/* lock_wait: used under lock */
};

int	sim_db_open(struct sim *s, struct errctx *ec);
/* Bind by a type string: 's' const char *, 'i' int64_t. */
int	sim_db_exec_args(struct sim *s, struct errctx *ec, const char *sql, const char *types, ...);
int	sim_db_query_int(struct sim *s, const char *sql, int64_t *ret, struct errctx *ec);
int	sim_db_begin(struct sim *s, struct errctx *ec);
/* COMMIT when r == 0, else ROLLBACK; returns r or the commit error. */
int	sim_db_end(struct sim *s, int r, struct errctx *ec);

int64_t	sim_now(struct sim *s);
/* Reference price: price_cb, then the prices table; -ENOENT when none. */
int	sim_price(struct sim *s, const char *symbol, struct decimal *ret, struct errctx *ec);
int	sim_asset(struct sim *s, const char *symbol, struct broker_asset *ret, struct errctx *ec);
/* Reference price moved by the slippage against the taker. */
struct decimal sim_fill_price(struct sim *s, enum broker_side side, struct decimal ref);
void	sim_quote_from_price(struct sim *s, struct decimal ref, struct broker_quote *ret);

int	sim_order_by(struct sim *s, const char *column, const char *value,
	    struct broker_order *ret, struct errctx *ec);
int	sim_order_insert(struct sim *s, const struct broker_order *o, struct errctx *ec);
int	sim_open_orders(struct sim *s, struct broker_order **ret, size_t *n, struct errctx *ec);
/* Every order submitted after after_usec, in submission order. */
int	sim_orders_after(struct sim *s, int64_t after_usec, struct broker_order **ret, size_t *n,
	    struct errctx *ec);
/* Fill o (stored, status new) if its price allows; updates o. */
int	sim_try_fill(struct sim *s, struct broker_order *o, struct errctx *ec);
/* Fill what o has left at once (its limit price, or the market's), whatever
 * the price: the fill_on_cancel test mode. Updates o. */
int	sim_fill_rest(struct sim *s, struct broker_order *o, struct errctx *ec);
int	sim_match_open(struct sim *s, struct errctx *ec);

int	sim_account(struct sim *s, struct broker_account *ret, struct errctx *ec);
int	sim_positions(struct sim *s, struct broker_position **ret, size_t *n, struct errctx *ec);
int	sim_qty_available(struct sim *s, const char *symbol, struct decimal *held,
	    struct decimal *available, struct errctx *ec);
int	sim_record_equity(struct sim *s, struct decimal equity, struct errctx *ec);
int	sim_history(struct sim *s, int64_t from_days, struct broker_history_point **ret,
	    size_t *n, struct errctx *ec);

#endif
