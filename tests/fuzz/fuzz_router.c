/* Fuzz target: the router entry, a queue message body -> a routing decision
 * (route_message), its --explain rendering and its release. The body is the
 * raw input (not NUL-terminated, as a receive buffer would be). Also the
 * plain parser against jansson (core/json.c json_parse_plain): whatever it
 * accepts, jansson must accept as an equal value, with the same key order;
 * the scan (core/json_scan.c) accepts what the plain parser accepts; and
 * route_message (one scan for plain domain events, issue #13) decides
 * exactly as route_message_tree (the jansson tree of the whole body). */
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "fuzz.h"

/* The most members any object of v has. */
static size_t
max_members(json_t *v)
{
	size_t most = json_is_object(v) ? json_object_size(v) : 0, i, m;
	const char *key;
	json_t *c;

	if (json_is_object(v))
		json_object_foreach(v, key, c) {
			m = max_members(c);
			most = m > most ? m : most;
		}
	else if (json_is_array(v))
		json_array_foreach(v, i, c) {
			m = max_members(c);
			most = m > most ? m : most;
		}
	return most;
}

static void
check_plain(const uint8_t *data, size_t size)
{
	json_t *fast = json_parse_plain((const char *)data, size, JSON_MAX_DEPTH), *slow;
	struct json_scan s;
	int scanned = json_scan(&s, (const char *)data, size, JSON_MAX_DEPTH);
	char *a, *b;

	json_scan_release(&s);
	FUZZ_CHECK(scanned == 0 || fast == NULL || max_members(fast) > JSON_SCAN_MAX_MEMBERS);
	FUZZ_CHECK(scanned != 0 || fast != NULL);
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

/* The two routing paths on one body: the same verdict, reason, key and
 * event (the scanned event's tree is built here, lazily, and must equal
 * the eager one; its typed reads must answer as the tree). */
static void
check_same_as_tree(const uint8_t *data, size_t size, const char *msg_id)
{
	struct route *a = route_message((const char *)data, size, msg_id);
	struct route *b = route_message_tree((const char *)data, size, msg_id);
	json_t *ja = route_explain(a), *jb = route_explain(b);
	char *sa = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
	char *sb = json_dumps(jb, JSON_COMPACT | JSON_SORT_KEYS);

	FUZZ_CHECK(sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
	FUZZ_CHECK(strcmp(a->reason, b->reason) == 0);
	FUZZ_CHECK(a->kind == b->kind && a->type == b->type && a->key_source == b->key_source &&
	    a->breaker == b->breaker && (a->event != NULL) == (b->event != NULL));
	if (a->event != NULL) {
		const struct field_spec *f;
		char *ea, *eb;

		FUZZ_CHECK(strcmp(a->event->event_id, b->event->event_id) == 0);
		FUZZ_CHECK(strcmp(a->event->correlation_id, b->event->correlation_id) == 0);
		FUZZ_CHECK(strcmp(a->event->causation_id, b->event->causation_id) == 0);
		FUZZ_CHECK(a->event->timestamp_usec == b->event->timestamp_usec);
		for (f = event_type_fields(a->type); f->name != NULL; f++) {
			FUZZ_CHECK(domain_event_is_true(a->event, f->name) ==
			    json_is_true(domain_event_get(b->event, f->name)));
			FUZZ_CHECK(domain_event_integer(a->event, f->name) ==
			    json_integer_value(domain_event_get(b->event, f->name)));
		}
		ea = domain_event_encode(a->event);
		eb = domain_event_encode(b->event);
		FUZZ_CHECK(strcmp(ea, eb) == 0);
		free(ea);
		free(eb);
	}
	free(sa);
	free(sb);
	json_decref(ja);
	json_decref(jb);
	route_free(a);
	route_free(b);
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
	check_same_as_tree(data, size, msg_id);
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
