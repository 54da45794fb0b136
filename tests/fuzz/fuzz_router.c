/* Fuzz target: the router entry, a queue message body -> a routing decision
 * (route_message), its --explain rendering and its release. The body is the
 * raw input (not NUL-terminated, as a receive buffer would be). Also the
 * plain parser against jansson (core/json.c json_parse_plain): whatever it
 * accepts, jansson must accept as an equal value, with the same key order. */
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "fuzz.h"

static void
check_plain(const uint8_t *data, size_t size)
{
	json_t *fast = json_parse_plain((const char *)data, size, JSON_MAX_DEPTH), *slow;
	char *a, *b;

	if (fast == NULL)
		return;
	slow = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	FUZZ_CHECK(slow != NULL);
	FUZZ_CHECK(json_equal(fast, slow));
	a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	free(a);
	free(b);
	json_decref(fast);
	json_decref(slow);
}

int
fuzz_router_one(const uint8_t *data, size_t size)
{
	/* Commands fall back to the SQS message id as their key: try both. */
	const char *msg_id = (size & 1) ? "4f2a8c1e-fuzz-0000-0000-000000000001" : NULL;
	struct route *r;
	json_t *explain;
	char *text;

	check_plain(data, size);
	r = route_message((const char *)data, size, msg_id);
	FUZZ_CHECK(r != NULL);
	FUZZ_CHECK(r->kind >= 0 && r->kind < _ROUTE_KIND_MAX);
	/* A decision is either a reject with a reason or a handler with a key. */
	if (r->rejected) {
		FUZZ_CHECK(r->handler == NULL);
		FUZZ_CHECK(r->reason[0] != '\0');
		FUZZ_CHECK(memchr(r->reason, '\0', sizeof r->reason) != NULL);
	} else {
		FUZZ_CHECK(r->kind != ROUTE_INVALID);
		FUZZ_CHECK(r->handler != NULL);
		if (r->kind == ROUTE_DOMAIN) {
			FUZZ_CHECK(r->event != NULL);
			FUZZ_CHECK(r->idempotency_key != NULL);
			FUZZ_CHECK(r->key_source == IDEM_KEY_EVENT_ID);
		} else {
			FUZZ_CHECK(r->command != NULL);
			FUZZ_CHECK(r->idempotency_key != NULL || msg_id == NULL ||
			    r->key_source == IDEM_KEY_RUN);
		}
	}
	/* The circuit breaker never lets an untrusted error request through. */
	if (r->breaker && !r->rejected)
		FUZZ_CHECK(r->source != NULL && strncmp(r->source, "alchemiser.", 11) == 0);
	(void)route_kind_to_string(r->kind);
	explain = route_explain(r);
	FUZZ_CHECK(explain != NULL);
	text = json_dumps(explain, JSON_COMPACT | JSON_SORT_KEYS);
	free(text);
	json_decref(explain);
	if (r->event != NULL) {
		text = domain_event_encode(r->event);
		FUZZ_CHECK(text != NULL);
		free(text);
	}
	route_free(r);
	return 0;
}

FUZZ_ENTRY(fuzz_router_one)
