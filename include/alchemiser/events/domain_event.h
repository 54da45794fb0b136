/*
 * event: one validated domain event (base fields typed, the whole detail kept
 * as JSON), its codec to and from the detail JSON the Python system uses.
 * Decoding validates against the catalogue schema, ignores unknown keys, fills
 * defaults and normalises (timestamps to UTC "Z", decimals to canonical
 * strings), so encode(decode(x)) is byte-stable.
 * Thread:  an event is owned by one thread at a time.
 * Memory:  domain_event_from_detail()/domain_event_new() return an event the caller frees
 *          with domain_event_free(); string members are owned by the event.
 */
#ifndef ALCHEMISER_EVENTS_EVENT_H
#define ALCHEMISER_EVENTS_EVENT_H

#include <stdint.h>
#include <jansson.h>

#include "alchemiser/events/catalogue.h"

struct errctx;

struct domain_event {
	enum event_type	 type;
	const char	*event_id;		/* borrowed from detail */
	const char	*correlation_id;
	const char	*causation_id;
	int64_t		 timestamp_usec;
	json_t		*detail;		/* the normalised detail object (owned) */
};

/* Validate detail (an object; borrowed) as type t. -EBADMSG names the field. */
int	domain_event_from_detail(enum event_type t, const json_t *detail, struct domain_event **ret,
	    struct errctx *ec);
/* The same, taking the caller's reference to detail (also on failure): when
 * it was the only one, detail is normalised in place and becomes the event's
 * (no copy); otherwise it is copied as above. For callers that are done
 * with detail: the router (its parsed body) and domain_event_new. */
int	domain_event_from_detail_take(enum event_type t, json_t *detail, struct domain_event **ret,
	    struct errctx *ec);
/* Build a new event of type t for publishing: base fields from the arguments
 * (timestamp_usec 0 = now), payload holds the type-specific fields (stolen).
 * Validated like a received one. */
int	domain_event_new(enum event_type t, const char *event_id, const char *correlation_id,
	    const char *causation_id, int64_t timestamp_usec, json_t *payload,
	    struct domain_event **ret, struct errctx *ec);
/* Canonical JSON text of the detail (caller frees). */
char	*domain_event_encode(const struct domain_event *e);
/* Borrowed payload field. */
json_t	*domain_event_get(const struct domain_event *e, const char *field);
void	domain_event_free(struct domain_event *e);

#endif
