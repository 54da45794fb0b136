/*
 * deadletter: the clean end of a run whose message goes to the dead-letter
 * queue (issue #17, B1): the daemon rejects it, or its last permitted receive
 * failed again. Whatever the stage, the run must not be left half done:
 *   - an execution (RebalancePlanned): the run's open orders (their client
 *     ids carry the plan's prefix) are cancelled; any that cannot be are
 *     listed in the mail;
 *   - one WorkflowFailed naming the stage and the reason, so the error path
 *     sends the run's one error mail (its id is derived from the correlation
 *     id; the storm guard applies).
 * The pipeline already released the message's claim (a retry or reject does).
 * The error path's own messages (errors, error-mail) never get here: a failed
 * error mail must not cause another (the circuit breaker).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/trading/order_id.h"
#include "stages_internal.h"

/* Cancel the open orders of the plan; *left lists those still open (caller
 * frees; "" if none). Returns how many were cancelled, or < 0 when the broker
 * could not list them. */
static int
cancel_run_orders(const struct stage_ctx *ctx, const char *plan_event_id, char **left,
    struct errctx *ec)
{
	struct broker_order *open = NULL;
	size_t n = 0, i, len = 0;
	int r, cancelled = 0;

	*left = xstrdup("");
	if (ctx->broker == NULL)
		return 0;
	r = ctx->broker->ops->list_open_orders(ctx->broker, &open, &n, ec);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		struct errctx cec = { 0 };
		char *more;

		if (!order_id_is_run(plan_event_id, open[i].client_order_id))
			continue;	/* another run's or a manual order */
		r = ctx->broker->ops->cancel_order(ctx->broker, open[i].id, &cec);
		if (r == 0 || r == -EBADMSG || r == -ENOENT) {
			cancelled += r == 0;
			continue;
		}
		more = xasprintf("%s%s %s (%s)", *left, len > 0 ? "," : "", open[i].client_order_id,
		    errctx_msg(&cec));
		free(*left);
		*left = more;
		len = strlen(more);
	}
	free(open);
	return cancelled;
}

void
stage_deadletter_handle(const struct stage_ctx *ctx, struct stage_output *out, const char *stage,
    const char *why)
{
	const struct route *rt = ctx->in;
	const struct domain_event *e = rt->event;
	const char *corr = e != NULL ? e->correlation_id :
	    rt->command != NULL ? rt->command->correlation_id : NULL;
	_cleanup_free_ char *key = NULL, *left = NULL, *orders = NULL;
	struct stage_ctx dl = *ctx;
	struct errctx ec = { 0 };
	int cancelled = 0;

	if (corr == NULL || *corr == '\0') {
		stage_set(out, OUTCOME_REJECT, "%s", why);
		return;
	}
	if (e != NULL && e->type == EVENT_REBALANCE_PLANNED) {
		cancelled = cancel_run_orders(ctx, e->event_id, &left, &ec);
		if (cancelled < 0) {
			/* The broker cannot answer: say so, the trader must look. */
			orders = xasprintf("; its open orders could not be listed (%s): check the broker",
			    errctx_msg(&ec));
			cancelled = 0;
		} else if (left[0] != '\0')
			orders = xasprintf("; %d open order(s) cancelled, still open: %s", cancelled, left);
		else if (cancelled > 0)
			orders = xasprintf("; %d open order(s) cancelled", cancelled);
	}
	key = xasprintf("dead-letter:%s", ctx->key);
	dl.key = key;
	stage_fail_workflow(&dl, out, corr, stage, NULL, "sent to the dead-letter queue: %s%s", why,
	    orders != NULL ? orders : "");
	if (out->outcome == OUTCOME_DONE)
		/* The run's end is published: the message itself goes to the DLQ. */
		stage_set(out, OUTCOME_REJECT, "%s (run %s ended: error mail requested%s)", why, corr,
		    orders != NULL ? orders : "");
}
