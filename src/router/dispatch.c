/*
 * dispatch: the two tables every message goes through: event type -> stage,
 * and error -> outcome. "Is this retryable?" is answered here and only here.
 */
#include <errno.h>

#include "alchemiser/router/dispatch.h"

static const char *const stage_of_type[_EVENT_TYPE_MAX] = {
	[EVENT_WORKFLOW_STARTED] = "signals",
	[EVENT_SIGNAL_GENERATED] = "portfolio",
	[EVENT_REBALANCE_PLANNED] = "execution",
	[EVENT_TRADE_EXECUTED] = "monitor",
	[EVENT_WORKFLOW_COMPLETED] = "completed",
	[EVENT_WORKFLOW_FAILED] = "errors",
	[EVENT_TRADING_NOTIFICATION_REQUESTED] = "notify",
	[EVENT_ERROR_NOTIFICATION_REQUESTED] = "error-mail",
};

const char *
dispatch_stage_for_event(enum event_type t)
{
	return t >= 0 && t < _EVENT_TYPE_MAX ? stage_of_type[t] : NULL;
}

const char *
dispatch_stage_for_command(enum command_action a)
{
	return a == COMMAND_PNL ? "pnl" : "start";
}

const char *
outcome_to_string(enum outcome o)
{
	switch (o) {
	case OUTCOME_DONE:	return "done";
	case OUTCOME_DUPLICATE:	return "duplicate";
	case OUTCOME_RETRY:	return "retry";
	case OUTCOME_REJECT:	return "reject";
	default:		return "invalid";
	}
}

enum outcome
outcome_from_errno(int r)
{
	switch (r) {
	case 0:
		return OUTCOME_DONE;
	case -EBADMSG:	/* the message fails its schema: it will never pass */
	case -E2BIG:	/* over a limit: it will never fit */
	case -EINVAL:
	case -EDOM:
		return OUTCOME_REJECT;
	default:	/* throttling, timeouts, broken connections, store errors: later */
		return OUTCOME_RETRY;
	}
}
