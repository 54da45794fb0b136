/*
 * event: one validated domain event (base fields typed, the whole detail kept
 * as JSON), its codec to and from the detail JSON the Python system uses.
 * Decoding validates against the catalogue schema, ignores unknown keys, fills
 * defaults and normalises (timestamps to UTC "Z", decimals to canonical
 * strings), so encode(decode(x)) is byte-stable.
 * Thread:  an event is owned by one thread at a time.
 * Memory:  domain_event_from_detail()/domain_event_new()/domain_event_from_scan() return an
 *          event the caller frees with domain_event_free(); string members are owned by the
 *          event. An event from domain_event_from_scan() (the router's, issue #13) holds its
 *          detail as the checked text and builds the jansson tree the first time
 *          domain_event_detail() (or _get, _encode) asks for it; reading a scanned event
 *          mutates it then, so an event is still used by one thread at a time.
 */
#ifndef ALCHEMISER_EVENTS_EVENT_H
#define ALCHEMISER_EVENTS_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "alchemiser/events/catalogue.h"

struct errctx;
struct json_scan;
struct domain_event_text;

struct domain_event {
	enum event_type	 type;
	const char	*event_id;		/* owned by the event (its detail or text) */
	const char	*correlation_id;
	const char	*causation_id;
	int64_t		 timestamp_usec;
	/* The normalised detail object (owned); NULL until built for a scanned
	 * event: read it with domain_event_detail(), never directly. */
	json_t		*detail_tree;
	struct domain_event_text *text;	/* scanned events: the checked detail text */
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
/* The router's fast path: the detail at token d of a json_scan (an object)
 * checked as type t with exactly the rules of domain_event_from_detail,
 * without a jansson tree: 0 and a new event, or -1 when it is not sure
 * the detail passes (anything that fails a rule, or that the rules would
 * normalise in a way the tokens cannot show); the caller then decodes the
 * detail with domain_event_from_detail for the verdict and its reason.
 * No errctx: a -1 is not an error, only "ask the tree". */
int	domain_event_from_scan(enum event_type t, const struct json_scan *s, long d,
	    struct domain_event **ret);
/* Build a new event of type t for publishing: base fields from the arguments
 * (timestamp_usec 0 = now), payload holds the type-specific fields (stolen).
 * Validated like a received one. */
int	domain_event_new(enum event_type t, const char *event_id, const char *correlation_id,
	    const char *causation_id, int64_t timestamp_usec, json_t *payload,
	    struct domain_event **ret, struct errctx *ec);
/* Canonical JSON text of the detail (caller frees). */
char	*domain_event_encode(const struct domain_event *e);
/* The normalised detail object (borrowed; built once for a scanned event). */
json_t	*domain_event_detail(const struct domain_event *e);
/* Borrowed payload field (builds the detail as domain_event_detail). */
json_t	*domain_event_get(const struct domain_event *e, const char *field);
/* Typed reads that need no tree when the field is in the scanned text as
 * it is (a boolean, an integer): json_is_true() / json_integer_value() of
 * domain_event_get(e, field), the same answers (false / 0 when absent or
 * of another type). For handlers that need only such fields. */
bool	domain_event_is_true(const struct domain_event *e, const char *field);
int64_t	domain_event_integer(const struct domain_event *e, const char *field);
void	domain_event_free(struct domain_event *e);

#endif
