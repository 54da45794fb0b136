/* executor: pricing rules (seed §9.2 E1-E4, E9, §8.4 examples), client order
 * ids, and whole runs against the SQLite paper broker on a real file with a
 * driven clock: the expected orders, resume without duplicates, remaining
 * quantity on escalation, signal-only, buying power. */
#include <check.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_sim.h"
#include "alchemiser/trading/calendar.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/order_id.h"
#include "helpers.h"

static char *dir, *path;
static int64_t mono, wall;

static int64_t now_cb(void *ud) { (void)ud; return mono; }
static int64_t wall_cb(void *ud) { (void)ud; return wall; }
static void sleep_cb(void *ud, int64_t usec) { (void)ud; mono += usec; wall += usec; }

static void
setup(void)
{
	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
	mono = 1000000;
	wall = (calendar_days_from_civil(2026, 11, 23) * 86400 + 15 * 3600) * INT64_C(1000000);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(path);
	free(dir);
}

static struct broker *
open_sim_mode(int partial, bool fill_on_cancel)
{
	struct broker_sim_options o = {
		.state_path = path, .starting_cash = test_dec("10000"), .slippage_bps = 5,
		.spread_bps = 10, .partial_fill_pct = partial, .now_cb = wall_cb,
		.fill_on_cancel = fill_on_cancel,
	};
	struct broker *b;
	struct errctx ec;

	ck_assert_ok(broker_sim_new(&o, &b, &ec), &ec);
	ck_assert_ok(broker_sim_set_price(b, "AAPL", test_dec("100"), &ec), &ec);
	ck_assert_ok(broker_sim_set_price(b, "MSFT", test_dec("200"), &ec), &ec);
	ck_assert_ok(broker_sim_set_price(b, "GOOGL", test_dec("150"), &ec), &ec);
	return b;
}

static struct broker *
open_sim(int partial)
{
	return open_sim_mode(partial, false);
}

static void
buy_setup(struct broker *b, const char *sym, const char *qty)
{
	struct broker_order_request req = {
		.symbol = sym, .side = BROKER_SIDE_BUY, .type = BROKER_ORDER_MARKET, .qty = test_dec(qty),
		.client_order_id = "setup",
	};
	struct broker_order o;
	struct errctx ec;

	ck_assert_ok(b->ops->submit_order(b, &req, &o, &ec), &ec);
	ck_assert_int_eq(o.status, BROKER_STATUS_FILLED);
}

/* Plan from the broker's own account, as the portfolio stage will. */
static struct planner_plan *
plan_from(struct broker *b, const struct planner_target *t, size_t nt)
{
	struct broker_account a;
	struct broker_position *pos;
	struct planner_position pp[8];
	size_t n;
	struct planner_plan *pl;
	struct errctx ec;

	ck_assert_ok(b->ops->get_account(b, &a, &ec), &ec);
	ck_assert_ok(b->ops->list_positions(b, &pos, &n, &ec), &ec);
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++)
		pp[i] = (struct planner_position){ pos[i].symbol, pos[i].qty, pos[i].current_price };
	struct planner_input in = {
		.targets = t, .n_targets = nt, .positions = pp, .n_positions = n,
		.portfolio_value = a.portfolio_value, .cash = a.cash, .cash_reserve = test_dec("0.01"),
		.min_trade = test_dec("0.01"), .plan_id = "portfolio_v2_test", .timestamp_usec = wall,
	};
	ck_assert_ok(planner_build(&in, &pl, &ec), &ec);
	free(pos);
	return pl;
}

static struct executor_options
opts(void)
{
	struct executor_options o;

	executor_options_init(&o);
	o.now_cb = now_cb;
	o.sleep_cb = sleep_cb;
	o.timestamp_usec = wall;
	return o;
}

static int64_t
order_count(struct broker *b)
{
	int64_t n;
	struct errctx ec;

	ck_assert_ok(broker_sim_order_count(b, &n, &ec), &ec);
	return n;
}

static struct decimal
position(struct broker *b, const char *sym)
{
	struct broker_position *pos;
	struct decimal q = DECIMAL_ZERO;
	size_t n;
	struct errctx ec;

	ck_assert_ok(b->ops->list_positions(b, &pos, &n, &ec), &ec);
	for (size_t i = 0; i < n; i++)
		if (strcmp(pos[i].symbol, sym) == 0)
			q = pos[i].qty;
	free(pos);
	return q;
}

START_TEST(test_executor_pricing_rules)
{
	static const struct decimal none[1];
	struct decimal p, used[1];

	/* §8.4 REST anchor examples. */
	ck_assert_ok(executor_limit_price(BROKER_SIDE_BUY, test_dec("100"), test_dec("100.5"), &p), NULL);
	ck_assert_dec(p, "100.01");
	ck_assert_ok(executor_limit_price(BROKER_SIDE_SELL, test_dec("100"), test_dec("100.5"), &p), NULL);
	ck_assert_dec(p, "100.49");
	ck_assert_ok(executor_limit_price(BROKER_SIDE_BUY, test_dec("100"), test_dec("100.02"), &p), NULL);
	ck_assert_dec(p, "100.01");
	ck_assert_ok(executor_limit_price(BROKER_SIDE_SELL, test_dec("100"), test_dec("100.02"), &p), NULL);
	ck_assert_dec(p, "100.01");
	ck_assert_int_eq(executor_limit_price(BROKER_SIDE_BUY, DECIMAL_ZERO, DECIMAL_ZERO, &p),
	    -ENOENT);
	/* E1 */
	ck_assert_dec(executor_price_adjust(test_dec("100"), test_dec("110"), test_dec("0.5")), "105");
	ck_assert_dec(executor_price_adjust(test_dec("100"), test_dec("200"), test_dec("0.25")), "125");
	ck_assert_dec(executor_price_adjust(test_dec("100"), test_dec("200"), test_dec("0.75")), "175");
	/* E2: a price already used moves by the improvement step. */
	used[0] = test_dec("100");
	ck_assert_dec(executor_reprice(BROKER_SIDE_BUY, test_dec("99"), test_dec("99.9"), test_dec("99.99"),
	    test_dec("0.01"), used, 1), "100.01");
	ck_assert_dec(executor_reprice(BROKER_SIDE_SELL, test_dec("101"), test_dec("100.01"), test_dec("100.2"),
	    test_dec("0.01"), used, 1), "99.99");
	ck_assert_dec(executor_reprice(BROKER_SIDE_BUY, test_dec("99"), test_dec("99.9"), test_dec("99.95"),
	    test_dec("0.05"), used, 1), "100.05");
	/* §8.5: across the spread by the step. */
	ck_assert_dec(executor_reprice(BROKER_SIDE_BUY, test_dec("100.01"), test_dec("100"), test_dec("100.5"),
	    test_dec("0.02"), none, 0), "100.52");
	ck_assert_dec(executor_reprice(BROKER_SIDE_SELL, test_dec("100.49"), test_dec("100"), test_dec("100.5"),
	    test_dec("0.02"), none, 0), "99.98");
	/* E4 */
	ck_assert(executor_should_escalate(3, 3));
	ck_assert(!executor_should_escalate(2, 3));
	ck_assert(executor_should_escalate(0, 0));
	/* E9 */
	ck_assert_ok(executor_mid_price(test_dec("100"), test_dec("101"), &p), NULL);
	ck_assert_dec(p, "100.5");
	ck_assert_ok(executor_mid_price(test_dec("100"), test_dec("100"), &p), NULL);
	ck_assert_dec(p, "100");
	ck_assert_ok(executor_mid_price(test_dec("100"), test_dec("200"), &p), NULL);
	ck_assert_dec(p, "150");
	ck_assert_int_eq(executor_mid_price(DECIMAL_ZERO, test_dec("101"), &p), -ENOENT);
	ck_assert_int_eq(executor_mid_price(test_dec("101"), test_dec("100"), &p), -ENOENT);
}
END_TEST

START_TEST(test_executor_order_ids)
{
	char a[BROKER_CLIENT_ID_MAX], b[BROKER_CLIENT_ID_MAX], prefix[ORDER_ID_PREFIX_MAX];

	order_id_make("rebalance-planned-1", "AAPL", BROKER_SIDE_BUY, 0, a);
	order_id_make("rebalance-planned-1", "AAPL", BROKER_SIDE_BUY, 0, b);
	ck_assert_str_eq(a, b);
	ck_assert_uint_le(strlen(a), 48);
	order_id_run_prefix("rebalance-planned-1", prefix);
	ck_assert(strncmp(a, prefix, strlen(prefix)) == 0);
	ck_assert(order_id_is_run("rebalance-planned-1", a));
	ck_assert(!order_id_is_run("rebalance-planned-2", a));
	order_id_make("rebalance-planned-1", "AAPL", BROKER_SIDE_BUY, 1, b);
	ck_assert_str_ne(a, b);
	ck_assert(strcmp(b + strlen(b) - 2, "-1") == 0);
	order_id_make("rebalance-planned-1", "AAPL", BROKER_SIDE_SELL, 0, b);
	ck_assert_str_ne(a, b);
	order_id_make("rebalance-planned-1", "MSFT", BROKER_SIDE_BUY, 0, b);
	ck_assert_str_ne(a, b);
}
END_TEST

static const struct planner_target rotate[] = { { "MSFT", 0.5 }, { "GOOGL", 0.5 } };

START_TEST(test_executor_full_run_and_rerun)
{
	struct broker *b = open_sim(0);
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct errctx ec;
	json_t *j;
	int64_t before;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, rotate, 2);
	before = order_count(b);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-A", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_int_eq(res->status, EXECUTOR_SUCCESS);
	ck_assert_uint_eq(res->n_orders, 3);
	ck_assert_uint_eq(res->orders_placed, 3);
	ck_assert_uint_eq(res->orders_succeeded, 3);
	/* Sells first; each item: a limit that rests, one re-price across the
	 * spread that fills. Exactly six orders. */
	ck_assert_str_eq(res->orders[0].symbol, "AAPL");
	ck_assert_int_eq(res->orders[0].action, PLANNER_SELL);
	ck_assert_dec(res->orders[0].filled_qty, "20");	/* the full position */
	ck_assert_int_eq(res->orders[0].attempts, 2);
	ck_assert_int_eq(res->orders[0].status, BROKER_STATUS_FILLED);
	ck_assert_int_eq(order_count(b) - before, 6);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	ck_assert_int_gt(position(b, "MSFT").units, 0);
	ck_assert_int_gt(position(b, "GOOGL").units, 0);
	j = executor_trade_executed_json(res);
	ck_assert(json_is_true(json_object_get(j, "success")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "orders_succeeded")), 3);
	ck_assert(json_is_null(json_object_get(j, "failure_reason")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "failed_symbols")), 0);
	ck_assert(json_is_object(json_object_get(j, "execution_data")));
	json_decref(j);
	j = executor_result_to_json(res);
	ck_assert(json_is_true(json_object_get(j, "success")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "orders_placed")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "orders"), 0), "status")), "filled");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "orders"), 0), "shares")), "20");
	json_decref(j);
	executor_result_free(res);

	/* The same plan again (idempotency record gone): resumes, places nothing. */
	before = order_count(b);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-A", &o, &res, &ec), &ec);
	ck_assert_int_eq(order_count(b), before);
	ck_assert(res->success);
	ck_assert_dec(res->orders[0].filled_qty, "20");
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_resume_after_crash)
{
	struct broker *b = open_sim(0);
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_order_request req = { 0 };
	struct broker_order ord;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;
	int64_t before;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, rotate, 2);
	/* The first run died right after placing its first sell (still open). */
	order_id_make("rebalance-planned-B", "AAPL", BROKER_SIDE_SELL, 0, cid);
	req = (struct broker_order_request){ .symbol = "AAPL", .side = BROKER_SIDE_SELL,
	    .type = BROKER_ORDER_LIMIT, .qty = test_dec("20"), .limit_price = test_dec("100.04"),
	    .client_order_id = cid };
	ck_assert_ok(b->ops->submit_order(b, &req, &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_NEW);
	before = order_count(b);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-B", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	/* The stale attempt 0 was cancelled and the chain went on at attempt 1:
	 * one more AAPL order, two for each buy, no duplicate. */
	ck_assert_int_eq(order_count(b) - before, 5);
	ck_assert_int_eq(res->orders[0].attempts, 2);
	ck_assert_int_eq(b->ops->get_order_by_client_id(b, cid, &ord, &ec), 0);
	ck_assert_int_eq(ord.status, BROKER_STATUS_CANCELED);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_escalates_remaining_qty)
{
	struct broker *b = open_sim(50);
	static const struct planner_target t[] = { { "MSFT", 1.0 } };
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_order ord;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, t, 1);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-C", &o, &res, &ec), &ec);
	/* AAPL: limit rests; re-price fills half (10) and stalls; market for the
	 * remaining 10, not the original 20. */
	order_id_make("rebalance-planned-C", "AAPL", BROKER_SIDE_SELL, 2, cid);
	ck_assert_ok(b->ops->get_order_by_client_id(b, cid, &ord, &ec), &ec);
	ck_assert_int_eq(ord.type, BROKER_ORDER_MARKET);
	ck_assert_dec(ord.qty, "10");
	ck_assert_int_eq(ord.status, BROKER_STATUS_FILLED);
	ck_assert_dec(res->orders[0].filled_qty, "20");
	ck_assert_int_eq(res->orders[0].attempts, 3);
	ck_assert_int_eq(res->orders[0].type, BROKER_ORDER_MARKET);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	ck_assert_msg(res->success, "%s", res->failure_reason);
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_bot_mode_and_market)
{
	struct broker *b = open_sim(0);
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct errctx ec;
	json_t *j;
	int64_t before;

	pl = plan_from(b, rotate, 2);
	before = order_count(b);
	o.mode = EXECUTOR_MODE_BOT;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-D", &o, &res, &ec), &ec);
	ck_assert(res->success);
	ck_assert_uint_eq(res->orders_placed, 0);
	ck_assert_int_eq(order_count(b), before);
	j = executor_result_to_json(res);
	ck_assert(json_is_true(json_object_get(j, "signal_only")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "mode")), "bot");
	json_decref(j);
	executor_result_free(res);

	o.mode = EXECUTOR_MODE_TRADE;
	o.use_limit_orders = false;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-D", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_int_eq(order_count(b) - before, 2);	/* one market order each */
	ck_assert_int_eq(res->orders[0].type, BROKER_ORDER_MARKET);
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_buying_power_and_refusals)
{
	struct broker *b = open_sim(0);
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_account a;
	struct errctx ec;

	ck_assert_ok(broker_sim_set_asset(b, "GOOGL", false, true, &ec), &ec);
	pl = plan_from(b, rotate, 2);
	/* Cash shrinks after planning: the buy is cut to what buying power allows. */
	ck_assert_ok(broker_sim_adjust_cash(b, test_dec("-7000"), &ec), &ec);
	o.use_limit_orders = false;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-E", &o, &res, &ec), &ec);
	ck_assert_str_eq(res->orders[0].symbol, "GOOGL");	/* alphabetical tie */
	ck_assert(!res->orders[0].success);
	ck_assert(strstr(res->orders[0].error, "not tradable") != NULL);
	ck_assert_str_eq(res->orders[1].symbol, "MSFT");
	ck_assert(res->orders[1].success);
	/* Planned 24.75 shares; 3000 of buying power at ask + 1 % buys 14.84. */
	ck_assert_int_lt(decimal_cmp(res->orders[1].filled_qty, test_dec("15")), 0);
	ck_assert_int_gt(decimal_cmp(res->orders[1].filled_qty, test_dec("14.8")), 0);
	ck_assert_int_eq(res->status, EXECUTOR_PARTIAL_SUCCESS);
	ck_assert(!res->success);	/* partial = failure by default */
	ck_assert(strstr(res->failure_reason, "GOOGL") != NULL);
	ck_assert_ok(b->ops->get_account(b, &a, &ec), &ec);
	ck_assert(!decimal_is_negative(a.cash));
	executor_result_free(res);

	o.partial_is_failure = false;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-E", &o, &res, &ec), &ec);
	ck_assert(res->success);
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

/* A fast market (the paper broker fills market buys 5 % above the reference
 * while its quote stays 0.05 % wide): the cap (ask + 1 %) undersizes, and the
 * last buy of a full-cash run is refused for buying power. The executor
 * reads buying power again and places that one order once more, smaller;
 * with 10 % it is refused again and the item fails as before. */
static struct broker *
open_fast_market(int slippage_bps)
{
	struct broker_sim_options o = {
		.state_path = path, .starting_cash = test_dec("10000"), .slippage_bps = slippage_bps,
		.spread_bps = 10, .quote_lags_fills = true, .now_cb = wall_cb,
	};
	struct broker *b;
	struct errctx ec;

	ck_assert_ok(broker_sim_new(&o, &b, &ec), &ec);
	ck_assert_ok(broker_sim_set_price(b, "AAPL", test_dec("100"), &ec), &ec);
	ck_assert_ok(broker_sim_set_price(b, "MSFT", test_dec("200"), &ec), &ec);
	return b;
}

static const struct planner_target bp_halves[] = { { "AAPL", 0.5 }, { "MSFT", 0.5 } };

START_TEST(test_executor_buying_power_refusal_retried_smaller)
{
	struct broker *b = open_fast_market(500);
	struct planner_plan *pl = plan_from(b, bp_halves, 2);
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_account a;
	struct errctx ec;
	json_t *j;
	const struct executor_order *last;

	o.use_limit_orders = false;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-BP", &o, &res, &ec), &ec);
	ck_assert_uint_eq(res->n_orders, 2);
	last = &res->orders[1];
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert(res->orders[0].success);
	ck_assert(last->success);
	ck_assert_msg(strstr(last->note, "refused for buying power at ") != NULL, "note: %s",
	    last->note);
	ck_assert_int_eq(res->orders[0].note[0], '\0');
	/* Smaller than planned, never above the target, within the cash. */
	ck_assert_int_gt(decimal_cmp(last->filled_qty, DECIMAL_ZERO), 0);
	ck_assert_int_lt(decimal_cmp(last->filled_qty,
	    test_dec(strcmp(last->symbol, "MSFT") == 0 ? "24.75" : "49.5")), 0);
	ck_assert_int_eq(order_count(b), 2);	/* the refused one stored nothing */
	ck_assert_ok(b->ops->get_account(b, &a, &ec), &ec);
	ck_assert(!decimal_is_negative(a.cash));
	j = executor_result_to_json(res);
	ck_assert_ptr_nonnull(strstr(json_get_str(json_array_get(json_object_get(j, "orders"), 1),
	    "note"), "placed again with"));
	json_decref(j);
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_buying_power_refusal_twice_fails)
{
	struct broker *b = open_fast_market(1000);
	struct planner_plan *pl = plan_from(b, bp_halves, 2);
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_account a;
	struct errctx ec;

	o.use_limit_orders = false;
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-BP2", &o, &res, &ec), &ec);
	ck_assert(!res->success);
	ck_assert(res->orders[0].success);
	ck_assert(!res->orders[1].success);
	ck_assert_msg(strstr(res->orders[1].error, "refused again after placing it smaller") != NULL,
	    "error: %s", res->orders[1].error);
	ck_assert(strstr(res->failure_reason, "buying power") != NULL);
	ck_assert_int_eq(order_count(b), 1);
	ck_assert_ok(b->ops->get_account(b, &a, &ec), &ec);
	ck_assert(!decimal_is_negative(a.cash));
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

/* A real crash: a child process runs the plan against the state file and is
 * killed with SIGKILL while its first sell rests; the restarted run resumes
 * from the file and places no duplicate. */
START_TEST(test_executor_kill9_restart)
{
	struct broker *b = open_sim(0);
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct errctx ec;
	int64_t before;
	pid_t pid;
	int status;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, rotate, 2);
	before = order_count(b);
	broker_free(b);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct executor_options slow;

		/* Real clock, and limits that never re-price: it blocks, resting. */
		executor_options_init(&slow);
		slow.poll_interval_usec = 10000;
		slow.reprice_interval_usec = slow.phase_timeout_usec = 3600 * INT64_C(1000000);
		b = open_sim(0);
		executor_run(b, pl, "rebalance-planned-K", &slow, &res, &ec);
		_exit(0);
	}
	b = open_sim(0);
	for (int i = 0; i < 1000 && order_count(b) == before; i++)
		usleep(10000);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(order_count(b) - before, 1);	/* died with AAPL attempt 0 open */

	ck_assert_ok(executor_run(b, pl, "rebalance-planned-K", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	/* AAPL: the dead run's attempt 0 (cancelled) + attempt 1; two per buy. */
	ck_assert_int_eq(order_count(b) - before, 6);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

/* The embedded default's story at module level: SignalGenerated's targets ->
 * plan from the paper broker -> RebalancePlanned JSON -> decoded by the
 * execution side -> orders -> positions that match the plan. */
START_TEST(test_executor_embedded_story)
{
	struct broker *b = open_sim(0);
	json_t *alloc = json_pack("{s:s, s:f}", "msft", "0.5", "GOOGL", 0.5);
	json_t *bad = json_pack("{s:s}", "MSFT", "1.5");
	struct planner_options po = { .cash_reserve = test_dec("0.01"), .min_trade = test_dec("0.01") };
	struct planner_target *t;
	struct planner_plan *pl, *decoded;
	struct executor_result *res;
	struct executor_options o = opts();
	struct errctx ec;
	json_t *j;
	size_t n;

	buy_setup(b, "AAPL", "20");
	ck_assert_err(planner_targets_from_json(bad, &t, &n, &ec), -EBADMSG, &ec);
	ck_assert_ok(planner_targets_from_json(alloc, &t, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);
	ck_assert_ok(planner_build_from_broker(b, t, n, &po, "portfolio_v2_c9_1", "c9",
	    "signal-generated-9", wall, &pl, &ec), &ec);
	planner_targets_free(t, n);
	ck_assert_str_eq(pl->items[0].symbol, "AAPL");
	ck_assert_int_eq(pl->items[0].action, PLANNER_SELL);
	j = planner_plan_to_json(pl);
	ck_assert_ok(planner_plan_from_json(j, &decoded, &ec), &ec);
	json_decref(j);
	ck_assert_ok(executor_run(b, decoded, "rebalance-planned-9", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	/* Each buy lands within a share of its planned dollars. */
	for (size_t i = 0; i < decoded->n_items; i++) {
		const struct planner_item *it = &decoded->items[i];
		struct decimal held = position(b, it->symbol), value, diff, price;

		if (it->action != PLANNER_BUY)
			continue;
		price = test_dec(strcmp(it->symbol, "MSFT") == 0 ? "200" : "150");
		decimal_mul(held, price, DECIMAL_ROUND_HALF_EVEN, &value);
		decimal_sub(value, it->target_value, &diff);
		ck_assert_msg(decimal_cmp(decimal_abs(diff), price) <= 0, "%s off by more than a share",
		    it->symbol);
	}
	executor_result_free(res);
	planner_plan_free(decoded);
	planner_plan_free(pl);
	json_decref(alloc);
	json_decref(bad);
	broker_free(b);
}
END_TEST

/* Stage execution's way (issue #12): settle this run's orders, plan again
 * from the broker's positions and the other open orders, execute the live
 * plan. Another run that filled first leaves nothing to buy; an order still
 * open elsewhere counts as bought; a resumed chain buys only what is missing. */
static const struct planner_target halves[] = { { "AAPL", 0.5 }, { "MSFT", 0.5 } };

static struct planner_plan *
live_plan(struct broker *b, const char *plan_event_id)
{
	struct planner_options po = { .cash_reserve = test_dec("0.05"), .min_trade = test_dec("0.01"),
	    .count_open_orders = true, .own_plan_event_id = plan_event_id };
	struct planner_plan *pl;
	struct errctx ec;

	ck_assert_ok(planner_build_from_broker(b, halves, 2, &po, "live", "corr", "cause", wall, &pl,
	    &ec), &ec);
	return pl;
}

static void
run_live(struct broker *b, const char *plan_event_id, struct executor_result **res)
{
	struct executor_options o = opts();
	struct planner_plan *pl;
	struct errctx ec;

	o.use_limit_orders = false;
	o.plan_is_live = true;
	ck_assert_ok(executor_settle_run(b, plan_event_id, &o, &ec), &ec);
	pl = live_plan(b, plan_event_id);
	ck_assert_ok(executor_run(b, pl, plan_event_id, &o, res, &ec), &ec);
	ck_assert_msg((*res)->success, "%s", (*res)->failure_reason);
	planner_plan_free(pl);
}

START_TEST(test_executor_live_plan_never_past_target)
{
	struct broker *b = open_sim(0);
	struct executor_result *res;
	struct decimal aapl, msft;
	int64_t before;

	/* Run A alone: the targets. */
	run_live(b, "rebalance-planned-A", &res);
	ck_assert_int_eq(res->orders_placed, 2);
	executor_result_free(res);
	aapl = position(b, "AAPL");
	msft = position(b, "MSFT");
	ck_assert(aapl.units > 0 && msft.units > 0);
	/* Run B planned before A filled; executing now, it buys nothing. */
	before = order_count(b);
	run_live(b, "rebalance-planned-B", &res);
	ck_assert_int_eq(res->orders_placed, 0);
	executor_result_free(res);
	ck_assert_int_eq(order_count(b), before);
	ck_assert_int_eq(decimal_cmp(position(b, "AAPL"), aapl), 0);
	ck_assert_int_eq(decimal_cmp(position(b, "MSFT"), msft), 0);
	broker_free(b);
}
END_TEST

START_TEST(test_executor_live_plan_counts_open_orders)
{
	struct broker *b = open_sim(0);
	struct broker_order_request req = { 0 };
	struct executor_result *res;
	struct broker_order ord;
	struct decimal target;
	struct errctx ec;

	/* The targets, measured on a scratch account. */
	run_live(b, "rebalance-planned-T", &res);
	executor_result_free(res);
	target = position(b, "AAPL");
	broker_free(b);
	ck_assert_int_eq(unlink(path), 0);
	b = open_sim(0);
	/* Another run's AAPL buy rests (limit far below the price). */
	req = (struct broker_order_request){ .symbol = "AAPL", .side = BROKER_SIDE_BUY,
	    .type = BROKER_ORDER_LIMIT, .qty = target, .limit_price = test_dec("1"),
	    .client_order_id = "alc-otherrun-aapl-0" };
	ck_assert_ok(b->ops->submit_order(b, &req, &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_NEW);
	run_live(b, "rebalance-planned-C", &res);
	/* Only MSFT: AAPL is on its way already. */
	ck_assert_int_eq(res->orders_placed, 1);
	ck_assert_str_eq(res->orders[0].symbol, "MSFT");
	executor_result_free(res);
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	broker_free(b);
}
END_TEST

START_TEST(test_executor_live_plan_resumes_chain)
{
	struct broker *b = open_sim(40);
	struct broker_order_request req = { 0 };
	struct executor_result *res;
	struct broker_order ord;
	struct decimal target, got, limit;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;

	run_live(b, "rebalance-planned-T", &res);
	executor_result_free(res);
	target = position(b, "AAPL");
	broker_free(b);
	ck_assert_int_eq(unlink(path), 0);
	b = open_sim(40);
	/* Run D died after attempt 0 of its AAPL buy filled 40 % and rested. */
	order_id_make("rebalance-planned-D", "AAPL", BROKER_SIDE_BUY, 0, cid);
	req = (struct broker_order_request){ .symbol = "AAPL", .side = BROKER_SIDE_BUY,
	    .type = BROKER_ORDER_LIMIT, .qty = target, .limit_price = test_dec("101"),
	    .client_order_id = cid };
	ck_assert_ok(b->ops->submit_order(b, &req, &ord, &ec), &ec);
	ck_assert_int_eq(ord.status, BROKER_STATUS_PARTIALLY_FILLED);
	/* Resumed: cancelled, re-planned from the 40 % held, the chain goes on at
	 * attempt 1 for the rest: AAPL ends at its target, not 140 % of it. */
	run_live(b, "rebalance-planned-D", &res);
	executor_result_free(res);
	ck_assert_int_eq(b->ops->get_order_by_client_id(b, cid, &ord, &ec), 0);
	ck_assert_int_eq(ord.status, BROKER_STATUS_CANCELED);
	got = position(b, "AAPL");
	/* Within 0.1 % (share rounding at the new price basis). */
	decimal_mul(target, test_dec("1.001"), DECIMAL_ROUND_HALF_EVEN, &limit);
	ck_assert_msg(decimal_cmp(got, limit) <= 0, "AAPL %lld above target %lld",
	    (long long)got.units, (long long)target.units);
	decimal_mul(target, test_dec("0.99"), DECIMAL_ROUND_HALF_EVEN, &limit);
	ck_assert_msg(decimal_cmp(got, limit) >= 0, "AAPL %lld well below target %lld",
	    (long long)got.units, (long long)target.units);
	(void)limit;
	broker_free(b);
}
END_TEST

/* A run whose execution finished (every leg filled) but whose message came
 * back (killed before its claim was completed) after another run traded the
 * account: its chains ended in fills, so it trades nothing again, although
 * a plan made now toward its old targets would (seen in the kill -9 soak on
 * SQS: every leg ordered twice, attempts 0 and 1). */
START_TEST(test_executor_live_plan_rerun_after_other_run)
{
	static const struct planner_target others[] = { { "AAPL", 0.1 }, { "MSFT", 0.8 } };
	struct planner_options po = { .cash_reserve = test_dec("0.05"), .min_trade = test_dec("0.01"),
	    .count_open_orders = true, .own_plan_event_id = "rebalance-planned-F" };
	struct executor_options o = opts();
	struct broker *b = open_sim(0);
	struct executor_result *res;
	struct planner_plan *pl;
	struct decimal aapl, msft;
	struct errctx ec;
	int64_t before;

	run_live(b, "rebalance-planned-E", &res);
	ck_assert_int_eq(res->orders_placed, 2);
	executor_result_free(res);
	/* Run F, other targets, trades after E. */
	o.use_limit_orders = false;
	o.plan_is_live = true;
	ck_assert_ok(planner_build_from_broker(b, others, 2, &po, "live-F", "corr-F", "cause", wall,
	    &pl, &ec), &ec);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-F", &o, &res, &ec), &ec);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	ck_assert_int_gt(res->orders_placed, 0);
	executor_result_free(res);
	planner_plan_free(pl);
	aapl = position(b, "AAPL");
	msft = position(b, "MSFT");
	/* E again: nothing ordered, F's positions stand. */
	before = order_count(b);
	run_live(b, "rebalance-planned-E", &res);
	executor_result_free(res);
	ck_assert_int_eq(order_count(b), before);
	ck_assert_int_eq(decimal_cmp(position(b, "AAPL"), aapl), 0);
	ck_assert_int_eq(decimal_cmp(position(b, "MSFT"), msft), 0);
	broker_free(b);
}
END_TEST

/* A resting limit that fills while the executor cancels it to re-price (the
 * paper broker's fill_on_cancel): the chain is complete, no next attempt,
 * nothing bought or sold twice. */
START_TEST(test_executor_fill_on_cancel)
{
	struct broker *b = open_sim_mode(0, true);
	static const struct planner_target t[] = { { "MSFT", 1.0 } };
	struct planner_plan *pl;
	struct executor_result *res;
	struct executor_options o = opts();
	struct broker_order ord;
	char cid[BROKER_CLIENT_ID_MAX];
	struct errctx ec;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, t, 1);
	ck_assert_ok(executor_run(b, pl, "rebalance-planned-FC", &o, &res, &ec), &ec);
	for (size_t i = 0; i < res->n_orders; i++) {
		/* Each chain: attempt 0 rested, was cancelled at the re-price and
		 * filled instead; attempt 1 was never placed. */
		ck_assert_int_eq(res->orders[i].attempts, 1);
		order_id_make("rebalance-planned-FC", res->orders[i].symbol,
		    res->orders[i].action == PLANNER_SELL ? BROKER_SIDE_SELL : BROKER_SIDE_BUY, 0, cid);
		ck_assert_ok(b->ops->get_order_by_client_id(b, cid, &ord, &ec), &ec);
		ck_assert_int_eq(ord.status, BROKER_STATUS_FILLED);
		ck_assert_int_eq(ord.type, BROKER_ORDER_LIMIT);
	}
	ck_assert_int_eq(order_count(b), 1 + 2);	/* setup, the sell, the buy */
	ck_assert(decimal_is_zero(position(b, "AAPL")));
	ck_assert_int_eq(decimal_cmp(position(b, "MSFT"), res->orders[1].qty), 0);
	ck_assert_msg(res->success, "%s", res->failure_reason);
	executor_result_free(res);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

/* The fence: once it says no, no new order; this run's open orders are
 * cancelled and the run ends -ENOLCK with the reason. */
static int fence_calls;

static bool
fence_after_one(void *ud, char *why, size_t size)
{
	(void)ud;
	if (++fence_calls <= 1)
		return true;
	snprintf(why, size, "the account lease is held by another run");
	return false;
}

START_TEST(test_executor_fenced)
{
	struct broker *b = open_sim(0);
	static const struct planner_target t[] = { { "MSFT", 0.5 }, { "GOOGL", 0.5 } };
	struct planner_plan *pl;
	struct executor_result *res = NULL;
	struct executor_options o = opts();
	struct broker_order *open;
	size_t n;
	struct errctx ec;

	buy_setup(b, "AAPL", "20");
	pl = plan_from(b, t, 2);
	o.fence_cb = fence_after_one;
	fence_calls = 0;
	ck_assert_err(executor_run(b, pl, "rebalance-planned-FN", &o, &res, &ec), -ENOLCK, &ec);
	ck_assert_ptr_null(res);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "held by another run"));
	ck_assert_int_eq(order_count(b), 1 + 1);	/* setup and the one sell it was allowed */
	ck_assert_ok(b->ops->list_open_orders(b, &open, &n, &ec), &ec);
	ck_assert_uint_eq(n, 0);			/* the resting sell was cancelled */
	free(open);
	planner_plan_free(pl);
	broker_free(b);
}
END_TEST

static Suite *
executor_suite(void)
{
	Suite *s = suite_create("executor");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_executor_pricing_rules);
	tcase_add_test(tc, test_executor_order_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("sim");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_executor_full_run_and_rerun);
	tcase_add_test(tc, test_executor_resume_after_crash);
	tcase_add_test(tc, test_executor_escalates_remaining_qty);
	tcase_add_test(tc, test_executor_bot_mode_and_market);
	tcase_add_test(tc, test_executor_buying_power_and_refusals);
	tcase_add_test(tc, test_executor_buying_power_refusal_retried_smaller);
	tcase_add_test(tc, test_executor_buying_power_refusal_twice_fails);
	tcase_add_test(tc, test_executor_embedded_story);
	tcase_add_test(tc, test_executor_kill9_restart);
	tcase_add_test(tc, test_executor_live_plan_never_past_target);
	tcase_add_test(tc, test_executor_live_plan_counts_open_orders);
	tcase_add_test(tc, test_executor_live_plan_resumes_chain);
	tcase_add_test(tc, test_executor_live_plan_rerun_after_other_run);
	tcase_add_test(tc, test_executor_fill_on_cancel);
	tcase_add_test(tc, test_executor_fenced);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(executor_suite)
