/*
 * ids: deterministic identifiers. A published event's id is the UUID v5 of
 * (causing event id, event type, index), so a handler re-run after a crash
 * publishes the same ids and downstream idempotency absorbs the repeats.
 * Thread: any. Memory: caller buffers.
 */
#ifndef ALCHEMISER_EVENTS_IDS_H
#define ALCHEMISER_EVENTS_IDS_H

#include "alchemiser/core/uuid.h"
#include "alchemiser/events/catalogue.h"

/* The longest id the router accepts: with the "command:" prefix and the
 * "/<TypeName>/<index>" suffix a derived name stays far inside its buffer,
 * and every key fits the idempotency stores (DynamoDB allows 2048 bytes). */
#define IDS_MAX_LEN 200
/* A causation id names the causing event or, for a stage's first event, the
 * command's idempotency key: an id plus a short prefix such as "command:". */
#define IDS_KEY_MAX_LEN 256
/* The characters of an id: letters, digits and these (UUIDs, "wf-2025-06-30",
 * "system-request-2025-10-14T13:35:50.566524+00:00" all fit). No blanks,
 * quotes, backslashes or control characters: an id is logged, put in mail
 * headers and in keys, and must not be able to forge any of them. */
#define IDS_PUNCT "-_.:+=@/~#"

struct errctx;

/* 0 if s is 1..max characters of letters, digits and IDS_PUNCT; otherwise -EBADMSG with "field '<field>': ..." naming the first problem
 * (never echoing the offending text raw). */
int	ids_check(const char *field, const char *s, size_t max, struct errctx *ec);

/* out = uuid5(ALCHEMISER namespace, "<cause_id>/<TypeName>/<index>"). */
int	event_id_derive(const char *cause_id, enum event_type t, unsigned index,
	    char out[UUID_STRLEN]);

#endif
