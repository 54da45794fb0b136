/*
 * broker_alpaca: the seam's operations over Alpaca Trading API v2 (see the
 * header for retries and the order-POST rule). Alpaca sends money as JSON
 * strings (sometimes null); we read strings or numbers, null as zero.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_alpaca_http.h"
#include "alchemiser/trading/calendar.h"

static char *strip_slash(const char *url);
static int hhmm(const char *s);

static int ap_get_account(struct broker *b, struct broker_account *ret, struct errctx *ec);
static int ap_list_positions(struct broker *b, struct broker_position **ret, size_t *n,
    struct errctx *ec);
static int ap_get_clock(struct broker *b, struct broker_clock *ret, struct errctx *ec);
static int ap_get_calendar(struct broker *b, int64_t start, int64_t end,
    struct broker_calendar_day **ret, size_t *n, struct errctx *ec);
static int ap_get_asset(struct broker *b, const char *symbol, struct broker_asset *ret,
    struct errctx *ec);
static int ap_get_quote(struct broker *b, const char *symbol, struct broker_quote *ret,
    struct errctx *ec);
static void ap_free(struct broker *b);

static const struct broker_ops alpaca_ops = {
	.name = "alpaca",
	.whole_share_limits = true,
	.get_account = ap_get_account,
	.list_positions = ap_list_positions,
	.get_clock = ap_get_clock,
	.get_calendar = ap_get_calendar,
	.get_asset = ap_get_asset,
	.get_quote = ap_get_quote,
	.submit_order = alpaca_submit_order,
	.get_order = alpaca_get_order,
	.get_order_by_client_id = alpaca_get_order_by_client_id,
	.cancel_order = alpaca_cancel_order,
	.list_open_orders = alpaca_list_open_orders,
	.list_orders_after = alpaca_list_orders_after,
	.portfolio_history = alpaca_portfolio_history,
	.free = ap_free,
};

static char *
strip_slash(const char *url)
{
	char *s = xstrdup(url);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int
broker_alpaca_new(const struct broker_alpaca_options *opt, struct broker **ret,
    struct errctx *ec)
{
	struct alpaca *a;

	if (opt == NULL || opt->key_id == NULL || opt->secret_key == NULL)
		return errctx_set(ec, -EINVAL, "broker_alpaca: key id and secret are required");
	if (opt->max_attempts < 0 || opt->max_attempts > 10)
		return errctx_set(ec, -EINVAL, "broker_alpaca: max_attempts must be 0..10");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errctx_set(ec, -EIO, "curl_global_init failed");
	a = xcalloc(1, sizeof *a);
	a->base.ops = &alpaca_ops;
	a->base_url = strip_slash(opt->base_url != NULL ? opt->base_url : BROKER_ALPACA_PAPER_URL);
	a->data_url = strip_slash(opt->data_url != NULL ? opt->data_url : BROKER_ALPACA_DATA_URL);
	a->data_feed = xstrdup(opt->data_feed != NULL ? opt->data_feed : "iex");
	a->key_id = secret_dup(opt->key_id);
	a->secret_key = secret_dup(opt->secret_key);
	a->max_attempts = opt->max_attempts > 0 ? opt->max_attempts : 3;
	a->backoff_usec = opt->backoff_usec > 0 ? opt->backoff_usec : 500000;
	a->max_backoff_usec = opt->max_backoff_usec > 0 ? opt->max_backoff_usec : 10000000;
	a->timeout_usec = opt->timeout_usec > 0 ? opt->timeout_usec : 30000000;
	a->connect_timeout_usec = opt->connect_timeout_usec > 0 ? opt->connect_timeout_usec :
	    10000000;
	pthread_mutex_init(&a->lock, NULL);
	*ret = &a->base;
	return 0;
}

static void
ap_free(struct broker *b)
{
	struct alpaca *a = (struct alpaca *)b;

	alpaca_pool_free(a);
	pthread_mutex_destroy(&a->lock);
	secret_free(a->key_id);
	secret_free(a->secret_key);
	free(a->base_url);
	free(a->data_url);
	free(a->data_feed);
	free(a);
	curl_global_cleanup();
}

int
alpaca_get(struct alpaca *a, bool data, const char *path, json_t **ret, struct errctx *ec)
{
	char *url = xasprintf("%s%s", data ? a->data_url : a->base_url, path);
	int r = alpaca_http(a, "GET", url, ret, ec);

	free(url);
	return r;
}

static int
ap_get_account(struct broker *b, struct broker_account *ret, struct errctx *ec)
{
	json_t *j;
	int r = alpaca_get((struct alpaca *)b, false, "/v2/account", &j, ec);

	if (r < 0)
		return r;
	memset(ret, 0, sizeof *ret);
	ret->equity = alpaca_money(j, "equity");
	ret->cash = alpaca_money(j, "cash");
	ret->buying_power = alpaca_money(j, "buying_power");
	ret->portfolio_value = alpaca_money(j, "portfolio_value");
	if (json_object_get(j, "portfolio_value") == NULL)
		ret->portfolio_value = ret->equity;
	ret->last_equity = alpaca_money(j, "last_equity");
	ret->account_blocked = json_is_true(json_object_get(j, "account_blocked"));
	ret->trade_suspended = json_is_true(json_object_get(j, "trade_suspended_by_user"));
	ret->trading_blocked = json_is_true(json_object_get(j, "trading_blocked")) ||
	    ret->account_blocked || ret->trade_suspended;
	alpaca_copy_str(ret->status, sizeof ret->status, j, "status");
	alpaca_copy_str(ret->id, sizeof ret->id, j, "id");
	json_decref(j);
	return 0;
}

static int
ap_list_positions(struct broker *b, struct broker_position **ret, size_t *n, struct errctx *ec)
{
	json_t *j, *p;
	size_t i;
	int r = alpaca_get((struct alpaca *)b, false, "/v2/positions", &j, ec);

	if (r < 0)
		return r;
	if (!json_is_array(j)) {
		json_decref(j);
		return errctx_set(ec, -EPROTO, "positions: expected an array");
	}
	*n = json_array_size(j);
	*ret = xcalloc(*n + 1, sizeof **ret);
	json_array_foreach(j, i, p) {
		struct broker_position *d = &(*ret)[i];

		alpaca_copy_str(d->symbol, sizeof d->symbol, p, "symbol");
		alpaca_symbol_in(d->symbol);
		d->qty = alpaca_money(p, "qty");
		d->qty_available = json_object_get(p, "qty_available") != NULL ?
		    alpaca_money(p, "qty_available") : d->qty;
		d->avg_entry_price = alpaca_money(p, "avg_entry_price");
		d->market_value = alpaca_money(p, "market_value");
		d->current_price = alpaca_money(p, "current_price");
	}
	json_decref(j);
	return 0;
}

static int
ap_get_clock(struct broker *b, struct broker_clock *ret, struct errctx *ec)
{
	json_t *j;
	int r = alpaca_get((struct alpaca *)b, false, "/v2/clock", &j, ec);

	if (r < 0)
		return r;
	ret->timestamp_usec = alpaca_when(j, "timestamp");
	ret->is_open = json_is_true(json_object_get(j, "is_open"));
	ret->next_open_usec = alpaca_when(j, "next_open");
	ret->next_close_usec = alpaca_when(j, "next_close");
	json_decref(j);
	return 0;
}

static int
hhmm(const char *s)
{
	int h = 0, m = 0;

	return s != NULL && sscanf(s, "%d:%d", &h, &m) == 2 ? h * 60 + m : 0;
}

static int
ap_get_calendar(struct broker *b, int64_t start, int64_t end, struct broker_calendar_day **ret,
    size_t *n, struct errctx *ec)
{
	char path[160], from[RFC3339_STRLEN], to[RFC3339_STRLEN];
	json_t *j, *e;
	size_t i;
	int r;

	/* Full RFC 3339 times, as the SDK sends them: midnight UTC of the first
	 * day to the last second of the last one, so "inclusive" cannot be read
	 * two ways. */
	time_format_rfc3339(start * 86400LL * 1000000, from);
	time_format_rfc3339((end * 86400LL + 86399) * 1000000, to);
	snprintf(path, sizeof path, "/v2/calendar?start=%s&end=%s", from, to);
	r = alpaca_get((struct alpaca *)b, false, path, &j, ec);
	if (r < 0)
		return r;
	if (!json_is_array(j)) {
		json_decref(j);
		return errctx_set(ec, -EPROTO, "calendar: expected an array");
	}
	*ret = xcalloc(json_array_size(j) + 1, sizeof **ret);
	*n = 0;
	json_array_foreach(j, i, e) {
		const char *date = json_get_str(e, "date");
		int y;
		unsigned mo, d;

		if (date == NULL || sscanf(date, "%d-%u-%u", &y, &mo, &d) != 3)
			continue;
		(*ret)[*n].days = calendar_days_from_civil(y, mo, d);
		(*ret)[*n].open_minute = hhmm(json_get_str(e, "open"));
		(*ret)[*n].close_minute = hhmm(json_get_str(e, "close"));
		(*n)++;
	}
	json_decref(j);
	return 0;
}

static int
ap_get_asset(struct broker *b, const char *symbol, struct broker_asset *ret, struct errctx *ec)
{
	char wire[BROKER_SYMBOL_MAX], *s, *path;
	json_t *j;
	int r;

	alpaca_symbol_out(symbol, wire, sizeof wire);
	s = alpaca_esc(wire);
	path = xasprintf("/v2/assets/%s", s);
	r = alpaca_get((struct alpaca *)b, false, path, &j, ec);
	free(s);
	free(path);
	if (r < 0)
		return r;
	snprintf(ret->symbol, sizeof ret->symbol, "%s", symbol);
	ret->tradable = json_is_true(json_object_get(j, "tradable"));
	ret->fractionable = json_is_true(json_object_get(j, "fractionable"));
	json_decref(j);
	return 0;
}

static int
ap_get_quote(struct broker *b, const char *symbol, struct broker_quote *ret, struct errctx *ec)
{
	struct alpaca *a = (struct alpaca *)b;
	char wire[BROKER_SYMBOL_MAX], *s, *f, *path;
	json_t *j, *q;
	int r;

	alpaca_symbol_out(symbol, wire, sizeof wire);
	s = alpaca_esc(wire);
	f = alpaca_esc(a->data_feed);
	path = xasprintf("/v2/stocks/quotes/latest?symbols=%s&feed=%s", s, f);
	r = alpaca_get(a, true, path, &j, ec);
	free(s);
	free(f);
	free(path);
	if (r < 0)
		return r;
	q = json_object_get(json_object_get(j, "quotes"), wire);
	if (!json_is_object(q)) {
		json_decref(j);
		return errctx_set(ec, -ENOENT, "no quote for %s", symbol);
	}
	memset(ret, 0, sizeof *ret);
	ret->bid = alpaca_money(q, "bp");
	ret->ask = alpaca_money(q, "ap");
	ret->bid_size = alpaca_money(q, "bs");
	ret->ask_size = alpaca_money(q, "as");
	ret->timestamp_usec = alpaca_when(q, "t");
	json_decref(j);
	return 0;
}

