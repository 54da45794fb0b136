/* The Alpaca adapters (broker and market data) against the contract fixture
 * (tests/data/trading/alpaca_fixture.js, shaped by the official SDK): one
 * test per mismatch of issue 18, each failing on the adapter before its fix.
 *   others' orders     stop, stop_limit, trailing_stop, bracket legs parse and
 *                      are left alone
 *   fractional limits  never a fractional limit order (Alpaca: 422)
 *   class symbols      BRK/B here, BRK.B at Alpaca, both ways
 *   replaced_by        a replaced order is followed, not taken as final
 *   account state      suspended / blocked / not ACTIVE fails before planning
 *   smaller            calculated is not filled; Retry-After as seconds and as
 *                      a date (trading and market data); open orders past 500;
 *                      "" ends bar paging */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/broker_alpaca.h"
#include "alchemiser/trading/broker_alpaca_http.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/order_id.h"
#include "alchemiser/trading/planner.h"
#include "fixture.h"
#include "helpers.h"

static struct fixture fx;
static struct broker *br;

static void
setup(void)
{
	struct secret *k = secret_new("test-key", 8), *s = secret_new("test-secret", 11);
	/* Our own back-off is short (tests); a server's Retry-After is not ours. */
	struct broker_alpaca_options o = {
		.base_url = NULL, .key_id = k, .secret_key = s, .max_attempts = 3,
		.backoff_usec = 1000, .max_backoff_usec = 20000, .timeout_usec = 10000000,
		.connect_timeout_usec = 2000000,
	};
	struct errctx ec;

	ck_assert_msg(fixture_start(&fx), "fixture did not start");
	o.base_url = fx.url;
	o.data_url = fx.url;
	ck_assert_ok(broker_alpaca_new(&o, &br, &ec), &ec);
	secret_free(k);
	secret_free(s);
	fixture_post(&fx, "/__state", "{\"cash\": 10000, \"prices\": {\"AAPL\": 100, \"MSFT\": 200,"
	    " \"GOOGL\": 150}, \"positions\": {\"AAPL\": 20}}");
}

static void
teardown(void)
{
	broker_free(br);
	fixture_stop(&fx);
}

static struct executor_options
fast_opts(void)
{
	struct executor_options o;

	executor_options_init(&o);
	o.poll_interval_usec = 2000;
	o.reprice_interval_usec = 200000;
	o.phase_timeout_usec = 10000000;
	o.timestamp_usec = INT64_C(1767366900000000);
	return o;
}

/* Plan from what the broker holds now: targets over the account's value. */
static int
plan_from_broker(const struct planner_target *t, size_t n, struct planner_plan **pl,
    struct errctx *ec)
{
	struct planner_options po = { .cash_reserve = test_dec("0.01"), .min_trade = test_dec("0.01") };

	return planner_build_from_broker(br, t, n, &po, "plan-contract", "corr-contract", "cause",
	    INT64_C(1767366900000000), pl, ec);
}

/* Requests with this method and path whose body/query contains needle. */
static int
count_with(const char *method, const char *path, const char *needle)
{
	json_t *all = fixture_requests(&fx), *r;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, r) {
		const char *b = json_string_value(json_object_get(r, "body"));
		const char *q = json_string_value(json_object_get(r, "query"));

		if (strcmp(json_string_value(json_object_get(r, "method")), method) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "path")), path) == 0 &&
		    (needle == NULL || (b != NULL && strstr(b, needle) != NULL) ||
		    (q != NULL && strstr(q, needle) != NULL)))
			n++;
	}
	json_decref(all);
	return n;
}

static int
count_invalid(void)
{
	json_t *all = fixture_requests(&fx), *r;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, r)
		n += json_object_get(r, "invalid") != NULL;
	json_decref(all);
	return n;
}

/* 1. Manual stops, trailing stops and brackets on the account: the open
 *    orders parse, the run trades, and nothing of theirs is cancelled. */
START_TEST(test_alpaca_contract_foreign_orders)
{
	static const struct planner_target t[] = { { "MSFT", 0.5 }, { "GOOGL", 0.5 } };
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct broker_order *open;
	struct planner_plan *pl;
	size_t n, types[_BROKER_ORDER_MAX] = { 0 };
	struct errctx ec;

	fixture_post(&fx, "/__state", "{\"foreign\": ["
	    "{\"symbol\": \"AAPL\", \"type\": \"stop\", \"stop_price\": 90, \"qty\": 5},"
	    "{\"symbol\": \"AAPL\", \"type\": \"stop_limit\", \"stop_price\": 90, \"limit_price\": 89,"
	    " \"qty\": 5},"
	    "{\"symbol\": \"AAPL\", \"type\": \"trailing_stop\", \"trail_percent\": 3, \"qty\": 5},"
	    "{\"symbol\": \"MSFT\", \"side\": \"buy\", \"type\": \"limit\", \"limit_price\": 150,"
	    " \"order_class\": \"bracket\", \"time_in_force\": \"gtc\"}]}");
	ck_assert_ok(br->ops->list_open_orders(br, &open, &n, &ec), &ec);
	ck_assert_uint_eq(n, 6);	/* 4 orders + the bracket's 2 legs */
	for (size_t i = 0; i < n; i++) {
		ck_assert(!order_id_is_daemon(open[i].client_order_id));
		types[open[i].type]++;
	}
	ck_assert_uint_eq(types[BROKER_ORDER_STOP], 2);	/* + the bracket's stop leg */
	ck_assert_uint_eq(types[BROKER_ORDER_STOP_LIMIT], 1);
	ck_assert_uint_eq(types[BROKER_ORDER_TRAILING_STOP], 1);
	ck_assert_uint_eq(types[BROKER_ORDER_LIMIT], 2);
	free(open);
	ck_assert_ok(plan_from_broker(t, 2, &pl, &ec), &ec);
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-foreign", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	/* The stops hold 15 of the 20 AAPL: the exit sells the 5 that are free
	 * (Alpaca refuses a sell of more than qty_available). */
	ck_assert_str_eq(res->orders[0].symbol, "AAPL");
	ck_assert_dec(res->orders[0].filled_qty, "5");
	ck_assert_int_eq(fixture_count(&fx, "DELETE", "/v2/orders"), 0);
	ck_assert_int_eq(count_invalid(), 0);
	executor_result_free(res);
	planner_plan_free(pl);
	/* Still there: the manual orders were not touched. */
	ck_assert_ok(br->ops->list_open_orders(br, &open, &n, &ec), &ec);
	ck_assert_uint_ge(n, 6);
	free(open);
}
END_TEST

/* 2. Limit orders (the default) for fractional targets: whole shares as
 *    limits, the fraction at market; no 422, no cash left uninvested. */
START_TEST(test_alpaca_contract_fractional_limits)
{
	static const struct planner_target t[] = { { "MSFT", 0.5 }, { "GOOGL", 0.5 } };
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct broker_position *pos;
	struct broker_account acct;
	struct planner_plan *pl;
	json_t *all, *r;
	size_t n, i;
	int limits = 0, fractions = 0;
	struct errctx ec;

	ck_assert(o.use_limit_orders);
	ck_assert_ok(plan_from_broker(t, 2, &pl, &ec), &ec);
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-frac", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_int_eq(count_invalid(), 0);
	all = fixture_requests(&fx);
	json_array_foreach(all, i, r) {
		json_t *b;

		if (strcmp(json_string_value(json_object_get(r, "method")), "POST") != 0)
			continue;
		b = json_loads(json_string_value(json_object_get(r, "body")), 0, NULL);
		ck_assert_ptr_nonnull(b);
		if (strcmp(json_string_value(json_object_get(b, "type")), "limit") == 0) {
			limits++;
			ck_assert_msg(strchr(json_string_value(json_object_get(b, "qty")), '.') == NULL,
			    "fractional limit order: %s", json_string_value(json_object_get(r, "body")));
		} else if (strchr(json_string_value(json_object_get(b, "qty")), '.') != NULL) {
			fractions++;
		}
		json_decref(b);
	}
	json_decref(all);
	ck_assert_int_ge(limits, 2);
	ck_assert_int_eq(fractions, 2);
	/* Invested: what is left is the cash reserve and less than a share's rounding. */
	ck_assert_ok(br->ops->get_account(br, &acct, &ec), &ec);
	ck_assert_msg(decimal_cmp(acct.cash, test_dec("200")) < 0, "cash left: %s",
	    decimal_format(acct.cash, (char[DECIMAL_STRLEN]){ 0 }));
	ck_assert_ok(br->ops->list_positions(br, &pos, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);
	free(pos);
	executor_result_free(res);
	planner_plan_free(pl);
}
END_TEST

/* 3. BRK/B in strategies, BRK.B at Alpaca: assets, quotes, orders, positions. */
START_TEST(test_alpaca_contract_class_symbols)
{
	struct broker_order_request req = {
		.symbol = "BRK/B", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET,
		.qty = test_dec("2"), .client_order_id = "alc-class-1",
	};
	struct broker_position *pos;
	struct broker_asset a;
	struct broker_quote q;
	struct broker_order ord;
	size_t n;
	struct errctx ec;

	fixture_post(&fx, "/__state", "{\"prices\": {\"BRK.B\": 400}, \"positions\": {\"BRK.B\": 5},"
	    " \"assets\": {\"BRK.B\": {\"tradable\": true, \"fractionable\": false}}}");
	ck_assert_ok(br->ops->get_asset(br, "BRK/B", &a, &ec), &ec);
	ck_assert_str_eq(a.symbol, "BRK/B");
	ck_assert(a.tradable && !a.fractionable);
	ck_assert_ok(br->ops->get_quote(br, "BRK/B", &q, &ec), &ec);
	ck_assert_dec(q.ask, "400.05");
	ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	ck_assert_str_eq(ord.symbol, "BRK/B");
	ck_assert_int_eq(count_with("POST", "/v2/orders", "\"symbol\":\"BRK.B\""), 1);
	ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
	ck_assert_str_eq(ord.symbol, "BRK/B");
	ck_assert_ok(br->ops->list_positions(br, &pos, &n, &ec), &ec);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(pos[i].symbol, "BRK.B") != 0, "position came back as BRK.B");
	ck_assert_int_eq(pos[n - 1].symbol[3], '/');
	free(pos);
	/* Not class suffixes: left as they are. */
	req.symbol = "AAPL";
	req.client_order_id = "alc-class-2";
	ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	ck_assert_str_eq(ord.symbol, "AAPL");
}
END_TEST

/* 4. A replaced order keeps working as the one named by replaced_by: the run
 *    follows it and does not buy the quantity a second time. */
START_TEST(test_alpaca_contract_replaced)
{
	static const struct planner_target t[] = { { "AAPL", 0.5 }, { "MSFT", 0.5 } };
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct broker_position *pos;
	struct planner_plan *pl;
	struct broker_order ord;
	size_t n;
	struct errctx ec;
	struct broker_order_request req = {
		.symbol = "GOOGL", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET,
		.qty = test_dec("3"), .client_order_id = "alc-replaced-1",
	};

	fixture_post(&fx, "/__state", "{\"sequence\": [\"accepted\", \"pending_new\", \"new\","
	    " \"replaced\", \"new\", \"partially_filled\", \"filled\"]}");
	/* At the seam: read until final, through the replacement. */
	ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	for (int i = 0; i < 10 && !broker_order_status_is_terminal(ord.status); i++)
		ck_assert_ok(br->ops->get_order_by_client_id(br, "alc-replaced-1", &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_FILLED);
	ck_assert_dec(ord.filled_qty, "3");
	ck_assert_str_eq(ord.client_order_id, "alc-replaced-1");
	/* A whole run: MSFT is bought once, not once per replacement. */
	o.use_limit_orders = false;
	ck_assert_ok(plan_from_broker(t, 2, &pl, &ec), &ec);
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-repl", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_int_eq(count_with("POST", "/v2/orders", "\"symbol\":\"MSFT\""), 1);
	ck_assert_ok(br->ops->list_positions(br, &pos, &n, &ec), &ec);
	for (size_t i = 0; i < n; i++)
		if (strcmp(pos[i].symbol, "MSFT") == 0)
			ck_assert_msg(decimal_cmp(pos[i].qty, test_dec("30")) < 0,
			    "MSFT bought twice: %s", decimal_format(pos[i].qty,
			    (char[DECIMAL_STRLEN]){ 0 }));
	free(pos);
	executor_result_free(res);
	planner_plan_free(pl);
}
END_TEST

/* 5. An account that cannot trade fails the run before a plan, with why. */
START_TEST(test_alpaca_contract_account_state)
{
	static const struct planner_target t[] = { { "MSFT", 1.0 } };
	static const struct {
		const char *state, *reason;
	} cases[] = {
		{ "{\"trade_suspended_by_user\": true}", "suspended by the user" },
		{ "{\"trade_suspended_by_user\": false, \"account_blocked\": true}", "blocked" },
		{ "{\"account_blocked\": false, \"trading_blocked\": true}", "trading is blocked" },
		{ "{\"trading_blocked\": false, \"status\": \"ACCOUNT_UPDATED\"}", "ACCOUNT_UPDATED" },
	};
	struct planner_plan *pl;
	struct errctx ec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("{\"account\": %s}", cases[i].state);

		fixture_post(&fx, "/__state", body);
		free(body);
		ck_assert_err(plan_from_broker(t, 1, &pl, &ec), -EACCES, &ec);
		ck_assert_msg(strstr(errctx_msg(&ec), cases[i].reason) != NULL, "%s", errctx_msg(&ec));
	}
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 0);
	fixture_post(&fx, "/__state", "{\"account\": {\"status\": \"ACTIVE\"}}");
	ck_assert_ok(plan_from_broker(t, 1, &pl, &ec), &ec);
	planner_plan_free(pl);
}
END_TEST

/* 6a. calculated (done for the day, settlement pending) is not "filled". */
START_TEST(test_alpaca_contract_calculated)
{
	struct broker_order_request req = {
		.symbol = "MSFT", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET,
		.qty = test_dec("4"), .client_order_id = "alc-calc-1",
	};
	struct broker_order ord;
	struct errctx ec;

	fixture_post(&fx, "/__state", "{\"sequence\": [\"new\", \"calculated\"]}");
	ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
	ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
	ck_assert_dec(ord.filled_qty, "2");
	ck_assert_int_ne(ord.status, BROKER_STATUS_FILLED);
	ck_assert(!broker_order_status_is_terminal(ord.status));
}
END_TEST

/* 6b. Retry-After as seconds and as an HTTP date, trading and market data. */
START_TEST(test_alpaca_contract_retry_after)
{
	struct secret *k = secret_new("test-key", 8), *s = secret_new("test-secret", 11);
	struct marketdata_alpaca_config mc = {
		.base_url = fx.url, .key_id = k, .secret_key = s, .max_attempts = 3,
		.backoff_usec = 1000, .timeout_usec = 10000000,
	};
	const char *syms[] = { "AAPL" };
	struct md_series out[1] = { { 0 } };
	struct broker_account acct;
	struct marketdata *md;
	int64_t day;
	struct errctx ec;

	fixture_post(&fx, "/__ratelimit", "{\"path\": \"/v2/account\", \"seconds\": 2, \"form\": \"seconds\"}");
	ck_assert_ok(br->ops->get_account(br, &acct, &ec), &ec);
	fixture_post(&fx, "/__ratelimit", "{\"path\": \"/v2/positions\", \"seconds\": 2, \"form\": \"date\"}");
	{
		struct broker_position *pos;
		size_t n;

		ck_assert_ok(br->ops->list_positions(br, &pos, &n, &ec), &ec);
		free(pos);
	}
	/* Three attempts each were enough: we waited as told. */
	ck_assert_int_le(fixture_count(&fx, "GET", "/v2/positions"), 3);
	md = marketdata_alpaca_new(&mc, &ec);
	ck_assert_msg(md != NULL, "%s", errctx_msg(&ec));
	secret_free(k);
	secret_free(s);
	fixture_post(&fx, "/__ratelimit", "{\"path\": \"/v2/stocks/bars\", \"seconds\": 2, \"form\": \"date\"}");
	day = INT64_C(20409);	/* 2025-11-18 */
	ck_assert_ok(md->ops->daily_bars(md, syms, 1, day, 10, out, &ec), &ec);
	ck_assert_uint_gt(out[0].n, 0);
	ck_assert_int_le(fixture_count(&fx, "GET", "/v2/stocks/bars"), 3);
	md_series_clear(&out[0]);
	marketdata_free(md);
}
END_TEST

/* 6c. More than 500 open orders: every page is read, ours on the last. */
START_TEST(test_alpaca_contract_open_order_pages)
{
	struct broker_order_request req = {
		.symbol = "MSFT", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_LIMIT,
		.qty = test_dec("1"), .limit_price = test_dec("1"), .client_order_id = "alc-page-1",
	};
	struct broker_order *open, ord;
	size_t n, ours = 0;
	struct errctx ec;

	fixture_post(&fx, "/__state", "{\"fill\": \"new\", \"foreign\": [{\"symbol\": \"AAPL\","
	    " \"type\": \"stop\", \"stop_price\": 50, \"count\": 1100}]}");
	ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	ck_assert_ok(br->ops->list_open_orders(br, &open, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1101);
	for (size_t i = 0; i < n; i++)
		ours += strcmp(open[i].client_order_id, "alc-page-1") == 0;
	ck_assert_uint_eq(ours, 1);
	free(open);
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/orders"), 3);
	ck_assert_int_eq(count_invalid(), 0);
}
END_TEST

/* 6d. A last page whose next_page_token is "" ends paging. */
START_TEST(test_alpaca_contract_empty_page_token)
{
	struct secret *k = secret_new("test-key", 8), *s = secret_new("test-secret", 11);
	struct marketdata_alpaca_config mc = {
		.base_url = fx.url, .key_id = k, .secret_key = s, .max_attempts = 2,
		.backoff_usec = 1000, .timeout_usec = 10000000,
	};
	const char *syms[] = { "AAPL", "MSFT" };
	struct md_series out[2] = { { 0 }, { 0 } };
	struct marketdata *md;
	struct errctx ec;

	md = marketdata_alpaca_new(&mc, &ec);
	ck_assert_msg(md != NULL, "%s", errctx_msg(&ec));
	secret_free(k);
	secret_free(s);
	fixture_post(&fx, "/__state", "{\"bars_page\": 5, \"empty_token\": true}");
	ck_assert_ok(md->ops->daily_bars(md, syms, 2, INT64_C(20409), 10, out, &ec), &ec);
	ck_assert_uint_gt(out[0].n, 0);
	ck_assert_uint_eq(out[0].n, out[1].n);
	/* Bars of both symbols, 5 a page, and not one request more. */
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/stocks/bars"),
	    (int)((out[0].n + out[1].n + 4) / 5));
	ck_assert_int_eq(count_invalid(), 0);
	md_series_clear(&out[0]);
	md_series_clear(&out[1]);
	marketdata_free(md);
}
END_TEST

/* Statuses through time: each read of an order moves it one step. */
START_TEST(test_alpaca_contract_status_sequences)
{
	static const struct {
		const char *seq;
		enum broker_order_status last;
		const char *filled;
	} cases[] = {
		{ "[\"pending_new\", \"new\", \"partially_filled\", \"filled\"]", BROKER_STATUS_FILLED, "4" },
		{ "[\"new\", \"partially_filled\", \"expired\"]", BROKER_STATUS_EXPIRED, "2" },
		{ "[\"pending_new\", \"rejected\"]", BROKER_STATUS_REJECTED, "0" },
		{ "[\"new\", \"partially_filled\", \"done_for_day\"]", BROKER_STATUS_NEW, "2" },
		{ "[\"new\", \"canceled\"]", BROKER_STATUS_CANCELED, "0" },
	};
	struct broker_order ord;
	struct errctx ec;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("{\"sequence\": %s}", cases[i].seq), cid[32];
		struct broker_order_request req = {
			.symbol = "MSFT", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET,
			.qty = test_dec("4"), .client_order_id = cid,
		};

		snprintf(cid, sizeof cid, "alc-seq-%zu", i);
		fixture_post(&fx, "/__state", body);
		free(body);
		ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
		ck_assert_int_eq(ord.status, BROKER_STATUS_NEW);	/* accepted */
		for (int k = 0; k < 6; k++)
			ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
		ck_assert_int_eq(ord.status, cases[i].last);
		ck_assert_dec(ord.filled_qty, cases[i].filled);
	}
	/* A cancel passes through pending_cancel. */
	fixture_post(&fx, "/__state", "{\"sequence\": [\"new\"]}");
	{
		struct broker_order_request req = {
			.symbol = "MSFT", .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET,
			.qty = test_dec("1"), .client_order_id = "alc-seq-cancel",
		};

		ck_assert_ok(br->ops->submit_order(br, &req, &ord, &ec), &ec);
	}
	ck_assert_ok(br->ops->cancel_order(br, ord.id, &ec), &ec);
	ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_PENDING_CANCEL);
	ck_assert_ok(br->ops->get_order(br, ord.id, &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_CANCELED);
}
END_TEST

/* The wire helpers on their own: share classes and Retry-After values. */
START_TEST(test_alpaca_contract_wire_helpers)
{
	static const char *const out[][2] = {
		{ "BRK/B", "BRK.B" }, { "BF/B", "BF.B" }, { "BRK.B", "BRK.B" }, { "AAPL", "AAPL" },
		{ "BTC/USD", "BTC/USD" }, { "/B", "/B" }, { "X/1", "X/1" }, { "HEI/A", "HEI.A" },
	};
	static const char *const in[][2] = {
		{ "BRK.B", "BRK/B" }, { "AAPL", "AAPL" }, { "BTC/USD", "BTC/USD" }, { ".A", ".A" },
		{ "MOG.A", "MOG/A" },
	};
	char buf[BROKER_SYMBOL_MAX];
	int64_t now = INT64_C(1767366900000000);	/* 2026-01-02T15:15:00Z */

	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		alpaca_symbol_out(out[i][0], buf, sizeof buf);
		ck_assert_str_eq(buf, out[i][1]);
	}
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		snprintf(buf, sizeof buf, "%s", in[i][0]);
		alpaca_symbol_in(buf);
		ck_assert_str_eq(buf, in[i][1]);
	}
	ck_assert_int_eq(alpaca_retry_after_usec(" 3\r\n", now), INT64_C(3000000));
	ck_assert_int_eq(alpaca_retry_after_usec("0", now), 0);
	ck_assert_int_eq(alpaca_retry_after_usec(" Fri, 02 Jan 2026 15:15:07 GMT\r\n", now),
	    INT64_C(7000000));
	ck_assert_int_eq(alpaca_retry_after_usec("Fri, 02 Jan 2026 15:14:00 GMT", now), 0);
	ck_assert_int_eq(alpaca_retry_after_usec("soon", now), -1);
	ck_assert_int_eq(alpaca_retry_after_usec("-5", now), -1);
	ck_assert_int_eq(alpaca_retry_after_usec("", now), -1);
}
END_TEST

static Suite *
alpaca_contract_suite(void)
{
	Suite *s = suite_create("alpaca_contract");
	TCase *tc = tcase_create("contract");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_alpaca_contract_foreign_orders);
	tcase_add_test(tc, test_alpaca_contract_fractional_limits);
	tcase_add_test(tc, test_alpaca_contract_class_symbols);
	tcase_add_test(tc, test_alpaca_contract_replaced);
	tcase_add_test(tc, test_alpaca_contract_account_state);
	tcase_add_test(tc, test_alpaca_contract_calculated);
	tcase_add_test(tc, test_alpaca_contract_retry_after);
	tcase_add_test(tc, test_alpaca_contract_open_order_pages);
	tcase_add_test(tc, test_alpaca_contract_empty_page_token);
	tcase_add_test(tc, test_alpaca_contract_status_sequences);
	suite_add_tcase(s, tc);
	tc = tcase_create("wire");
	tcase_add_test(tc, test_alpaca_contract_wire_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(alpaca_contract_suite());
}
