/*
 * signals: WorkflowStarted -> SignalGenerated. Loads the strategy set, fetches
 * daily bars once for every ticker, evaluates each DSL file and consolidates by
 * weight. A failing file is skipped (the rest renormalised) and reported in
 * the event; every file failing ends the run with WorkflowFailed; market-data
 * trouble that may pass (throttling, timeouts) retries the message instead.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/trading/calendar.h"
#include "alchemiser/trading/strategy_set.h"
#include "stages_internal.h"

/* The last completed session: before 16:15 New York it is the previous
 * trading day (a 09:35 run uses yesterday's close as the last bar). */
static int64_t
last_completed_session(int64_t now_usec)
{
	int64_t day = calendar_new_york_days(now_usec);
	int64_t close = calendar_new_york_instant_usec(day, CALENDAR_CLOSE_MINUTE + 15);

	if (now_usec >= close && calendar_is_trading_day(day))
		return day;
	return calendar_prev_trading_day(day);
}

static json_t *
weights_json(const struct dsl_weight *w, size_t n, bool as_decimal_strings)
{
	json_t *o = json_object();
	struct decimal d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (as_decimal_strings && decimal_from_double(w[i].weight, DECIMAL_ROUND_HALF_EVEN, &d) == 0)
			json_set_decimal(o, w[i].ticker, d);
		else
			json_object_set_new(o, w[i].ticker, json_real(w[i].weight));
	}
	return o;
}

static json_t *
signals_json(const struct strategy_set_result *res)
{
	json_t *o = json_object();
	size_t i, k;

	for (i = 0; i < res->ns; i++) {
		const struct strategy_outcome *s = &res->s[i];
		json_t *e = json_pack("{s:f, s:s}", "weight", s->weight, "status", s->status == 0 ? "ok" : "failed");

		if (s->status == 0) {
			json_t *trace = json_array();

			json_object_set_new(e, "allocation", weights_json(s->result.w, s->result.n, false));
			/* A short trace summary travels with the event; the full path is --trace's. */
			for (k = 0; k < s->result.ntrace && k < 20; k++)
				json_array_append_new(trace, json_string(s->result.trace[k]));
			json_object_set_new(e, "trace_summary", trace);
		} else
			json_object_set_new(e, "error", json_string(s->error != NULL ? s->error : "failed"));
		json_object_set_new(o, s->file, e);
	}
	return o;
}

void
stage_signals_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *ws = ctx->in->event;
	json_t *conf = domain_event_get(ws, "configuration");
	bool signal_only = json_is_true(json_object_get(conf, "signal_only"));
	const char *path = config_str(ctx->cfg, "trading.strategy_set");
	struct dsl_options opt = { .trace = true };
	struct strategy_set_result res = { 0 };
	struct strategy_set *set = NULL;
	struct errctx ec = { 0 };
	char ts[RFC3339_STRLEN], day[11];
	json_t *failed, *payload, *meta;
	int64_t as_of;
	size_t i;
	int r;

	if (ctx->marketdata == NULL) {
		stage_set(out, OUTCOME_RETRY, "no market data source configured");
		return;
	}
	r = strategy_set_load(path, &set, &ec);
	if (r < 0) {
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation", NULL,
		    "strategy set %s: %s", path, errctx_msg(&ec));
		return;
	}
	as_of = last_completed_session(ctx->now_usec);
	r = strategy_set_evaluate(set, ctx->marketdata, as_of, &opt, &res, &ec);
	if (r < 0 && res.ns == 0 && errno_is_transient(r)) {
		stage_set(out, OUTCOME_RETRY, "market data: %s", errctx_msg(&ec));
		out->dependency_failure = true;
		goto out;
	}
	if (r < 0) {
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation",
		    json_pack("{s:o}", "strategies", signals_json(&res)), "%s", errctx_msg(&ec));
		goto out;
	}
	failed = json_array();
	for (i = 0; i < res.ns; i++)
		if (res.s[i].status != 0)
			json_array_append_new(failed, json_pack("{s:s, s:s}", "file", res.s[i].file,
			    "error", res.s[i].error != NULL ? res.s[i].error : "failed"));
	meta = json_pack("{s:b, s:s, s:s, s:O}", "signal_only", signal_only,
	    "workflow_started_at", time_format_rfc3339(ws->timestamp_usec, ts),
	    "as_of", time_format_date(as_of, day), "failed_strategies", failed);
	json_object_set_new(meta, "strategy_signals", signals_json(&res));
	payload = json_pack("{s:o, s:{s:o, s:I, s:o}, s:I, s:o}",
	    "signals_data", signals_json(&res),
	    "consolidated_portfolio",
	      "target_allocations", weights_json(res.w, res.n, true),
	      "strategy_count", (json_int_t)res.ns,
	      "failed_strategies", failed,
	    "signal_count", (json_int_t)res.n,
	    "metadata", meta);
	if (stage_emit(ctx, out, EVENT_SIGNAL_GENERATED, 0, ws->correlation_id, payload) < 0)
		goto out;
	stage_set(out, OUTCOME_DONE, "%zu signals from %zu strategies (%zu failed), bars as of %s",
	    res.n, res.ns, res.nfailed, day);
out:
	strategy_set_result_clear(&res);
	strategy_set_free(set);
}
