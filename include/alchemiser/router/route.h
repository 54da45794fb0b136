/*
 * route: the decision path of one message body (product.md "The message path"):
 * bounded JSON parse -> object check -> circuit breaker -> domain vs command ->
 * schema validation -> handler and idempotency key. Pure: no I/O. A plain
 * domain event is decided from one scan of the body, its detail's tree
 * built only when a handler reads it (docs/architecture.md).
 * Thread: any. Memory: route_new returns a route the caller frees with
 * route_free(); its event/command are owned by it (take them with the
 * route_take_* helpers).
 */
#ifndef ALCHEMISER_ROUTER_ROUTE_H
#define ALCHEMISER_ROUTER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "alchemiser/events/catalogue.h"
#include "alchemiser/router/command.h"
#include "alchemiser/router/outcome.h"

struct domain_event;

enum route_kind {
	ROUTE_DOMAIN,		/* a catalogue event from an alchemiser.* source */
	ROUTE_COMMAND,		/* anything else that validates as a command */
	ROUTE_INVALID,		/* rejected before a kind could be decided */
	_ROUTE_KIND_MAX
};

enum idem_key_source {
	IDEM_KEY_EVENT_ID,
	IDEM_KEY_CORRELATION_ID,
	IDEM_KEY_ENVELOPE_ID,
	IDEM_KEY_SQS_MESSAGE_ID,
	IDEM_KEY_NONE,
	/* A trade/signal-only command without correlation_id or force: the run
	 * key (account, mode, NYSE session) is resolved when the message is
	 * handled (stages/run_key.h); idempotency_key is NULL until then. */
	IDEM_KEY_RUN,
	_IDEM_KEY_SOURCE_MAX
};

struct route {
	enum route_kind		 kind;
	bool			 rejected;	/* true: outcome reject with reason */
	char			 reason[384];
	bool			 breaker;	/* ErrorNotificationRequested: may never publish an error event */
	enum event_type		 type;		/* domain only */
	const char		*handler;	/* stage name, NULL when rejected */
	char			*detail_type;	/* as received (may be NULL) */
	char			*source;
	char			*envelope_id;
	char			*idempotency_key;	/* NULL when rejected */
	enum idem_key_source	 key_source;
	struct domain_event		*event;		/* domain */
	struct command		*command;	/* command */
};

/* Route a body; never fails: problems become rejected routes with a reason.
 * sqs_message_id (may be NULL) is the last-resort idempotency key of P&L and
 * forced commands; trade and signal-only commands get IDEM_KEY_RUN. */
struct route *route_message(const char *body, size_t len, const char *sqs_message_id);
/* The same decision from a jansson tree of the whole body, the path
 * route_message takes for all but the plain domain events it routes from
 * one scan (route.c route_scanned, issue #13). Exported so that tests and
 * the fuzz target can hold the two to the same answers. */
struct route *route_message_tree(const char *body, size_t len, const char *sqs_message_id);
/* The decision as one JSON object (kind, detail_type, source, handler,
 * idempotency_key, outcome, reason) for --explain. */
json_t	*route_explain(const struct route *r);
const char *route_kind_to_string(enum route_kind k);
void	route_free(struct route *r);
/* The run the message belongs to: its event's correlation id, else its
 * command's; NULL when it names none. */
const char	*route_correlation_id(const struct route *r);

#endif
