#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report_trading.h"

/* Plan rows whose weights differ by no more than this are HOLD (seed §6.2). */
#define HOLD_BAND_UNITS		(DECIMAL_SCALE / 100)	/* 0.01 = 1 % */
#define ANALYSIS_MAX		100

static void	render_summary(struct report_doc *d, const json_t *detail, const json_t *ed,
		    const char *status, const char *mode, bool failed);
static void	render_plan(struct report_doc *d, const json_t *ed);
static json_t	*share_of_account(const json_t *item, const char *key, struct decimal total);
static void	render_plan_row(struct report_doc *d, const char *symbol, const json_t *target,
		    const json_t *current, const char *action);
static void	render_signals(struct report_doc *d, const json_t *ed);
static void	render_signal_row(struct report_doc *d, const char *name, const json_t *sig);
static char	*allocation_text(const json_t *alloc);
static void	render_strategy_row(struct report_doc *d, const char *file, const json_t *sig);
static void	render_orders(struct report_doc *d, const json_t *ed, bool superseded);
static const char *order_status(const json_t *o);
static const char *quantity_text(const json_t *o, char buf[REPORT_MONEY_STRLEN]);
static char	*upper_dup(const char *s);
static char	*failed_symbols(const json_t *ed);

static const char *const RECOMMENDED_ACTIONS[] = {
	"Review the daemon's journal for this correlation id (journalctl CORRELATION_ID=...)",
	"Verify broker connectivity and API credentials",
	"Check the account status and buying power",
	"Validate the strategy and portfolio configuration",
	"Check market hours and trading halts for the failed symbols",
	"Escalate with the correlation id if the failure repeats",
};

static char *
upper_dup(const char *s)
{
	char *u = xstrdup(s), *p;

	for (p = u; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

static char *
failed_symbols(const json_t *ed)
{
	const json_t *arr = json_object_get(ed, "failed_symbols"), *v;
	struct textbuf b = { 0 };
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len != 0)
			textbuf_append(&b, ", ");
		textbuf_append(&b, json_string_value(v));
	}
	return b.len != 0 ? textbuf_take(&b, NULL) : (textbuf_clear(&b), NULL);
}

/* The strategy files of the run (the signals stage's shape) and how many of
 * them failed: a run that traded with some files failed (trading.
 * on_strategy_failure = cash or renormalise) is a success that must not look
 * like a clean one. */
static size_t
failed_strategy_files(const json_t *ed, size_t *total)
{
	const json_t *sigs = json_object_get(ed, "strategy_signals"), *v;
	const char *file, *status;
	size_t failed = 0;

	*total = 0;
	json_object_foreach((json_t *)sigs, file, v) {
		status = json_get_str(v, "status");
		if (status == NULL)
			continue;	/* the Python system's shape: no per-file status */
		(*total)++;
		if (strcmp(status, "ok") != 0)
			failed++;
	}
	return failed;
}

/* "1 of 2 strategy files failed (30.0% kept in cash)". */
static char *
partial_text(const json_t *ed, size_t failed, size_t total)
{
	char cb[REPORT_MONEY_STRLEN];
	struct decimal cash;

	if (report_get_decimal(ed, "cash_weight", &cash) && decimal_cmp(cash, DECIMAL_ZERO) > 0)
		return xasprintf("%zu of %zu strategy files failed (%s kept in cash)", failed, total,
		    report_format_weight(cash, cb));
	return xasprintf("%zu of %zu strategy files failed (the others' weights scaled up)",
	    failed, total);
}

static void
render_summary(struct report_doc *d, const json_t *detail, const json_t *ed, const char *status,
    const char *mode, bool failed)
{
	char b1[64], b2[64], money[REPORT_MONEY_STRLEN];
	struct decimal total;
	char *fs = failed ? failed_symbols(ed) : NULL;
	const char *placed = report_get_text(detail, "orders_placed", b1, sizeof(b1));
	const char *succeeded = report_get_text(detail, "orders_succeeded", b2, sizeof(b2));

	if (placed == NULL)
		placed = report_get_text(ed, "orders_placed", b1, sizeof(b1));
	if (succeeded == NULL)
		succeeded = report_get_text(ed, "orders_succeeded", b2, sizeof(b2));
	report_doc_section(d, failed ? "Execution Context" : "Execution Summary");
	report_doc_kv_begin(d);
	report_doc_kv(d, "Status", status);
	report_doc_kv(d, "Mode", mode);
	report_doc_kv(d, "Correlation ID", json_get_str(detail, "correlation_id"));
	report_doc_kv(d, "Orders Placed", placed);
	report_doc_kv(d, "Orders Succeeded", succeeded);
	{
		size_t nfiles, nfailed = failed_strategy_files(ed, &nfiles);
		char *files = nfiles == 0 ? NULL : nfailed == 0 ? xasprintf("%zu of %zu OK", nfiles,
		    nfiles) : partial_text(ed, nfailed, nfiles);

		if (files != NULL)
			report_doc_kv(d, "Strategy Files", files);
		free(files);
	}
	if (report_get_decimal(detail, "total_trade_value", &total) ||
	    report_get_decimal(ed, "total_trade_value", &total))
		report_doc_kv(d, "Total Trade Value", report_format_money(total, false, money));
	else
		report_doc_kv(d, "Total Trade Value", NULL);
	if (failed)
		report_doc_kv(d, "Failed Symbols", fs != NULL ? fs : "none reported");
	if (json_get_str(ed, "as_of") != NULL) {
		report_doc_kv(d, "Session", json_get_str(ed, "as_of"));
		report_doc_kv(d, "Bars As Of", json_get_str(ed, "bars_as_of"));
	}
	report_doc_kv(d, "Time", json_get_str(detail, "timestamp"));
	report_doc_kv_end(d);
	free(fs);
}

static void
render_plan_row(struct report_doc *d, const char *symbol, const json_t *target,
    const json_t *current, const char *action)
{
	char tb[REPORT_MONEY_STRLEN], cb[REPORT_MONEY_STRLEN];
	struct decimal t, c, diff;
	bool have_t = report_value_decimal(target, &t);
	bool have_c = report_value_decimal(current, &c);
	const char *cells[4];

	if (action == NULL && have_t && have_c && decimal_sub(t, c, &diff) == 0) {
		if (decimal_cmp(decimal_abs(diff), decimal_from_units(HOLD_BAND_UNITS)) <= 0)
			action = "HOLD";
		else
			action = decimal_is_negative(diff) ? "SELL" : "BUY";
	}
	cells[0] = symbol;
	cells[1] = have_t ? report_format_weight(t, tb) : NULL;
	cells[2] = have_c ? report_format_weight(c, cb) : NULL;
	cells[3] = action;
	report_doc_table_row(d, cells);
}

/* item[key] / total as a decimal string (new reference), NULL when either
 * is missing or total is not positive. */
static json_t *
share_of_account(const json_t *item, const char *key, struct decimal total)
{
	char buf[DECIMAL_STRLEN];
	struct decimal v, w;

	if (decimal_cmp(total, DECIMAL_ZERO) <= 0 || !report_get_decimal(item, key, &v) ||
	    decimal_div(v, total, DECIMAL_ROUND_HALF_EVEN, &w) < 0)
		return NULL;
	return json_string(decimal_format(w, buf));
}

static void
render_plan(struct report_doc *d, const json_t *ed)
{
	static const char *const head[] = { "Symbol", "Target %", "Current %", "Action" };
	const json_t *items = json_object_get(json_object_get(ed, "rebalance_plan"), "items");
	const json_t *cp = json_object_get(ed, "consolidated_portfolio");
	const json_t *cur = json_object_get(ed, "current_allocations"), *v;
	const char *sym;
	struct decimal total;
	size_t i;

	if (!report_get_decimal(json_object_get(ed, "rebalance_plan"), "total_portfolio_value",
	    &total))
		total = DECIMAL_ZERO;

	if (json_is_object(json_object_get(cp, "target_allocations")))
		cp = json_object_get(cp, "target_allocations");
	if (!(json_is_array(items) && json_array_size(items) > 0) &&
	    !(json_is_object(cp) && json_object_size(cp) > 0))
		return;
	report_doc_section(d, "Portfolio Rebalancing Plan");
	report_doc_table_begin(d, 4, head);
	if (json_is_array(items) && json_array_size(items) > 0) {
		json_array_foreach(items, i, v) {
			const char *a = json_get_str(v, "action");
			char *au = a != NULL ? upper_dup(a) : NULL;

			json_t *tw = share_of_account(v, "target_value", total);
			json_t *cw = share_of_account(v, "current_value", total);

			/* Shares of the account when the plan has the values: the plan's
			 * own weights are relative to what is invested, which reads as
			 * 100 % when a failed strategy's weight stays in cash. */
			render_plan_row(d, json_get_str(v, "symbol"), tw != NULL ? tw :
			    json_object_get(v, "target_weight"), cw != NULL ? cw :
			    json_object_get(v, "current_weight"), au);
			json_decref(tw);
			json_decref(cw);
			free(au);
		}
	} else {
		json_object_foreach((json_t *)cp, sym, v)
			render_plan_row(d, sym, v, json_object_get(cur, sym), NULL);
	}
	report_doc_table_end(d);
}

static void
render_signal_row(struct report_doc *d, const char *name, const json_t *sig)
{
	static const char *const action_keys[] = { "signal", "action", NULL };
	static const char *const target_keys[] = { "symbol", "target", NULL };
	static const char *const reason_keys[] = { "reason", "reasoning", "analysis", NULL };
	const char *cells[4];
	char *reason = NULL, *targets = NULL;
	const json_t *syms = json_object_get(sig, "symbols");

	cells[0] = name;
	if (json_is_string(sig)) {
		cells[1] = json_string_value(sig);
		cells[2] = cells[3] = NULL;
		report_doc_table_row(d, cells);
		return;
	}
	cells[1] = report_get_first_str(sig, action_keys);
	cells[2] = report_get_first_str(sig, target_keys);
	if (cells[2] == NULL && json_is_array(syms)) {
		struct textbuf b = { 0 };
		const json_t *v;
		size_t i;

		json_array_foreach(syms, i, v)
			if (json_is_string(v)) {
				textbuf_append(&b, b.len != 0 ? ", " : "");
				textbuf_append(&b, json_string_value(v));
			}
		targets = textbuf_take(&b, NULL);
		cells[2] = *targets != '\0' ? targets : NULL;
	}
	if (report_get_first_str(sig, reason_keys) != NULL)
		reason = report_truncate(report_get_first_str(sig, reason_keys), ANALYSIS_MAX);
	cells[3] = reason;
	report_doc_table_row(d, cells);
	free(reason);
	free(targets);
}

/* "TLT 75.0%, IEF 25.0%": a file's own allocation, largest first. */
static char *
allocation_text(const json_t *alloc)
{
	struct { const char *sym; double w; } a[64];
	struct textbuf b = { 0 };
	const char *sym;
	const json_t *v;
	size_t n = 0, i, j;

	json_object_foreach((json_t *)alloc, sym, v) {
		if (n == ELEMENTSOF(a) || !json_is_number(v))
			continue;
		a[n].sym = sym;
		a[n++].w = json_number_value(v);
	}
	for (i = 1; i < n; i++)		/* insertion sort: a handful of tickers */
		for (j = i; j > 0 && a[j].w > a[j - 1].w; j--) {
			typeof(a[0]) t = a[j];

			a[j] = a[j - 1];
			a[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		char wb[REPORT_MONEY_STRLEN];
		struct decimal w;

		if (decimal_from_double(a[i].w, DECIMAL_ROUND_HALF_EVEN, &w) < 0)
			continue;
		textbuf_printf(&b, "%s%s %s", b.len > 0 ? ", " : "", a[i].sym,
		    report_format_weight(w, wb));
	}
	if (json_object_size(alloc) > n)
		textbuf_printf(&b, ", and %zu more", json_object_size(alloc) - n);
	return textbuf_take(&b, NULL);
}

/* The signals stage's shape: {"FILE": {"weight", "status", "allocation" |
 * "error", "bars_as_of"}}: one row per file with its status and allocation,
 * or its error in full. */
static void
render_strategy_row(struct report_doc *d, const char *file, const json_t *sig)
{
	const char *status = json_get_str(sig, "status");
	bool ok = status != NULL && strcmp(status, "ok") == 0;
	char wb[REPORT_MONEY_STRLEN];
	const char *cells[5];
	char *alloc = NULL, *err = NULL;
	struct decimal w;

	cells[0] = file;
	cells[1] = report_value_decimal(json_object_get(sig, "weight"), &w) ?
	    report_format_weight(w, wb) : NULL;
	cells[2] = ok ? "OK" : status != NULL ? "FAILED" : NULL;
	cells[3] = json_get_str(sig, "bars_as_of");
	if (ok) {
		alloc = allocation_text(json_object_get(sig, "allocation"));
		cells[4] = alloc;
	} else {
		err = xasprintf("Error: %s", json_get_str(sig, "error") != NULL ?
		    json_get_str(sig, "error") : "no reason given");
		cells[4] = err;
	}
	report_doc_table_row(d, cells);
	free(alloc);
	free(err);
}

static void
render_signals(struct report_doc *d, const json_t *ed)
{
	static const char *const head[] = { "Strategy", "Action", "Target", "Analysis" };
	static const char *const head5[] = { "Strategy", "Weight", "Status", "Bars As Of",
		"Allocation / Error" };
	static const char *const name_keys[] = { "strategy", "strategy_name", "name", NULL };
	const json_t *sigs = json_object_get(ed, "strategy_signals"), *v, *first = NULL;
	const json_t *stale = json_object_get(ed, "stale_tolerated");
	const char *name;
	struct decimal cash;
	size_t i;

	if (!((json_is_object(sigs) && json_object_size(sigs) > 0) ||
	    (json_is_array(sigs) && json_array_size(sigs) > 0)))
		return;
	report_doc_section(d, "Strategy Signals");
	if (json_is_object(sigs)) {
		json_object_foreach((json_t *)sigs, name, v) {
			first = v;
			break;
		}
	}
	if (json_is_object(first) && json_object_get(first, "status") != NULL) {
		report_doc_table_begin(d, 5, head5);
		json_object_foreach((json_t *)sigs, name, v)
			render_strategy_row(d, name, v);
		report_doc_table_end(d);
		if (report_get_decimal(ed, "cash_weight", &cash) && decimal_cmp(cash,
		    DECIMAL_ZERO) > 0) {
			char cb[REPORT_MONEY_STRLEN], *para;

			para = xasprintf("Kept in cash for the failed strategy files: %s of the "
			    "portfolio (trading.on_strategy_failure = cash).",
			    report_format_weight(cash, cb));
			report_doc_para(d, para);
			free(para);
		}
		if (json_is_array(stale) && json_array_size(stale) > 0) {
			const char **items = xcalloc(json_array_size(stale), sizeof(*items));
			size_t n = 0;

			report_doc_para(d, "Stale bars used within trading.bars_max_lag:");
			json_array_foreach(stale, i, v)
				if (json_is_string(v))
					items[n++] = json_string_value(v);
			report_doc_list(d, items, n);
			free(items);
		}
		return;
	}
	/* The Python system's shape: {"NAME": {"signal", "symbol", "reason"}}. */
	report_doc_table_begin(d, 4, head);
	if (json_is_object(sigs)) {
		json_object_foreach((json_t *)sigs, name, v)
			render_signal_row(d, name, v);
	} else {
		json_array_foreach(sigs, i, v)
			render_signal_row(d, report_get_first_str(v, name_keys), v);
	}
	report_doc_table_end(d);
}

/* Alpaca's status words, as a reader expects them (seed §6.2). An order
 * that did not succeed is never "Pending": the broker (or the executor's own
 * check) refused it, or it ended unfilled. */
static const char *
order_status(const json_t *o)
{
	static const struct { const char *in, *out; } map[] = {
		{ "filled", "Filled" }, { "partially_filled", "Partial Fill" },
		{ "new", "Pending" }, { "accepted", "Pending" }, { "pending_new", "Pending" },
		{ "canceled", "Cancelled" }, { "cancelled", "Cancelled" },
		{ "rejected", "Rejected" }, { "expired", "Expired" },
		{ "not_placed", "Skipped" },
	};
	const char *s = json_get_str(o, "status");
	const json_t *ok = json_object_get(o, "success");
	const char *mapped = NULL;
	size_t i;

	for (i = 0; s != NULL && i < ELEMENTSOF(map); i++)
		if (strcasecmp(s, map[i].in) == 0)
			mapped = map[i].out;
	if (json_is_false(ok) && (mapped == NULL || strcmp(mapped, "Pending") == 0))
		return json_get_str(o, "order_id") == NULL ? "Refused" : "Not Filled";
	if (mapped != NULL)
		return mapped;
	if (s != NULL)
		return s;
	if (json_is_boolean(ok))
		return json_is_true(ok) ? "Filled" : "Failed";
	return NULL;
}

/* As the broker gave it: every digit it sent, no rounding, no padding; the
 * filled quantity once there is one, else the quantity ordered. */
static const char *
quantity_text(const json_t *o, char buf[REPORT_MONEY_STRLEN])
{
	static const char *const qty_keys[] = { "quantity", "shares", "qty", NULL };
	struct decimal q;
	size_t k;

	if (report_get_decimal(o, "filled_qty", &q) && decimal_cmp(q, DECIMAL_ZERO) > 0)
		return decimal_format(q, buf);
	/* A refused order has no quantity of its own: n/a, not "0". */
	for (k = 0; qty_keys[k] != NULL; k++)
		if (report_get_decimal(o, qty_keys[k], &q))
			return decimal_cmp(q, DECIMAL_ZERO) != 0 || !json_is_false(json_object_get(o,
			    "success")) ? decimal_format(q, buf) : NULL;
	return NULL;
}

/* superseded: the orders are what the run placed before it was stopped
 * (stage execution lists them from the broker); none means none, not "no
 * rebalancing required". */
static void
render_orders(struct report_doc *d, const json_t *ed, bool superseded)
{
	static const char *const head[] = { "Side", "Symbol", "Quantity", "Amount", "Status",
		"Avg Price", "Detail" };
	static const char *const side_keys[] = { "side", "action", NULL };
	static const char *const price_keys[] = { "average_price", "avg_fill_price",
		"filled_avg_price", "price", NULL };
	/* note: what the executor changed on its own (a buy placed again,
	 * smaller, after a buying-power refusal). */
	static const char *const detail_keys[] = { "error_message", "error", "note", NULL };
	const json_t *orders = json_object_get(ed, "orders"), *o;
	size_t i, k;

	if (!json_is_array(orders) || json_array_size(orders) == 0)
		orders = json_object_get(ed, "orders_executed");
	report_doc_section(d, superseded ? "Orders This Run Placed Before It Was Superseded" :
	    "Order Execution Details");
	if (!json_is_array(orders) || json_array_size(orders) == 0) {
		report_doc_para(d, superseded ? "This run placed no orders." : "No rebalancing orders "
		    "required. Current portfolio allocation matches target strategy parameters.");
		return;
	}
	report_doc_table_begin(d, ELEMENTSOF(head), head);
	json_array_foreach(orders, i, o) {
		char qb[REPORT_MONEY_STRLEN], pb[REPORT_MONEY_STRLEN], ab[REPORT_MONEY_STRLEN];
		const char *cells[ELEMENTSOF(head)] = { NULL };
		const char *side = report_get_first_str(o, side_keys);
		char *su = side != NULL ? upper_dup(side) : NULL;
		struct decimal p, a;

		cells[0] = su;
		cells[1] = json_get_str(o, "symbol");
		cells[2] = quantity_text(o, qb);
		if (report_get_decimal(o, "trade_amount", &a))
			cells[3] = report_format_money(decimal_abs(a), false, ab);
		cells[4] = order_status(o);
		for (k = 0; price_keys[k] != NULL && cells[5] == NULL; k++)
			if (report_get_decimal(o, price_keys[k], &p))
				cells[5] = report_format_money(p, false, pb);
		cells[6] = report_get_first_str(o, detail_keys);
		if (cells[6] == NULL)
			cells[6] = "";
		report_doc_table_row(d, cells);
		free(su);
	}
	report_doc_table_end(d);
}

int
report_trading_render(const json_t *detail, struct report *ret, struct errctx *ec)
{
	struct report_doc d;
	const json_t *ed, *ok;
	const char *mode_in, *code, *reason, *superseded;
	json_int_t earlier;
	char *mode, *subject_mode, *subject_code = NULL, *banner, *status;
	bool failed, known;
	size_t nfiles, nfailed_files;

	if (!json_is_object(detail))
		return errctx_set(ec, -EINVAL, "trading report: detail is %s, not an object",
		    detail != NULL ? json_type_name(detail) : "missing");
	ed = json_object_get(detail, "execution_data");
	ok = json_object_get(detail, "trading_success");
	known = json_is_boolean(ok);
	failed = !json_is_true(ok);
	mode_in = json_get_str(detail, "trading_mode");
	mode = mode_in != NULL && *mode_in != '\0' ? upper_dup(mode_in) : xstrdup(REPORT_NA);
	subject_mode = report_one_line(mode, 16);
	code = json_get_str(detail, "error_code");
	reason = json_get_str(detail, "error_message");
	if (reason == NULL || *reason == '\0')
		reason = json_get_str(ed, "failure_reason");
	if (reason == NULL || *reason == '\0')
		reason = "Unknown trading error";

	*ret = (struct report){ 0 };
	if (failed && code != NULL && *code != '\0')
		subject_code = report_one_line(code, 40);
	ret->subject = xasprintf("[%s]%s%s%s The Alchemiser - %s Trading Report",
	    !known ? "UNKNOWN" : failed ? "FAILURE" : "SUCCESS", subject_code != NULL ? "[" : "",
	    subject_code != NULL ? subject_code : "", subject_code != NULL ? "]" : "", subject_mode);
	superseded = json_get_str(ed, "superseded_by");
	nfailed_files = failed_strategy_files(ed, &nfiles);
	if (superseded != NULL && !failed) {
		/* A newer run of the account traded instead (stage execution). */
		free(ret->subject);
		ret->subject = xasprintf("[SUPERSEDED] The Alchemiser - %s Trading Report", subject_mode);
		banner = xasprintf("%s Run Superseded: No Further Orders", mode);
		status = xasprintf("Status: Superseded by run %s | %s", superseded,
		    json_get_str(detail, "timestamp") != NULL ? json_get_str(detail, "timestamp") :
		    REPORT_NA);
	} else if (failed) {
		banner = xasprintf("%s Trading Execution Failed", mode);
		status = xasprintf("Status: %s | %s", known ? "Failure" : "Unknown (trading_success "
		    "missing)", json_get_str(detail, "timestamp") != NULL ?
		    json_get_str(detail, "timestamp") : REPORT_NA);
	} else if (nfailed_files > 0) {
		/* Traded, but not on every strategy: said in the subject, kept filterable. */
		char *partial = partial_text(ed, nfailed_files, nfiles);

		free(ret->subject);
		ret->subject = xasprintf("[SUCCESS][PARTIAL] The Alchemiser - %s Trading Report",
		    subject_mode);
		banner = xasprintf("%s Multi-Strategy Execution Report", mode);
		status = xasprintf("Status: Completed, but %s | %s", partial,
		    json_get_str(detail, "timestamp") != NULL ? json_get_str(detail, "timestamp") :
		    REPORT_NA);
		free(partial);
	} else {
		banner = xasprintf("%s Multi-Strategy Execution Report", mode);
		status = xasprintf("Status: Completed Successfully | %s",
		    json_get_str(detail, "timestamp") != NULL ? json_get_str(detail, "timestamp") :
		    REPORT_NA);
	}
	{
		char *title = xasprintf("The Alchemiser - %s", banner);

		report_doc_begin(&d, title, banner, status, failed);
		free(title);
	}
	if (superseded != NULL && !failed) {
		report_doc_section(&d, "Superseded");
		report_doc_para(&d, json_get_str(ed, "superseded_reason") != NULL ?
		    json_get_str(ed, "superseded_reason") : "A newer run of this account completed "
		    "its execution; this run places no further orders.");
		earlier = json_integer_value(json_object_get(ed, "orders_placed_earlier"));
		if (earlier > 0) {
			char *para = xasprintf("Before it was stopped, this run placed %lld order%s "
			    "(listed below, as the broker has them now). It places nothing more.",
			    (long long)earlier, earlier == 1 ? "" : "s");

			report_doc_para(&d, para);
			free(para);
		}
	}
	if (failed) {
		report_doc_section(&d, "Execution Failure Details");
		report_doc_para(&d, reason);
	}
	render_summary(&d, detail, ed, failed ? (known ? "FAILURE" : REPORT_NA) :
	    superseded != NULL ? "SUPERSEDED" : "SUCCESS", mode, failed);
	render_plan(&d, ed);
	render_signals(&d, ed);
	render_orders(&d, ed, superseded != NULL && !failed);
	if (failed) {
		report_doc_section(&d, "Recommended Actions");
		report_doc_list(&d, RECOMMENDED_ACTIONS, ELEMENTSOF(RECOMMENDED_ACTIONS));
	}
	report_doc_finish(&d, ret);
	free(banner);
	free(status);
	free(mode);
	free(subject_mode);
	free(subject_code);
	return 0;
}
