/*
 * signals: WorkflowStarted -> SignalGenerated. Loads the strategy set, fetches
 * daily bars once for every ticker, checks they are fresh for the as-of
 * session (the last completed NYSE session, or trading.as_of), evaluates each
 * DSL file and consolidates by weight. A failing file (stale, missing or
 * future bars included) fails the run by default: WorkflowFailed naming the
 * files and reasons, no orders. trading.on_strategy_failure = cash|renormalise
 * drops it instead and reports it in the event. Market-data trouble that may
 * pass (throttling, timeouts) retries the message.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/trading/bars_freshness.h"
#include "alchemiser/trading/strategy_set.h"
#include "stages_internal.h"

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
	char day[11];
	size_t i, k;

	for (i = 0; i < res->ns; i++) {
		const struct strategy_outcome *s = &res->s[i];
		json_t *e = json_pack("{s:f, s:s}", "weight", s->weight, "status", s->status == 0 ? "ok" : "failed");

		if (s->bars_day > 0)
			json_object_set_new(e, "bars_as_of", json_string(time_format_date(s->bars_day, day)));

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

/* Every failed file with its reason, in set order: the failure reason of the
 * run and of its error email. */
static char *
failed_files_text(const struct strategy_set_result *res)
{
	struct textbuf b = { 0 };
	size_t i;

	for (i = 0; i < res->ns; i++) {
		if (res->s[i].status == 0)
			continue;
		textbuf_printf(&b, "%s%s: %s", b.len > 0 ? "; " : "", res->s[i].file,
		    res->s[i].error != NULL ? res->s[i].error : "failed");
	}
	return textbuf_take(&b, NULL);
}

/* Tickers read although stale (within trading.bars_max_lag), for the log
 * and the report. */
static json_t *
tolerated_json(const struct strategy_set_result *res)
{
	json_t *a = json_array();
	char why[320];
	size_t i;

	for (i = 0; i < res->nfresh; i++)
		if (res->fresh[i].state == BARS_STALE && res->fresh[i].tolerated)
			json_array_append_new(a, json_string(bars_freshness_describe(&res->fresh[i],
			    why, sizeof(why))));
	return a;
}

static int
policy_from_config(const struct stage_ctx *ctx, int64_t *as_of, struct strategy_set_policy *pol,
    struct errctx *ec)
{
	const char *fixed = config_str(ctx->cfg, "trading.as_of");

	memset(pol, 0, sizeof(*pol));
	pol->fresh.today_session = bars_freshness_last_completed(ctx->now_usec);
	pol->fresh.max_lag = (unsigned)config_int(ctx->cfg, "trading.bars_max_lag");
	if (strategy_failure_policy_from_string(config_str(ctx->cfg, "trading.on_strategy_failure"),
	    &pol->on_failure) < 0)
		return errctx_set(ec, -EINVAL, "trading.on_strategy_failure: unknown value");
	*as_of = pol->fresh.today_session;
	if (fixed != NULL && *fixed != '\0' && time_parse_date(fixed, as_of, ec) < 0)
		return errctx_prefix(ec, "trading.as_of");
	return 0;
}

void
stage_signals_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *ws = ctx->in->event;
	json_t *conf = domain_event_get(ws, "configuration");
	bool signal_only = json_is_true(json_object_get(conf, "signal_only"));
	const char *path = config_str(ctx->cfg, "trading.strategy_set");
	struct dsl_options opt = { .trace = true,
		.max_steps = (uint64_t)config_int(ctx->cfg, "trading.eval_budget") };
	struct strategy_set_result res = { 0 };
	struct strategy_set_policy pol;
	struct strategy_set *set = NULL;
	struct errctx ec = { 0 };
	char ts[RFC3339_STRLEN], day[11], bday[11];
	json_t *failed, *payload, *meta, *tolerated = NULL;
	_cleanup_free_ char *why = NULL;
	int64_t as_of;
	size_t i;
	int r;

	if (ctx->marketdata == NULL) {
		stage_set(out, OUTCOME_RETRY, "no market data source configured");
		return;
	}
	if (policy_from_config(ctx, &as_of, &pol, &ec) < 0) {
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation", NULL, "%s",
		    errctx_msg(&ec));
		return;
	}
	r = strategy_set_load(path, &set, &ec);
	if (r < 0) {
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation", NULL,
		    "strategy set %s: %s", path, errctx_msg(&ec));
		return;
	}
	time_format_date(as_of, day);
	r = strategy_set_evaluate(set, ctx->marketdata, as_of, &opt, &pol, &res, &ec);
	if (r < 0 && res.ns == 0 && errno_is_transient(r)) {
		stage_set(out, OUTCOME_RETRY, "market data: %s", errctx_msg(&ec));
		out->dependency_failure = true;
		goto out;
	}
	if (res.bars_day > 0)
		time_format_date(res.bars_day, bday);
	else
		snprintf(bday, sizeof(bday), "none");
	if (r < 0 && res.ns > 0) {
		/* Name every file and its reason: the error email is all the trader sees. */
		why = failed_files_text(&res);
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation",
		    json_pack("{s:o, s:s, s:s, s:s}", "strategies", signals_json(&res),
		    "as_of", day, "bars_as_of", bday, "on_strategy_failure",
		    strategy_failure_policy_to_string(pol.on_failure)),
		    "%zu of %zu strategy files failed (as of %s, bars as of %s; "
		    "trading.on_strategy_failure = %s: no orders placed): %s", res.nfailed, res.ns,
		    day, bday, strategy_failure_policy_to_string(pol.on_failure), why);
		goto out;
	}
	if (r < 0) {
		stage_fail_workflow(ctx, out, ws->correlation_id, "signal_generation", NULL,
		    "%s", errctx_msg(&ec));
		goto out;
	}
	failed = json_array();
	for (i = 0; i < res.ns; i++)
		if (res.s[i].status != 0)
			json_array_append_new(failed, json_pack("{s:s, s:s}", "file", res.s[i].file,
			    "error", res.s[i].error != NULL ? res.s[i].error : "failed"));
	tolerated = tolerated_json(&res);
	meta = json_pack("{s:b, s:s, s:s, s:s, s:s, s:O, s:o}", "signal_only", signal_only,
	    "workflow_started_at", time_format_rfc3339(ws->timestamp_usec, ts),
	    "as_of", day, "bars_as_of", bday,
	    "on_strategy_failure", strategy_failure_policy_to_string(pol.on_failure),
	    "failed_strategies", failed, "stale_tolerated", json_incref(tolerated));
	if (res.cash_weight > 0) {
		struct decimal cw;

		if (decimal_from_double(res.cash_weight, DECIMAL_ROUND_HALF_EVEN, &cw) == 0)
			json_set_decimal(meta, "cash_weight", cw);
	}
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
	stage_set(out, OUTCOME_DONE, "%zu signals from %zu strategies (%zu failed), as of session "
	    "%s, bars as of %s%s", res.n, res.ns, res.nfailed, day, bday,
	    json_array_size(tolerated) > 0 ? " (stale within trading.bars_max_lag)" : "");
out:
	json_decref(tolerated);
	strategy_set_result_clear(&res);
	strategy_set_free(set);
}
