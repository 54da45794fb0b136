#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/events/ids.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/stage.h"
#include "alchemiser/stages/storm.h"
#include "stages_internal.h"

/* Longest failure reason an event carries (bytes). */
#define FAILURE_REASON_MAX 2000

static char	*failure_reason(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Every stage the dispatch table names. A NULL handler means the stage is not
 * built into this daemon yet: the pipeline retries such messages with the
 * reason "stage not available" rather than dropping them. on_loop (the last
 * column): monitor builds its notification from the event alone, completed
 * only logs; every other stage calls the broker, market data, the mailer,
 * the storm store or the idempotency store, and stays on the workers. */
static const struct stage stages[] = {
	{ "start", stage_start_handle, true, false },
	{ "signals", stage_signals_handle, true, false },
	{ "portfolio", stage_portfolio_handle, true, false },
	{ "execution", stage_execution_handle, true, false },
	{ "monitor", stage_monitor_handle, true, true },
	{ "notify", stage_notify_handle, true, false },
	{ "errors", stage_errors_handle, true, false },
	{ "error-mail", stage_error_mail_handle, false, false },
	{ "completed", stage_completed_handle, true, true },
	{ "pnl", stage_pnl_handle, true, false },
};

const struct stage *
stage_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	/* The first byte first: this runs a few times for every message. */
	for (i = 0; i < ELEMENTSOF(stages); i++)
		if (stages[i].name[0] == name[0] && strcmp(stages[i].name, name) == 0)
			return &stages[i];
	return NULL;
}

void
stage_set(struct stage_output *out, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	out->outcome = o;
	va_start(ap, fmt);
	(void)vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

int
stage_emit(const struct stage_ctx *ctx, struct stage_output *out, enum event_type t,
    unsigned index, const char *correlation_id, json_t *payload)
{
	struct errctx ec = { 0 };
	char id[UUID_STRLEN];
	struct domain_event *e = NULL;
	int r;

	if (out->n_events >= STAGE_MAX_OUTPUT) {
		json_decref(payload);
		stage_set(out, OUTCOME_RETRY, "internal: more than %d events from one handler",
		    STAGE_MAX_OUTPUT);
		return -E2BIG;
	}
	r = event_id_derive(ctx->key, t, index, id);
	if (r < 0) {
		json_decref(payload);
		/* Deterministic (the key is too long): a retry would fail the same way. */
		stage_set(out, OUTCOME_REJECT, "event id from key of %zu bytes: %s", strlen(ctx->key),
		    strerror(-r));
		return r;
	}
	r = domain_event_new(t, id, correlation_id, ctx->key, ctx->now_usec, payload, &e, &ec);
	if (r < 0) {
		/* Our own event failing its schema is a bug in the handler: permanent. */
		stage_set(out, OUTCOME_REJECT, "building %s: %s", event_type_name(t), errctx_msg(&ec));
		return r;
	}
	out->events[out->n_events++] = e;
	return 0;
}

/* The reason in full up to a bound that keeps the event small; a longer one
 * is cut at a character boundary and says so with an ellipsis. */
static char *
failure_reason(const char *fmt, va_list ap)
{
	va_list aq;
	int len;
	size_t n;
	char *r;

	va_copy(aq, ap);
	len = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	n = len > 0 ? (size_t)len : 0;
	r = xmalloc(n + 1);
	(void)vsnprintf(r, n + 1, fmt, ap);

	if (n <= FAILURE_REASON_MAX)
		return r;
	n = FAILURE_REASON_MAX - 3;
	while (n > 0 && ((unsigned char)r[n] & 0xc0) == 0x80)
		n--;
	memcpy(r + n, "...", 4);
	return r;
}

void
stage_fail_workflow(const struct stage_ctx *ctx, struct stage_output *out,
    const char *correlation_id, const char *step, json_t *details, const char *fmt, ...)
{
	const struct domain_event *in = ctx->in->event;
	_cleanup_free_ char *reason = NULL;
	json_t *payload;
	va_list ap;

	va_start(ap, fmt);
	reason = failure_reason(fmt, ap);
	va_end(ap);
	if (details == NULL)
		details = json_object();
	if (in != NULL) {
		json_object_set_new(details, "original_event_type", json_string(event_type_name(in->type)));
		json_object_set_new(details, "original_event_id", json_string(in->event_id));
	}
	payload = json_pack("{s:s, s:s, s:s, s:o}", "workflow_type", "trading", "failure_reason", reason,
	    "failure_step", step, "error_details", details);
	/* Index 1: a stage's own follow-on event is index 0. */
	if (stage_emit(ctx, out, EVENT_WORKFLOW_FAILED, 1, correlation_id, payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "workflow failed at %s: %s", step, reason);
}

void
stage_output_clear(struct stage_output *out)
{
	size_t i;

	for (i = 0; i < out->n_events; i++)
		domain_event_free(out->events[i]);
	out->n_events = 0;
}

