/*
 * errors: WorkflowFailed -> one ErrorNotificationRequested per correlation id.
 * The id of the error event is derived from the correlation id, not from the
 * failure event, so two failures of one run produce one id and downstream
 * idempotency delivers one email. The storm guard caps them per minute.
 * WorkflowCompleted is only logged (completed).
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/stages/storm.h"
#include "stages_internal.h"

void
stage_errors_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *wf = ctx->in->event;
	const char *step = json_string_value(domain_event_get(wf, "failure_step"));
	const char *reason = json_string_value(domain_event_get(wf, "failure_reason"));
	const char *wtype = json_string_value(domain_event_get(wf, "workflow_type"));
	_cleanup_free_ char *details = json_dump_canonical(domain_event_get(wf, "error_details"));
	_cleanup_free_ char *title = NULL, *report = NULL;
	struct stage_ctx per_run = *ctx;
	char ts[RFC3339_STRLEN];
	json_t *payload;
	struct errctx ec = { 0 };

	/* First, and even when the storm guard says no mail: the next copy of
	 * this run's intent must start a new run (stages/run_key.h). */
	if (ctx->idem != NULL && run_key_mark_failed(ctx->idem, wf->correlation_id, ctx->owner,
	    ctx->now_usec, config_usec(ctx->cfg, "daemon.dedup_window"), &ec) < 0) {
		stage_set(out, OUTCOME_RETRY, "recording the failure of run %s: %s", wf->correlation_id,
		    errctx_msg(&ec));
		out->dependency_failure = true;
		return;
	}
	if (ctx->storm != NULL && !storm_guard_allow(ctx->storm, ctx->now_usec,
	    config_int(ctx->cfg, "daemon.error_storm_limit"))) {
		stage_set(out, OUTCOME_DONE, "storm guard: more than %lld error notifications this "
		    "minute, none sent for this failure", (long long)config_int(ctx->cfg, "daemon.error_storm_limit"));
		return;
	}
	title = xasprintf("Workflow failed at %s", step);
	report = xasprintf("Trading System Error Report\n\n"
	    "Workflow:     %s\nCorrelation:  %s\nFailed step:  %s\nReason:       %s\n"
	    "Failure time: %s\nFailure event: %s\nDetails:      %s\n",
	    wtype, wf->correlation_id, step, reason,
	    time_format_rfc3339(wf->timestamp_usec, ts), wf->event_id, details);
	payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n}",
	    "error_severity", "high", "error_priority", "HIGH", "error_title", title,
	    "error_report", report, "error_code", step, "recipient_override");
	/* One error event per run: the id's cause is the correlation id. */
	per_run.key = wf->correlation_id;
	if (stage_emit(&per_run, out, EVENT_ERROR_NOTIFICATION_REQUESTED, 0, wf->correlation_id,
	    payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "error notification requested for failed step %s", step);
}

void
stage_completed_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *wc = ctx->in->event;
	json_t *dur = domain_event_get(wc, "workflow_duration_ms");

	stage_set(out, OUTCOME_DONE, "workflow %s completed (%s) in %lld ms", wc->correlation_id,
	    json_is_true(domain_event_get(wc, "success")) ? "success" : "failure",
	    (long long)json_integer_value(dur));
}
