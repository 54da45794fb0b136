#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"

static int decode(enum event_type t, json_t *copy, struct domain_event **ret, struct errctx *ec);

static int
field_error(struct errctx *ec, const struct field_spec *f, const char *want, const json_t *got)
{
	return errctx_set(ec, -EBADMSG, "field '%s': expected %s, got %s", f->name, want,
	    got == NULL ? "nothing" : json_type_name(got));
}

/* A catalogue default ("{}", "[]", "null", a plain "string", or other JSON)
 * as a new value; the common forms without a parse (issue #13). */
static json_t *
default_value(const char *def)
{
	size_t n = strlen(def);

	if (strcmp(def, "{}") == 0)
		return json_object();
	if (strcmp(def, "[]") == 0)
		return json_array();
	if (strcmp(def, "null") == 0)
		return json_null();
	if (n >= 2 && def[0] == '"' && def[n - 1] == '"' && memchr(def + 1, '\\', n - 2) == NULL)
		return json_stringn(def + 1, n - 2);
	return json_loads(def, JSON_DECODE_ANY, NULL);
}

/* Check one field of detail (owned copy) and normalise it in place. */
static int
check_field(json_t *detail, const struct field_spec *f, int64_t *ts_usec, struct errctx *ec)
{
	json_t *v = json_object_get(detail, f->name);
	struct errctx sub = { 0 };
	struct decimal d;
	size_t i;
	json_t *item;

	if (v == NULL) {
		if (f->required)
			return errctx_set(ec, -EBADMSG, "field '%s': required field is missing", f->name);
		if (f->def != NULL)
			json_object_set_new(detail, f->name, default_value(f->def));
		return 0;
	}
	switch (f->kind) {
	case FIELD_STRING:
		if (!json_is_string(v))
			return field_error(ec, f, "string", v);
		if (json_string_length(v) == 0)
			return errctx_set(ec, -EBADMSG, "field '%s': must not be empty", f->name);
		break;
	case FIELD_STRING_OR_NULL:
		if (!json_is_string(v) && !json_is_null(v))
			return field_error(ec, f, "string or null", v);
		break;
	case FIELD_BOOL:
		if (!json_is_boolean(v))
			return field_error(ec, f, "boolean", v);
		break;
	case FIELD_INT:
		if (!json_is_integer(v))
			return field_error(ec, f, "integer", v);
		break;
	case FIELD_DECIMAL:
		if (json_req_decimal(detail, f->name, NULL, &d, &sub) < 0)
			return errctx_set(ec, -EBADMSG, "%s", errctx_msg(&sub));
		json_set_decimal(detail, f->name, d);
		break;
	case FIELD_OBJECT:
		if (!json_is_object(v))
			return field_error(ec, f, "object", v);
		break;
	case FIELD_OBJECT_OR_NULL:
		if (!json_is_object(v) && !json_is_null(v))
			return field_error(ec, f, "object or null", v);
		break;
	case FIELD_STRING_LIST:
		if (!json_is_array(v))
			return field_error(ec, f, "list of strings", v);
		json_array_foreach(v, i, item)
			if (!json_is_string(item))
				return errctx_set(ec, -EBADMSG, "field '%s[%zu]': expected string, got %s",
				    f->name, i, json_type_name(item));
		break;
	case FIELD_TIMESTAMP: {
		char buf[RFC3339_STRLEN];

		if (!json_is_string(v))
			return field_error(ec, f, "RFC 3339 timestamp string", v);
		if (time_parse_rfc3339(json_string_value(v), ts_usec, &sub) < 0)
			return errctx_set(ec, -EBADMSG, "field '%s': %s", f->name, errctx_msg(&sub));
		/* Already in the normal form (our own events, mostly): nothing to replace. */
		if (strcmp(time_format_rfc3339(*ts_usec, buf), json_string_value(v)) != 0)
			json_object_set_new(detail, f->name, json_string(buf));
		break;
	}
	default:
		return errctx_set(ec, -EINVAL, "field '%s': unknown kind", f->name);
	}
	return 0;
}

/* Switches a stage acts on: a string "false" is truthy to a careless reader
 * and "true" is false to json_is_true(), so a flag that is not a JSON boolean
 * is refused here rather than guessed at (a "signal_only": "true" traded). */
static int
check_flags(const json_t *detail, struct errctx *ec)
{
	static const struct { const char *obj, *key; } flags[] = {
		{ "metadata", "signal_only" },
		{ "configuration", "signal_only" },
		{ "configuration", "live_trading" },
		{ "configuration", "ignore_market_hours" },
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(flags); i++) {
		const json_t *v = json_object_get(json_object_get(detail, flags[i].obj), flags[i].key);

		if (v != NULL && !json_is_boolean(v))
			return errctx_set(ec, -EBADMSG, "field '%s.%s': expected boolean, got %s",
			    flags[i].obj, flags[i].key, json_type_name(v));
	}
	return 0;
}

int
domain_event_from_detail(enum event_type t, const json_t *detail, struct domain_event **ret, struct errctx *ec)
{
	if (event_type_fields(t) == NULL)
		return errctx_set(ec, -EINVAL, "unknown event type %d", (int)t);
	if (!json_is_object(detail))
		return errctx_set(ec, -EBADMSG, "detail: expected object, got %s", json_type_name(detail));
	/* A deep copy: normalisation must not change what the caller holds. */
	return decode(t, json_deep_copy(detail), ret, ec);
}

int
domain_event_from_detail_take(enum event_type t, json_t *detail, struct domain_event **ret,
    struct errctx *ec)
{
	json_t *own;
	int r;

	if (event_type_fields(t) == NULL || !json_is_object(detail)) {
		r = domain_event_from_detail(t, detail, ret, ec);
		json_decref(detail);
		return r;
	}
	/* Why the reference count is read: with the only reference, the caller
	 * can see no change, so the object is normalised in place and becomes
	 * the event's (no copy of the tree: issue #13). Anyone else holding it
	 * gets the old behaviour, a deep copy. */
	if (detail->refcount == 1)
		own = detail;
	else {
		own = json_deep_copy(detail);
		json_decref(detail);
	}
	return decode(t, own, ret, ec);
}

/* Validate and normalise copy (owned, an object) as type t; it becomes the
 * event's detail, or is released on failure. */
static int
decode(enum event_type t, json_t *copy, struct domain_event **ret, struct errctx *ec)
{
	const struct field_spec *f = event_type_fields(t);
	const char *declared;
	struct domain_event *e;
	int64_t ts = 0;
	int r;

	for (; f->name != NULL; f++) {
		r = check_field(copy, f, &ts, ec);
		if (r < 0) {
			json_decref(copy);
			return errctx_prefix(ec, "%s detail", event_type_name(t));
		}
	}
	if (check_flags(copy, ec) < 0) {
		json_decref(copy);
		return errctx_prefix(ec, "%s detail", event_type_name(t));
	}
	declared = json_get_str(copy, "event_type");
	if (strcmp(declared, event_type_name(t)) != 0) {
		/* Format before the decref: declared points into copy. */
		errctx_set(ec, -EBADMSG, "%s detail: field 'event_type': says '%s'",
		    event_type_name(t), declared);
		json_decref(copy);
		return -EBADMSG;
	}
	e = xcalloc(1, sizeof *e);
	e->type = t;
	e->detail = copy;
	e->event_id = json_get_str(copy, "event_id");
	e->correlation_id = json_get_str(copy, "correlation_id");
	e->causation_id = json_get_str(copy, "causation_id");
	e->timestamp_usec = ts;
	*ret = e;
	return 0;
}

int
domain_event_new(enum event_type t, const char *event_id, const char *correlation_id,
    const char *causation_id, int64_t timestamp_usec, json_t *payload, struct domain_event **ret,
    struct errctx *ec)
{
	char ts[RFC3339_STRLEN];

	if (payload == NULL)
		payload = json_object();
	if (timestamp_usec == 0)
		timestamp_usec = time_now_realtime_usec();
	json_object_set_new(payload, "event_id", json_string(event_id));
	json_object_set_new(payload, "correlation_id", json_string(correlation_id));
	json_object_set_new(payload, "causation_id", json_string(causation_id));
	json_object_set_new(payload, "event_type", json_string(event_type_name(t)));
	json_object_set_new(payload, "timestamp", json_string(time_format_rfc3339(timestamp_usec, ts)));
	json_object_set_new(payload, "source_module", json_string(event_type_source_module(t)));
	if (json_object_get(payload, "source_component") == NULL)
		json_object_set_new(payload, "source_component", json_string("alchemiserd"));
	json_object_set_new(payload, "schema_version", json_string("1.0"));
	return domain_event_from_detail_take(t, payload, ret, ec);
}

char *
domain_event_encode(const struct domain_event *e)
{
	return json_dump_canonical(e->detail);
}

json_t *
domain_event_get(const struct domain_event *e, const char *field)
{
	return json_object_get(e->detail, field);
}

void
domain_event_free(struct domain_event *e)
{
	if (e == NULL)
		return;
	json_decref(e->detail);
	free(e);
}
