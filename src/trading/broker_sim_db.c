/*
 * broker_sim_db: tables, fills and valuation of the SQLite paper broker.
 * All money is INTEGER units of 10^-8 (struct decimal's), so nothing rounds in
 * SQL; rounding happens here, once, where the comments say.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_sim_db.h"
#include "alchemiser/trading/calendar.h"

static int bind_va(sqlite3_stmt *st, const char *types, va_list ap);
static struct decimal bps_factor(int bps);

#define ORDER_COLS "id, client_order_id, symbol, side, type, qty, notional, limit_price, " \
	"filled_qty, filled_avg_price, status, submitted_usec, filled_usec"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS broker_sim_account("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), cash INTEGER NOT NULL,"
	"  created_usec INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS broker_sim_positions("
	"  symbol TEXT PRIMARY KEY, qty INTEGER NOT NULL, avg_entry_price INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS broker_sim_orders("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	"  client_order_id TEXT NOT NULL UNIQUE, symbol TEXT NOT NULL, side TEXT NOT NULL,"
	"  type TEXT NOT NULL, qty INTEGER NOT NULL, notional INTEGER NOT NULL,"
	"  limit_price INTEGER NOT NULL, filled_qty INTEGER NOT NULL DEFAULT 0,"
	"  filled_avg_price INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,"
	"  capped INTEGER NOT NULL DEFAULT 0, submitted_usec INTEGER NOT NULL,"
	"  updated_usec INTEGER NOT NULL, filled_usec INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS broker_sim_orders_open ON broker_sim_orders(status);"
	"CREATE TABLE IF NOT EXISTS broker_sim_prices("
	"  symbol TEXT PRIMARY KEY, price INTEGER NOT NULL, updated_usec INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS broker_sim_assets("
	"  symbol TEXT PRIMARY KEY, tradable INTEGER NOT NULL, fractionable INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS broker_sim_equity("
	"  day INTEGER PRIMARY KEY, equity INTEGER NOT NULL);";

static int prepare(struct sim *s, const char *sql, sqlite3_stmt **st, struct errctx *ec);
static int db_err(struct sim *s, const char *what, struct errctx *ec);
static void row_order(sqlite3_stmt *st, struct broker_order *o);
static int order_rows(struct sim *s, sqlite3_stmt *st, const char *what,
    struct broker_order **ret, size_t *n, struct errctx *ec);
static int apply_fill(struct sim *s, const struct broker_order *o, struct decimal qty,
    struct decimal px, struct errctx *ec);
static int record_fill(struct sim *s, struct broker_order *o, struct decimal qty,
    struct decimal px, int64_t capped, struct errctx *ec);
static struct decimal dmul(struct decimal a, struct decimal b, int places);

/* The state file's write lock, held by the daemon's own state connection
 * (or another daemon's), is waited for in the same short steps they use
 * (time_lock_wait): with SQLite's 1-100 ms sleeps this connection starved
 * beside them under load, and a daemon starting among busy ones failed to
 * create its tables ("database is locked"). */
static int
lock_wait(void *arg, int count)
{
	struct sim *s = arg;

	return time_lock_wait(count, &s->busy_since_usec, (int64_t)(s->opt.busy_timeout_ms > 0 ?
	    s->opt.busy_timeout_ms : 5000) * USEC_PER_MSEC) ? 1 : 0;
}

static int
open_once(struct sim *s, struct errctx *ec)
{
	int r;

	r = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK)
		return db_err(s, "open", ec);
	(void)sqlite3_busy_handler(s->db, lock_wait, s);
	/* WAL: the daemon's other tables in the same file are read while we write. */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL,
	    NULL, NULL) != SQLITE_OK || sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, "schema", ec);
	return sim_db_exec_args(s, ec, "INSERT OR IGNORE INTO broker_sim_account(id, cash, "
	    "created_usec) VALUES(1, ?1, ?2)", "ii", s->opt.starting_cash.units, sim_now(s));
}

/* Two daemons starting at once on a file that does not exist yet both
 * create it and switch it to WAL; SQLite answers one of them "database is
 * locked" at once, without its busy handler (the lock upgrade would
 * deadlock). So a busy open is tried again from the start, within the busy
 * timeout, instead of failing the daemon's start-up. */
int
sim_db_open(struct sim *s, struct errctx *ec)
{
	int64_t since = 0;
	int r, attempt = 0;

	for (;;) {
		r = open_once(s, ec);
		if (r != -EAGAIN)
			return r;
		(void)sqlite3_close(s->db);
		s->db = NULL;
		if (!time_lock_wait(attempt++, &since, (int64_t)(s->opt.busy_timeout_ms > 0 ?
		    s->opt.busy_timeout_ms : 5000) * USEC_PER_MSEC))
			return r;
		*ec = (struct errctx){ 0 };
	}
}

static int
db_err(struct sim *s, const char *what, struct errctx *ec)
{
	int code = s->db != NULL ? sqlite3_errcode(s->db) : SQLITE_CANTOPEN;

	return errctx_set(ec, code == SQLITE_BUSY || code == SQLITE_LOCKED ? -EAGAIN : -EIO,
	    "sqlite %s: %s", what, s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
}

static int
prepare(struct sim *s, const char *sql, sqlite3_stmt **st, struct errctx *ec)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(s, "prepare", ec);
	return 0;
}

static int
bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
	for (int i = 0; types[i] != '\0'; i++) {
		int r = types[i] == 's' ?
		    sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT) :
		    sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));

		if (r != SQLITE_OK)
			return r;
	}
	return SQLITE_OK;
}

int
sim_db_exec_args(struct sim *s, struct errctx *ec, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	r = prepare(s, sql, &st, ec);
	if (r < 0)
		return r;
	va_start(ap, types);
	r = bind_va(st, types, ap);
	va_end(ap);
	if (r == SQLITE_OK)
		r = sqlite3_step(st);
	r = (r == SQLITE_DONE || r == SQLITE_ROW) ? 0 : db_err(s, "exec", ec);
	sqlite3_finalize(st);
	return r;
}

int
sim_db_query_int(struct sim *s, const char *sql, int64_t *ret, struct errctx *ec)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(s, sql, &st, ec);
	if (r < 0)
		return r;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = db_err(s, "query", ec);
	}
	sqlite3_finalize(st);
	return r;
}

int
sim_db_begin(struct sim *s, struct errctx *ec)
{
	/* IMMEDIATE: take the write lock now, waiting busy_timeout, instead of
	 * failing on upgrade halfway through an order. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, "begin", ec);
	return 0;
}

int
sim_db_end(struct sim *s, int r, struct errctx *ec)
{
	if (r == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	if (r == 0)
		r = db_err(s, "commit", ec);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int64_t
sim_now(struct sim *s)
{
	struct timespec ts;

	if (s->opt.now_cb != NULL)
		return s->opt.now_cb(s->opt.now_userdata);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
sim_price(struct sim *s, const char *symbol, struct decimal *ret, struct errctx *ec)
{
	sqlite3_stmt *st;
	int r;

	if (s->opt.price_cb != NULL) {
		r = s->opt.price_cb(s->opt.price_userdata, symbol, ret, ec);
		if (r == 0 && ret->units > 0)
			return 0;
		if (r < 0 && r != -ENOENT)
			return r;
		errctx_clear(ec);
	}
	r = prepare(s, "SELECT price FROM broker_sim_prices WHERE symbol = ?1", &st, ec);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ret->units = sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = errctx_set(ec, -ENOENT, "no price for %s", symbol);
	}
	sqlite3_finalize(st);
	return r;
}

int
sim_asset(struct sim *s, const char *symbol, struct broker_asset *ret, struct errctx *ec)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(s, "SELECT tradable, fractionable FROM broker_sim_assets WHERE symbol = ?1",
	    &st, ec);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, symbol, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(ret->symbol, sizeof ret->symbol, "%s", symbol);
		ret->tradable = sqlite3_column_int(st, 0) != 0;
		ret->fractionable = sqlite3_column_int(st, 1) != 0;
		r = 0;
	} else {
		r = errctx_set(ec, -ENOENT, "asset %s not found", symbol);
	}
	sqlite3_finalize(st);
	return r;
}

/* a * b rounded half-even to places; inputs are bounded at submit, so the
 * product stays in range. */
static struct decimal
dmul(struct decimal a, struct decimal b, int places)
{
	struct decimal r = DECIMAL_ZERO;

	decimal_mul(a, b, DECIMAL_ROUND_HALF_EVEN, &r);
	decimal_round_to(r, places, DECIMAL_ROUND_HALF_EVEN, &r);
	return r;
}

static struct decimal
bps_factor(int bps)
{
	return decimal_from_units(DECIMAL_SCALE + (int64_t)bps * (DECIMAL_SCALE / 10000));
}

struct decimal
sim_fill_price(struct sim *s, enum broker_side side, struct decimal ref)
{
	int bps = side == BROKER_SIDE_BUY ? s->opt.slippage_bps : -s->opt.slippage_bps;

	/* Sub-penny fills exist (Alpaca reports 4 places); keep 4. */
	return dmul(ref, bps_factor(bps), 4);
}

void
sim_quote_from_price(struct sim *s, struct decimal ref, struct broker_quote *ret)
{
	/* Half the spread each side, in 1/20000 steps so odd bps stay exact; never
	 * narrower than the slippage, so a marketable limit at the far side fills
	 * (a quote inside our own fill price would strand every limit order). */
	int64_t half = (int64_t)s->opt.spread_bps * (DECIMAL_SCALE / 20000);
	int64_t slip = (int64_t)s->opt.slippage_bps * (DECIMAL_SCALE / 10000);

	if (half < slip && !s->opt.quote_lags_fills)
		half = slip;

	memset(ret, 0, sizeof *ret);
	ret->bid = dmul(ref, decimal_from_units(DECIMAL_SCALE - half), 2);
	ret->ask = dmul(ref, decimal_from_units(DECIMAL_SCALE + half), 2);
	if (ret->bid.units <= 0)
		ret->bid = decimal_from_units(DECIMAL_SCALE / 100);
	ret->bid_size = ret->ask_size = decimal_from_units(100 * DECIMAL_SCALE);
	ret->timestamp_usec = sim_now(s);
}

static void
row_order(sqlite3_stmt *st, struct broker_order *o)
{
	memset(o, 0, sizeof *o);
	snprintf(o->id, sizeof o->id, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(o->client_order_id, sizeof o->client_order_id, "%s",
	    (const char *)sqlite3_column_text(st, 1));
	snprintf(o->symbol, sizeof o->symbol, "%s", (const char *)sqlite3_column_text(st, 2));
	broker_side_from_string((const char *)sqlite3_column_text(st, 3), &o->side);
	broker_order_type_from_string((const char *)sqlite3_column_text(st, 4), &o->type);
	o->qty.units = sqlite3_column_int64(st, 5);
	o->notional.units = sqlite3_column_int64(st, 6);
	o->limit_price.units = sqlite3_column_int64(st, 7);
	o->filled_qty.units = sqlite3_column_int64(st, 8);
	o->filled_avg_price.units = sqlite3_column_int64(st, 9);
	broker_order_status_from_string((const char *)sqlite3_column_text(st, 10), &o->status);
	o->submitted_at_usec = sqlite3_column_int64(st, 11);
	o->filled_at_usec = sqlite3_column_int64(st, 12);
}

int
sim_order_by(struct sim *s, const char *column, const char *value, struct broker_order *ret,
    struct errctx *ec)
{
	char sql[256];
	sqlite3_stmt *st;
	int r;

	/* column is one of two literals from our own code, never input. */
	snprintf(sql, sizeof sql, "SELECT " ORDER_COLS " FROM broker_sim_orders WHERE %s = ?1",
	    strcmp(column, "id") == 0 ? "id" : "client_order_id");
	r = prepare(s, sql, &st, ec);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		row_order(st, ret);
		r = 0;
	} else {
		r = errctx_set(ec, -ENOENT, "order not found");
	}
	sqlite3_finalize(st);
	return r;
}

int
sim_order_insert(struct sim *s, const struct broker_order *o, struct errctx *ec)
{
	return sim_db_exec_args(s, ec, "INSERT INTO broker_sim_orders(id, client_order_id, "
	    "symbol, side, type, qty, notional, limit_price, status, submitted_usec, "
	    "updated_usec) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)", "sssssiiisi",
	    o->id, o->client_order_id, o->symbol, broker_side_to_string(o->side),
	    broker_order_type_to_string(o->type), o->qty.units, o->notional.units,
	    o->limit_price.units, broker_order_status_to_string(o->status), o->submitted_at_usec);
}

/* The orders one prepared statement selects, in its order. */
static int
order_rows(struct sim *s, sqlite3_stmt *st, const char *what, struct broker_order **ret,
    size_t *n, struct errctx *ec)
{
	size_t cap = 8;
	int r;

	*n = 0;
	*ret = xcalloc(cap, sizeof **ret);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap)
			*ret = xreallocarray(*ret, cap *= 2, sizeof **ret);
		row_order(st, &(*ret)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(*ret);
		*ret = NULL;
		*n = 0;
		return db_err(s, what, ec);
	}
	return 0;
}

int
sim_open_orders(struct sim *s, struct broker_order **ret, size_t *n, struct errctx *ec)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(s, "SELECT " ORDER_COLS " FROM broker_sim_orders WHERE status IN "
	    "('new', 'partially_filled') ORDER BY seq", &st, ec);
	if (r < 0)
		return r;
	return order_rows(s, st, "open orders", ret, n, ec);
}

int
sim_orders_after(struct sim *s, int64_t after_usec, struct broker_order **ret, size_t *n,
    struct errctx *ec)
{
	sqlite3_stmt *st;
	int r;

	r = prepare(s, "SELECT " ORDER_COLS " FROM broker_sim_orders WHERE submitted_usec > ?1 "
	    "ORDER BY seq", &st, ec);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after_usec);
	return order_rows(s, st, "orders", ret, n, ec);
}

int
sim_try_fill(struct sim *s, struct broker_order *o, struct errctx *ec)
{
	struct broker_asset asset;
	struct decimal ref, px, qty;
	int64_t capped = 0;

	if (sim_price(s, o->symbol, &ref, NULL) < 0)
		return 0;	/* no price now: keep resting */
	px = sim_fill_price(s, o->side, ref);
	if (o->type == BROKER_ORDER_LIMIT) {
		if (o->side == BROKER_SIDE_BUY ? decimal_cmp(o->limit_price, px) < 0 :
		    decimal_cmp(o->limit_price, px) > 0)
			return 0;
	}
	if (o->notional.units > 0) {
		/* Notional buy: whole dollars buy what they can at 6 places. */
		decimal_div(o->notional, px, DECIMAL_ROUND_DOWN, &qty);
		decimal_round_to(qty, 6, DECIMAL_ROUND_DOWN, &qty);
		o->qty = qty;
	}
	decimal_sub(o->qty, o->filled_qty, &qty);
	if (o->type == BROKER_ORDER_LIMIT && s->opt.partial_fill_pct > 0) {
		struct decimal part;

		if (sim_asset(s, o->symbol, &asset, NULL) < 0)
			asset.fractionable = true;
		decimal_mul(qty, decimal_from_units(s->opt.partial_fill_pct * DECIMAL_SCALE / 100),
		    DECIMAL_ROUND_DOWN, &part);
		decimal_round_to(part, asset.fractionable ? 6 : 0, DECIMAL_ROUND_DOWN, &part);
		if (part.units > 0) {
			qty = part;
			capped = 1;
		}
	}
	if (qty.units <= 0)
		return 0;
	return record_fill(s, o, qty, px, capped, ec);
}

int
sim_fill_rest(struct sim *s, struct broker_order *o, struct errctx *ec)
{
	struct decimal ref, px, qty;

	if (sim_price(s, o->symbol, &ref, NULL) < 0)
		return 0;	/* nothing to fill at: the cancel wins */
	px = o->type == BROKER_ORDER_LIMIT ? o->limit_price : sim_fill_price(s, o->side, ref);
	decimal_sub(o->qty, o->filled_qty, &qty);
	if (qty.units <= 0)
		return 0;
	return record_fill(s, o, qty, px, 0, ec);
}

/* Book a fill of qty at px into the account and the order row; updates o. */
static int
record_fill(struct sim *s, struct broker_order *o, struct decimal qty, struct decimal px,
    int64_t capped, struct errctx *ec)
{
	struct decimal total, value;
	int r;

	r = apply_fill(s, o, qty, px, ec);
	if (r < 0)
		return r;
	/* New average over both fills, 4 places like the fill prices. */
	value = dmul(o->filled_qty, o->filled_avg_price, 8);
	decimal_add(value, dmul(qty, px, 8), &value);
	decimal_add(o->filled_qty, qty, &total);
	decimal_div(value, total, DECIMAL_ROUND_HALF_EVEN, &o->filled_avg_price);
	decimal_round_to(o->filled_avg_price, 4, DECIMAL_ROUND_HALF_EVEN, &o->filled_avg_price);
	o->filled_qty = total;
	o->status = decimal_cmp(total, o->qty) >= 0 ? BROKER_STATUS_FILLED :
	    BROKER_STATUS_PARTIALLY_FILLED;
	o->filled_at_usec = o->status == BROKER_STATUS_FILLED ? sim_now(s) : 0;
	return sim_db_exec_args(s, ec, "UPDATE broker_sim_orders SET qty = ?2, filled_qty = ?3, "
	    "filled_avg_price = ?4, status = ?5, capped = ?6, filled_usec = ?7, updated_usec = ?8 "
	    "WHERE id = ?1", "siiisiii", o->id, o->qty.units, o->filled_qty.units,
	    o->filled_avg_price.units, broker_order_status_to_string(o->status), capped,
	    o->filled_at_usec, sim_now(s));
}

/* Position and cash for one fill. Cash moves by qty x price rounded to cents. */
static int
apply_fill(struct sim *s, const struct broker_order *o, struct decimal qty, struct decimal px,
    struct errctx *ec)
{
	struct decimal cost = dmul(qty, px, 2);
	bool buy = o->side == BROKER_SIDE_BUY;
	int r;

	r = sim_db_exec_args(s, ec, "UPDATE broker_sim_account SET cash = cash + ?1", "i",
	    buy ? -cost.units : cost.units);
	if (r < 0)
		return r;
	if (!buy)
		return sim_db_exec_args(s, ec, "UPDATE broker_sim_positions SET qty = qty - ?2 "
		    "WHERE symbol = ?1", "si", o->symbol, qty.units) ?:
		    sim_db_exec_args(s, ec, "DELETE FROM broker_sim_positions WHERE qty <= 0", "");
	/* Weighted average entry in SQL integers would overflow: do it here. */
	struct decimal old_qty = DECIMAL_ZERO, old_avg = DECIMAL_ZERO, v, tq, avg;
	sqlite3_stmt *st;

	r = prepare(s, "SELECT qty, avg_entry_price FROM broker_sim_positions WHERE symbol = ?1",
	    &st, ec);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, o->symbol, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		old_qty.units = sqlite3_column_int64(st, 0);
		old_avg.units = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	decimal_add(dmul(old_qty, old_avg, 8), dmul(qty, px, 8), &v);
	decimal_add(old_qty, qty, &tq);
	decimal_div(v, tq, DECIMAL_ROUND_HALF_EVEN, &avg);
	decimal_round_to(avg, 4, DECIMAL_ROUND_HALF_EVEN, &avg);
	return sim_db_exec_args(s, ec, "INSERT INTO broker_sim_positions(symbol, qty, "
	    "avg_entry_price) VALUES(?1, ?2, ?3) ON CONFLICT(symbol) DO UPDATE SET qty = ?2, "
	    "avg_entry_price = ?3", "sii", o->symbol, tq.units, avg.units);
}

int
sim_match_open(struct sim *s, struct errctx *ec)
{
	struct broker_order *open = NULL;
	size_t n = 0;
	int r;

	int64_t today = calendar_new_york_days(sim_now(s));

	r = sim_open_orders(s, &open, &n, ec);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int64_t capped = 0;
		sqlite3_stmt *st;

		/* Time in force is DAY: an order from an earlier New York day expired
		 * at that day's close, whatever it filled before. */
		if (calendar_new_york_days(open[i].submitted_at_usec) < today) {
			r = sim_db_exec_args(s, ec, "UPDATE broker_sim_orders SET status = 'expired', "
			    "updated_usec = ?2 WHERE id = ?1", "si", open[i].id, sim_now(s));
			continue;
		}

		/* A partially filled test order (capped) waits for a cancel. */
		if (prepare(s, "SELECT capped FROM broker_sim_orders WHERE id = ?1", &st, ec) < 0)
			break;
		sqlite3_bind_text(st, 1, open[i].id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW)
			capped = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (capped == 0)
			r = sim_try_fill(s, &open[i], ec);
	}
	free(open);
	return r;
}
