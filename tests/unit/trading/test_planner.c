/* planner: every worked plan of seed-trading-spec §7.5 and the planner cases
 * of §9.2 (tolerance $0.01), the deliberate defect fixes, quantities, JSON. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/planner.h"
#include "helpers.h"

/* |got - want| <= tol */
#define ck_assert_near(got, want, tol) do { \
	char _g[DECIMAL_STRLEN]; \
	struct decimal _d; \
	decimal_sub((got), test_dec(want), &_d); \
	ck_assert_msg(decimal_cmp(decimal_abs(_d), test_dec(tol)) <= 0, "%s = %s, want %s (+/- %s)", \
	    #got, decimal_format((got), _g), (want), (tol)); \
} while (0)
#define ck_assert_cents(got, want) ck_assert_near(got, want, "0.01")

static struct planner_plan *
plan(const struct planner_target *t, size_t nt, const struct planner_position *p, size_t np,
    const char *v, const char *cash, bool seed)
{
	struct planner_input in = {
		.targets = t, .n_targets = nt, .positions = p, .n_positions = np,
		.portfolio_value = test_dec(v), .cash = test_dec(cash), .cash_reserve = test_dec("0.01"),
		.min_trade = test_dec("0.01"), .seed_suppress_small_exits = seed,
		.plan_id = "portfolio_v2_c1_1767312000", .correlation_id = "c1",
		.causation_id = "signal-generated-1", .strategy_name = "unknown",
		.timestamp_usec = INT64_C(1767312000123456),
	};
	struct planner_plan *pl;
	struct errctx ec;

	ck_assert_ok(planner_build(&in, &pl, &ec), &ec);
	return pl;
}

static const struct planner_item *
item(const struct planner_plan *p, const char *sym)
{
	for (size_t i = 0; i < p->n_items; i++)
		if (strcmp(p->items[i].symbol, sym) == 0)
			return &p->items[i];
	ck_abort_msg("no item %s", sym);
	return NULL;
}

static void
assert_order(const struct planner_plan *p, const char *const *syms, size_t n)
{
	ck_assert_uint_eq(p->n_items, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(p->items[i].symbol, syms[i]);
}

START_TEST(test_planner_case_a)
{
	struct planner_target t[] = { { "AAPL", 0.4 }, { "MSFT", 0.35 }, { "GOOGL", 0.25 } };
	struct planner_position p[] = {
		{ "AAPL", test_dec("20"), test_dec("150") }, { "MSFT", test_dec("15"), test_dec("150") },
		{ "GOOGL", test_dec("5"), test_dec("300") },
	};
	static const char *const order[] = { "MSFT", "AAPL", "GOOGL" };
	struct planner_plan *pl = plan(t, 3, p, 3, "10000", "3250", false);
	const struct planner_item *it;

	assert_order(pl, order, 3);
	it = item(pl, "MSFT");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_cents(it->trade_amount, "1215");
	ck_assert_int_eq(it->priority, 2);
	ck_assert_cents(it->target_value, "3465");
	ck_assert_cents(it->current_value, "2250");
	ck_assert_near(it->current_weight, "0.227273", "0.0001");
	ck_assert_near(it->target_weight, "0.35", "0.0001");
	it = item(pl, "AAPL");
	ck_assert_cents(it->trade_amount, "960");
	ck_assert_int_eq(it->priority, 3);
	ck_assert_cents(it->target_value, "3960");	/* P5 */
	ck_assert_near(it->current_weight, "0.30303", "0.0001");
	ck_assert_near(it->target_weight, "0.4", "0.0001");
	it = item(pl, "GOOGL");
	ck_assert_cents(it->trade_amount, "975");
	ck_assert_cents(it->target_value, "2475");
	ck_assert_near(it->current_weight, "0.151515", "0.0001");
	ck_assert_cents(pl->min_trade_threshold, "100");
	ck_assert_cents(pl->total_trade_value, "3150");
	ck_assert(planner_trades_required(pl));
	/* §7.1 step 3: fraction minus percentage, as 2.27.4 publishes it. */
	ck_assert_uint_eq(pl->n_comparison, 3);
	ck_assert_str_eq(pl->comparison[0].symbol, "AAPL");
	ck_assert_int_eq(decimal_cmp(pl->comparison[0].target, test_dec("0.4")), 0);
	ck_assert_int_eq(decimal_cmp(pl->comparison[0].current, test_dec("30")), 0);
	ck_assert_int_eq(decimal_cmp(pl->comparison[0].delta, test_dec("-29.6")), 0);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_case_b_c_d)
{
	struct planner_position p10[] = { { "AAPL", test_dec("10"), test_dec("100") } };
	struct planner_position p5[] = { { "AAPL", test_dec("5"), test_dec("100") } };
	struct planner_target tb[] = { { "AAPL", 0.05 }, { "CASH", 0.95 } };
	struct planner_target tc[] = { { "CASH", 1.0 } };
	struct planner_target td[] = { { "AAPL", 0.15 }, { "CASH", 0.85 } };
	static const char *const ob[] = { "AAPL", "CASH" };
	static const char *const od[] = { "CASH", "AAPL" };
	struct planner_plan *pl;
	const struct planner_item *it;

	/* B (and P1) */
	pl = plan(tb, 2, p10, 1, "10000", "9000", false);
	assert_order(pl, ob, 2);
	it = item(pl, "AAPL");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_cents(it->trade_amount, "-505");
	ck_assert_cents(it->target_value, "495");
	ck_assert_int_eq(decimal_cmp(it->target_weight, test_dec("0.05")), 0);	/* exactly */
	ck_assert_near(it->current_weight, "0.10101", "0.0001");
	ck_assert_int_eq(it->priority, 3);
	it = item(pl, "CASH");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_cents(it->trade_amount, "9405");
	ck_assert_int_eq(it->priority, 2);
	planner_plan_free(pl);

	/* C (and P2): the full position goes. */
	pl = plan(tc, 1, p10, 1, "10000", "9000", false);
	assert_order(pl, ob, 2);
	it = item(pl, "AAPL");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_cents(it->trade_amount, "-1000");
	ck_assert(decimal_is_zero(it->target_weight));
	ck_assert_cents(item(pl, "CASH")->trade_amount, "9900");
	planner_plan_free(pl);

	/* D (and P3) */
	pl = plan(td, 2, p5, 1, "10000", "9500", false);
	assert_order(pl, od, 2);
	it = item(pl, "CASH");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_cents(it->trade_amount, "8415");
	ck_assert_int_eq(it->priority, 2);
	it = item(pl, "AAPL");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_cents(it->trade_amount, "985");
	ck_assert_int_eq(it->priority, 3);
	ck_assert_int_eq(decimal_cmp(it->target_weight, test_dec("0.15")), 0);
	ck_assert_near(it->current_weight, "0.050505", "0.0001");
	planner_plan_free(pl);
}
END_TEST

static struct planner_plan *
case_e(bool seed)
{
	static const struct planner_target t[] = { { "SPY", 0.5 }, { "QQQ", 0.5 } };
	struct planner_position p[] = {
		{ "SPY", test_dec("10"), test_dec("500") }, { "QQQ", test_dec("10"), test_dec("450") },
		{ "BIL", test_dec("0.5"), test_dec("91.50") },
	};

	return plan(t, 2, p, 3, "9545.75", "45.75", seed);
}

START_TEST(test_planner_case_e_seed)
{
	static const char *const order[] = { "SPY", "BIL", "QQQ" };
	struct planner_plan *pl = case_e(true);
	const struct planner_item *it;

	assert_order(pl, order, 3);
	it = item(pl, "SPY");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_near(it->trade_amount, "-274.85375", "0.00000001");
	ck_assert_int_eq(it->priority, 3);
	ck_assert_near(it->target_value, "4725.14625", "0.00000001");
	it = item(pl, "BIL");
	ck_assert_int_eq(it->action, PLANNER_HOLD);	/* 45.75 < M = 95.46 */
	ck_assert(decimal_is_zero(it->trade_amount));
	ck_assert_int_eq(it->priority, 5);
	ck_assert_cents(it->current_value, "45.75");
	it = item(pl, "QQQ");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_near(it->trade_amount, "225.14625", "0.00000001");
	ck_assert_int_eq(decimal_cmp(pl->min_trade_threshold, test_dec("95.46")), 0);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_fix_small_full_exit_sold)
{
	static const char *const order[] = { "SPY", "BIL", "QQQ" };
	struct planner_plan *pl = case_e(false);
	const struct planner_item *it;

	/* Same position in the list; the orphan is sold instead of kept. */
	assert_order(pl, order, 3);
	it = item(pl, "BIL");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_cents(it->trade_amount, "-45.75");
	ck_assert_int_eq(it->priority, 5);
	ck_assert_cents(pl->total_trade_value, "545.75");
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_case_f)
{
	static const struct planner_target t[] = { { "TQQQ", 0.6 }, { "BIL", 0.4 } };
	struct planner_position p[] = {
		{ "SOXL", test_dec("400"), test_dec("30") }, { "BIL", test_dec("100"), test_dec("91.50") },
	};
	static const char *const order[] = { "SOXL", "BIL", "TQQQ" };
	struct planner_plan *pl = plan(t, 2, p, 2, "22150", "1000", false);
	const struct planner_item *it;

	assert_order(pl, order, 3);
	it = item(pl, "SOXL");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_cents(it->trade_amount, "-12000");
	ck_assert_int_eq(it->priority, 1);
	it = item(pl, "BIL");
	ck_assert_int_eq(it->action, PLANNER_SELL);
	ck_assert_cents(it->trade_amount, "-378.60");
	ck_assert_int_eq(it->priority, 3);
	it = item(pl, "TQQQ");
	ck_assert_int_eq(it->action, PLANNER_BUY);
	ck_assert_cents(it->trade_amount, "13157.10");
	ck_assert_int_eq(it->priority, 1);
	ck_assert_cents(pl->min_trade_threshold, "221.50");
	ck_assert_cents(pl->total_trade_value, "25535.70");
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_p4_new_position)
{
	static const struct planner_target t[] = { { "AAPL", 1.0 } };
	struct planner_plan *pl = plan(t, 1, NULL, 0, "1000", "1000", false);

	ck_assert_int_eq(decimal_cmp(item(pl, "AAPL")->target_value, test_dec("990")), 0);
	ck_assert_int_eq(item(pl, "AAPL")->action, PLANNER_BUY);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_fix_nonpositive_cash)
{
	/* P7/P8: 2.27.4 failed the run on cash <= 0. We plan: sells come first and
	 * the executor buys only within buying power. */
	static const struct planner_target t[] = { { "QQQ", 1.0 } };
	struct planner_position p[] = { { "SPY", test_dec("10"), test_dec("500") } };
	static const char *const order[] = { "SPY", "QQQ" };
	struct planner_plan *pl = plan(t, 1, p, 1, "4899.50", "-100.50", false);

	assert_order(pl, order, 2);
	ck_assert_int_eq(pl->items[0].action, PLANNER_SELL);
	ck_assert_cents(pl->cash_balance, "-100.50");
	planner_plan_free(pl);
	pl = plan(t, 1, p, 1, "5000", "0", false);
	ck_assert_int_eq(pl->items[0].action, PLANNER_SELL);
	planner_plan_free(pl);
}
END_TEST

START_TEST(test_planner_zero_portfolio_and_errors)
{
	static const struct planner_target t[] = { { "AAPL", 1.0 } };
	static const struct planner_target bad[] = { { "AAPL", 1.5 } };
	static const struct planner_target dup[] = { { "AAPL", 0.5 }, { "aapl", 0.5 } };
	struct planner_position nop[] = { { "MSFT", test_dec("1"), test_dec("0") } };
	struct planner_input in = { .cash_reserve = test_dec("0.01"), .min_trade = test_dec("0.01") };
	struct planner_plan *pl;
	struct errctx ec;

	/* V = 0: a valid all-HOLD plan (2.27.4 produced priority 0 and failed). */
	pl = plan(t, 1, NULL, 0, "0", "0", false);
	ck_assert_int_eq(pl->items[0].action, PLANNER_HOLD);
	ck_assert_int_eq(pl->items[0].priority, 5);
	ck_assert(!planner_trades_required(pl));
	planner_plan_free(pl);

	ck_assert_err(planner_build(&in, &pl, &ec), -EINVAL, &ec);
	in.targets = bad;
	in.n_targets = 1;
	ck_assert_err(planner_build(&in, &pl, &ec), -EINVAL, &ec);
	in.targets = dup;
	in.n_targets = 2;
	ck_assert_err(planner_build(&in, &pl, &ec), -EINVAL, &ec);
	in.targets = t;
	in.n_targets = 1;
	in.positions = nop;
	in.n_positions = 1;
	ck_assert_err(planner_build(&in, &pl, &ec), -EINVAL, &ec);
	ck_assert(strstr(ec.msg, "MSFT") != NULL);
	struct planner_position twice[] = {
		{ "MSFT", test_dec("1"), test_dec("10") }, { "msft", test_dec("2"), test_dec("10") },
	};
	in.positions = twice;
	in.n_positions = 2;
	ck_assert_err(planner_build(&in, &pl, &ec), -EINVAL, &ec);
	ck_assert(strstr(ec.msg, "position MSFT listed twice") != NULL);
}
END_TEST

static void
qty_ok(enum planner_action a, const char *trade, const char *price, const char *held,
    bool full, bool frac, const char *want)
{
	struct decimal q;
	struct errctx ec;
	char b[DECIMAL_STRLEN];

	ck_assert_ok(planner_order_qty(a, test_dec(trade), test_dec(price), test_dec(held), full, frac, &q, &ec),
	    &ec);
	ck_assert_str_eq(decimal_format(q, b), want);
}

START_TEST(test_planner_order_qty)
{
	struct decimal q;
	struct errctx ec;

	/* E5: 10.123456789 fractionable -> 10.123457; 10.75 not fractionable -> 10. */
	qty_ok(PLANNER_BUY, "1012.3456789", "100", "0", false, true, "10.123457");
	qty_ok(PLANNER_BUY, "1075", "100", "0", false, false, "10");
	/* Full exit: exactly the held quantity, even with more than 6 places or a
	 * fraction of a non-fractionable asset (2.27.4 rounded both). */
	qty_ok(PLANNER_SELL, "-45.75", "91.5", "0.12345678", true, true, "0.12345678");
	qty_ok(PLANNER_SELL, "-45.75", "91.5", "5.5", true, false, "5.5");
	/* Partial sells round down and never exceed the position. */
	qty_ok(PLANNER_SELL, "-274.85375", "500", "10", false, true, "0.549707");
	qty_ok(PLANNER_SELL, "-274.85375", "50", "10", false, false, "5");
	qty_ok(PLANNER_SELL, "-2000", "100", "10", false, true, "10");
	ck_assert_err(planner_order_qty(PLANNER_BUY, test_dec("50"), test_dec("100"), DECIMAL_ZERO, false,
	    false, &q, &ec), -ERANGE, &ec);
	ck_assert_err(planner_order_qty(PLANNER_SELL, test_dec("-50"), test_dec("100"), DECIMAL_ZERO, true,
	    true, &q, &ec), -ERANGE, &ec);
	ck_assert_err(planner_order_qty(PLANNER_BUY, test_dec("50"), DECIMAL_ZERO, DECIMAL_ZERO, false,
	    true, &q, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_planner_json_roundtrip)
{
	struct planner_plan *pl = case_e(false), *back;
	json_t *j, *j2;
	char *s1, *s2;
	struct errctx ec;

	j = planner_rebalance_planned_json(pl);
	ck_assert(json_is_true(json_object_get(j, "trades_required")));
	/* 100 x 45.75 / 9545.75 */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(j,
	    "allocation_comparison"), "current_values"), "BIL")), "0.47927088");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "rebalance_plan"),
	    "plan_id")), "portfolio_v2_c1_1767312000");
	json_decref(j);
	j = planner_plan_to_json(pl);
	ck_assert_str_eq(json_string_value(json_object_get(j, "plan_id")),
	    "portfolio_v2_c1_1767312000");
	ck_assert_str_eq(json_string_value(json_object_get(j, "total_portfolio_value")), "9545.75");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
	    "items"), 0), "trade_amount")), "-274.85375");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "metadata"),
	    "min_trade_threshold")), "95.46");
	ck_assert_str_eq(json_string_value(json_object_get(j, "timestamp")),
	    "2026-01-02T00:00:00.123456Z");
	ck_assert_ok(planner_plan_from_json(j, &back, &ec), &ec);
	ck_assert_uint_eq(back->n_items, 3);
	ck_assert_int_eq(back->timestamp_usec, pl->timestamp_usec);
	ck_assert_int_eq(back->items[1].action, PLANNER_SELL);
	j2 = planner_plan_to_json(back);
	s1 = json_dumps(j, JSON_SORT_KEYS);
	s2 = json_dumps(j2, JSON_SORT_KEYS);
	ck_assert_str_eq(s1, s2);
	free(s1);
	free(s2);
	json_decref(j2);
	planner_plan_free(back);

	/* Numbers are accepted too (a hand-written event); garbage is -EBADMSG. */
	json_object_set_new(json_array_get(json_object_get(j, "items"), 0), "trade_amount",
	    json_real(-274.85));
	ck_assert_ok(planner_plan_from_json(j, &back, &ec), &ec);
	ck_assert_cents(back->items[0].trade_amount, "-274.85");
	planner_plan_free(back);
	json_object_set_new(json_array_get(json_object_get(j, "items"), 0), "action",
	    json_string("SHORT"));
	ck_assert_err(planner_plan_from_json(j, &back, &ec), -EBADMSG, &ec);
	json_object_set_new(json_array_get(json_object_get(j, "items"), 0), "action",
	    json_string("SELL"));
	json_object_set_new(json_array_get(json_object_get(j, "items"), 0), "target_value",
	    json_string("lots"));
	ck_assert_err(planner_plan_from_json(j, &back, &ec), -EBADMSG, &ec);
	ck_assert(strstr(ec.msg, "target_value") != NULL);
	json_object_set_new(j, "items", json_array());
	ck_assert_err(planner_plan_from_json(j, &back, &ec), -EBADMSG, &ec);
	json_decref(j);
	planner_plan_free(pl);
}
END_TEST

/* Issue #17 B11: a forged RebalancePlanned executed a negative BUY (as a
 * buy of its absolute value). Decoding, which the router and the execution
 * stage both do before anything is acted on, refuses what the planner
 * never writes, naming the field. */
START_TEST(test_planner_json_forged_items)
{
	static const struct { const char *field, *value, *action, *want; } forged[] = {
		{ "trade_amount", "-5000", "BUY", "a BUY needs a positive amount, got -5000" },
		{ "trade_amount", "0", "BUY", "a BUY needs a positive amount" },
		{ "trade_amount", "5000", "SELL", "a SELL needs a negative amount" },
		{ "trade_amount", "10", "HOLD", "a HOLD has amount 0" },
		{ "symbol", "spy", NULL, "'items[0].symbol'" },
		{ "symbol", "A/../V2", NULL, "'items[0].symbol'" },
		{ "symbol", "SPY ", NULL, "'items[0].symbol'" },
		{ "symbol", "-SPY", NULL, "'items[0].symbol'" },
		{ "target_weight", "1.5", NULL, "'items[0].target_weight': 1.5 is not within 0..1" },
		{ "current_weight", "-0.1", NULL, "'items[0].current_weight'" },
		{ "weight_diff", "-2", NULL, "'items[0].weight_diff': -2 is not within -1..1" },
		{ "current_value", "-1", NULL, "must not be negative" },
		{ "target_value", "-1", NULL, "must not be negative" },
	};
	struct planner_plan *pl = case_e(false), *back = NULL;
	struct errctx ec;
	json_t *j;

	for (size_t i = 0; i < ELEMENTSOF(forged); i++) {
		json_t *item;

		j = planner_plan_to_json(pl);
		item = json_array_get(json_object_get(j, "items"), 0);
		json_object_set_new(item, forged[i].field, json_string(forged[i].value));
		if (forged[i].action != NULL)
			json_object_set_new(item, "action", json_string(forged[i].action));
		ck_assert_err(planner_plan_from_json(j, &back, &ec), -EBADMSG, &ec);
		ck_assert_msg(strstr(ec.msg, forged[i].want) != NULL, "%s=%s: '%s' lacks '%s'",
		    forged[i].field, forged[i].value, ec.msg, forged[i].want);
		json_decref(j);
	}
	j = planner_plan_to_json(pl);
	json_object_set_new(j, "total_trade_value", json_string("-1"));
	ck_assert_err(planner_plan_from_json(j, &back, &ec), -EBADMSG, &ec);
	/* Class shares and crypto pairs stay valid. */
	json_object_set_new(j, "total_trade_value", json_string("1"));
	json_object_set_new(json_array_get(json_object_get(j, "items"), 0), "symbol", json_string("BRK.B"));
	json_object_set_new(json_array_get(json_object_get(j, "items"), 1), "symbol", json_string("BTC/USD"));
	ck_assert_ok(planner_plan_from_json(j, &back, &ec), &ec);
	planner_plan_free(back);
	json_decref(j);
	planner_plan_free(pl);
}
END_TEST

static Suite *
planner_suite(void)
{
	Suite *s = suite_create("planner");
	TCase *tc = tcase_create("seed_oracles");

	tcase_add_test(tc, test_planner_case_a);
	tcase_add_test(tc, test_planner_case_b_c_d);
	tcase_add_test(tc, test_planner_case_e_seed);
	tcase_add_test(tc, test_planner_case_f);
	tcase_add_test(tc, test_planner_p4_new_position);
	suite_add_tcase(s, tc);
	tc = tcase_create("fixes");
	tcase_add_test(tc, test_planner_fix_small_full_exit_sold);
	tcase_add_test(tc, test_planner_fix_nonpositive_cash);
	tcase_add_test(tc, test_planner_zero_portfolio_and_errors);
	tcase_add_test(tc, test_planner_order_qty);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_planner_json_roundtrip);
	tcase_add_test(tc, test_planner_json_forged_items);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(planner_suite)
