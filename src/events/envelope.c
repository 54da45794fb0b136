#include <errno.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/events/envelope.h"

bool
envelope_is_envelope(const json_t *body)
{
	return json_is_object(body) && json_object_get(body, "detail-type") != NULL &&
	    json_object_get(body, "detail") != NULL;
}

int
envelope_detail_object(const json_t *body, json_t **ret, struct errctx *ec)
{
	json_t *d = json_object_get(body, "detail");
	json_t *parsed = NULL;
	const char *s;
	int r;

	if (json_is_object(d)) {
		*ret = json_incref(d);
		return 0;
	}
	if (json_is_string(d)) {
		/* Some senders deliver detail as a JSON string (seed B2); accept an object inside. */
		s = json_string_value(d);
		r = json_parse_bounded(s, json_string_length(d), JSON_MAX_BODY, JSON_MAX_DEPTH, &parsed, ec);
		if (r < 0)
			return errctx_prefix(ec, "detail string");
		if (!json_is_object(parsed)) {
			r = errctx_set(ec, -EBADMSG, "detail string holds %s, not an object",
			    json_type_name(parsed));
			json_decref(parsed);
			return r;
		}
		*ret = parsed;
		return 0;
	}
	return errctx_set(ec, -EBADMSG, "detail: expected object, got %s",
	    d == NULL ? "nothing" : json_type_name(d));
}

bool
envelope_scan(const struct json_scan *s, struct envelope_tokens *ret)
{
	if (s->n == 0 || s->tok[0].type != JSON_TOK_OBJECT)
		return false;
	ret->id = json_tok_member(s->tok, s->text, 0, "id");
	ret->detail_type = json_tok_member(s->tok, s->text, 0, "detail-type");
	ret->source = json_tok_member(s->tok, s->text, 0, "source");
	ret->detail = json_tok_member(s->tok, s->text, 0, "detail");
	return true;
}

json_t *
envelope_build(const struct envelope_fields *f, json_t *detail)
{
	char ts[RFC3339_STRLEN];
	json_t *e = json_object();

	json_object_set_new(e, "version", json_string("0"));
	json_object_set_new(e, "id", json_string(f->id));
	json_object_set_new(e, "detail-type", json_string(f->detail_type));
	json_object_set_new(e, "source", json_string(f->source));
	json_object_set_new(e, "account", json_string(f->account != NULL ? f->account : ""));
	json_object_set_new(e, "time", json_string(time_format_rfc3339(
	    f->time_usec - f->time_usec % USEC_PER_SEC, ts)));
	json_object_set_new(e, "region", json_string(f->region != NULL ? f->region : ""));
	json_object_set_new(e, "resources", json_array());
	json_object_set(e, "detail", detail);
	if (f->replay_name != NULL)
		json_object_set_new(e, "replay-name", json_string(f->replay_name));
	return e;
}
