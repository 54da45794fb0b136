/*
 * broker_alpaca_orders: orders over Alpaca Trading API v2. The one call that
 * is not idempotent, POST /v2/orders, is never repeated blindly: after an
 * ambiguous failure the order is looked up by its client_order_id first.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_alpaca_http.h"
#include "alchemiser/trading/order_id.h"

static char *order_body(const struct broker_order_request *req);
static int order_at(struct alpaca *a, const char *path, struct broker_order *ret,
    struct errctx *ec);
static int follow_replacements(struct alpaca *a, struct broker_order *ret, struct errctx *ec);
static int order_page(struct alpaca *a, const char *status, int64_t after_usec, json_t **ret,
    struct errctx *ec);
static int list_orders(struct alpaca *a, const char *status, int64_t after_usec,
    struct broker_order **ret, size_t *n, struct errctx *ec);

#define MAX_REPLACEMENTS 8	/* replaced_by hops followed for one order */
#define MAX_ORDER_PAGES 200	/* 100,000 orders: more is a server loop */

int
alpaca_parse_order(const json_t *o, struct broker_order *ret, struct errctx *ec)
{
	const char *type;

	if (!json_is_object(o) || json_get_str(o, "id") == NULL)
		return errctx_set(ec, -EPROTO, "order: not an order object");
	memset(ret, 0, sizeof *ret);
	alpaca_copy_str(ret->id, sizeof ret->id, o, "id");
	alpaca_copy_str(ret->client_order_id, sizeof ret->client_order_id, o, "client_order_id");
	alpaca_copy_str(ret->symbol, sizeof ret->symbol, o, "symbol");
	alpaca_symbol_in(ret->symbol);
	alpaca_copy_str(ret->replaced_by, sizeof ret->replaced_by, o, "replaced_by");
	type = json_get_str(o, "type") != NULL ? json_get_str(o, "type") :
	    json_get_str(o, "order_type");
	if (broker_side_from_string(json_get_str(o, "side"), &ret->side) < 0 ||
	    broker_order_type_from_string(type, &ret->type) < 0 ||
	    broker_order_status_from_string(json_get_str(o, "status"), &ret->status) < 0)
		return errctx_set(ec, -EPROTO, "order %s: unknown side, type or status", ret->id);
	ret->qty = alpaca_money(o, "qty");
	ret->notional = alpaca_money(o, "notional");
	ret->limit_price = alpaca_money(o, "limit_price");
	ret->stop_price = alpaca_money(o, "stop_price");
	ret->filled_qty = alpaca_money(o, "filled_qty");
	ret->filled_avg_price = alpaca_money(o, "filled_avg_price");
	ret->submitted_at_usec = alpaca_when(o, "submitted_at");
	ret->filled_at_usec = alpaca_when(o, "filled_at");
	return 0;
}

static char *
order_body(const struct broker_order_request *req)
{
	json_t *o = json_object();
	char *s;

	char wire[BROKER_SYMBOL_MAX];

	alpaca_symbol_out(req->symbol, wire, sizeof wire);
	json_object_set_new(o, "symbol", json_string(wire));
	json_object_set_new(o, "side", json_string(broker_side_to_string(req->side)));
	json_object_set_new(o, "type", json_string(broker_order_type_to_string(req->type)));
	json_object_set_new(o, "time_in_force", json_string("day"));
	if (req->use_notional)
		json_set_decimal(o, "notional", req->notional);
	else
		json_set_decimal(o, "qty", req->qty);
	if (req->type == BROKER_ORDER_LIMIT)
		json_set_decimal(o, "limit_price", req->limit_price);
	json_object_set_new(o, "client_order_id", json_string(req->client_order_id));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

int
alpaca_submit_order(struct broker *b, const struct broker_order_request *req,
    struct broker_order *ret, struct errctx *ec)
{
	struct alpaca *a = (struct alpaca *)b;
	char *body, *url, reason[ERRCTX_MSG_MAX];
	int64_t hint;
	long status;
	json_t *j;
	int r, r2;

	if (req->symbol == NULL || req->client_order_id == NULL || *req->client_order_id == '\0')
		return errctx_set(ec, -EINVAL, "order: symbol and client_order_id are required");
	body = order_body(req);
	url = xasprintf("%s/v2/orders", a->base_url);
	for (int k = 0;; k++) {
		r = alpaca_http_once(a, "POST", url, body, &status, &j, &hint, ec);
		if (r == 0) {
			r = alpaca_parse_order(j, ret, ec);
			json_decref(j);
			break;
		}
		if (r == -EEXIST && k > 0) {
			/* Our earlier POST got through after all. */
			r = alpaca_get_order_by_client_id(b, req->client_order_id, ret, ec);
			break;
		}
		if (!alpaca_retryable(r))
			break;
		/* Ambiguous (5xx, 429, timeout, dropped): did it get through? */
		snprintf(reason, sizeof reason, "%s", errctx_msg(ec));
		alpaca_backoff(a, k, hint);
		r2 = alpaca_get_order_by_client_id(b, req->client_order_id, ret, ec);
		if (r2 != -ENOENT) {
			r = r2;		/* found (0), or state unknown: the caller retries later */
			break;
		}
		if (k + 1 >= a->max_attempts) {
			r = errctx_set(ec, -EAGAIN, "%s; order %s not placed after %d attempts", reason,
			    req->client_order_id, k + 1);
			break;
		}
		/* Verified absent: a new POST cannot duplicate it (ids are unique). */
	}
	free(url);
	free(body);
	return r;
}

static int
order_at(struct alpaca *a, const char *path, struct broker_order *ret, struct errctx *ec)
{
	json_t *j;
	int r = alpaca_get(a, false, path, &j, ec);

	if (r < 0)
		return r;
	r = alpaca_parse_order(j, ret, ec);
	json_decref(j);
	if (r == 0)
		r = follow_replacements(a, ret, ec);
	return r;
}

/*
 * An order Alpaca replaced (a PATCH, a corporate action) goes on working as
 * the order named by replaced_by: that one is the answer, with the fills of
 * the replaced ones added, so the caller neither takes "replaced" as the end
 * nor places the quantity again. Fills are added on the safe side: a
 * replacement that already counts them makes us trade less, never twice.
 */
static int
follow_replacements(struct alpaca *a, struct broker_order *ret, struct errctx *ec)
{
	struct decimal filled = DECIMAL_ZERO, value = DECIMAL_ZERO, v;
	char first[BROKER_CLIENT_ID_MAX];
	int hops = 0, r;

	snprintf(first, sizeof first, "%s", ret->client_order_id);
	while (ret->status == BROKER_STATUS_REPLACED && ret->replaced_by[0] != '\0') {
		char *e, *path;
		json_t *j;

		if (++hops > MAX_REPLACEMENTS)
			return errctx_set(ec, -EPROTO, "order %s: more than %d replacements", first,
			    MAX_REPLACEMENTS);
		decimal_add(filled, ret->filled_qty, &filled);
		decimal_mul(ret->filled_qty, ret->filled_avg_price, DECIMAL_ROUND_HALF_EVEN, &v);
		decimal_add(value, v, &value);
		e = alpaca_esc(ret->replaced_by);
		path = xasprintf("/v2/orders/%s", e);
		free(e);
		r = alpaca_get(a, false, path, &j, ec);
		free(path);
		if (r < 0)
			return errctx_prefix(ec, "replacement of order %s", first);
		r = alpaca_parse_order(j, ret, ec);
		json_decref(j);
		if (r < 0)
			return r;
	}
	if (hops > 0 && filled.units > 0) {
		decimal_mul(ret->filled_qty, ret->filled_avg_price, DECIMAL_ROUND_HALF_EVEN, &v);
		decimal_add(value, v, &value);
		decimal_add(filled, ret->filled_qty, &ret->filled_qty);
		decimal_div(value, ret->filled_qty, DECIMAL_ROUND_HALF_EVEN, &ret->filled_avg_price);
	}
	if (hops > 0)	/* the chain is known to us by the id we placed */
		snprintf(ret->client_order_id, sizeof ret->client_order_id, "%s", first);
	return 0;
}

int
alpaca_get_order(struct broker *b, const char *id, struct broker_order *ret, struct errctx *ec)
{
	char *e = alpaca_esc(id), *path = xasprintf("/v2/orders/%s", e);
	int r = order_at((struct alpaca *)b, path, ret, ec);

	free(e);
	free(path);
	return r;
}

int
alpaca_get_order_by_client_id(struct broker *b, const char *cid, struct broker_order *ret,
    struct errctx *ec)
{
	char *e = alpaca_esc(cid);
	char *path = xasprintf("/v2/orders:by_client_order_id?client_order_id=%s", e);
	int r = order_at((struct alpaca *)b, path, ret, ec);

	free(e);
	free(path);
	return r;
}

int
alpaca_cancel_order(struct broker *b, const char *id, struct errctx *ec)
{
	struct alpaca *a = (struct alpaca *)b;
	char *e = alpaca_esc(id), *url = xasprintf("%s/v2/orders/%s", a->base_url, e);
	json_t *j = NULL;
	int r = alpaca_http(a, "DELETE", url, &j, ec);	/* idempotent: retried */

	json_decref(j);
	free(e);
	free(url);
	return r;
}

static int
order_page(struct alpaca *a, const char *status, int64_t after_usec, json_t **ret,
    struct errctx *ec)
{
	char path[160], t[RFC3339_STRLEN];
	int r;

	snprintf(path, sizeof path, "/v2/orders?status=%s&limit=%d&direction=asc&nested=false",
	    status, ALPACA_OPEN_PAGE);
	if (after_usec > 0) {
		time_format_rfc3339(after_usec, t);
		snprintf(path + strlen(path), sizeof path - strlen(path), "&after=%s", t);
	}
	r = alpaca_get(a, false, path, ret, ec);
	if (r == 0 && !json_is_array(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		r = errctx_set(ec, -EPROTO, "orders: expected an array");
	}
	return r;
}

static bool
seen(const struct broker_order *l, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].id, id) == 0)
			return true;
	return false;
}

/*
 * Every order of a status ("open", "all") submitted after after_usec (0: any
 * time), 500 a page (Alpaca's maximum), oldest first: the next page starts a
 * microsecond before the last submission time seen, so orders sharing that
 * time are not lost (the overlap is dropped by id). An order we cannot read
 * that the daemon did not place (not our client_order_id prefix: a manual
 * order, another tool's) is left out instead of failing the run; one of ours
 * that we cannot read is an error.
 */
static int
list_orders(struct alpaca *a, const char *status, int64_t after_usec, struct broker_order **ret,
    size_t *n, struct errctx *ec)
{
	struct broker_order *l = NULL, o;
	size_t cap = 0, len = 0;
	int64_t after = after_usec;
	int r = 0;

	for (int page = 0; r == 0; page++) {
		size_t i, fresh = 0, got;
		int64_t last = 0;
		json_t *j, *e;

		if (page >= MAX_ORDER_PAGES) {
			r = errctx_set(ec, -EPROTO, "orders: more than %d pages of %s orders",
			    MAX_ORDER_PAGES, status);
			break;
		}
		r = order_page(a, status, after, &j, ec);
		if (r < 0)
			break;
		got = json_array_size(j);
		json_array_foreach(j, i, e) {
			const char *cid = json_is_object(e) ? json_get_str(e, "client_order_id") : NULL;
			int64_t at = alpaca_when(e, "submitted_at");

			if (at == 0)
				at = alpaca_when(e, "created_at");
			if (at > last)
				last = at;
			r = alpaca_parse_order(e, &o, ec);
			if (r < 0 && (cid == NULL || !order_id_is_daemon(cid))) {
				errctx_clear(ec);	/* not ours: not our business */
				r = 0;
				continue;
			}
			if (r < 0)
				break;
			if (seen(l, len, o.id))
				continue;
			if (len == cap) {
				cap = cap ? cap * 2 : 16;
				l = xreallocarray(l, cap + 1, sizeof *l);
			}
			l[len++] = o;
			fresh++;
		}
		json_decref(j);
		if (r < 0 || got < ALPACA_OPEN_PAGE)
			break;
		if (fresh == 0 || last <= 0) {
			r = errctx_set(ec, -EPROTO, "orders: a full page with nothing new (more than "
			    "%d orders at one time?)", ALPACA_OPEN_PAGE);
			break;
		}
		after = last - 1;
	}
	if (r < 0) {
		free(l);
		*ret = NULL;
		*n = 0;
		return r;
	}
	*ret = l != NULL ? l : xcalloc(1, sizeof *l);
	*n = len;
	return 0;
}

int
alpaca_list_open_orders(struct broker *b, struct broker_order **ret, size_t *n,
    struct errctx *ec)
{
	return list_orders((struct alpaca *)b, "open", 0, ret, n, ec);
}

int
alpaca_list_orders_after(struct broker *b, int64_t after_usec, struct broker_order **ret,
    size_t *n, struct errctx *ec)
{
	return list_orders((struct alpaca *)b, "all", after_usec, ret, n, ec);
}

int
alpaca_portfolio_history(struct broker *b, int days, struct broker_history_point **ret,
    size_t *n, struct errctx *ec)
{
	char path[96];
	json_t *j, *ts, *eq, *pl;
	size_t len;
	int r;

	if (days <= 0 || days > 3660)
		return errctx_set(ec, -EINVAL, "history length must be 1..3660 days");
	snprintf(path, sizeof path, "/v2/account/portfolio/history?period=%dD&timeframe=1D", days);
	r = alpaca_get((struct alpaca *)b, false, path, &j, ec);
	if (r < 0)
		return r;
	ts = json_object_get(j, "timestamp");
	eq = json_object_get(j, "equity");
	pl = json_object_get(j, "profit_loss");
	if (!json_is_array(ts) || !json_is_array(eq) || json_array_size(ts) != json_array_size(eq)) {
		json_decref(j);
		return errctx_set(ec, -EPROTO, "portfolio history: timestamp/equity arrays");
	}
	len = json_array_size(ts);
	*ret = xcalloc(len + 1, sizeof **ret);
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		json_t *t = json_array_get(ts, i), *e = json_array_get(eq, i);
		json_t *p = json_is_array(pl) ? json_array_get(pl, i) : NULL;
		struct broker_history_point *h = &(*ret)[*n];
		int64_t sec;

		if (!json_is_integer(t) || !json_is_number(e))
			continue;	/* days without a value are null */
		sec = json_integer_value(t);
		/* Seconds per the docs; one fixture has milliseconds. */
		h->timestamp_usec = (sec > 100000000000LL ? sec / 1000 : sec) * 1000000;
		decimal_from_double(json_number_value(e), DECIMAL_ROUND_HALF_EVEN, &h->equity);
		decimal_round_to(h->equity, 2, DECIMAL_ROUND_HALF_EVEN, &h->equity);
		if (json_is_number(p)) {
			decimal_from_double(json_number_value(p), DECIMAL_ROUND_HALF_EVEN,
			    &h->profit_loss);
			decimal_round_to(h->profit_loss, 2, DECIMAL_ROUND_HALF_EVEN, &h->profit_loss);
		}
		(*n)++;
	}
	json_decref(j);
	return 0;
}
