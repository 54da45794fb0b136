#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report_error.h"
#include "alchemiser/mail/report_pnl.h"
#include "alchemiser/mail/report_trading.h"
#include "helpers.h"

static json_t	*load(const char *name);
static void	 assert_in_both(const struct report *r, const char *const *needles, size_t n);
static int64_t	 day(int y, unsigned m, unsigned d);
static void	 trading(const json_t *j, struct report *r);
static json_t	*paper_detail(json_int_t placed, json_int_t succeeded, json_t *execution_data);
struct period_case;
static void	 check_periods(int (*period)(int64_t, int, struct report_pnl_period *,
		    struct errctx *), const struct period_case *v, size_t n);

/* The report part hay has (lacks) the text needle; the message shows hay. */
#define ck_assert_has(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, "lacks '%s':\n%s", (needle), (hay))
#define ck_assert_lacks(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) == NULL, "has '%s':\n%s", (needle), (hay))

static json_t *
load(const char *name)
{
	char *path = test_data_path(name);
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	free(path);
	return j;
}

/* Text and HTML must carry the same facts. */
static void
assert_in_both(const struct report *r, const char *const *needles, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *esc = textbuf_html_escape(needles[i]);

		ck_assert_msg(strstr(r->text, needles[i]) != NULL, "text lacks '%s':\n%s", needles[i],
		    r->text);
		ck_assert_msg(strstr(r->html, esc) != NULL, "html lacks '%s'", esc);
		free(esc);
	}
}

static int64_t
day(int y, unsigned m, unsigned d)
{
	return time_days_from_civil(y, m, d);
}

/* The trading report of detail j into r; the test fails if it cannot render. */
static void
trading(const json_t *j, struct report *r)
{
	struct errctx ec = { 0 };

	ck_assert_ok(report_trading_render(j, r, &ec), &ec);
}

/* A paper run's TradingNotificationRequested detail (success, counts) around
 * execution_data (taken). */
static json_t *
paper_detail(json_int_t placed, json_int_t succeeded, json_t *execution_data)
{
	return json_pack("{s:b, s:s, s:I, s:I, s:o}", "trading_success", 1, "trading_mode", "paper",
	    "orders_placed", placed, "orders_succeeded", succeeded, "execution_data", execution_data);
}

START_TEST(test_report_trading_success_numbers)
{
	static const char *const want[] = {
		"SUCCESS", "PAPER", "corr-7f3a2b10-success", "$12,345.68", "2026-11-23T15:45:12Z",
		/* plan */
		"TQQQ", "45.0%", "30.0%", "SOXL", "20.0%", "35.0%", "34.5%", "HOLD",
		/* signals, reason escaped in HTML */
		"Nuclear", "RSI(10) of QQQ at 28.4 < 30", "SOXL, TECL", "SPY above 200-day",
		/* orders: side, quantity as the broker gave it, status, average price */
		"BUY", "21.5", "$71.23", "Filled", "SELL", "0.1234", "Partial Fill", "$1,234.50",
		"$91.60",
	};
	struct report r = { 0 };
	json_t *j = load("mail/trading_success.json");

	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUCCESS] The Alchemiser - PAPER Trading Report");
	assert_in_both(&r, want, ELEMENTSOF(want));
	ck_assert_has(r.html, "&lt;strong&gt;");
	ck_assert_lacks(r.html, "<strong>");
	ck_assert_lacks(r.text, "Recommended Actions");
	ck_assert_has(r.html, "PAPER Multi-Strategy Execution Report");
	/* quantities are not padded or rounded */
	ck_assert_lacks(r.text, "21.50");
	ck_assert_lacks(r.text, "3.00");
	report_clear(&r);
	json_decref(j);
}
END_TEST

START_TEST(test_report_trading_failure_reason_and_actions)
{
	static const char *const want[] = {
		"FAILURE", "LIVE", "corr-failed-9911", "Trade execution partially failed: 1/2 orders",
		"UVXY <script>", "UVXY, SQQQ", "Recommended Actions", "Verify broker connectivity",
		"Failed", "$600.01", "$500.00",
	};
	struct report r = { 0 };
	json_t *j = load("mail/trading_failure.json");

	trading(j, &r);
	/* The error code's CR/LF cannot reach the header. */
	ck_assert_str_eq(r.subject,
	    "[FAILURE][TRD  Bcc: evil@example.test] The Alchemiser - LIVE Trading Report");
	ck_assert_ptr_null(strpbrk(r.subject, "\r\n"));
	assert_in_both(&r, want, ELEMENTSOF(want));
	ck_assert_lacks(r.html, "<script>");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* The pipeline's own shape (signals stage, executor): every strategy file
 * with its status and allocation or its error, refused orders as refused with
 * the broker's reason, nothing cut, the same facts in both parts. */
START_TEST(test_report_trading_pipeline_fields)
{
	static const char *const want[] = {
		"Session", "2026-11-20", "Bars As Of", "2026-11-19",
		/* signals: per file, weight, status, allocation or the whole error */
		"trend-guard.clj", "60.0%", "OK", "TLT 75.0%, IEF 25.0%",
		"rotation.clj", "40.0%", "FAILED",
		"Error: GLD: last bar 2026-11-19 is 1 session before the as-of session 2026-11-20 "
		    "(bars from 2024-08-05; tolerance 0 sessions) (and 2 more tickers)",
		"Kept in cash for the failed strategy files: 40.0% of the portfolio",
		"SPY: last bar 2026-11-19 is 1 session before the as-of session 2026-11-20",
		/* orders: quantities as given, money with a currency and 2 places */
		"44.610113", "$6,315.89", "$141.58", "Filled",
		"Refused", "order refused: insufficient buying power (need 5000.12, have 10.00)",
		"$5,000.12", "33.5",
		"Rejected", "order o3 rejected", "Not Filled", "not filled (new)", "$1,200.50",
		/* the failure detail in full */
		"QQQ: not filled (new)",
		/* the plan in shares of the account, not of what is invested */
		"59.4%", "1.2%",
	};
	struct report r = { 0 };
	json_t *j = load("mail/trading_pipeline.json");
	const char *sig, *end;

	trading(j, &r);
	assert_in_both(&r, want, ELEMENTSOF(want));
	ck_assert_lacks(r.text, "Pending");
	ck_assert_lacks(r.html, "Pending");
	/* no n/a in the signals table (the old renderer's every cell) */
	sig = strstr(r.text, "Strategy Signals");
	ck_assert_ptr_nonnull(sig);
	end = strstr(sig, "Order Execution Details");
	ck_assert_ptr_nonnull(end);
	ck_assert_msg(memmem(sig, (size_t)(end - sig), "n/a", 3) == NULL, "n/a in %.*s",
	    (int)(end - sig), sig);
	ck_assert_lacks(r.text, "0.59999");
	ck_assert_lacks(r.text, "100.0%");
	/* A date in a table cell is never broken at its hyphens; prose may wrap. */
	ck_assert_msg(strstr(r.html, "white-space:nowrap;\">2026-11-19</td>") != NULL, "%s", r.html);
	ck_assert_lacks(r.html, "white-space:nowrap;\">Error:");
	report_clear(&r);
	json_decref(j);
}
END_TEST

START_TEST(test_report_trading_lenient_about_missing_fields)
{
	struct errctx ec = { 0 };
	struct report r = { 0 };
	json_t *j = json_pack("{s:b}", "trading_success", 1);

	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUCCESS] The Alchemiser - n/a Trading Report");
	ck_assert_has(r.text, "Correlation ID: n/a");
	ck_assert_has(r.text, "No rebalancing orders required");
	report_clear(&r);
	json_decref(j);
	j = json_object();
	trading(j, &r);
	ck_assert_ptr_nonnull(strstr(r.subject, "[UNKNOWN]"));
	report_clear(&r);
	json_decref(j);
	j = json_array();
	ck_assert_err(report_trading_render(j, &r, &ec), -EINVAL, &ec);
	json_decref(j);
	/* Plan from consolidated_portfolio with current allocations: derived actions. */
	j = json_pack("{s:b, s:{s:{s:f, s:s}, s:{s:f, s:s}}}", "trading_success", 1,
	    "execution_data", "consolidated_portfolio", "AAA", 0.6, "BBB", "0.4",
	    "current_allocations", "AAA", 0.595, "BBB", "0.5");
	trading(j, &r);
	ck_assert_has(r.text, "60.0%");
	ck_assert_has(r.text, "HOLD");
	ck_assert_has(r.text, "SELL");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* A superseded run: its one email says so, names the newer run, and is no
 * failure. */
START_TEST(test_report_trading_superseded)
{
	struct report r = { 0 };
	json_t *j = paper_detail(0, 0, json_pack("{s:s, s:s, s:[]}", "superseded_by", "run-B",
	    "superseded_reason", "superseded by run run-B: that run, planned at T2, completed its "
	    "execution", "orders"));

	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUPERSEDED] The Alchemiser - PAPER Trading Report");
	ck_assert_has(r.text, "Status: Superseded by run run-B");
	ck_assert_has(r.text, "superseded by run run-B: that run, planned at T2");
	ck_assert_has(r.html, "Superseded by run run-B");
	ck_assert_lacks(r.text, "Recommended Actions");
	/* No orders: it says this run placed none, not "no rebalancing required". */
	ck_assert_has(r.text, "This run placed no orders.");
	ck_assert_lacks(r.text, "No rebalancing orders required");
	/* The summary's status is what happened, not SUCCESS. */
	ck_assert_has(r.text, "Status: SUPERSEDED");
	ck_assert_lacks(r.text, "Status: SUCCESS");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* A run that traded although a strategy file failed (on_strategy_failure =
 * cash): a success, but its subject and status say it was not a clean one,
 * and how much stayed in cash; a clean run says every file was OK. */
START_TEST(test_report_trading_partial)
{
	struct report r = { 0 };
	json_t *j = paper_detail(1, 1, json_pack("{s:{s:{s:f, s:s, s:{s:f}}, s:{s:f, s:s, s:s}},"
	    " s:s, s:[]}", "strategy_signals",
	    "a.clj", "weight", 0.7, "status", "ok", "allocation", "SPY", 1.0,
	    "b.clj", "weight", 0.3, "status", "failed", "error", "NODATA: no market data",
	    "cash_weight", "0.3", "orders"));

	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUCCESS][PARTIAL] The Alchemiser - PAPER Trading Report");
	ck_assert_has(r.text, "Status: Completed, but 1 of 2 strategy files failed "
	    "(30.0% kept in cash)");
	ck_assert_has(r.text, "Strategy Files: 1 of 2 strategy files failed");
	ck_assert_has(r.html, "Error: NODATA: no market data");
	report_clear(&r);
	/* Renormalised: nothing in cash, said so. */
	json_object_del(json_object_get(j, "execution_data"), "cash_weight");
	trading(j, &r);
	ck_assert_has(r.text, "(the others' weights scaled up)");
	report_clear(&r);
	/* Every file OK: the plain subject, and the count. */
	json_object_set_new(json_object_get(json_object_get(json_object_get(j, "execution_data"),
	    "strategy_signals"), "b.clj"), "status", json_string("ok"));
	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUCCESS] The Alchemiser - PAPER Trading Report");
	ck_assert_has(r.text, "Strategy Files: 2 of 2 OK");
	ck_assert_has(r.text, "Status: Completed Successfully");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* A run superseded after it traded (killed before its claim completed): the
 * email lists the orders it placed before and says it places nothing more. */
START_TEST(test_report_trading_superseded_after_orders)
{
	struct report r = { 0 };
	json_t *j = paper_detail(2, 2, json_pack("{s:s, s:s, s:I, s:[{s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:b}, {s:s, s:s, s:s, s:s, s:s, s:s, s:b}]}", "superseded_by", "run-B",
	    "superseded_reason", "superseded by run run-B: this run placed 2 orders earlier "
	    "(sell QQQ 30 of 30 filled, buy BIL 50 of 50 filled)", "orders_placed_earlier",
	    (json_int_t)2, "orders",
	    "symbol", "QQQ", "side", "sell", "shares", "30", "filled_qty", "30", "price", "100",
	    "status", "filled", "success", 1,
	    "symbol", "BIL", "side", "buy", "shares", "50", "filled_qty", "50", "price", "100",
	    "status", "filled", "success", 1));

	trading(j, &r);
	ck_assert_str_eq(r.subject, "[SUPERSEDED] The Alchemiser - PAPER Trading Report");
	ck_assert_has(r.text, "sell QQQ 30 of 30 filled, buy BIL 50 of 50 filled");
	ck_assert_has(r.text, "this run placed 2 orders (listed below");
	ck_assert_has(r.text, "Orders This Run Placed Before It Was Superseded");
	/* Both in the table, the whole sale too (its position is gone). */
	ck_assert_has(r.text, "QQQ");
	ck_assert_has(r.text, "SELL");
	ck_assert_has(r.text, "BIL");
	ck_assert_lacks(r.text, "This run placed no orders.");
	ck_assert_lacks(r.text, "No rebalancing orders required");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* A buy the executor placed again, smaller, after a buying-power refusal:
 * its note is the order's detail in the table. */
START_TEST(test_report_trading_order_note)
{
	struct report r = { 0 };
	json_t *j = paper_detail(1, 1, json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:b, s:n, s:s}]}",
	    "orders", "symbol", "MSFT", "side", "buy", "shares", "22.85", "filled_qty", "22.85",
	    "status", "filled", "success", 1, "error_message",
	    "note", "refused for buying power at 24.73 shares; placed again with 22.85"));

	trading(j, &r);
	ck_assert_has(r.text, "placed again with 22.85");
	ck_assert_has(r.html, "placed again with 22.85");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* Wrong types anywhere render as n/a or leave a section out; never a crash. */
START_TEST(test_report_trading_survives_wrong_types)
{
	static const char *const details[] = {
		"{\"trading_success\": \"yes\", \"trading_mode\": 7, \"execution_data\": \"x\"}",
		"{\"trading_success\": false, \"error_message\": [], \"execution_data\": {"
		    "\"orders\": {\"a\": 1}, \"rebalance_plan\": {\"items\": [1, \"x\", null, {}]},"
		    "\"strategy_signals\": [1, {\"strategy\": 5}, \"s\"], \"failed_symbols\": [1, null]}}",
		"{\"trading_success\": true, \"total_trade_value\": \"1e999\", \"orders_placed\": 1.5,"
		    "\"execution_data\": {\"orders\": [null, 3, {\"side\": 1, \"shares\": \"abc\","
		    "\"price\": true, \"status\": 4}], \"consolidated_portfolio\": {\"A\": \"x\","
		    "\"B\": null}, \"strategy_signals\": {\"n\": null, \"m\": [1]}}}",
	};
	struct errctx ec = { 0 };
	size_t i;

	for (i = 0; i < ELEMENTSOF(details); i++) {
		struct report r = { 0 };
		json_t *j = json_loads(details[i], 0, NULL);

		ck_assert_msg(j != NULL, "bad fixture %zu", i);
		trading(j, &r);
		ck_assert_ptr_nonnull(r.subject);
		ck_assert_has(r.text, "Correlation ID: n/a");
		report_clear(&r);
		ck_assert_ok(report_error_render(j, &r, &ec), &ec);
		report_clear(&r);
		json_decref(j);
	}
}
END_TEST

START_TEST(test_report_error_fields)
{
	static const char *const want[] = {
		"critical", "urgent", "BROKER_AUTH", "err-corr-3c4d", "2026-11-23T16:00:01Z",
		"🚨 CRITICAL Alert - Trading System Errors", "401 Unauthorized for <account> & key",
		"Total errors: 2",
	};
	struct errctx ec = { 0 };
	struct report r = { 0 };
	json_t *j = load("mail/error_notification.json");

	ck_assert_ok(report_error_render(j, &r, &ec), &ec);
	ck_assert_str_eq(r.subject, "[FAILURE][URGENT][BROKER_AUTH] The Alchemiser - critical "
	    "Error Report");
	assert_in_both(&r, want, ELEMENTSOF(want));
	ck_assert_has(r.html, "Total errors: 2<br>");
	report_clear(&r);
	json_decref(j);
	j = json_object();
	ck_assert_ok(report_error_render(j, &r, &ec), &ec);
	ck_assert_str_eq(r.subject, "[FAILURE][N/A] The Alchemiser - n/a Error Report");
	report_clear(&r);
	json_decref(j);
}
END_TEST

START_TEST(test_report_pnl_numbers)
{
	static const char *const want[] = {
		"2025-11-01 to 2025-11-30", "$100,000.00", "$102,345.68", "+$2,345.68", "+2.35%",
		"2025-11-03", "+$1,250.50", "+1.25%", "-$1,374.25", "-1.36%", "+$2,469.43", "+2.47%",
	};
	struct errctx ec = { 0 };
	struct report_pnl_period p;
	struct report r = { 0 };
	json_t *j = load("mail/portfolio_history.json");

	ck_assert_ok(report_pnl_monthly(day(2025, 12, 10), 1, &p, &ec), &ec);
	ck_assert_ok(report_pnl_render(j, &p, true, &r, &ec), &ec);
	ck_assert_str_eq(r.subject, "The Alchemiser - Portfolio P&L Report - 1 Month "
	    "(2025-11-01 to 2025-11-30)");
	assert_in_both(&r, want, ELEMENTSOF(want));
	/* Outside the period: the December point is not the end value. */
	ck_assert_lacks(r.text, "999,999");
	ck_assert_has(r.html, "P&amp;L");
	report_clear(&r);
	/* Without detail: no daily table. */
	ck_assert_ok(report_pnl_render(j, &p, false, &r, &ec), &ec);
	ck_assert_lacks(r.text, "Daily Breakdown");
	report_clear(&r);
	json_decref(j);
	/* Nothing in the period: n/a, not an error. */
	j = json_pack("{s:[], s:[]}", "timestamp", "equity");
	ck_assert_ok(report_pnl_render(j, &p, true, &r, &ec), &ec);
	ck_assert_has(r.text, "Total P&L: n/a");
	report_clear(&r);
	json_decref(j);
	/* Start value 0: P&L % is n/a. */
	j = json_pack("{s:[I,I], s:[s,s]}", "timestamp", (json_int_t)1762041600,
	    (json_int_t)1762128000, "equity", "0", "10");
	ck_assert_ok(report_pnl_render(j, &p, false, &r, &ec), &ec);
	ck_assert_has(r.text, "Total P&L %: n/a");
	ck_assert_has(r.text, "Total P&L: +$10.00");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* The close before the period is the baseline, so the first day's P&L counts. */
START_TEST(test_report_pnl_previous_close_is_the_baseline)
{
	static const char *const want[] = {
		"2025-11-03 to 2025-11-05", "$100,000.00 (close of 2025-11-02)", "$102,345.68",
		"+$2,345.68", "+2.35%", "+$1,250.50", "+1.25%",
	};
	struct errctx ec = { 0 };
	struct report_pnl_period p = { .start_days = day(2025, 11, 3), .end_days = day(2025, 11, 5),
		.start = "2025-11-03", .end = "2025-11-05", .label = "3D" };
	struct report r = { 0 };
	json_t *j = load("mail/portfolio_history.json");

	ck_assert_ok(report_pnl_render(j, &p, true, &r, &ec), &ec);
	assert_in_both(&r, want, ELEMENTSOF(want));
	/* The baseline day is not a row of the breakdown. */
	ck_assert_lacks(r.text, "  2025-11-02");
	report_clear(&r);
	json_decref(j);
}
END_TEST

/* Periods of n weeks or months before a day: start, end and label (NULL:
 * not checked). */
struct period_case {
	int		 y;
	unsigned	 m, d;
	int		 n;
	const char	*start, *end, *label;
};

static void
check_periods(int (*period)(int64_t, int, struct report_pnl_period *, struct errctx *),
    const struct period_case *v, size_t n)
{
	struct errctx ec = { 0 };
	struct report_pnl_period p;

	for (size_t i = 0; i < n; i++) {
		ck_assert_ok(period(day(v[i].y, v[i].m, v[i].d), v[i].n, &p, &ec), &ec);
		ck_assert_msg(strcmp(p.start, v[i].start) == 0 && strcmp(p.end, v[i].end) == 0 &&
		    (v[i].label == NULL || strcmp(p.label, v[i].label) == 0),
		    "%d-%02u-%02u n=%d: %s to %s (%s), want %s to %s (%s)", v[i].y, v[i].m, v[i].d,
		    v[i].n, p.start, p.end, p.label, v[i].start, v[i].end,
		    v[i].label != NULL ? v[i].label : "any");
	}
}

START_TEST(test_report_pnl_weekly_periods)
{
	static const struct period_case v[] = {
		/* 2026-11-23 is a Monday: the last Sunday is 11-22, start Monday 11-16. */
		{ 2026, 11, 23, 1, "2026-11-16", "2026-11-22", "1 week" },
		/* On a Sunday the week ends today. */
		{ 2026, 11, 22, 2, "2026-11-09", "2026-11-22", "2 weeks" },
		/* Across a year end and a leap day. */
		{ 2024, 3, 6, 2, "2024-02-19", "2024-03-03", NULL },
		{ 2027, 1, 2, 1, "2026-12-21", "2026-12-27", NULL },
	};
	struct errctx ec = { 0 };
	struct report_pnl_period p;

	check_periods(report_pnl_weekly, v, ELEMENTSOF(v));
	ck_assert_err(report_pnl_weekly(day(2026, 1, 1), 0, &p, &ec), -EINVAL, &ec);
	ck_assert_err(report_pnl_weekly(day(2026, 1, 1), REPORT_PNL_MAX_WEEKS + 1, &p, &ec),
	    -EINVAL, &ec);
}
END_TEST

START_TEST(test_report_pnl_monthly_is_last_n_months)
{
	static const struct period_case v[] = {
		{ 2026, 11, 23, 1, "2026-10-01", "2026-10-31", "1 month" },
		/* The last three months, not the single month three months back. */
		{ 2026, 11, 23, 3, "2026-08-01", "2026-10-31", "3 months" },
		/* Leap February, crossing the year. */
		{ 2024, 3, 1, 1, "2024-02-01", "2024-02-29", NULL },
		{ 2023, 3, 31, 1, "2023-02-01", "2023-02-28", NULL },
		{ 2026, 1, 15, 2, "2025-11-01", "2025-12-31", NULL },
		/* N > 12 (the seed produced month 0 here). */
		{ 2026, 2, 10, 14, "2024-12-01", "2026-01-31", NULL },
	};
	struct errctx ec = { 0 };
	struct report_pnl_period p;

	check_periods(report_pnl_monthly, v, ELEMENTSOF(v));
	ck_assert_err(report_pnl_monthly(day(2026, 2, 10), 0, &p, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_report_pnl_alpaca_periods)
{
	static const struct {
		int y;
		unsigned m, d;
		const char *period, *start, *end, *label;
	} v[] = {
		{ 2026, 11, 23, "1W", "2026-11-16", "2026-11-23", "1W" },
		{ 2026, 11, 23, "1d", "2026-11-22", "2026-11-23", "1D" },
		{ 2026, 5, 31, "3M", "2026-02-28", "2026-05-31", "3M" },
		{ 2024, 5, 31, "3M", "2024-02-29", "2024-05-31", "3M" },
		{ 2024, 2, 29, "1A", "2023-02-28", "2024-02-29", "1A" },
		{ 2028, 2, 29, "4A", "2024-02-29", "2028-02-29", "4A" },
		{ 2026, 1, 10, "2M", "2025-11-10", "2026-01-10", "2M" },
	};
	static const char *const bad[] = { "", "W", "1", "1X", "0M", "1234D", "1WW", "-1W", "1 W" };
	struct errctx ec = { 0 };
	struct report_pnl_period p;
	size_t i;

	for (i = 0; i < ELEMENTSOF(v); i++) {
		ck_assert_ok(report_pnl_alpaca_period(day(v[i].y, v[i].m, v[i].d), v[i].period, &p,
		    &ec), &ec);
		ck_assert_str_eq(p.start, v[i].start);
		ck_assert_str_eq(p.end, v[i].end);
		ck_assert_str_eq(p.label, v[i].label);
	}
	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(report_pnl_alpaca_period(0, bad[i], &p, &ec) == -EINVAL,
		    "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(test_report_number_formats)
{
	char b[REPORT_MONEY_STRLEN];
	struct decimal d;

	ck_assert_ok(decimal_parse("1234567.005", &d, NULL), NULL);
	ck_assert_str_eq(report_format_money(d, false, b), "$1,234,567.01");
	ck_assert_ok(decimal_parse("-0.004", &d, NULL), NULL);
	ck_assert_str_eq(report_format_money(d, true, b), "$0.00");
	ck_assert_ok(decimal_parse("-999.5", &d, NULL), NULL);
	ck_assert_str_eq(report_format_money(d, true, b), "-$999.50");
	ck_assert_ok(decimal_parse("0.000012", &d, NULL), NULL);
	ck_assert_str_eq(report_format_qty(d, b), "0.000012");
	ck_assert_ok(decimal_parse("0.5", &d, NULL), NULL);
	ck_assert_str_eq(report_format_qty(d, b), "0.5");
	ck_assert_str_eq(report_format_weight(d, b), "50.0%");
	{
		char *t = report_truncate("ééééé", 3);

		ck_assert_str_eq(t, "ééé...");
		free(t);
	}
}
END_TEST

static Suite *
suite_report(void)
{
	Suite *s = suite_create("report");
	TCase *tc;

	tc = tcase_create("trading");
	tcase_add_test(tc, test_report_trading_success_numbers);
	tcase_add_test(tc, test_report_trading_failure_reason_and_actions);
	tcase_add_test(tc, test_report_trading_pipeline_fields);
	tcase_add_test(tc, test_report_trading_lenient_about_missing_fields);
	tcase_add_test(tc, test_report_trading_superseded);
	tcase_add_test(tc, test_report_trading_partial);
	tcase_add_test(tc, test_report_trading_superseded_after_orders);
	tcase_add_test(tc, test_report_trading_order_note);
	tcase_add_test(tc, test_report_trading_survives_wrong_types);
	suite_add_tcase(s, tc);
	tc = tcase_create("error");
	tcase_add_test(tc, test_report_error_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("pnl");
	tcase_add_test(tc, test_report_pnl_numbers);
	tcase_add_test(tc, test_report_pnl_previous_close_is_the_baseline);
	tcase_add_test(tc, test_report_pnl_weekly_periods);
	tcase_add_test(tc, test_report_pnl_monthly_is_last_n_months);
	tcase_add_test(tc, test_report_pnl_alpaca_periods);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, test_report_number_formats);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_report)
