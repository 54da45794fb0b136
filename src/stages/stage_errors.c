/*
 * errors: WorkflowFailed -> one ErrorNotificationRequested per correlation id.
 * The id of the error event is derived from the correlation id, not from the
 * failure event, so two failures of one run produce one id and downstream
 * idempotency delivers one email. The storm guard (stages/storm.h) caps the
 * distinct runs mailed per minute and lists the rest in one summary mail.
 * WorkflowCompleted is only logged (completed).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/fixbuf.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/stages/storm.h"
#include "alchemiser/stages/storm_store.h"
#include "stages_internal.h"

/* Summary lines named in one mail; the rest are counted. */
#define SUMMARY_LINES_MAX 200

/* Whether the run of line ("<run> <what>") is in list ("line\n" each). */
static bool
run_listed(const char *list, const char *line)
{
	size_t len = strcspn(line, " ");
	const char *p;

	for (p = list; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, line, len) == 0 && (p[len] == ' ' || p[len] == '\n'))
			return true;
	}
	return false;
}

/* Add line to list (a run once); *n counts the distinct runs. */
static void
list_add(char **list, size_t *n, const char *line, size_t line_len)
{
	_cleanup_free_ char *l = xstrndup(line, line_len);
	char *grown;

	if (*l == '\0' || run_listed(*list, l))
		return;
	(*n)++;
	if (*n > SUMMARY_LINES_MAX)
		return;
	grown = xasprintf("%s%s\n", *list, l);
	free(*list);
	*list = grown;
}

/* The storm guard's summary: one mail listing the runs it kept from mailing
 * one by one (issue #17, B2): this process's list joined with the one kept in
 * the idempotency store (stages/storm_store.h), which survives a restart. Its
 * id derives from the minute, so a resend (after a restart, or by another
 * bearer of the minute) is the same mail. */
static void
send_storm_summary(const struct stage_ctx *ctx, struct stage_output *out, int64_t minute)
{
	const struct domain_event *wf = ctx->in->event;
	_cleanup_free_ char *mem = NULL, *title = NULL, *report = NULL, *key = NULL;
	char *list = xstrdup(""), **kept = NULL, *p;
	struct stage_ctx per_minute = *ctx;
	size_t i, n = 0, n_mem = 0, n_kept = 0;
	int64_t mem_minute = 0;
	char ts[RFC3339_STRLEN];
	json_t *payload;
	struct errctx ec = { 0 };

	if (ctx->idem != NULL && storm_store_list(ctx->idem, minute, ctx->now_usec, &kept, &n_kept,
	    &ec) < 0) {
		free(list);
		stage_set(out, OUTCOME_RETRY, "%s", errctx_msg(&ec));
		out->dependency_failure = true;
		return;
	}
	mem = storm_guard_take_summary(ctx->storm, wf->correlation_id, &n_mem, &mem_minute);
	for (i = 0; i < n_kept; i++) {
		list_add(&list, &n, kept[i], strlen(kept[i]));
		free(kept[i]);
	}
	free(kept);
	for (p = mem; p != NULL && *p != '\0'; p += strcspn(p, "\n") + 1)
		list_add(&list, &n, p, strcspn(p, "\n"));
	/* The memory counts runs past its 200 lines too. */
	if (n_mem > n)
		n = n_mem;
	if (n == 0) {
		free(list);
		stage_set(out, OUTCOME_DONE, "storm guard: nothing left to summarise");
		return;
	}
	title = xasprintf("Error storm: %zu failed runs not mailed one by one", n);
	report = xasprintf("Trading System Error Report\n\n"
	    "More than %lld workflows failed within the minute from %s; the storm guard\n"
	    "mailed those one by one and lists the other %zu here (correlation id,\n"
	    "failed step, reason). Each is also in the journal at warning level.\n\n%s%s",
	    (long long)config_int(ctx->cfg, "daemon.error_storm_limit"),
	    time_format_rfc3339(minute * 60 * USEC_PER_SEC, ts), n, list,
	    n > SUMMARY_LINES_MAX ? "(and more, in the journal)\n" : "");
	free(list);
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

/* A run the store says is listed (after a restart too): a bearer holds until
 * its minute is over, then sends the summary; any other run is done. */
static void
listed_run(const struct stage_ctx *ctx, struct stage_output *out, int64_t minute, bool bearer)
{
	const struct domain_event *wf = ctx->in->event;
	int64_t end = (minute + 1) * 60 * USEC_PER_SEC;

	if (!bearer)
		stage_set(out, OUTCOME_DONE, "storm guard: run %s is listed in the summary mail of "
		    "minute %lld", wf->correlation_id, (long long)minute);
	else if (ctx->now_usec < end) {
		stage_set(out, OUTCOME_RETRY, "storm guard: run %s carries the summary mail, sent "
		    "when its minute is over", wf->correlation_id);
		out->hold_usec = end - ctx->now_usec + USEC_PER_SEC;
	} else
		send_storm_summary(ctx, out, minute);
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
	int64_t wait = 0, minute = 0;
	bool bearer = false;
	int r;
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
	if (ctx->storm != NULL && ctx->idem != NULL) {
		/* Listed already, by this process or one before a restart. */
		r = storm_store_find(ctx->idem, wf->correlation_id, ctx->now_usec, &minute, &bearer,
		    &ec);
		if (r == 0) {
			listed_run(ctx, out, minute, bearer);
			return;
		}
		if (r != -ENOENT) {
			stage_set(out, OUTCOME_RETRY, "%s", errctx_msg(&ec));
			out->dependency_failure = true;
			return;
		}
		errctx_clear(&ec);
	}
	if (ctx->storm != NULL)
		v = storm_guard_run(ctx->storm, wf->correlation_id, line, ctx->now_usec,
		    config_int(ctx->cfg, "daemon.error_storm_limit"), &wait, &minute);
	/* A listed run is kept in the store before its message is done (or
	 * held), so the summary still names it after a restart. */
	if ((v == STORM_SUPPRESSED || v == STORM_BEARER) && ctx->idem != NULL &&
	    storm_store_note(ctx->idem, minute, wf->correlation_id, line, v == STORM_BEARER,
	    ctx->owner, ctx->now_usec, config_usec(ctx->cfg, "daemon.dedup_window"), &ec) < 0) {
		stage_set(out, OUTCOME_RETRY, "%s", errctx_msg(&ec));
		out->dependency_failure = true;
		return;
	}
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
		send_storm_summary(ctx, out, minute);
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

	struct fixbuf fb;

	/* Typed reads: no detail tree for the commonest message; and no
	 * format string: it cost more than the text (issue #13). */
	out->outcome = OUTCOME_DONE;
	fixbuf_init(&fb, out->reason, sizeof out->reason);
	fixbuf_cat(&fb, "workflow ");
	fixbuf_cat(&fb, wc->correlation_id);
	fixbuf_cat(&fb, domain_event_is_true(wc, "success") ? " completed (success) in " :
	    " completed (failure) in ");
	fixbuf_i64(&fb, domain_event_integer(wc, "workflow_duration_ms"));
	fixbuf_cat(&fb, " ms");
}
