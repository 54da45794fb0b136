/*
 * errors: WorkflowFailed -> one ErrorNotificationRequested per correlation id.
 * The id of the error event is derived from the correlation id, not from the
 * failure event, so two failures of one run produce one id and downstream
 * idempotency delivers one email. The storm guard (stages/storm.h) caps the
 * distinct runs mailed per minute and lists the rest in one summary mail.
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
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/stages/storm.h"
#include "stages_internal.h"

/* The storm guard's summary: one mail listing the runs it kept from mailing
 * one by one (issue #17, B2). Its id derives from the minute, so a resend is
 * the same mail. */
static void
send_storm_summary(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *wf = ctx->in->event;
	_cleanup_free_ char *list = NULL, *title = NULL, *report = NULL, *key = NULL;
	struct stage_ctx per_minute = *ctx;
	size_t n = 0;
	int64_t minute = 0;
	char ts[RFC3339_STRLEN];
	json_t *payload;

	list = storm_guard_take_summary(ctx->storm, wf->correlation_id, &n, &minute);
	if (list == NULL) {
		stage_set(out, OUTCOME_DONE, "storm guard: nothing left to summarise");
		return;
	}
	title = xasprintf("Error storm: %zu failed runs not mailed one by one", n);
	report = xasprintf("Trading System Error Report\n\n"
	    "More than %lld workflows failed within the minute from %s; the storm guard\n"
	    "mailed those one by one and lists the other %zu here (correlation id,\n"
	    "failed step, reason). Each is also in the journal at warning level.\n\n%s",
	    (long long)config_int(ctx->cfg, "daemon.error_storm_limit"),
	    time_format_rfc3339(minute * 60 * USEC_PER_SEC, ts), n, list);
	payload = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n}",
	    "error_severity", "high", "error_priority", "HIGH", "error_title", title,
	    "error_report", report, "error_code", "error_storm", "recipient_override");
	key = xasprintf("error-storm:%lld", (long long)minute);
	per_minute.key = key;
	if (stage_emit(&per_minute, out, EVENT_ERROR_NOTIFICATION_REQUESTED, 0, wf->correlation_id,
	    payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "storm guard: summary of %zu suppressed runs requested", n);
}

/* error_details for a person reading the mail: one "key: value" line per
 * field, nested objects and lists indented below their key, numbers in their
 * shortest round-trip form (0.6, not 0.59999999999999998), strings bare. */
static void
details_append(struct textbuf *b, const json_t *v, int depth)
{
	char num[JSON_NUM_BUF];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v) || json_is_array(v)) {
		if (json_is_object(v) ? json_object_size(v) == 0 : json_array_size(v) == 0) {
			textbuf_append(b, json_is_object(v) ? " {}\n" : " []\n");
			return;
		}
		textbuf_append_char(b, '\n');
		if (json_is_object(v))
			json_object_foreach((json_t *)v, k, x) {
				textbuf_printf(b, "%*s%s:", 2 * depth + 2, "", k);
				details_append(b, x, depth + 1);
			}
		else
			json_array_foreach(v, i, x) {
				textbuf_printf(b, "%*s-", 2 * depth + 2, "");
				details_append(b, x, depth + 1);
			}
		return;
	}
	if (json_is_string(v))
		textbuf_printf(b, " %s\n", json_string_value(v));
	else if (json_is_real(v))
		textbuf_printf(b, " %s\n", json_format_real(json_real_value(v), num));
	else if (json_is_integer(v))
		textbuf_printf(b, " %lld\n", (long long)json_integer_value(v));
	else
		textbuf_printf(b, " %s\n", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "none");
}

static char *
details_text(const json_t *v)
{
	struct textbuf b = { 0 };

	details_append(&b, v, 0);
	return textbuf_take(&b, NULL);
}

void
stage_errors_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct domain_event *wf = ctx->in->event;
	const char *step = json_string_value(domain_event_get(wf, "failure_step"));
	const char *reason = json_string_value(domain_event_get(wf, "failure_reason"));
	const char *wtype = json_string_value(domain_event_get(wf, "workflow_type"));
	_cleanup_free_ char *details = details_text(domain_event_get(wf, "error_details"));
	_cleanup_free_ char *title = NULL, *report = NULL, *line = NULL;
	struct stage_ctx per_run = *ctx;
	enum storm_verdict v = STORM_SEND;
	int64_t wait = 0;
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
	/* Every failed run reaches the journal at warning, mailed or not. */
	log_warning("workflow %s failed at %s: %s", wf->correlation_id, step, reason);
	line = xasprintf("(%s: %s)", step, reason);
	if (ctx->storm != NULL)
		v = storm_guard_run(ctx->storm, wf->correlation_id, line, ctx->now_usec,
		    config_int(ctx->cfg, "daemon.error_storm_limit"), &wait);
	switch (v) {
	case STORM_SUPPRESSED:
		stage_set(out, OUTCOME_DONE, "storm guard: more than %lld failed runs this minute; "
		    "run %s is listed in the summary mail", (long long)config_int(ctx->cfg,
		    "daemon.error_storm_limit"), wf->correlation_id);
		return;
	case STORM_LISTED:
		stage_set(out, OUTCOME_DONE, "storm guard: run %s was listed in a summary mail already",
		    wf->correlation_id);
		return;
	case STORM_BEARER:
		stage_set(out, OUTCOME_RETRY, "storm guard: more than %lld failed runs this minute; "
		    "the summary mail goes out when the minute is over", (long long)config_int(ctx->cfg,
		    "daemon.error_storm_limit"));
		out->hold_usec = wait + USEC_PER_SEC;
		return;
	case STORM_SUMMARY_DUE:
		send_storm_summary(ctx, out);
		return;
	default:
		break;
	}
	title = xasprintf("Workflow failed at %s", step);
	report = xasprintf("Trading System Error Report\n\n"
	    "Workflow:     %s\nCorrelation:  %s\nFailed step:  %s\nReason:       %s\n"
	    "Failure time: %s\nFailure event: %s\nDetails:%s",
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
