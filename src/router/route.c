#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/envelope.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/events/ids.h"
#include "alchemiser/router/dispatch.h"
#include "alchemiser/router/route.h"
#include "alchemiser/trading/planner.h"

#define TRUSTED_SOURCE_PREFIX "alchemiser."

static struct route *
reject(struct route *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct route *
reject(struct route *r, const char *fmt, ...)
{
	va_list ap;

	r->rejected = true;
	r->handler = NULL;
	va_start(ap, fmt);
	(void)vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	return r;
}

/* Ids become keys, log fields, mail headers and derived names: checked here,
 * once, so a too long or strange one is refused with its reason instead of
 * failing later (and being retried) where the reason is lost. */
static int
check_ids(const char *event_id, const char *correlation_id, const char *causation_id,
    struct errctx *ec)
{
	int r = 0;

	if (event_id != NULL)
		r = ids_check("event_id", event_id, IDS_MAX_LEN, ec);
	if (r == 0 && correlation_id != NULL)
		r = ids_check("correlation_id", correlation_id, IDS_MAX_LEN, ec);
	if (r == 0 && causation_id != NULL)
		r = ids_check("causation_id", causation_id, IDS_KEY_MAX_LEN, ec);
	return r;
}

/* A RebalancePlanned is acted on by the executor: its plan is decoded with
 * the executor's own rules here, so a forged or broken plan is parked with
 * its reason before any claim is taken or any broker is asked. */
static int
check_plan(const struct domain_event *e, struct errctx *ec)
{
	struct planner_plan *plan = NULL;
	int r;

	r = planner_plan_from_json(domain_event_get(e, "rebalance_plan"), &plan, ec);
	planner_plan_free(plan);
	if (r < 0)
		return errctx_prefix(ec, "rebalance_plan");
	return 0;
}

static bool
trusted_source(const char *source)
{
	return source != NULL && strncmp(source, TRUSTED_SOURCE_PREFIX,
	    strlen(TRUSTED_SOURCE_PREFIX)) == 0;
}

/* body is the router's own parse: its detail is taken out of it and handed
 * to the event, so validation normalises it in place instead of copying the
 * tree (issue #13); body is only released after this. */
static struct route *
route_domain(struct route *r, json_t *body, enum event_type t)
{
	struct errctx ec = { 0 };
	json_t *detail = NULL;

	r->kind = ROUTE_DOMAIN;
	r->type = t;
	if (envelope_detail_object(body, &detail, &ec) < 0)
		return reject(r, "%s: %s", event_type_name(t), errctx_msg(&ec));
	/* Ours alone now (a detail string was parsed into a new object anyway). */
	(void)json_object_del(body, "detail");
	if (domain_event_from_detail_take(t, detail, &r->event, &ec) < 0)
		return reject(r, "%s", errctx_msg(&ec));
	if (check_ids(r->event->event_id, r->event->correlation_id, r->event->causation_id, &ec) < 0)
		return reject(r, "%s detail: %s", event_type_name(t), errctx_msg(&ec));
	if (t == EVENT_REBALANCE_PLANNED && check_plan(r->event, &ec) < 0)
		return reject(r, "%s detail: %s", event_type_name(t), errctx_msg(&ec));
	r->handler = dispatch_stage_for_event(t);
	r->idempotency_key = xstrdup(r->event->event_id);
	r->key_source = IDEM_KEY_EVENT_ID;
	return r;
}

static struct route *
route_command(struct route *r, const json_t *body, const char *sqs_message_id)
{
	struct errctx ec = { 0 };
	json_t *detail = NULL;
	int rc;

	r->kind = ROUTE_COMMAND;
	if (envelope_is_envelope(body)) {
		/* Seed bug: a non-object detail fell through to "trade". We refuse. */
		if (envelope_detail_object(body, &detail, &ec) < 0)
			return reject(r, "command envelope: %s", errctx_msg(&ec));
	} else
		detail = json_incref((json_t *)body);
	rc = command_parse(detail, &r->command, &ec);
	json_decref(detail);
	if (rc < 0)
		return reject(r, "%s", errctx_msg(&ec));
	if (check_ids(NULL, r->command->correlation_id, r->command->causation_id, &ec) < 0)
		return reject(r, "command %s", errctx_msg(&ec));
	if (r->command->correlation_id == NULL && r->envelope_id != NULL &&
	    ids_check("id", r->envelope_id, IDS_MAX_LEN, &ec) < 0)
		return reject(r, "command envelope %s", errctx_msg(&ec));
	r->handler = dispatch_stage_for_command(r->command->action);
	/* Commands are deduplicated too (the seed never did). */
	if (r->command->correlation_id != NULL) {
		r->idempotency_key = xasprintf("command:%s", r->command->correlation_id);
		r->key_source = IDEM_KEY_CORRELATION_ID;
	} else if (r->command->action != COMMAND_PNL && !r->command->force) {
		/* Why not the message: copies of one trading intent (a double send,
		 * the Scheduler's at-least-once delivery, two daemons) are different
		 * messages but must start one run. */
		r->key_source = IDEM_KEY_RUN;
	} else if (r->envelope_id != NULL) {
		r->idempotency_key = xasprintf("command:%s", r->envelope_id);
		r->key_source = IDEM_KEY_ENVELOPE_ID;
	} else if (sqs_message_id != NULL) {
		r->idempotency_key = xasprintf("command:%s", sqs_message_id);
		r->key_source = IDEM_KEY_SQS_MESSAGE_ID;
	} else
		r->key_source = IDEM_KEY_SQS_MESSAGE_ID;	/* known only once received */
	return r;
}

struct route *
route_message_tree(const char *body, size_t len, const char *sqs_message_id)
{
	struct route *r = xcalloc(1, sizeof *r);
	struct errctx ec = { 0 };
	const char *dt, *src, *id;
	enum event_type t;
	json_t *root = NULL;

	r->kind = ROUTE_INVALID;
	r->type = EVENT_TYPE_INVALID;
	r->key_source = IDEM_KEY_NONE;
	if (json_parse_bounded(body, len, JSON_MAX_BODY, JSON_MAX_DEPTH, &root, &ec) < 0)
		return reject(r, "body: %s", errctx_msg(&ec));
	if (!json_is_object(root)) {
		/* Seed bug: anything not an object defaulted to "trade". */
		reject(r, "body is a JSON %s, not an object", json_type_name(root));
		json_decref(root);
		return r;
	}
	dt = json_get_str(root, "detail-type");
	src = json_get_str(root, "source");
	id = json_get_str(root, "id");
	r->detail_type = xstrdup_or_null(dt);
	r->source = xstrdup_or_null(src);
	r->envelope_id = xstrdup_or_null(id);
	t = event_type_from_name(dt);

	if (t == EVENT_ERROR_NOTIFICATION_REQUESTED) {
		/* Circuit breaker: error notifications never take the normal path, and
		 * their handler can never publish another one. Unlike the seed we still
		 * deliver them (once), if they come from us. */
		r->breaker = true;
		if (!trusted_source(src))
			reject(r, "ErrorNotificationRequested from source '%s' refused by the circuit "
			    "breaker: only alchemiser.* may request error mail", src != NULL ? src : "(none)");
		else
			route_domain(r, root, t);
	} else if (t != EVENT_TYPE_INVALID && trusted_source(src))
		route_domain(r, root, t);
	else if (t != EVENT_TYPE_INVALID && json_object_get(root, "detail") != NULL)
		/* Seed: a domain type from another source fell to the command path and
		 * failed obscurely (or crashed on a null source). Say what is wrong. */
		reject(r, "detail-type %s needs a source starting with 'alchemiser.', got %s%s%s",
		    dt, src != NULL ? "'" : "", src != NULL ? src : "none", src != NULL ? "'" : "");
	else
		route_command(r, root, sqs_message_id);
	if (r->kind == ROUTE_INVALID && !r->rejected)
		reject(r, "unroutable message");
	json_decref(root);
	return r;
}

/* A string token as a new C string, NULL unless t is a string. */
static char *
tok_strdup(const struct json_scan *s, long t)
{
	if (t < 0 || s->tok[t].type != JSON_TOK_STRING)
		return NULL;
	return xstrndup(s->text + s->tok[t].off, s->tok[t].len);
}

/*
 * The common case in one pass (issue #13): a catalogue event from an
 * alchemiser.* source whose body is plain JSON (core/json_scan.h) and whose
 * detail passes every rule (domain_event_from_scan) is routed from the
 * tokens, and its detail's tree is built only if a handler reads it. NULL
 * for everything else: commands, RebalancePlanned (its plan is checked on
 * the tree, below), anything the scan declines and anything that would be
 * refused; route_message_tree then gives the verdict and its reason as it
 * always has. So the scan can only ever accept, and what it accepts is
 * what the tree path accepts with the same route (the fuzz target
 * tests/fuzz/fuzz_router.c compares the two on every input).
 */
static struct route *
route_scanned(const char *body, size_t len)
{
	struct envelope_tokens env;
	struct domain_event *e = NULL;
	struct route *r = NULL;
	struct errctx ec;	/* cleared where used: it is large */
	struct json_scan s;
	const struct json_tok *src;
	enum event_type t;

	if (len > JSON_MAX_BODY)
		return NULL;
	if (json_scan(&s, body, len, JSON_MAX_DEPTH) < 0 || !envelope_scan(&s, &env) ||
	    env.detail_type < 0 || env.source < 0 || s.tok[env.detail_type].type != JSON_TOK_STRING)
		goto out;
	src = &s.tok[env.source];
	t = event_type_from_namen(body + s.tok[env.detail_type].off, s.tok[env.detail_type].len);
	if (t == EVENT_TYPE_INVALID || t == EVENT_REBALANCE_PLANNED || src->type != JSON_TOK_STRING ||
	    src->len < strlen(TRUSTED_SOURCE_PREFIX) ||
	    memcmp(body + src->off, TRUSTED_SOURCE_PREFIX, strlen(TRUSTED_SOURCE_PREFIX)) != 0)
		goto out;
	if (domain_event_from_scan(t, &s, env.detail, &e) < 0)
		goto out;
	errctx_clear(&ec);
	if (check_ids(e->event_id, e->correlation_id, e->causation_id, &ec) < 0) {
		domain_event_free(e);
		goto out;
	}
	r = xcalloc(1, sizeof *r);
	r->kind = ROUTE_DOMAIN;
	r->type = t;
	r->breaker = t == EVENT_ERROR_NOTIFICATION_REQUESTED;
	r->detail_type = tok_strdup(&s, env.detail_type);
	r->source = tok_strdup(&s, env.source);
	r->envelope_id = tok_strdup(&s, env.id);
	r->event = e;
	r->handler = dispatch_stage_for_event(t);
	r->idempotency_key = xstrdup(e->event_id);
	r->key_source = IDEM_KEY_EVENT_ID;
out:
	json_scan_release(&s);
	return r;
}

struct route *
route_message(const char *body, size_t len, const char *sqs_message_id)
{
	struct route *r = route_scanned(body, len);

	return r != NULL ? r : route_message_tree(body, len, sqs_message_id);
}

const char *
route_kind_to_string(enum route_kind k)
{
	switch (k) {
	case ROUTE_DOMAIN:	return "domain";
	case ROUTE_COMMAND:	return "command";
	case ROUTE_INVALID:	return "invalid";
	default:		return "unknown";
	}
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
route_explain(const struct route *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(route_kind_to_string(r->kind)));
	json_object_set_new(o, "detail_type", str_or_null(r->detail_type));
	json_object_set_new(o, "source", str_or_null(r->source));
	json_object_set_new(o, "handler", str_or_null(r->handler));
	json_object_set_new(o, "idempotency_key", str_or_null(r->idempotency_key));
	json_object_set_new(o, "outcome", json_string(r->rejected ? "reject" : "dispatch"));
	json_object_set_new(o, "reason", r->rejected ? json_string(r->reason) : json_null());
	if (r->breaker)
		json_object_set_new(o, "circuit_breaker", json_true());
	if (r->event != NULL) {
		json_object_set_new(o, "event_id", json_string(r->event->event_id));
		json_object_set_new(o, "correlation_id", json_string(r->event->correlation_id));
	}
	if (r->command != NULL) {
		json_object_set_new(o, "action", json_string(command_action_to_string(r->command->action)));
		json_object_set_new(o, "correlation_id", str_or_null(r->command->correlation_id));
		if (r->command->force)
			json_object_set_new(o, "force", json_true());
		if (r->key_source == IDEM_KEY_RUN) {
			json_object_set_new(o, "idempotency_key_from", json_string("run_key"));
			json_object_set_new(o, "run_key", json_pack("s++", "run:<account>/",
			    command_action_to_string(r->command->action), "/<session>"));
		} else if (r->idempotency_key == NULL)
			json_object_set_new(o, "idempotency_key_from", json_string(r->command->force ?
			    "force: sqs_message_id" : "sqs_message_id"));
		else if (r->command->force)
			json_object_set_new(o, "idempotency_key_from", json_string(
			    r->key_source == IDEM_KEY_ENVELOPE_ID ? "force: envelope id" : "force: sqs_message_id"));
	}
	return o;
}

const char *
route_correlation_id(const struct route *r)
{
	if (r->event != NULL)
		return r->event->correlation_id;
	return r->command != NULL ? r->command->correlation_id : NULL;
}

void
route_free(struct route *r)
{
	if (r == NULL)
		return;
	free(r->detail_type);
	free(r->source);
	free(r->envelope_id);
	free(r->idempotency_key);
	domain_event_free(r->event);
	command_free(r->command);
	free(r);
}
