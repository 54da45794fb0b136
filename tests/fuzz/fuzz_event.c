/* Fuzz target: the event codec. The first byte picks the event type ('0'..'7'
 * in the seeds: byte % 8), the rest is the detail JSON. Decoding must never
 * crash; a decoded event must re-encode byte-stably (domain_event.h:
 * encode(decode(x)) is byte-stable), and building a new event from the same
 * payload must not crash either. */
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/events/catalogue.h"
#include "alchemiser/events/domain_event.h"
#include "fuzz.h"

static void
check_round_trip(enum event_type t, const struct domain_event *e)
{
	struct errctx ec = { 0 };
	struct domain_event *again = NULL;
	char *text1, *text2;
	json_t *parsed = NULL;

	FUZZ_CHECK(e->type == t);
	FUZZ_CHECK(e->event_id != NULL && e->correlation_id != NULL);
	FUZZ_CHECK(json_is_object(domain_event_detail(e)));
	(void)domain_event_get(e, "event_id");
	text1 = domain_event_encode(e);
	FUZZ_CHECK(text1 != NULL);
	/* Our own output must parse and validate again, to the same bytes. */
	FUZZ_CHECK(json_parse_bounded(text1, strlen(text1), SIZE_MAX, SIZE_MAX, &parsed, &ec) == 0);
	if (domain_event_from_detail(t, parsed, &again, &ec) != 0) {
		fprintf(stderr, "re-decoding our own encoding failed: %s\n%s\n", errctx_msg(&ec), text1);
		abort();
	}
	text2 = domain_event_encode(again);
	if (strcmp(text1, text2) != 0) {
		fprintf(stderr, "encoding is not stable:\n%s\n%s\n", text1, text2);
		abort();
	}
	free(text1);
	free(text2);
	json_decref(parsed);
	domain_event_free(again);
}

int
fuzz_event_one(const uint8_t *data, size_t size)
{
	struct errctx ec = { 0 };
	struct domain_event *e = NULL;
	enum event_type t;
	json_t *detail = NULL;

	if (size < 1)
		return 0;
	t = (enum event_type)(data[0] % _EVENT_TYPE_MAX);
	if (json_parse_bounded((const char *)data + 1, size - 1, JSON_MAX_BODY, JSON_MAX_DEPTH,
	    &detail, &ec) < 0)
		return 0;
	if (domain_event_from_detail(t, detail, &e, &ec) == 0) {
		check_round_trip(t, e);
		domain_event_free(e);
		e = NULL;
	} else
		FUZZ_CHECK(e == NULL && errctx_msg(&ec)[0] != '\0');
	/* The publishing side: the same payload with our base fields on top. */
	if (json_is_object(detail)) {
		if (domain_event_new(t, "evt-fuzz-1", "corr-fuzz-1", "cause-fuzz-1",
		    INT64_C(1767323045123456), json_deep_copy(detail), &e, &ec) == 0) {
			check_round_trip(t, e);
			domain_event_free(e);
		}
	}
	json_decref(detail);
	return 0;
}

FUZZ_ENTRY(fuzz_event_one)
