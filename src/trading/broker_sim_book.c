/*
 * broker_sim_book: valuation of the paper account (account, positions, equity
 * history). A cash account: buying power is cash less what resting buy orders
 * reserve; positions are valued at the reference price (entry price when the
 * symbol has none today).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_sim_db.h"
#include "alchemiser/trading/calendar.h"

static int sum_open(struct sim *s, const char *side, const char *symbol, bool value,
    struct decimal *ret, struct errctx *ec);

/* Remaining quantity (or its limit value) of open orders on one side. */
static int
sum_open(struct sim *s, const char *side, const char *symbol, bool value, struct decimal *ret,
    struct errctx *ec)
{
	struct broker_order *open = NULL;
	struct decimal rem, v;
	size_t n = 0;
	int r;

	*ret = DECIMAL_ZERO;
	r = sim_open_orders(s, &open, &n, ec);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (strcmp(broker_side_to_string(open[i].side), side) != 0 ||
		    (symbol != NULL && strcmp(open[i].symbol, symbol) != 0))
			continue;
		decimal_sub(open[i].qty, open[i].filled_qty, &rem);
		if (value) {
			decimal_mul(rem, open[i].limit_price, DECIMAL_ROUND_HALF_EVEN, &v);
			rem = v;
		}
		decimal_add(*ret, rem, ret);
	}
	free(open);
	return r;
}

int
sim_qty_available(struct sim *s, const char *symbol, struct decimal *held,
    struct decimal *available, struct errctx *ec)
{
	sqlite3_stmt *st;
	struct decimal reserved;
	int r;

	*held = DECIMAL_ZERO;
	if (sqlite3_prepare_v2(s->db, "SELECT qty FROM broker_sim_positions WHERE symbol = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return errctx_set(ec, -EIO, "sqlite: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		held->units = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	r = sum_open(s, "sell", symbol, false, &reserved, ec);
	if (r < 0)
		return r;
	decimal_sub(*held, reserved, available);
	if (decimal_is_negative(*available))
		*available = DECIMAL_ZERO;
	return 0;
}

int
sim_positions(struct sim *s, struct broker_position **ret, size_t *n, struct errctx *ec)
{
	sqlite3_stmt *st;
	size_t cap = 8;
	int r;

	if (sqlite3_prepare_v2(s->db, "SELECT symbol, qty, avg_entry_price FROM "
	    "broker_sim_positions WHERE qty > 0 ORDER BY symbol", -1, &st, NULL) != SQLITE_OK)
		return errctx_set(ec, -EIO, "sqlite: %s", sqlite3_errmsg(s->db));
	*n = 0;
	*ret = xcalloc(cap, sizeof **ret);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct broker_position *p;

		if (*n == cap)
			*ret = xreallocarray(*ret, cap *= 2, sizeof **ret);
		p = &(*ret)[(*n)++];
		memset(p, 0, sizeof *p);
		snprintf(p->symbol, sizeof p->symbol, "%s", (const char *)sqlite3_column_text(st, 0));
		p->qty.units = sqlite3_column_int64(st, 1);
		p->avg_entry_price.units = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(*ret);
		*ret = NULL;
		return errctx_set(ec, -EIO, "sqlite positions: %s", sqlite3_errmsg(s->db));
	}
	for (size_t i = 0; i < *n; i++) {
		struct broker_position *p = &(*ret)[i];
		struct decimal held;

		if (sim_price(s, p->symbol, &p->current_price, NULL) < 0)
			p->current_price = p->avg_entry_price;
		decimal_mul(p->qty, p->current_price, DECIMAL_ROUND_HALF_EVEN, &p->market_value);
		decimal_round_to(p->market_value, 2, DECIMAL_ROUND_HALF_EVEN, &p->market_value);
		r = sim_qty_available(s, p->symbol, &held, &p->qty_available, ec);
		if (r < 0) {
			free(*ret);
			*ret = NULL;
			return r;
		}
	}
	return 0;
}

int
sim_account(struct sim *s, struct broker_account *ret, struct errctx *ec)
{
	struct broker_position *pos = NULL;
	struct decimal reserved;
	size_t n = 0;
	int64_t v;
	int r;

	memset(ret, 0, sizeof *ret);
	r = sim_db_query_int(s, "SELECT cash FROM broker_sim_account WHERE id = 1", &v, ec);
	if (r < 0)
		return r;
	ret->cash.units = v;
	r = sim_positions(s, &pos, &n, ec);
	if (r < 0)
		return r;
	ret->equity = ret->cash;
	for (size_t i = 0; i < n; i++)
		decimal_add(ret->equity, pos[i].market_value, &ret->equity);
	free(pos);
	ret->portfolio_value = ret->equity;
	r = sum_open(s, "buy", NULL, true, &reserved, ec);
	if (r < 0)
		return r;
	decimal_sub(ret->cash, reserved, &ret->buying_power);
	if (decimal_is_negative(ret->buying_power))
		ret->buying_power = DECIMAL_ZERO;
	ret->last_equity = ret->equity;
	v = calendar_new_york_days(sim_now(s));
	{
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(s->db, "SELECT equity FROM broker_sim_equity WHERE day < ?1 "
		    "ORDER BY day DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, v);
			if (sqlite3_step(st) == SQLITE_ROW)
				ret->last_equity.units = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	snprintf(ret->status, sizeof ret->status, "ACTIVE");
	/* Identity of the paper account: its creation time, fixed for the file, so
	 * every daemon sharing the state file names the same account. */
	r = sim_db_query_int(s, "SELECT created_usec FROM broker_sim_account WHERE id = 1", &v, ec);
	if (r < 0)
		return r;
	snprintf(ret->id, sizeof ret->id, "paper-%lld", (long long)v);
	return 0;
}

int
sim_record_equity(struct sim *s, struct decimal equity, struct errctx *ec)
{
	return sim_db_exec_args(s, ec, "INSERT INTO broker_sim_equity(day, equity) VALUES(?1, ?2) "
	    "ON CONFLICT(day) DO UPDATE SET equity = ?2", "ii",
	    calendar_new_york_days(sim_now(s)), equity.units);
}

int
sim_history(struct sim *s, int64_t from_days, struct broker_history_point **ret, size_t *n,
    struct errctx *ec)
{
	sqlite3_stmt *st;
	size_t cap = 16;
	int r;

	if (sqlite3_prepare_v2(s->db, "SELECT day, equity FROM broker_sim_equity WHERE day >= ?1 "
	    "ORDER BY day", -1, &st, NULL) != SQLITE_OK)
		return errctx_set(ec, -EIO, "sqlite: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_int64(st, 1, from_days);
	*n = 0;
	*ret = xcalloc(cap, sizeof **ret);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct broker_history_point *p;

		if (*n == cap)
			*ret = xreallocarray(*ret, cap *= 2, sizeof **ret);
		p = &(*ret)[*n];
		p->timestamp_usec = calendar_new_york_instant_usec(sqlite3_column_int64(st, 0), 0);
		p->equity.units = sqlite3_column_int64(st, 1);
		p->profit_loss = DECIMAL_ZERO;
		if (*n > 0)
			decimal_sub(p->equity, (*ret)[*n - 1].equity, &p->profit_loss);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(*ret);
		*ret = NULL;
		return errctx_set(ec, -EIO, "sqlite history: %s", sqlite3_errmsg(s->db));
	}
	return 0;
}
