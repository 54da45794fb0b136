/*
 * envelope: the EventBridge envelope around an event as it arrives on SQS
 * ({version, id, detail-type, source, account, time, region, resources,
 * detail, replay-name}): recognise, unwrap and build.
 * Thread:  any. Memory: see each function.
 */
#ifndef ALCHEMISER_EVENTS_ENVELOPE_H
#define ALCHEMISER_EVENTS_ENVELOPE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct errctx;
struct json_scan;

/* The members of a scanned body (core/json_scan.h) that route a message:
 * token indexes, -1 when absent. */
struct envelope_tokens {
	long	id;
	long	detail_type;
	long	source;
	long	detail;
};

struct envelope_fields {
	const char	*id;
	const char	*detail_type;
	const char	*source;
	const char	*account;
	const char	*region;
	int64_t		 time_usec;
	const char	*replay_name;	/* NULL unless replayed */
};

/* True when the body has both "detail-type" and "detail" (the seed's test). */
bool	envelope_is_envelope(const json_t *body);
/* The detail as an object: an object member is returned with a new reference;
 * a JSON string holding an object is parsed (bounded); anything else is
 * -EBADMSG naming what it was. */
int	envelope_detail_object(const json_t *body, json_t **ret, struct errctx *ec);
/* The routing members of a scanned body; false when it is not an object. */
bool	envelope_scan(const struct json_scan *s, struct envelope_tokens *ret);
/* Build an envelope around detail (borrowed; copied by reference). */
json_t	*envelope_build(const struct envelope_fields *f, json_t *detail);

#endif
