#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"

/* A scanned event's detail, as checked: the bytes from '{' to '}' and
 * their tokens (offsets into text; tok[0] is the object). It lives in the
 * event's own allocation, after the struct. */
struct domain_event_text {
	const char	*text;
	size_t		 len;
	struct json_tok	*tok;
	size_t		 n;
};

static int normalise(enum event_type t, json_t *detail, int64_t *ts, struct errctx *ec);
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

/* Validate detail (an object) as type t and normalise it in place
 * (defaults, decimals, timestamps); its timestamp in *ts. */
static int
normalise(enum event_type t, json_t *detail, int64_t *ts, struct errctx *ec)
{
	const struct field_spec *f = event_type_fields(t);
	const char *declared;
	int r;

	for (; f->name != NULL; f++) {
		r = check_field(detail, f, ts, ec);
		if (r < 0)
			return errctx_prefix(ec, "%s detail", event_type_name(t));
	}
	if (check_flags(detail, ec) < 0)
		return errctx_prefix(ec, "%s detail", event_type_name(t));
	declared = json_get_str(detail, "event_type");
	if (strcmp(declared, event_type_name(t)) != 0)
		return errctx_set(ec, -EBADMSG, "%s detail: field 'event_type': says '%s'",
		    event_type_name(t), declared);
	return 0;
}

/* Validate and normalise copy (owned, an object) as type t; it becomes the
 * event's detail, or is released on failure. */
static int
decode(enum event_type t, json_t *copy, struct domain_event **ret, struct errctx *ec)
{
	struct domain_event *e;
	int64_t ts = 0;
	int r;

	/* On failure the message may point into copy: it is formatted first. */
	r = normalise(t, copy, &ts, ec);
	if (r < 0) {
		json_decref(copy);
		return r;
	}
	e = xcalloc(1, sizeof *e);
	e->type = t;
	e->detail_tree = copy;
	e->event_id = json_get_str(copy, "event_id");
	e->correlation_id = json_get_str(copy, "correlation_id");
	e->causation_id = json_get_str(copy, "causation_id");
	e->timestamp_usec = ts;
	*ret = e;
	return 0;
}

/*
 * The scanned path (issue #13). Each check below is check_field's or
 * check_flags' question asked of the tokens; a "no" is never an answer
 * here, only "ask the tree" (-1), so every reason a message is refused
 * with is still decode's, word for word. What the tokens cannot tell
 * (a decimal or timestamp string too long for the buffer) is a "no" too.
 */
#define SCAN_STR_MAX 64

/* The string token as a C string in buf (SCAN_STR_MAX bytes); false when
 * it is not a string or does not fit. */
static bool
tok_cstr(const struct json_tok *t, const char *text, char *buf)
{
	if (t->type != JSON_TOK_STRING || t->len >= SCAN_STR_MAX)
		return false;
	memcpy(buf, text + t->off, t->len);
	buf[t->len] = '\0';
	return true;
}

/* check_field's question for the member f of the detail, at token m of
 * tok (-1: absent). */
static bool
scan_field_ok(const struct json_tok *tok, const char *text, long m, const struct field_spec *f,
    int64_t *ts)
{
	const struct json_tok *v;
	char buf[SCAN_STR_MAX];
	struct errctx sub;	/* unread: set where it is used (it is large) */
	struct decimal dec;
	uint32_t i;

	if (m < 0)
		return !f->required;	/* a default is the tree's business */
	v = &tok[m];
	switch (f->kind) {
	case FIELD_STRING:
		return v->type == JSON_TOK_STRING && v->len > 0;
	case FIELD_STRING_OR_NULL:
		return v->type == JSON_TOK_STRING || v->type == JSON_TOK_NULL;
	case FIELD_BOOL:
		return v->type == JSON_TOK_TRUE || v->type == JSON_TOK_FALSE;
	case FIELD_INT:
		return v->type == JSON_TOK_INTEGER;
	case FIELD_DECIMAL:
		if (v->type == JSON_TOK_INTEGER)
			return decimal_from_int(json_tok_integer(v, text), &dec) == 0;
		if (!tok_cstr(v, text, buf))
			return false;
		errctx_clear(&sub);
		return decimal_parse_round(buf, DECIMAL_ROUND_HALF_EVEN, &dec, &sub) == 0;
	case FIELD_OBJECT:
		return v->type == JSON_TOK_OBJECT;
	case FIELD_OBJECT_OR_NULL:
		return v->type == JSON_TOK_OBJECT || v->type == JSON_TOK_NULL;
	case FIELD_STRING_LIST:
		if (v->type != JSON_TOK_ARRAY)
			return false;
		for (i = (uint32_t)m + 1; i < v->next; i = tok[i].next)
			if (tok[i].type != JSON_TOK_STRING)
				return false;
		return true;
	case FIELD_TIMESTAMP:
		if (!tok_cstr(v, text, buf))
			return false;
		errctx_clear(&sub);
		return time_parse_rfc3339(buf, ts, &sub) == 0;
	default:
		return false;
	}
}

/* check_flags on tokens: each flag present in an object is a boolean.
 * meta and conf are the detail's metadata and configuration (-1: absent;
 * a default put in their place is {} and holds no flag). */
static bool
scan_flags_ok(const struct json_tok *tok, const char *text, long meta, long conf)
{
	static const char *const conf_flags[] = { "signal_only", "live_trading",
	    "ignore_market_hours" };
	size_t i;
	long v;

	v = json_tok_member(tok, text, meta, "signal_only");
	if (v >= 0 && tok[v].type != JSON_TOK_TRUE && tok[v].type != JSON_TOK_FALSE)
		return false;
	for (i = 0; i < ELEMENTSOF(conf_flags); i++) {
		v = json_tok_member(tok, text, conf, conf_flags[i]);
		if (v >= 0 && tok[v].type != JSON_TOK_TRUE && tok[v].type != JSON_TOK_FALSE)
			return false;
	}
	return true;
}

/* Room for a string token's bytes and a NUL at *at; its start. */
static const char *
copy_str(const struct json_tok *t, const char *text, char **at)
{
	char *s = *at;

	memcpy(s, text + t->off, t->len);
	s[t->len] = '\0';
	*at += t->len + 1;
	return s;
}

/* The members every type's check reads besides its fields (check_flags):
 * found by the one walk of the detail when they are not fields. */
static const char *const scan_extras[] = { "metadata", "configuration" };

/* Whether the key token t is name. */
static bool
key_is(const struct json_tok *t, const char *k, const char *name)
{
	return t->len > 0 && name[0] == k[0] && strncmp(name, k, t->len) == 0 && name[t->len] == '\0';
}

/* The member of the detail named name: at[] for a field of the type
 * (fields, nf), then the extras' places (after the fields in at[]), else
 * a walk of the detail d. */
static long
scan_member(const struct json_tok *tok, const char *text, long d, const struct field_spec *fields,
    size_t nf, const long *at, const char *name)
{
	size_t j;

	for (j = 0; j < nf; j++)
		if (fields[j].name[0] == name[0] && strcmp(fields[j].name, name) == 0)
			return at[j];
	for (j = 0; j < ELEMENTSOF(scan_extras); j++)
		if (strcmp(scan_extras[j], name) == 0)
			return at[nf + j];
	return json_tok_member(tok, text, d, name);
}

#define SCAN_FIELDS_MAX 32

int
domain_event_from_scan(enum event_type t, const struct json_scan *s, long d,
    struct domain_event **ret)
{
	const struct field_spec *fields = event_type_fields(t);
	const struct json_tok *tok = s->tok, *id, *corr, *cause;
	long at[SCAN_FIELDS_MAX + ELEMENTSOF(scan_extras)], ty;
	struct domain_event_text *dt;
	struct domain_event *e;
	size_t n, nf, size, i, j, c, next = 0;
	int64_t ts = 0;
	char *at_text;

	if (fields == NULL || d < 0 || tok[d].type != JSON_TOK_OBJECT)
		return -1;
	for (nf = 0; fields[nf].name != NULL; nf++) {
		if (nf == SCAN_FIELDS_MAX)
			return -1;
		at[nf] = -1;
	}
	for (j = 0; j < ELEMENTSOF(scan_extras); j++)
		at[nf + j] = -1;
	/* One walk over the detail's members, each matched to its field, else
	 * to an extra (keys hold no NUL and are unique: the scan refused
	 * duplicates). Senders write the fields in the catalogue's order, so
	 * the field after the last one matched is tried first. */
	for (i = (size_t)d + 1; i < tok[d].next; i = tok[i + 1].next) {
		const char *k = s->text + tok[i].off;

		for (c = 0; c < nf; c++) {
			j = (next + c) % nf;
			if (key_is(&tok[i], k, fields[j].name)) {
				at[j] = (long)i + 1;
				next = j + 1;
				break;
			}
		}
		if (c < nf)
			continue;
		for (j = 0; j < ELEMENTSOF(scan_extras); j++)
			if (key_is(&tok[i], k, scan_extras[j])) {
				at[nf + j] = (long)i + 1;
				break;
			}
	}
	for (j = 0; j < nf; j++)
		if (!scan_field_ok(tok, s->text, at[j], &fields[j], &ts))
			return -1;
	if (!scan_flags_ok(tok, s->text, scan_member(tok, s->text, d, fields, nf, at, "metadata"),
	    scan_member(tok, s->text, d, fields, nf, at, "configuration")))
		return -1;
	/* event_type and the ids are required strings of every type: present. */
	ty = scan_member(tok, s->text, d, fields, nf, at, "event_type");
	if (ty < 0 || !json_tok_str_eq(&tok[ty], s->text, event_type_name(t)))
		return -1;
	id = &tok[scan_member(tok, s->text, d, fields, nf, at, "event_id")];
	corr = &tok[scan_member(tok, s->text, d, fields, nf, at, "correlation_id")];
	cause = &tok[scan_member(tok, s->text, d, fields, nf, at, "causation_id")];
	/* One allocation: the event, its text, the tokens, the bytes, the ids. */
	n = tok[d].next - (size_t)d;
	size = sizeof *e + sizeof *dt + n * sizeof *tok + tok[d].len + id->len + corr->len +
	    cause->len + 3;
	e = xmalloc(size);
	memset(e, 0, sizeof *e);
	dt = (struct domain_event_text *)(e + 1);
	dt->tok = (struct json_tok *)(dt + 1);
	dt->n = n;
	dt->len = tok[d].len;
	at_text = (char *)(dt->tok + n);
	memcpy(at_text, s->text + tok[d].off, dt->len);
	dt->text = at_text;
	at_text += dt->len;
	for (i = 0; i < n; i++) {
		dt->tok[i] = tok[(size_t)d + i];
		dt->tok[i].off -= tok[d].off;
		dt->tok[i].next -= (uint32_t)d;
	}
	e->type = t;
	e->text = dt;
	e->event_id = copy_str(id, s->text, &at_text);
	e->correlation_id = copy_str(corr, s->text, &at_text);
	e->causation_id = copy_str(cause, s->text, &at_text);
	e->timestamp_usec = ts;
	*ret = e;
	return 0;
}

json_t *
domain_event_detail(const struct domain_event *ce)
{
	/* Built once, by the thread that owns the event (see the header). */
	struct domain_event *e = (struct domain_event *)ce;
	struct errctx ec = { 0 };
	int64_t ts = 0;
	json_t *d;

	if (e->detail_tree != NULL || e->text == NULL)
		return e->detail_tree;
	/* The text passed json_scan (so json_parse_plain takes it, giving
	 * jansson's tree) and every rule normalise() applies: neither can
	 * fail here. If one ever did, that is a bug in this file, and going
	 * on with a wrong or missing detail could act on a message wrongly. */
	d = json_parse_plain(e->text->text, e->text->len, JSON_MAX_DEPTH);
	if (d == NULL || normalise(e->type, d, &ts, &ec) < 0) {
		fprintf(stderr, "domain_event: a scanned %s detail did not rebuild: %s\n",
		    event_type_name(e->type), d == NULL ? "plain parse declined" : errctx_msg(&ec));
		abort();
	}
	e->detail_tree = d;
	return d;
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
	return json_dump_canonical(domain_event_detail(e));
}

json_t *
domain_event_get(const struct domain_event *e, const char *field)
{
	return json_object_get(domain_event_detail(e), field);
}

/* Whether a scanned event's text answers for field as the tree would
 * (*ret its token, NULL when absent), for the typed reads below. The tree
 * differs from the text only where normalise() rewrites: an absent field
 * with a default, a decimal (a string or an integer in the text, always a
 * string in the tree) and a timestamp (a string either way). So a present
 * member that is not an integer answers as it is; an integer does unless
 * its field is a decimal; an absent one does unless it has a default.
 * false: ask the tree (built by then or not). */
static bool
text_field(const struct domain_event *e, const char *field, const struct json_tok **ret)
{
	const struct field_spec *f;
	long m;

	if (e->detail_tree != NULL || e->text == NULL)
		return false;
	m = json_tok_member(e->text->tok, e->text->text, 0, field);
	if (m < 0 || e->text->tok[m].type == JSON_TOK_INTEGER)
		for (f = event_type_fields(e->type); f->name != NULL; f++)
			if (f->name[0] == field[0] && strcmp(f->name, field) == 0 &&
			    (m < 0 ? f->def != NULL : f->kind == FIELD_DECIMAL))
				return false;
	*ret = m >= 0 ? &e->text->tok[m] : NULL;
	return true;
}

bool
domain_event_is_true(const struct domain_event *e, const char *field)
{
	const struct json_tok *t;

	if (text_field(e, field, &t))
		return t != NULL && t->type == JSON_TOK_TRUE;
	return json_is_true(domain_event_get(e, field));
}

int64_t
domain_event_integer(const struct domain_event *e, const char *field)
{
	const struct json_tok *t;

	if (text_field(e, field, &t))
		return t != NULL && t->type == JSON_TOK_INTEGER ? json_tok_integer(t, e->text->text) : 0;
	return json_integer_value(domain_event_get(e, field));
}

void
domain_event_free(struct domain_event *e)
{
	if (e == NULL)
		return;
	/* A scanned event's text is part of its allocation. */
	json_decref(e->detail_tree);
	free(e);
}
