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

/* out = uuid5(ALCHEMISER namespace, "<cause_id>/<TypeName>/<index>"). */
int	event_id_derive(const char *cause_id, enum event_type t, unsigned index,
	    char out[UUID_STRLEN]);

#endif
