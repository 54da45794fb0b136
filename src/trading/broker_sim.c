/*
 * broker_sim: the SQLite paper broker (see the header for the model).
 * Money is stored as INTEGER decimal units (10^-8), so the file holds exact
 * values and SQL never rounds; statuses, sides and types as Alpaca's text so
 * the file reads like the broker's order blotter.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_sim.h"
#include "alchemiser/trading/calendar.h"
#include "alchemiser/trading/broker_sim_db.h"

static int locked_match(struct sim *s, struct errctx *ec);
static int read_order(struct broker *b, const char *col, const char *v, struct broker_order *ret,
    struct errctx *ec);

static int sim_get_account(struct broker *b, struct broker_account *ret, struct errctx *ec);
static int sim_list_positions(struct broker *b, struct broker_position **ret, size_t *n,
    struct errctx *ec);
static int sim_get_clock(struct broker *b, struct broker_clock *ret, struct errctx *ec);
static int sim_get_calendar(struct broker *b, int64_t start, int64_t end,
    struct broker_calendar_day **ret, size_t *n, struct errctx *ec);
static int sim_get_asset(struct broker *b, const char *symbol, struct broker_asset *ret,
    struct errctx *ec);
static int sim_get_quote(struct broker *b, const char *symbol, struct broker_quote *ret,
    struct errctx *ec);
static int sim_submit_order(struct broker *b, const struct broker_order_request *req,
    struct broker_order *ret, struct errctx *ec);
static int sim_get_order(struct broker *b, const char *id, struct broker_order *ret,
    struct errctx *ec);
static int sim_get_order_by_client_id(struct broker *b, const char *cid,
    struct broker_order *ret, struct errctx *ec);
static int sim_cancel_order(struct broker *b, const char *id, struct errctx *ec);
static int sim_list_open_orders(struct broker *b, struct broker_order **ret, size_t *n,
    struct errctx *ec);
static int sim_list_orders_after(struct broker *b, int64_t after_usec, struct broker_order **ret,
    size_t *n, struct errctx *ec);
static int sim_portfolio_history(struct broker *b, int days, struct broker_history_point **ret,
    size_t *n, struct errctx *ec);
static void sim_free(struct broker *b);
static int validate_request(struct sim *s, const struct broker_order_request *req,
    const struct broker_asset *asset, struct errctx *ec);
static int check_funds(struct sim *s, const struct broker_order_request *req,
    struct errctx *ec);

static const struct broker_ops sim_ops = {
	.name = "sim",
	.get_account = sim_get_account,
	.list_positions = sim_list_positions,
	.get_clock = sim_get_clock,
	.get_calendar = sim_get_calendar,
	.get_asset = sim_get_asset,
	.get_quote = sim_get_quote,
	.submit_order = sim_submit_order,
	.get_order = sim_get_order,
	.get_order_by_client_id = sim_get_order_by_client_id,
	.cancel_order = sim_cancel_order,
	.list_open_orders = sim_list_open_orders,
	.list_orders_after = sim_list_orders_after,
	.portfolio_history = sim_portfolio_history,
	.free = sim_free,
};

int
broker_sim_new(const struct broker_sim_options *opt, struct broker **ret, struct errctx *ec)
{
	struct sim *s;
	int r;

	if (opt == NULL || opt->state_path == NULL || *opt->state_path == '\0')
		return errctx_set(ec, -EINVAL, "broker_sim: state_path is required");
	if (opt->slippage_bps < 0 || opt->slippage_bps > 1000 || opt->spread_bps < 0 ||
	    opt->spread_bps > 1000)
		return errctx_set(ec, -EINVAL, "broker_sim: slippage/spread must be 0..1000 bps");
	if (opt->partial_fill_pct < 0 || opt->partial_fill_pct > 99)
		return errctx_set(ec, -EINVAL, "broker_sim: partial_fill_pct must be 0..99");
	if (decimal_is_negative(opt->starting_cash))
		return errctx_set(ec, -EINVAL, "broker_sim: starting cash must not be negative");
	s = xcalloc(1, sizeof *s);
	s->base.ops = &sim_ops;
	s->opt = *opt;
	s->path = xstrdup(opt->state_path);
	s->opt.state_path = s->path;
	pthread_mutex_init(&s->lock, NULL);
	r = sim_db_open(s, ec);
	if (r < 0) {
		sim_free(&s->base);
		return errctx_prefix(ec, "broker_sim %s", opt->state_path);
	}
	*ret = &s->base;
	return 0;
}

static void
sim_free(struct broker *b)
{
	struct sim *s = (struct sim *)b;

	if (s == NULL)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

int
broker_sim_set_price(struct broker *b, const char *symbol, struct decimal price,
    struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	if (price.units <= 0)
		return errctx_set(ec, -EINVAL, "price of %s must be positive", symbol);
	pthread_mutex_lock(&s->lock);
	r = sim_db_exec_args(s, ec, "INSERT INTO broker_sim_prices(symbol, price, updated_usec) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(symbol) DO UPDATE SET price = ?2, updated_usec = ?3",
	    "sii", symbol, price.units, sim_now(s));
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
broker_sim_set_asset(struct broker *b, const char *symbol, bool tradable, bool fractionable,
    struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_db_exec_args(s, ec, "INSERT INTO broker_sim_assets(symbol, tradable, fractionable) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(symbol) DO UPDATE SET tradable = ?2, fractionable = ?3",
	    "sii", symbol, (int64_t)tradable, (int64_t)fractionable);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
broker_sim_adjust_cash(struct broker *b, struct decimal amount, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_db_exec_args(s, ec, "UPDATE broker_sim_account SET cash = cash + ?1", "i",
	    amount.units);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
broker_sim_order_count(struct broker *b, int64_t *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_db_query_int(s, "SELECT COUNT(*) FROM broker_sim_orders", ret, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Every read first matches resting orders, so fills happen as prices move. */
static int
locked_match(struct sim *s, struct errctx *ec)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_db_begin(s, ec);
	if (r == 0)
		r = sim_match_open(s, ec);
	return sim_db_end(s, r, ec);
}

static int
sim_get_account(struct broker *b, struct broker_account *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_account(s, ret, ec);
	if (r == 0)
		r = sim_record_equity(s, ret->equity, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_list_positions(struct broker *b, struct broker_position **ret, size_t *n, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_positions(s, ret, n, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_get_clock(struct broker *b, struct broker_clock *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;

	ret->timestamp_usec = sim_now(s);
	calendar_market_state(ret->timestamp_usec, &ret->is_open, &ret->next_open_usec,
	    &ret->next_close_usec);
	return 0;
}

static int
sim_get_calendar(struct broker *b, int64_t start, int64_t end, struct broker_calendar_day **ret,
    size_t *n, struct errctx *ec)
{
	struct calendar_day cd;
	size_t cap;

	if (end < start || end - start > 3660)
		return errctx_set(ec, -EINVAL, "calendar range must be 0..3660 days");
	cap = (size_t)(end - start + 1);
	*ret = xcalloc(cap, sizeof **ret);
	*n = 0;
	for (int64_t d = start; d <= end; d++) {
		calendar_day_info(d, &cd);
		if (cd.kind != CALENDAR_TRADING && cd.kind != CALENDAR_EARLY_CLOSE)
			continue;
		(*ret)[*n].days = d;
		(*ret)[*n].open_minute = cd.open_minute;
		(*ret)[*n].close_minute = cd.close_minute;
		(*n)++;
	}
	return 0;
}

static int
sim_get_asset(struct broker *b, const char *symbol, struct broker_asset *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	struct decimal p;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_asset(s, symbol, ret, ec);
	if (r == -ENOENT) {
		/* Never configured: any symbol with a price is a plain stock. */
		errctx_clear(ec);
		r = sim_price(s, symbol, &p, ec);
		if (r == 0) {
			snprintf(ret->symbol, sizeof ret->symbol, "%s", symbol);
			ret->tradable = ret->fractionable = true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_get_quote(struct broker *b, const char *symbol, struct broker_quote *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	struct decimal p;
	int r;

	pthread_mutex_lock(&s->lock);
	r = sim_price(s, symbol, &p, ec);
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		return r;
	sim_quote_from_price(s, p, ret);
	return 0;
}

static int
sim_submit_order(struct broker *b, const struct broker_order_request *req,
    struct broker_order *ret, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	struct broker_asset asset;
	struct broker_order o;
	struct decimal p;
	int r;

	/* Test knob (trading.paper_order_delay): a slow broker, outside any lock. */
	if (s->opt.order_delay_usec > 0) {
		struct timespec ts = { (time_t)(s->opt.order_delay_usec / 1000000),
		    (long)(s->opt.order_delay_usec % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	memset(&o, 0, sizeof o);
	r = locked_match(s, ec);
	if (r < 0)
		goto out;
	r = sim_db_begin(s, ec);
	if (r < 0)
		goto out;
	r = sim_order_by(s, "client_order_id", req->client_order_id != NULL ?
	    req->client_order_id : "", &o, ec);
	if (r == 0) {
		r = errctx_set(ec, -EEXIST, "client_order_id must be unique");
		goto end;
	}
	errctx_clear(ec);
	r = sim_asset(s, req->symbol, &asset, ec);
	if (r == -ENOENT) {
		errctx_clear(ec);
		asset.tradable = asset.fractionable = true;
		r = 0;
	}
	if (r == 0)
		r = validate_request(s, req, &asset, ec);
	if (r == 0)
		r = check_funds(s, req, ec);
	if (r < 0)
		goto end;

	memset(&o, 0, sizeof o);
	if (uuid_v4(o.id) < 0) {
		r = errctx_set(ec, -EIO, "no randomness for an order id");
		goto end;
	}
	snprintf(o.client_order_id, sizeof o.client_order_id, "%s", req->client_order_id);
	snprintf(o.symbol, sizeof o.symbol, "%s", req->symbol);
	o.side = req->side;
	o.type = req->type;
	o.qty = req->use_notional ? DECIMAL_ZERO : req->qty;
	o.notional = req->use_notional ? req->notional : DECIMAL_ZERO;
	o.limit_price = req->type == BROKER_ORDER_LIMIT ? req->limit_price : DECIMAL_ZERO;
	o.submitted_at_usec = sim_now(s);
	/* Alpaca accepts the order and rejects it afterwards: stored, visible. */
	o.status = BROKER_STATUS_NEW;
	if (!asset.tradable || s->opt.refuse_orders || sim_price(s, req->symbol, &p, NULL) < 0)
		o.status = BROKER_STATUS_REJECTED;
	r = sim_order_insert(s, &o, ec);
	if (r == 0 && o.status == BROKER_STATUS_NEW)
		r = sim_try_fill(s, &o, ec);
end:
	r = sim_db_end(s, r, ec);
	if (r == 0)
		*ret = o;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
validate_request(struct sim *s, const struct broker_order_request *req,
    const struct broker_asset *asset, struct errctx *ec)
{
	struct decimal whole;

	(void)s;
	if (req->symbol == NULL || *req->symbol == '\0' ||
	    strlen(req->symbol) >= BROKER_SYMBOL_MAX)
		return errctx_set(ec, -EBADMSG, "invalid symbol");
	if (req->client_order_id == NULL || *req->client_order_id == '\0' ||
	    strlen(req->client_order_id) >= BROKER_CLIENT_ID_MAX)
		return errctx_set(ec, -EBADMSG, "client_order_id must be 1..48 characters");
	if (req->use_notional) {
		if (req->type != BROKER_ORDER_MARKET)
			return errctx_set(ec, -EBADMSG, "notional orders must be market orders");
		if (req->notional.units <= 0)
			return errctx_set(ec, -EBADMSG, "notional must be > 0");
		if (!asset->fractionable)
			return errctx_set(ec, -EBADMSG, "asset %s is not fractionable", req->symbol);
	} else {
		if (req->qty.units <= 0)
			return errctx_set(ec, -EBADMSG, "qty must be > 0");
		decimal_round_to(req->qty, 0, DECIMAL_ROUND_DOWN, &whole);
		if (!asset->fractionable && decimal_cmp(whole, req->qty) != 0)
			return errctx_set(ec, -EBADMSG, "fractional orders are not supported for %s",
			    req->symbol);
	}
	if (req->type == BROKER_ORDER_LIMIT && req->limit_price.units <= 0)
		return errctx_set(ec, -EBADMSG, "limit orders require a positive limit_price");
	/* Bounds that keep every product inside the decimal range. */
	if (req->qty.units > 1000000000 * DECIMAL_SCALE ||
	    req->notional.units > 10000000000 * DECIMAL_SCALE ||
	    req->limit_price.units > 10000000 * DECIMAL_SCALE)
		return errctx_set(ec, -EBADMSG, "qty, notional or price out of range");
	return 0;
}

/* Alpaca's 403s: cash account, no shorting. */
static int
check_funds(struct sim *s, const struct broker_order_request *req, struct errctx *ec)
{
	struct broker_account acct;
	struct decimal need, avail, held, p;
	char b1[DECIMAL_STRLEN], b2[DECIMAL_STRLEN];
	int r;

	if (req->side == BROKER_SIDE_SELL) {
		r = sim_qty_available(s, req->symbol, &held, &avail, ec);
		if (r < 0)
			return r;
		if (decimal_cmp(req->qty, avail) > 0)
			return errctx_set(ec, -EACCES, "insufficient qty available for order "
			    "(requested: %s, available: %s)", decimal_format(req->qty, b1),
			    decimal_format(avail, b2));
		return 0;
	}
	r = sim_account(s, &acct, ec);
	if (r < 0)
		return r;
	if (req->use_notional) {
		need = req->notional;
	} else if (req->type == BROKER_ORDER_LIMIT) {
		decimal_mul(req->qty, req->limit_price, DECIMAL_ROUND_HALF_EVEN, &need);
	} else {
		if (sim_price(s, req->symbol, &p, NULL) < 0)
			return 0;	/* rejected later, costs nothing */
		p = sim_fill_price(s, BROKER_SIDE_BUY, p);
		decimal_mul(req->qty, p, DECIMAL_ROUND_HALF_EVEN, &need);
	}
	if (decimal_cmp(need, acct.buying_power) > 0)
		return errctx_set(ec, -EACCES, "insufficient buying power (need %s, have %s)",
		    decimal_format(need, b1), decimal_format(acct.buying_power, b2));
	return 0;
}

static int
read_order(struct broker *b, const char *col, const char *v, struct broker_order *ret,
    struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_order_by(s, col, v, ret, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_get_order(struct broker *b, const char *id, struct broker_order *ret, struct errctx *ec)
{
	return read_order(b, "id", id, ret, ec);
}

static int
sim_get_order_by_client_id(struct broker *b, const char *cid, struct broker_order *ret,
    struct errctx *ec)
{
	return read_order(b, "client_order_id", cid, ret, ec);
}

static int
sim_cancel_order(struct broker *b, const char *id, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	struct broker_order o;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_db_begin(s, ec);
	if (r < 0)
		goto out;
	r = sim_order_by(s, "id", id, &o, ec);
	if (r == 0 && broker_order_status_is_terminal(o.status))
		r = errctx_set(ec, -EBADMSG, "order is not cancelable (status %s)",
		    broker_order_status_to_string(o.status));
	if (r == 0 && s->opt.fill_on_cancel) {
		/* The fill won the race: accepted, yet the order ends filled. */
		r = sim_fill_rest(s, &o, ec);
		if (r == 0 && o.status != BROKER_STATUS_FILLED)
			r = sim_db_exec_args(s, ec, "UPDATE broker_sim_orders SET status = 'canceled', "
			    "updated_usec = ?2 WHERE id = ?1", "si", id, sim_now(s));
	} else if (r == 0)
		r = sim_db_exec_args(s, ec, "UPDATE broker_sim_orders SET status = 'canceled', "
		    "updated_usec = ?2 WHERE id = ?1", "si", id, sim_now(s));
	r = sim_db_end(s, r, ec);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_list_open_orders(struct broker *b, struct broker_order **ret, size_t *n, struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_open_orders(s, ret, n, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_list_orders_after(struct broker *b, int64_t after_usec, struct broker_order **ret, size_t *n,
    struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	r = locked_match(s, ec);
	if (r == 0)
		r = sim_orders_after(s, after_usec, ret, n, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sim_portfolio_history(struct broker *b, int days, struct broker_history_point **ret, size_t *n,
    struct errctx *ec)
{
	struct sim *s = (struct sim *)b;
	int r;

	if (days <= 0 || days > 3660)
		return errctx_set(ec, -EINVAL, "history length must be 1..3660 days");
	pthread_mutex_lock(&s->lock);
	r = sim_history(s, calendar_new_york_days(sim_now(s)) - days + 1, ret, n, ec);
	pthread_mutex_unlock(&s->lock);
	return r;
}
