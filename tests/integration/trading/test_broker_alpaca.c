/* broker_alpaca against the Alpaca fixture server on 127.0.0.1: parsing, auth,
 * the error mapping, bounded retries of idempotent calls, the never-blind
 * order POST, and whole executor runs (exact orders, re-run places nothing,
 * the 422 / 429 / 5xx paths). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_alpaca.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/order_id.h"
#include "fixture.h"
#include "helpers.h"

static struct fixture fx;
static struct broker *br;

static struct broker *
open_broker(const char *key)
{
	struct secret *k = secret_new(key, strlen(key)), *s = secret_new("test-secret", 11);
	struct broker_alpaca_options o = {
		.base_url = fx.url, .data_url = fx.url, .key_id = k, .secret_key = s,
		.max_attempts = 3, .backoff_usec = 1000, .max_backoff_usec = 20000,
		.timeout_usec = 500000, .connect_timeout_usec = 2000000,
	};
	struct broker *b;
	struct errctx ec;

	ck_assert_ok(broker_alpaca_new(&o, &b, &ec), &ec);
	secret_free(k);
	secret_free(s);
	return b;
}

static void
setup(void)
{
	ck_assert_msg(fixture_start(&fx), "fixture did not start");
	fixture_post(&fx, "/__state", "{\"cash\": 10000, \"prices\": {\"AAPL\": 100, \"MSFT\": 200,"
	    " \"GOOGL\": 150}, \"positions\": {\"AAPL\": 20}, \"assets\": {\"BRK.B\": "
	    "{\"tradable\": true, \"fractionable\": false}}}");
	br = open_broker("test-key");
}

static void
teardown(void)
{
	broker_free(br);
	fixture_stop(&fx);
}

static int
submit(const char *cid, const char *sym, const char *qty, struct broker_order *o,
    struct errctx *ec)
{
	struct broker_order_request req = {
		.symbol = sym, .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET, .qty = test_dec(qty),
		.client_order_id = cid,
	};

	return br->ops->submit_order(br, &req, o, ec);
}

START_TEST(test_broker_alpaca_reads)
{
	struct broker_account a;
	struct broker_position *pos;
	struct broker_clock clk;
	struct broker_asset as;
	struct broker_quote q;
	struct broker_history_point *h;
	struct broker_calendar_day *cal;
	struct broker *bad;
	size_t n;
	struct errctx ec;

	ck_assert_ok(br->ops->get_account(br, &a, &ec), &ec);
	ck_assert_dec(a.cash, "10000");
	ck_assert_dec(a.equity, "12000");
	ck_assert_dec(a.portfolio_value, "12000");
	ck_assert(!a.trading_blocked);
	ck_assert_ok(br->ops->list_positions(br, &pos, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pos[0].symbol, "AAPL");
	ck_assert_dec(pos[0].qty, "20");
	ck_assert_dec(pos[0].market_value, "2000");
	free(pos);
	ck_assert_ok(br->ops->get_clock(br, &clk, &ec), &ec);
	ck_assert(clk.is_open);
	/* 2026-01-02T10:15:00.123456789-05:00 */
	ck_assert_int_eq(clk.timestamp_usec, INT64_C(1767366900123456));
	ck_assert_ok(br->ops->get_asset(br, "BRK.B", &as, &ec), &ec);
	ck_assert(as.tradable && !as.fractionable);
	ck_assert_err(br->ops->get_asset(br, "NOPE", &as, &ec), -ENOENT, &ec);
	ck_assert_ok(br->ops->get_quote(br, "MSFT", &q, &ec), &ec);
	ck_assert_dec(q.bid, "199.95");
	ck_assert_dec(q.ask, "200.05");
	ck_assert_err(br->ops->get_quote(br, "NOPE", &q, &ec), -ENOENT, &ec);
	ck_assert_ok(br->ops->portfolio_history(br, 30, &h, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);	/* the null day is skipped */
	ck_assert_dec(h[1].equity, "10100.25");
	ck_assert_int_eq(h[0].timestamp_usec, INT64_C(1767157200) * 1000000);
	free(h);
	ck_assert_ok(br->ops->get_calendar(br, 20455, 20600, &cal, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(cal[1].close_minute, 780);
	free(cal);
	/* Every request carried the keys; a wrong key is -EACCES, not retried. */
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/account"), 1);
	bad = open_broker("wrong-key");
	ck_assert_err(bad->ops->get_account(bad, &a, &ec), -EACCES, &ec);
	ck_assert(strstr(ec.msg, "test-secret") == NULL);
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/account"), 2);
	broker_free(bad);
}
END_TEST

START_TEST(test_broker_alpaca_order_lifecycle)
{
	struct broker_order o, o2, *open;
	size_t n;
	struct errctx ec;

	ck_assert_ok(submit("c-1", "MSFT", "2", &o, &ec), &ec);
	ck_assert_int_eq(o.status, BROKER_STATUS_FILLED);
	ck_assert_dec(o.filled_qty, "2");
	ck_assert_dec(o.filled_avg_price, "200.05");
	ck_assert_ok(br->ops->get_order(br, o.id, &o2, &ec), &ec);
	ck_assert_str_eq(o2.client_order_id, "c-1");
	ck_assert_ok(br->ops->get_order_by_client_id(br, "c-1", &o2, &ec), &ec);
	ck_assert_str_eq(o2.id, o.id);
	ck_assert_err(br->ops->get_order_by_client_id(br, "c-none", &o2, &ec), -ENOENT, &ec);
	/* Duplicate client_order_id: 422 code 40010001 -> -EEXIST. */
	ck_assert_err(submit("c-1", "MSFT", "1", &o2, &ec), -EEXIST, &ec);
	ck_assert_err(br->ops->cancel_order(br, o.id, &ec), -EBADMSG, &ec);	/* filled */
	ck_assert_err(br->ops->cancel_order(br, "no-such-id", &ec), -ENOENT, &ec);
	/* A resting order: listed as open, cancel answers 204. */
	fixture_post(&fx, "/__state", "{\"fill\": \"new\"}");
	ck_assert_ok(submit("c-2", "MSFT", "1", &o, &ec), &ec);
	ck_assert_int_eq(o.status, BROKER_STATUS_NEW);
	ck_assert_ok(br->ops->list_open_orders(br, &open, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(open[0].client_order_id, "c-2");
	free(open);
	ck_assert_ok(br->ops->cancel_order(br, o.id, &ec), &ec);
	ck_assert_ok(br->ops->get_order(br, o.id, &o2, &ec), &ec);
	ck_assert_int_eq(o2.status, BROKER_STATUS_CANCELED);
	/* 403 and other 422s are permanent: one request each. */
	ck_assert_err(submit("c-3", "MSFT", "1000", &o, &ec), -EACCES, &ec);
	ck_assert(strstr(ec.msg, "buying power") != NULL);
	fixture_post(&fx, "/__state", "{\"assets\": {\"BAD\": {\"tradable\": false}}, "
	    "\"prices\": {\"BAD\": 5}}");
	ck_assert_err(submit("c-4", "BAD", "1", &o, &ec), -EBADMSG, &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 5);
}
END_TEST

/* Every order since a time (status=all): filled and cancelled ones too,
 * oldest first, across pages of 500 (the overlap at a page's edge dropped). */
START_TEST(test_broker_alpaca_orders_after)
{
	struct broker_order o1, o2, *l;
	size_t n;
	struct errctx ec;

	ck_assert_ok(submit("c-1", "MSFT", "2", &o1, &ec), &ec);
	fixture_post(&fx, "/__state", "{\"fill\": \"new\"}");
	ck_assert_ok(submit("c-2", "MSFT", "1", &o2, &ec), &ec);
	ck_assert_ok(br->ops->cancel_order(br, o2.id, &ec), &ec);
	ck_assert_ok(br->ops->list_orders_after(br, o1.submitted_at_usec - 1, &l, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[0].client_order_id, "c-1");
	ck_assert_int_eq(l[0].status, BROKER_STATUS_FILLED);
	ck_assert_str_eq(l[1].client_order_id, "c-2");
	ck_assert_int_eq(l[1].status, BROKER_STATUS_CANCELED);
	free(l);
	ck_assert_ok(br->ops->list_orders_after(br, o1.submitted_at_usec, &l, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0].client_order_id, "c-2");
	free(l);
	/* 600 more, closed: two pages. */
	fixture_post(&fx, "/__state", "{\"foreign\": [{\"symbol\": \"MSFT\", \"type\": "
	    "\"limit\", \"limit_price\": 150, \"status\": \"canceled\", \"count\": 600}]}");
	ck_assert_ok(br->ops->list_orders_after(br, o1.submitted_at_usec - 1, &l, &n, &ec), &ec);
	ck_assert_uint_eq(n, 602);
	ck_assert_str_eq(l[0].client_order_id, "c-1");
	ck_assert_int_eq(l[601].status, BROKER_STATUS_CANCELED);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_le(l[i - 1].submitted_at_usec, l[i].submitted_at_usec);
	free(l);
	ck_assert_int_ge(fixture_count(&fx, "GET", "/v2/orders"), 4);
}
END_TEST

START_TEST(test_broker_alpaca_retries_idempotent)
{
	struct broker_account a;
	struct errctx ec;

	/* 429 with Retry-After, then success. */
	fixture_post(&fx, "/__script", "[{\"method\": \"GET\", \"path\": \"/v2/account\", "
	    "\"status\": 429, \"headers\": {\"Retry-After\": \"0\"}, \"body\": "
	    "{\"message\": \"rate limit exceeded\"}}]");
	ck_assert_ok(br->ops->get_account(br, &a, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/account"), 2);
	/* A slow answer (past our timeout), a dropped connection, then success. */
	fixture_post(&fx, "/__script", "[{\"path\": \"/v2/account\", \"delay_ms\": 1500}, "
	    "{\"path\": \"/v2/account\", \"drop\": true}]");
	ck_assert_ok(br->ops->get_account(br, &a, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/account"), 5);
	/* 5xx every time: bounded, -EAGAIN after max_attempts. */
	fixture_post(&fx, "/__script", "[{\"path\": \"/v2/account\", \"status\": 503, "
	    "\"times\": 10}]");
	ck_assert_err(br->ops->get_account(br, &a, &ec), -EAGAIN, &ec);
	ck_assert_int_eq(fixture_count(&fx, "GET", "/v2/account"), 8);
}
END_TEST

START_TEST(test_broker_alpaca_post_never_blind)
{
	struct broker_order o;
	struct errctx ec;
	const char *lookup = "/v2/orders:by_client_order_id";

	/* 500 after the order took effect: found by client_order_id, no re-POST. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 500, \"process\": true}]");
	ck_assert_ok(submit("p-1", "MSFT", "1", &o, &ec), &ec);
	ck_assert_str_eq(o.client_order_id, "p-1");
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 1);
	ck_assert_int_eq(fixture_count(&fx, "GET", lookup), 1);
	/* Dropped connection, order taken: the same. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"drop\": true, \"process\": true}]");
	ck_assert_ok(submit("p-2", "MSFT", "1", &o, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 2);
	/* 502 before it took effect: looked up (absent), then POSTed again. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 502}]");
	ck_assert_ok(submit("p-3", "MSFT", "1", &o, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 4);
	/* 429 with Retry-After: back off, look up, POST again. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 429, \"headers\": {\"Retry-After\": \"0\"}}]");
	ck_assert_ok(submit("p-4", "MSFT", "1", &o, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 6);
	/* 503 forever: bounded, -EAGAIN, and no order exists. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 503, \"times\": 10}]");
	ck_assert_err(submit("p-5", "MSFT", "1", &o, &ec), -EAGAIN, &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 9);
	ck_assert_err(br->ops->get_order_by_client_id(br, "p-5", &o, &ec), -ENOENT, &ec);
}
END_TEST

static struct planner_plan *
rotation_plan(void)
{
	static const struct planner_target t[] = { { "MSFT", 0.5 }, { "GOOGL", 0.5 } };
	struct planner_position p[] = { { "AAPL", test_dec("20"), test_dec("100") } };
	struct planner_input in = {
		.targets = t, .n_targets = 2, .positions = p, .n_positions = 1,
		.portfolio_value = test_dec("12000"), .cash = test_dec("10000"), .cash_reserve = test_dec("0.01"),
		.min_trade = test_dec("0.01"), .plan_id = "portfolio_v2_fx",
	};
	struct planner_plan *pl;
	struct errctx ec;

	ck_assert_ok(planner_build(&in, &pl, &ec), &ec);
	return pl;
}

static struct executor_options
fast_opts(void)
{
	struct executor_options o;

	executor_options_init(&o);
	o.poll_interval_usec = 2000;
	o.reprice_interval_usec = 20000;
	o.phase_timeout_usec = 5000000;
	o.timestamp_usec = INT64_C(1767366900000000);
	return o;
}

START_TEST(test_broker_alpaca_executor_exact_orders)
{
	struct planner_plan *pl = rotation_plan();
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct errctx ec;

	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx1", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_uint_eq(res->orders_placed, 3);
	/* Sell AAPL (20 whole shares); the fractional buys of GOOGL and MSFT as a
	 * whole-share limit order and a market order for the fraction each
	 * (Alpaca refuses fractional limits): fill mode fills limits. */
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 5);
	ck_assert_dec(res->orders[0].filled_qty, "20");
	executor_result_free(res);
	/* Re-run of the same plan: resumes from the broker, places nothing. */
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx1", &o, &res, &ec), &ec);
	ck_assert(res->success);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 5);
	executor_result_free(res);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_broker_alpaca_executor_error_paths)
{
	struct planner_plan *pl = rotation_plan();
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct broker_order ord;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;

	/* 5xx on the first POST after it took effect, 429 on the second, and a
	 * duplicate (422) for the third because a crashed run placed it: each ends
	 * with exactly one order per item. */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 500, \"process\": true}, {\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 429, \"headers\": {\"Retry-After\": \"0\"}}]");
	order_id_make("rebalance-planned-fx2", "MSFT", BROKER_SIDE_BUY, 0, cid);
	ck_assert_ok(submit(cid, "MSFT", "29.7", &ord, &ec), &ec);	/* the crashed run's */
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx2", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	/* 1 (crashed run) + AAPL (500, found) + GOOGL (429, then again: whole
	 * shares) + GOOGL's fraction (market) = 5 POSTs; MSFT was found by its id
	 * before any POST. */
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 5);
	ck_assert_dec(res->orders[2].filled_qty, "29.7");
	executor_result_free(res);
	/* Persistent 5xx on POST: the run ends -EAGAIN (retried later, resumes). */
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 503, \"times\": 10}]");
	ck_assert_err(executor_run(br, pl, "rebalance-planned-fx3", &o, &res, &ec), -EAGAIN, &ec);
	/* A 422 validation failure fails only its item. */
	fixture_post(&fx, "/__reset", "{}");
	fixture_post(&fx, "/__state", "{\"cash\": 10000, \"prices\": {\"AAPL\": 100, \"MSFT\": 200,"
	    " \"GOOGL\": 150}, \"positions\": {\"AAPL\": 20}}");
	fixture_post(&fx, "/__script", "[{\"method\": \"POST\", \"path\": \"/v2/orders\", "
	    "\"status\": 422, \"body\": {\"code\": 42210000, \"message\": \"qty is invalid\"}}]");
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx4", &o, &res, &ec), &ec);
	ck_assert(!res->orders[0].success);
	ck_assert(strstr(res->orders[0].error, "qty is invalid") != NULL);
	ck_assert(res->orders[1].success && res->orders[2].success);
	ck_assert(!res->success);
	ck_assert_int_eq(res->status, EXECUTOR_PARTIAL_SUCCESS);
	executor_result_free(res);
	/* A blocked account: refused up front, nothing posted. */
	fixture_post(&fx, "/__state", "{\"blocked\": true}");
	ck_assert_err(executor_run(br, pl, "rebalance-planned-fx5", &o, &res, &ec), -EACCES, &ec);
	/* AAPL (refused) + GOOGL and MSFT, each whole shares and a fraction. */
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), 5);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_broker_alpaca_executor_partial_and_rejected)
{
	static const struct planner_target t[] = { { "MSFT", 1.0 } };
	struct planner_position p[] = { { "AAPL", test_dec("20"), test_dec("100") } };
	struct planner_input in = {
		.targets = t, .n_targets = 1, .positions = p, .n_positions = 1,
		.portfolio_value = test_dec("12000"), .cash = test_dec("10000"), .cash_reserve = test_dec("0.01"),
		.min_trade = test_dec("0.01"), .plan_id = "portfolio_v2_fx6",
	};
	struct planner_plan *pl;
	struct executor_options o = fast_opts();
	struct executor_result *res;
	struct broker_order ord;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;

	ck_assert_ok(planner_build(&in, &pl, &ec), &ec);
	/* Every limit fills half and stalls: limit 20 -> 10 filled; re-price for
	 * the remaining 10 -> 5 filled; market for the remaining 5. */
	fixture_post(&fx, "/__state", "{\"fill\": \"partial\"}");
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx6", &o, &res, &ec), &ec);
	order_id_make("rebalance-planned-fx6", "AAPL", BROKER_SIDE_SELL, 1, cid);
	ck_assert_ok(br->ops->get_order_by_client_id(br, cid, &ord, &ec), &ec);
	ck_assert_int_eq(ord.type, BROKER_ORDER_LIMIT);
	ck_assert_dec(ord.qty, "10");
	order_id_make("rebalance-planned-fx6", "AAPL", BROKER_SIDE_SELL, 2, cid);
	ck_assert_ok(br->ops->get_order_by_client_id(br, cid, &ord, &ec), &ec);
	ck_assert_int_eq(ord.type, BROKER_ORDER_MARKET);
	ck_assert_dec(ord.qty, "5");
	ck_assert_int_eq(ord.status, BROKER_STATUS_FILLED);
	ck_assert_dec(res->orders[0].filled_qty, "20");
	ck_assert_int_eq(res->orders[0].status, BROKER_STATUS_FILLED);
	executor_result_free(res);

	/* Rejected by the broker after acceptance: the item fails, nothing more is
	 * tried for it, and a re-run does not ask again. */
	fixture_post(&fx, "/__state", "{\"fill\": \"reject\", \"positions\": {\"AAPL\": 20}}");
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx7", &o, &res, &ec), &ec);
	ck_assert(!res->success);
	ck_assert_msg(strstr(res->orders[0].error, "rejected") != NULL, "%s", res->orders[0].error);
	ck_assert_int_eq(res->status, EXECUTOR_FAILURE);
	executor_result_free(res);
	int posts = fixture_count(&fx, "POST", "/v2/orders");
	ck_assert_ok(executor_run(br, pl, "rebalance-planned-fx7", &o, &res, &ec), &ec);
	ck_assert_int_eq(fixture_count(&fx, "POST", "/v2/orders"), posts);
	executor_result_free(res);
	planner_plan_free(pl);
}
END_TEST

static Suite *
broker_alpaca_suite(void)
{
	Suite *s = suite_create("broker_alpaca");
	TCase *tc = tcase_create("fixture");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_broker_alpaca_reads);
	tcase_add_test(tc, test_broker_alpaca_order_lifecycle);
	tcase_add_test(tc, test_broker_alpaca_orders_after);
	tcase_add_test(tc, test_broker_alpaca_retries_idempotent);
	tcase_add_test(tc, test_broker_alpaca_post_never_blind);
	tcase_add_test(tc, test_broker_alpaca_executor_exact_orders);
	tcase_add_test(tc, test_broker_alpaca_executor_error_paths);
	tcase_add_test(tc, test_broker_alpaca_executor_partial_and_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *node = getenv("NODE");
	char *cmd = xasprintf("'%s' --version >/dev/null 2>&1",
	    node != NULL && *node != '\0' ? node : "node");
	int r = system(cmd);

	free(cmd);
	if (r != 0) {
		fprintf(stderr, "node not found: Alpaca fixture tests skipped\n");
		return 77;
	}
	return test_run_suite(broker_alpaca_suite());
}
