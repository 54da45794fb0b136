/*
 * dashboard: the operator pages (see include/alchemiser/runtime/dashboard.h).
 * Numbers read from events are shown, never computed with, so doubles do for
 * display; everything printed goes through textbuf_append_html or the chart
 * renderer, both of which escape.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/svgchart.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report.h"
#include "alchemiser/mail/report_trading.h"
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/runtime/dashboard.h"
#include "alchemiser/seams/broker.h"

#define RUNS_SHOWN	50
#define PARKED_SHOWN	200
#define HISTORY_DAYS	365
#define BODY_SHOWN	2000

static const char style[] =
	"body{font-family:sans-serif;margin:0 auto;max-width:1100px;padding:0 1em;color:#222}"
	"nav{padding:.6em 0;border-bottom:1px solid #ccc;margin-bottom:1em}"
	"nav a{margin-right:1.2em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
	"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	".ok{color:#176f2c}.bad{color:#b00020}.warn{color:#8a5a00}"
	"pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}"
	"dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}";

static void
page_begin(struct textbuf *b, const char *title)
{
	textbuf_append(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	textbuf_append_html(b, title);
	textbuf_printf(b, " \xe2\x80\x94 alchemiserd</title><style>%s</style></head><body>\n"
	    "<nav><a href=\"/\">Status</a><a href=\"/runs\">Runs</a><a href=\"/portfolio\">Portfolio</a>"
	    "<a href=\"/dead-letters\">Dead letters</a></nav>\n<main>\n<h1>", style);
	textbuf_append_html(b, title);
	textbuf_append(b, "</h1>\n");
}

static void
page_end(struct textbuf *b, struct httpd_reply *reply, int status)
{
	textbuf_append(b, "</main></body></html>\n");
	reply->status = status;
	reply->content_type = "text/html; charset=utf-8";
	reply->body = textbuf_take(b, &reply->body_len);
}

static void
para(struct textbuf *b, const char *cls, const char *text)
{
	textbuf_printf(b, "<p class=\"%s\">", cls);
	textbuf_append_html(b, text);
	textbuf_append(b, "</p>\n");
}

static const char *
when(int64_t usec, char *buf)
{
	if (usec <= 0)
		return "never";
	return time_format_rfc3339(usec - usec % USEC_PER_SEC, buf);
}

static double
num(const json_t *v)
{
	if (json_is_string(v))
		return strtod(json_string_value(v), NULL);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void
cell(struct textbuf *b, const char *text)
{
	textbuf_append(b, "<td>");
	textbuf_append_html(b, text != NULL ? text : "");
	textbuf_append(b, "</td>");
}

/* "$12,345.67": tables show whole amounts (charts abbreviate). */
static char *
money(double v, char *buf, size_t size)
{
	char digits[48];
	size_t n, i, o = 0;
	int len;

	len = snprintf(digits, sizeof digits, "%.2f", fabs(v));
	if (len < 4 || (size_t)len >= sizeof digits || size < (size_t)len * 2 + 4) {
		(void)snprintf(buf, size, "%.2f", v);
		return buf;
	}
	if (v < 0)
		buf[o++] = '-';
	buf[o++] = '$';
	n = (size_t)len - 3;	/* integer digits */
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	memcpy(buf + o, digits + n, 4);
	return buf;
}

static void
cell_num(struct textbuf *b, enum svgchart_unit unit, double v, int decimals)
{
	char buf[64];

	if (isnan(v))
		(void)snprintf(buf, sizeof buf, "-");
	else if (unit == SVGCHART_UNIT_MONEY)
		money(v, buf, sizeof buf);
	else
		svgchart_format(unit, v, decimals, buf, sizeof buf);
	textbuf_append(b, "<td class=\"n\">");
	textbuf_append_html(b, buf);
	textbuf_append(b, "</td>");
}

static void
headers(struct textbuf *b, const char *const *h)
{
	textbuf_append(b, "<table><thead><tr>");
	for (; *h != NULL; h++) {
		textbuf_append(b, "<th scope=\"col\">");
		textbuf_append_html(b, *h);
		textbuf_append(b, "</th>");
	}
	textbuf_append(b, "</tr></thead><tbody>\n");
}

/* A chart, or a note why there is none; the caller prints the table. */
static void
chart(struct textbuf *b, const struct svgchart *c)
{
	struct errctx ec = { 0 };
	char *svg = NULL;

	if (svgchart_render(c, &svg, &ec) < 0) {
		para(b, "warn", errctx_msg(&ec));
		return;
	}
	textbuf_append(b, "<figure>");
	textbuf_append(b, svg);
	textbuf_append(b, "</figure>\n");
	free(svg);
}

/* ---- status ------------------------------------------------------------- */

static void
page_status(const struct dashboard_ctx *c, struct httpd_reply *reply)
{
	static const char *const dep_h[] = { "Dependency", "State", "Down since", NULL };
	const struct metrics_summary *s = c->summary;
	struct textbuf b = { 0 };
	char ts[RFC3339_STRLEN];
	int d;

	page_begin(&b, "Status");
	textbuf_append(&b, "<dl>");
	textbuf_append(&b, "<dt>State</dt><dd>");
	textbuf_append_html(&b, c->state);
	textbuf_append(&b, "</dd><dt>Backend</dt><dd>");
	textbuf_append_html(&b, c->backend);
	textbuf_append(&b, "</dd><dt>Trading mode</dt><dd>");
	textbuf_append_html(&b, c->mode);
	textbuf_printf(&b, "</dd><dt>In flight</dt><dd>%u</dd>", c->in_flight);
	textbuf_printf(&b, "<dt>Received</dt><dd>%llu</dd><dt>Done</dt><dd>%llu</dd>"
	    "<dt>Duplicate</dt><dd>%llu</dd><dt>Retried</dt><dd>%llu</dd><dt>Rejected</dt><dd>%llu</dd>",
	    (unsigned long long)s->received, (unsigned long long)s->outcomes[OUTCOME_DONE],
	    (unsigned long long)s->outcomes[OUTCOME_DUPLICATE],
	    (unsigned long long)s->outcomes[OUTCOME_RETRY], (unsigned long long)s->outcomes[OUTCOME_REJECT]);
	textbuf_printf(&b, "<dt>Last successful run</dt><dd>%s</dd>", when(s->last_success_usec, ts));
	textbuf_printf(&b, "<dt>Last failed run</dt><dd>%s</dd>", when(s->last_failure_usec, ts));
	if (s->last_run[0] != '\0') {
		textbuf_printf(&b, "<dt>Last run</dt><dd class=\"%s\"><a href=\"/runs/",
		    s->last_run_success ? "ok" : "bad");
		textbuf_append_html(&b, s->last_run);
		textbuf_append(&b, "\">");
		textbuf_append_html(&b, s->last_run);
		textbuf_append(&b, s->last_run_success ? "</a> succeeded</dd>" : "</a> FAILED</dd>");
	}
	textbuf_append(&b, "</dl>\n<h2>In hand</h2>\n");
	if (c->n_jobs == 0)
		para(&b, "ok", "Idle: no message in hand.");
	else {
		static const char *const job_h[] = { "Handler", "Run", "Since receive", "Held retries",
			NULL };
		size_t i;

		headers(&b, job_h);
		for (i = 0; i < c->n_jobs; i++) {
			const struct dashboard_job *j = &c->jobs[i];

			textbuf_append(&b, "<tr>");
			cell(&b, j->handler != NULL ? j->handler : "(being handled)");
			if (j->correlation_id != NULL) {
				textbuf_append(&b, "<td><a href=\"/runs/");
				textbuf_append_html(&b, j->correlation_id);
				textbuf_append(&b, "\">");
				textbuf_append_html(&b, j->correlation_id);
				textbuf_append(&b, "</a></td>");
			} else
				cell(&b, "");
			textbuf_printf(&b, "<td class=\"n\">%lld ms</td><td class=\"n\">%u</td></tr>\n",
			    (long long)j->age_ms, j->retries);
		}
		textbuf_append(&b, "</tbody></table>\n");
	}
	textbuf_append(&b, "<h2>Dependencies</h2>\n");
	headers(&b, dep_h);
	for (d = 0; d < _METRICS_DEP_MAX; d++) {
		textbuf_append(&b, "<tr>");
		cell(&b, metrics_dependency_to_string(d));
		textbuf_printf(&b, "<td class=\"%s\">%s</td>", s->dependency_up[d] ? "ok" : "bad",
		    s->dependency_up[d] ? "up" : "down");
		cell(&b, s->dependency_up[d] ? "" : when(s->down_since_usec[d], ts));
		textbuf_append(&b, "</tr>\n");
	}
	textbuf_append(&b, "</tbody></table>\n<p>Counters since this daemon started; "
	    "<a href=\"/metrics\">/metrics</a> has them all.</p>\n");
	page_end(&b, reply, 200);
}

/* ---- runs --------------------------------------------------------------- */

static const char *
step_name(const char *detail_type)
{
	return detail_type != NULL ? detail_type : "command";
}

static void
outcome_cell(struct textbuf *b, const char *outcome)
{
	const char *cls = strcmp(outcome, "success") == 0 ? "ok" :
	    strcmp(outcome, "failure") == 0 ? "bad" : "warn";

	textbuf_printf(b, "<td class=\"%s\">", cls);
	textbuf_append_html(b, outcome);
	textbuf_append(b, "</td>");
}

static void
steps_text(struct textbuf *b, const json_t *steps)
{
	const json_t *st;
	size_t i;

	json_array_foreach(steps, i, st) {
		const json_t *done = json_object_get(st, "completed_usec");

		if (i > 0)
			textbuf_append(b, " \xc2\xb7 ");
		textbuf_append_html(b, step_name(json_string_value(json_object_get(st, "detail_type"))));
		if (json_is_integer(done))
			textbuf_printf(b, " %lld ms", (long long)((json_integer_value(done) -
			    json_integer_value(json_object_get(st, "claimed_usec"))) / USEC_PER_MSEC));
		else
			textbuf_append(b, " (running)");
	}
}

static int
runs_of(const struct dashboard_ctx *c, json_t **runs, struct textbuf *b)
{
	struct errctx ec = { 0 };

	if (c->src == NULL || c->src->runs_list == NULL) {
		para(b, "warn", c->src != NULL && c->src->missing != NULL ? c->src->missing :
		    "No run records on this backend.");
		return -ENOTSUP;
	}
	if (c->src->runs_list(c->src->arg, RUNS_SHOWN, runs, &ec) < 0) {
		para(b, "bad", errctx_msg(&ec));
		return -EIO;
	}
	return 0;
}

static void
page_runs(const struct dashboard_ctx *c, struct httpd_reply *reply)
{
	static const char *const h[] = { "Run", "Started", "Duration", "Outcome", "Steps", NULL };
	struct textbuf b = { 0 };
	json_t *runs = NULL, *run;
	char ts[RFC3339_STRLEN];
	size_t i;

	page_begin(&b, "Runs");
	if (runs_of(c, &runs, &b) == 0) {
		if (json_array_size(runs) == 0)
			para(&b, "warn", "No runs yet.");
		else
			headers(&b, h);
		json_array_foreach(runs, i, run) {
			const char *id = json_string_value(json_object_get(run, "correlation_id"));
			json_int_t start = json_integer_value(json_object_get(run, "started_usec"));
			const json_t *fin = json_object_get(run, "finished_usec");

			textbuf_append(&b, "<tr><td><a href=\"/runs/");
			textbuf_append_html(&b, id);
			textbuf_append(&b, "\">");
			textbuf_append_html(&b, id);
			textbuf_append(&b, "</a></td>");
			cell(&b, when(start, ts));
			if (json_is_integer(fin))
				textbuf_printf(&b, "<td class=\"n\">%lld ms</td>",
				    (long long)((json_integer_value(fin) - start) / USEC_PER_MSEC));
			else
				cell(&b, "");
			outcome_cell(&b, json_string_value(json_object_get(run, "outcome")));
			textbuf_append(&b, "<td>");
			steps_text(&b, json_object_get(run, "steps"));
			textbuf_append(&b, "</td></tr>\n");
		}
		if (json_array_size(runs) > 0)
			textbuf_append(&b, "</tbody></table>\n");
	}
	json_decref(runs);
	page_end(&b, reply, 200);
}

/* ---- one run ------------------------------------------------------------ */

static const json_t *
event_of(const json_t *events, const char *type)
{
	const json_t *e;
	size_t i;

	json_array_foreach(events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "detail_type")) ?: "", type) == 0)
			return json_object_get(e, "detail");
	return NULL;
}

static void
dl_item(struct textbuf *b, const char *cls, const char *term, const char *text)
{
	textbuf_append(b, "<dt>");
	textbuf_append_html(b, term);
	textbuf_printf(b, "</dt><dd class=\"%s\">", cls);
	textbuf_append_html(b, text != NULL ? text : "not recorded");
	textbuf_append(b, "</dd>");
}

/* What the run came to and what it traded on, before the details: the
 * outcome (a failure with its step and reason, a superseded run with the run
 * that replaced it), the session it was for and the bars it really had. */
static void
run_summary(struct textbuf *b, const json_t *events)
{
	const json_t *sg = event_of(events, "SignalGenerated");
	const json_t *te = event_of(events, "TradeExecuted");
	const json_t *wf = event_of(events, "WorkflowFailed");
	const json_t *meta = json_object_get(sg, "metadata");
	const json_t *details = json_object_get(wf, "error_details");
	const json_t *ed = json_object_get(te, "execution_data");
	const char *newer = json_string_value(json_object_get(ed, "superseded_by"));
	const char *as_of = json_string_value(json_object_get(meta, "as_of"));
	const char *bars = json_string_value(json_object_get(meta, "bars_as_of"));
	char *text = NULL;

	if (as_of == NULL)
		as_of = json_string_value(json_object_get(details, "as_of"));
	if (bars == NULL)
		bars = json_string_value(json_object_get(details, "bars_as_of"));
	textbuf_append(b, "<dl id=\"run-summary\">");
	if (wf != NULL) {
		text = xasprintf("failed at %s: %s",
		    json_string_value(json_object_get(wf, "failure_step")) ?: "an unknown step",
		    json_string_value(json_object_get(wf, "failure_reason")) ?: "no reason given");
		dl_item(b, "bad", "Outcome", text);
	} else if (newer != NULL) {
		text = xasprintf("superseded by run %s", newer);
		dl_item(b, "warn", "Outcome", text);
	} else if (event_of(events, "WorkflowCompleted") != NULL)
		dl_item(b, "ok", "Outcome", "success");
	else
		dl_item(b, "warn", "Outcome", "in progress");
	free(text);
	dl_item(b, "", "Session", as_of);
	dl_item(b, bars != NULL && as_of != NULL && strcmp(bars, as_of) != 0 ? "warn" : "",
	    "Bars as of", bars);
	if (te != NULL) {
		text = xasprintf("%lld placed, %lld succeeded",
		    (long long)json_integer_value(json_object_get(te, "orders_placed")),
		    (long long)json_integer_value(json_object_get(te, "orders_succeeded")));
		dl_item(b, "", "Orders", text);
		free(text);
	}
	textbuf_append(b, "</dl>\n");
}

static void
run_signals(struct textbuf *b, const json_t *sg, const json_t *wf)
{
	static const char *const h[] = { "Strategy file", "Weight", "Status", "Bars as of",
		"Allocation or error", NULL };
	const json_t *signals = json_object_get(sg, "signals_data"), *s, *v;
	const char *file, *sym;

	/* A run that failed in the signals stage has its files' outcomes in the failure. */
	if (signals == NULL)
		signals = json_object_get(json_object_get(wf, "error_details"), "strategies");

	textbuf_append(b, "<h2>Signals per strategy file</h2>\n");
	if (!json_is_object(signals)) {
		para(b, "warn", "No signals recorded.");
		return;
	}
	headers(b, h);
	json_object_foreach((json_t *)signals, file, s) {
		bool first = true;

		textbuf_append(b, "<tr>");
		cell(b, file);
		cell_num(b, SVGCHART_UNIT_PERCENT, num(json_object_get(s, "weight")), 1);
		cell(b, json_string_value(json_object_get(s, "status")));
		cell(b, json_string_value(json_object_get(s, "bars_as_of")));
		if (json_is_string(json_object_get(s, "error"))) {
			textbuf_append(b, "<td class=\"bad\">");
			textbuf_append_html(b, json_string_value(json_object_get(s, "error")));
			textbuf_append(b, "</td></tr>\n");
			continue;
		}
		textbuf_append(b, "<td>");
		json_object_foreach(json_object_get(s, "allocation"), sym, v) {
			char pct[32];

			svgchart_format(SVGCHART_UNIT_PERCENT, num(v), 1, pct, sizeof pct);
			if (!first)
				textbuf_append(b, ", ");
			textbuf_append_html(b, sym);
			textbuf_append(b, " ");
			textbuf_append_html(b, pct);
			first = false;
		}
		textbuf_append(b, "</td></tr>\n");
	}
	textbuf_append(b, "</tbody></table>\n");
}

/* The target allocation as a bar chart, its table beside it. */
static void
run_targets(struct textbuf *b, const json_t *sg)
{
	const json_t *targets = json_object_get(json_object_get(sg, "consolidated_portfolio"),
	    "target_allocations"), *v;
	size_t n = json_object_size(targets), i = 0;
	const char **labels;
	double *y;
	const char *sym;

	if (n == 0)
		return;
	labels = xcalloc(n, sizeof *labels);
	y = xcalloc(n, sizeof *y);
	json_object_foreach((json_t *)targets, sym, v) {
		labels[i] = sym;
		y[i++] = num(v);
	}
	textbuf_append(b, "<h2>Target allocation</h2>\n");
	chart(b, &(struct svgchart){
		.kind = SVGCHART_BAR, .title = "Target allocation by symbol", .id = "target-chart",
		.unit = SVGCHART_UNIT_PERCENT, .n = n, .x_labels = labels,
		.series = &(struct svgchart_series){ .name = "target weight", .y = y }, .nseries = 1,
	});
	free(labels);
	free(y);
}

static void
run_plan(struct textbuf *b, const json_t *te, const json_t *rp)
{
	static const char *const h[] = { "Symbol", "Action", "Current", "Target", "Trade", NULL };
	const json_t *plan = json_object_get(json_object_get(te, "metadata"), "rebalance_plan");
	const json_t *items, *it;
	size_t i;

	if (plan == NULL)
		plan = json_object_get(rp, "rebalance_plan");
	items = json_object_get(plan, "items");
	textbuf_append(b, "<h2>Rebalance plan</h2>\n");
	if (json_array_size(items) == 0) {
		para(b, "warn", "No plan recorded.");
		return;
	}
	headers(b, h);
	json_array_foreach(items, i, it) {
		textbuf_append(b, "<tr>");
		cell(b, json_string_value(json_object_get(it, "symbol")));
		cell(b, json_string_value(json_object_get(it, "action")));
		cell_num(b, SVGCHART_UNIT_MONEY, num(json_object_get(it, "current_value")), 2);
		cell_num(b, SVGCHART_UNIT_MONEY, num(json_object_get(it, "target_value")), 2);
		cell_num(b, SVGCHART_UNIT_MONEY, num(json_object_get(it, "trade_amount")), 2);
		textbuf_append(b, "</tr>\n");
	}
	textbuf_append(b, "</tbody></table>\n");
}

static void
run_orders(struct textbuf *b, const json_t *te, bool failed)
{
	static const char *const h[] = { "Symbol", "Side", "Type", "Shares", "Filled", "Price",
		"Status", "Refusal or error", NULL };
	const json_t *orders = json_object_get(json_object_get(te, "execution_data"), "orders"), *o;
	size_t i;

	textbuf_append(b, "<h2 id=\"orders\">Orders and fills</h2>\n");
	if (te == NULL) {
		para(b, "warn", failed ? "Not executed: the run failed before its execution." :
		    "Not executed (yet).");
		return;
	}
	if (json_array_size(orders) == 0) {
		para(b, "warn", "No orders.");
		return;
	}
	headers(b, h);
	json_array_foreach(orders, i, o) {
		const char *status = json_string_value(json_object_get(o, "status"));

		textbuf_append(b, "<tr class=\"order\">");
		cell(b, json_string_value(json_object_get(o, "symbol")));
		cell(b, json_string_value(json_object_get(o, "side")));
		cell(b, json_string_value(json_object_get(o, "order_type")));
		cell_num(b, SVGCHART_UNIT_NUMBER, num(json_object_get(o, "shares")), 4);
		cell_num(b, SVGCHART_UNIT_NUMBER, num(json_object_get(o, "filled_qty")), 4);
		cell_num(b, SVGCHART_UNIT_MONEY, num(json_object_get(o, "price")), 2);
		textbuf_printf(b, "<td class=\"%s\">", status != NULL && strcmp(status, "filled") == 0 ?
		    "ok" : "bad");
		textbuf_append_html(b, status != NULL ? status : "");
		textbuf_append(b, "</td>");
		cell(b, json_string_value(json_object_get(o, "error_message")));
		textbuf_append(b, "</tr>\n");
	}
	textbuf_append(b, "</tbody></table>\n");
}

static void
run_email(struct textbuf *b, const json_t *tn, const json_t *wf)
{
	struct report rep = { 0 };
	struct errctx ec = { 0 };

	textbuf_append(b, "<h2>Email</h2>\n");
	if (wf != NULL) {
		textbuf_append(b, "<p class=\"bad\">Failed at ");
		textbuf_append_html(b, json_string_value(json_object_get(wf, "failure_step")));
		textbuf_append(b, ": ");
		textbuf_append_html(b, json_string_value(json_object_get(wf, "failure_reason")));
		textbuf_append(b, " (an error report was requested).</p>\n");
	}
	if (tn == NULL) {
		if (wf == NULL)
			para(b, "warn", "No trading report requested (yet).");
		return;
	}
	/* The same renderer the notify stage mailed it with. */
	if (report_trading_render(tn, &rep, &ec) < 0) {
		para(b, "bad", errctx_msg(&ec));
		return;
	}
	textbuf_append(b, "<p>Subject: <strong id=\"email-subject\">");
	textbuf_append_html(b, rep.subject);
	textbuf_append(b, "</strong></p>\n<pre id=\"email-text\">");
	textbuf_append_html(b, rep.text);
	textbuf_append(b, "</pre>\n");
	report_clear(&rep);
}

static void
page_run(const struct dashboard_ctx *c, const char *id, struct httpd_reply *reply)
{
	struct textbuf b = { 0 };
	struct errctx ec = { 0 };
	json_t *events = NULL;
	const json_t *sg, *rp, *te;
	char title[160];

	(void)snprintf(title, sizeof title, "Run %s", id);
	page_begin(&b, title);
	if (c->src == NULL || c->src->runs_events == NULL) {
		para(&b, "warn", c->src != NULL && c->src->missing != NULL ? c->src->missing :
		    "No run records on this backend.");
		page_end(&b, reply, 200);
		return;
	}
	if (c->src->runs_events(c->src->arg, id, &events, &ec) < 0) {
		para(&b, "bad", errctx_msg(&ec));
		page_end(&b, reply, 500);
		return;
	}
	if (json_array_size(events) == 0) {
		para(&b, "warn", "No such run.");
		json_decref(events);
		page_end(&b, reply, 404);
		return;
	}
	sg = event_of(events, "SignalGenerated");
	rp = event_of(events, "RebalancePlanned");
	te = event_of(events, "TradeExecuted");
	run_summary(&b, events);
	run_signals(&b, sg, event_of(events, "WorkflowFailed"));
	run_targets(&b, sg);
	run_plan(&b, te, rp);
	run_orders(&b, te, event_of(events, "WorkflowFailed") != NULL);
	run_email(&b, event_of(events, "TradingNotificationRequested"), event_of(events, "WorkflowFailed"));
	json_decref(events);
	page_end(&b, reply, 200);
}

/* ---- portfolio ---------------------------------------------------------- */

/* The last target allocation: from the newest run that has one. */
static json_t *
last_targets(const struct dashboard_ctx *c)
{
	struct errctx ec = { 0 };
	json_t *runs = NULL, *run, *out = NULL;
	size_t i;

	if (c->src == NULL || c->src->runs_list == NULL || c->src->runs_events == NULL ||
	    c->src->runs_list(c->src->arg, 10, &runs, &ec) < 0)
		return NULL;
	json_array_foreach(runs, i, run) {
		json_t *events = NULL;
		const json_t *sg;

		if (c->src->runs_events(c->src->arg, json_string_value(json_object_get(run,
		    "correlation_id")), &events, &ec) < 0)
			break;
		sg = event_of(events, "SignalGenerated");
		out = json_incref(json_object_get(json_object_get(sg, "consolidated_portfolio"),
		    "target_allocations"));
		json_decref(events);
		if (out != NULL)
			break;
	}
	json_decref(runs);
	return out;
}

static void
portfolio_positions(const struct dashboard_ctx *c, struct textbuf *b, double equity)
{
	static const char *const h[] = { "Symbol", "Shares", "Avg entry", "Price", "Market value",
		"Weight", "Target", NULL };
	struct broker_position *pos = NULL;
	struct errctx ec = { 0 };
	json_t *targets = last_targets(c);
	size_t n = 0, i;
	const char **labels;
	double *cur, *tgt;

	textbuf_append(b, "<h2>Positions</h2>\n");
	if (c->broker->ops->list_positions(c->broker, &pos, &n, &ec) < 0) {
		para(b, "bad", errctx_msg(&ec));
		json_decref(targets);
		return;
	}
	if (n == 0) {
		para(b, "warn", "No positions.");
		json_decref(targets);
		free(pos);
		return;
	}
	labels = xcalloc(n, sizeof *labels);
	cur = xcalloc(n, sizeof *cur);
	tgt = xcalloc(n, sizeof *tgt);
	headers(b, h);
	for (i = 0; i < n; i++) {
		double mv = decimal_to_double(pos[i].market_value);
		const json_t *t = json_object_get(targets, pos[i].symbol);

		labels[i] = pos[i].symbol;
		cur[i] = equity > 0 ? mv / equity : NAN;
		tgt[i] = t != NULL ? num(t) : 0;
		textbuf_append(b, "<tr class=\"position\">");
		cell(b, pos[i].symbol);
		cell_num(b, SVGCHART_UNIT_NUMBER, decimal_to_double(pos[i].qty), 4);
		cell_num(b, SVGCHART_UNIT_MONEY, decimal_to_double(pos[i].avg_entry_price), 2);
		cell_num(b, SVGCHART_UNIT_MONEY, decimal_to_double(pos[i].current_price), 2);
		cell_num(b, SVGCHART_UNIT_MONEY, mv, 2);
		cell_num(b, SVGCHART_UNIT_PERCENT, cur[i], 1);
		cell_num(b, SVGCHART_UNIT_PERCENT, t != NULL ? tgt[i] : NAN, 1);
		textbuf_append(b, "</tr>\n");
	}
	textbuf_append(b, "</tbody></table>\n<h2>Allocation against target</h2>\n");
	chart(b, &(struct svgchart){
		.kind = SVGCHART_BAR, .title = "Current weight and last target by symbol",
		.id = "allocation-chart", .unit = SVGCHART_UNIT_PERCENT, .n = n, .x_labels = labels,
		.series = (struct svgchart_series[]){ { .name = "current", .y = cur },
		    { .name = "target", .y = tgt } }, .nseries = 2,
	});
	free(labels);
	free(cur);
	free(tgt);
	free(pos);
	json_decref(targets);
}

static void
portfolio_history(const struct dashboard_ctx *c, struct textbuf *b)
{
	static const char *const h[] = { "Day", "Equity", "Profit/loss", NULL };
	struct broker_history_point *p = NULL;
	struct errctx ec = { 0 };
	size_t n = 0, i;
	char **labels;
	double *y;

	textbuf_append(b, "<h2>Equity curve</h2>\n");
	if (c->broker->ops->portfolio_history == NULL ||
	    c->broker->ops->portfolio_history(c->broker, HISTORY_DAYS, &p, &n, &ec) < 0) {
		para(b, "bad", errctx_msg(&ec));
		return;
	}
	if (n == 0) {
		para(b, "warn", "No history yet.");
		free(p);
		return;
	}
	labels = xcalloc(n, sizeof *labels);
	y = xcalloc(n, sizeof *y);
	for (i = 0; i < n; i++) {
		char day[16];

		/* New York midnight as a UTC instant: its New York date. */
		labels[i] = xstrdup(time_format_date((p[i].timestamp_usec +
		    (int64_t)time_new_york_offset_sec(p[i].timestamp_usec) * USEC_PER_SEC) / USEC_PER_DAY,
		    day));
		y[i] = decimal_to_double(p[i].equity);
	}
	chart(b, &(struct svgchart){
		.kind = SVGCHART_LINE, .title = "Account equity by day", .id = "equity-chart",
		.unit = SVGCHART_UNIT_MONEY, .n = n, .x_labels = (const char *const *)labels,
		.series = &(struct svgchart_series){ .name = "equity", .y = y }, .nseries = 1,
	});
	textbuf_append(b, "<details><summary>Equity by day (table)</summary>\n");
	headers(b, h);
	for (i = n; i-- > 0;) {
		textbuf_append(b, "<tr>");
		cell(b, labels[i]);
		cell_num(b, SVGCHART_UNIT_MONEY, y[i], 2);
		cell_num(b, SVGCHART_UNIT_MONEY, decimal_to_double(p[i].profit_loss), 2);
		textbuf_append(b, "</tr>\n");
	}
	textbuf_append(b, "</tbody></table></details>\n");
	for (i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	free(y);
	free(p);
}

static void
page_portfolio(const struct dashboard_ctx *c, struct httpd_reply *reply)
{
	struct broker_account acct;
	struct textbuf b = { 0 };
	struct errctx ec = { 0 };
	char amount[64];

	page_begin(&b, "Portfolio");
	if (c->broker == NULL) {
		para(&b, "warn", "No broker in this build.");
		page_end(&b, reply, 200);
		return;
	}
	if (c->broker->ops->get_account(c->broker, &acct, &ec) < 0) {
		para(&b, "bad", errctx_msg(&ec));
		page_end(&b, reply, 200);
		return;
	}
	textbuf_append(&b, "<dl>");
	textbuf_printf(&b, "<dt>Equity</dt><dd id=\"equity\">%s</dd>",
	    money(decimal_to_double(acct.equity), amount, sizeof amount));
	textbuf_printf(&b, "<dt>Cash</dt><dd id=\"cash\">%s</dd>",
	    money(decimal_to_double(acct.cash), amount, sizeof amount));
	textbuf_printf(&b, "<dt>Buying power</dt><dd>%s</dd><dt>Status</dt><dd>",
	    money(decimal_to_double(acct.buying_power), amount, sizeof amount));
	textbuf_append_html(&b, acct.status);
	textbuf_append(&b, "</dd></dl>\n");
	portfolio_positions(c, &b, decimal_to_double(acct.equity));
	portfolio_history(c, &b);
	page_end(&b, reply, 200);
}

/* ---- dead letters ------------------------------------------------------- */

static void
page_dead_letters(const struct dashboard_ctx *c, struct httpd_reply *reply)
{
	static const char *const h[] = { "Message", "Receives", "Parked", "Reason", "Body", NULL };
	struct textbuf b = { 0 };
	struct errctx ec = { 0 };
	char ts[RFC3339_STRLEN];
	json_t *dl = NULL, *m;
	const json_t *msgs, *total;
	size_t n, i;

	page_begin(&b, "Dead letters");
	if (c->src == NULL || c->src->dead_letters == NULL) {
		para(&b, "warn", "List them with alchemiserd --dead-letters list.");
		page_end(&b, reply, 200);
		return;
	}
	if (c->src->dead_letters(c->src->arg, PARKED_SHOWN, &dl, &ec) < 0) {
		para(&b, "bad", errctx_msg(&ec));
		page_end(&b, reply, 500);
		return;
	}
	msgs = json_object_get(dl, "messages");
	total = json_object_get(dl, "total");
	n = json_array_size(msgs);
	if (json_is_integer(total))
		textbuf_printf(&b, "<p id=\"dead-letter-total\">%lld message(s) parked%s. Move them back "
		    "with <code>alchemiserd --dead-letters redrive</code>.</p>\n",
		    (long long)json_integer_value(total), n == PARKED_SHOWN ? " (the oldest shown)" : "");
	if (json_is_string(json_object_get(dl, "note")))
		para(&b, "warn", json_string_value(json_object_get(dl, "note")));
	if (n > 0)
		headers(&b, h);
	json_array_foreach(msgs, i, m) {
		const char *body = json_string_value(json_object_get(m, "body"));
		const char *reason = json_string_value(json_object_get(m, "reason"));
		size_t blen = body != NULL ? strlen(body) : 0;

		textbuf_append(&b, "<tr class=\"dead-letter\">");
		cell(&b, json_string_value(json_object_get(m, "message_id")));
		textbuf_printf(&b, "<td class=\"n\">%lld</td>",
		    (long long)json_integer_value(json_object_get(m, "receive_count")));
		cell(&b, when(json_integer_value(json_object_get(m, "parked_usec")), ts));
		cell(&b, reason != NULL ? reason : "(moved after too many receives)");
		textbuf_append(&b, "<td><pre>");
		if (blen > BODY_SHOWN) {
			size_t cut = BODY_SHOWN;
			char *head;

			while (cut > 0 && ((unsigned char)body[cut] & 0xC0) == 0x80)
				cut--;	/* not inside a UTF-8 sequence */
			head = xstrndup(body, cut);
			textbuf_append_html(&b, head);
			free(head);
		} else if (body != NULL)
			textbuf_append_html(&b, body);
		textbuf_append(&b, blen > BODY_SHOWN ? "\xe2\x80\xa6</pre></td></tr>\n" : "</pre></td></tr>\n");
	}
	if (n > 0)
		textbuf_append(&b, "</tbody></table>\n");
	json_decref(dl);
	page_end(&b, reply, 200);
}

bool
dashboard_page_blocks(const char *path)
{
	return strcmp(path, "/") != 0;
}

void
dashboard_page(const struct dashboard_ctx *c, const char *path, struct httpd_reply *reply)
{
	struct textbuf b = { 0 };

	if (strcmp(path, "/") == 0)
		page_status(c, reply);
	else if (strcmp(path, "/runs") == 0 || strcmp(path, "/runs/") == 0)
		page_runs(c, reply);
	else if (strncmp(path, "/runs/", 6) == 0 && strchr(path + 6, '/') == NULL)
		page_run(c, path + 6, reply);
	else if (strcmp(path, "/portfolio") == 0)
		page_portfolio(c, reply);
	else if (strcmp(path, "/dead-letters") == 0)
		page_dead_letters(c, reply);
	else {
		page_begin(&b, "Not found");
		para(&b, "warn", "There is no such page.");
		page_end(&b, reply, 404);
	}
}
