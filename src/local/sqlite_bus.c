/*
 * sqlite_bus: EventBridge envelopes routed by event-pattern rules onto the
 * queues of the state file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/pattern.h"
#include "alchemiser/local/sqlite_bus.h"
#include "sqlite_internal.h"

#define MAX_RULES 300	/* EventBridge's default quota per bus */

struct rule {
	char		*name;
	char		*queue;
	struct pattern	*pattern;
};

struct sqlite_bus {
	struct bus		 pub;	/* first: the seam pointer is this struct's */
	struct sqlite_state	*st;
	char			*account;
	char			*region;
	struct rule		*rules;
	size_t			 n_rules;
	void			(*published_cb)(void *arg);
	void			*published_arg;
};

static struct sqlite_bus *
to_sqlite(struct bus *b)
{
	return (struct sqlite_bus *)b;
}

static int
rule_add(struct sqlite_bus *b, const char *name, const json_t *pattern, const char *queue,
    struct errctx *ec)
{
	struct rule *r;
	size_t i;
	int rc;

	if (name == NULL || *name == '\0')
		return errctx_set(ec, -EINVAL, "rule %zu: no name", b->n_rules + 1);
	for (i = 0; i < b->n_rules; i++)
		if (strcmp(b->rules[i].name, name) == 0)
			return errctx_set(ec, -EINVAL, "rule '%s': defined twice", name);
	if (!local_queue_name_valid(queue))
		return errctx_set(ec, -EINVAL, "rule '%s': invalid queue name '%s'", name,
		    queue != NULL ? queue : "");
	if (b->n_rules >= MAX_RULES)
		return errctx_set(ec, -E2BIG, "more than %d rules", MAX_RULES);
	b->rules = xreallocarray(b->rules, b->n_rules + 1, sizeof *b->rules);
	r = &b->rules[b->n_rules];
	memset(r, 0, sizeof *r);
	rc = pattern_compile(pattern, &r->pattern, ec);
	if (rc < 0)
		return errctx_prefix(ec, "rule '%s'", name);
	r->name = xstrdup(name);
	r->queue = xstrdup(queue);
	b->n_rules++;
	return 0;
}

static int
rule_add_text(struct sqlite_bus *b, const char *name, const char *pattern, const char *queue,
    struct errctx *ec)
{
	json_error_t jerr;
	json_t *j;
	int r;

	j = pattern != NULL ? json_loads(pattern, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (j == NULL)
		return errctx_set(ec, -EINVAL, "rule '%s': pattern is not valid JSON: %s",
		    name != NULL ? name : "", pattern != NULL ? jerr.text : "missing");
	r = rule_add(b, name, j, queue, ec);
	json_decref(j);
	return r;
}

static int
rules_file_load(struct sqlite_bus *b, const char *path, struct errctx *ec)
{
	json_error_t jerr;
	json_t *arr, *e;
	size_t i;
	int r = 0;

	arr = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (arr == NULL)
		return errctx_set(ec, -EINVAL, "rules file '%s': line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return errctx_set(ec, -EINVAL, "rules file '%s': expected a JSON array of rules", path);
	}
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const json_t *pattern = json_object_get(e, "pattern");

		if (!json_is_object(e) || name == NULL)
			r = errctx_set(ec, -EINVAL, "rule %zu: expected {\"name\", \"pattern\", \"queue\"}", i);
		else if (!json_is_object(pattern))
			r = errctx_set(ec, -EINVAL, "rule '%s': pattern must be an object", name);
		else
			r = rule_add(b, name, pattern, json_string_value(json_object_get(e, "queue")), ec);
		if (r < 0) {
			errctx_prefix(ec, "rules file '%s'", path);
			break;
		}
	}
	json_decref(arr);
	return r;
}

static void
format_time(int64_t usec, char buf[32])
{
	time_t sec = (time_t)(usec / 1000000);
	struct tm tm;

	(void)gmtime_r(&sec, &tm);
	(void)strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
entry_fail(struct bus_entry *e, int code, const char *kind, const char *msg)
{
	e->result = code;
	(void)snprintf(e->error, sizeof e->error, "%s: %s", kind, msg);
	return code;
}

/* Validate one entry and build its envelope text; NULL with e->result set. */
static char *
envelope_build(struct sqlite_bus *b, struct bus_entry *e, int64_t now, json_t **ret_env)
{
	char id[LOCAL_ID_STRLEN], when[32];
	json_error_t jerr;
	json_t *detail, *env;
	size_t size;

	*ret_env = NULL;
	if (e->source == NULL || *e->source == '\0' || e->detail_type == NULL || *e->detail_type == '\0') {
		entry_fail(e, -EINVAL, "InvalidArgument", "Source and DetailType are required");
		return NULL;
	}
	if (strlen(e->detail_type) > 128 || strlen(e->source) > 256) {
		entry_fail(e, -EINVAL, "InvalidArgument", "Source or DetailType too long");
		return NULL;
	}
	size = strlen(e->source) + strlen(e->detail_type) + (e->detail != NULL ? strlen(e->detail) : 0);
	if (size > BUS_MAX_BATCH_BYTES) {
		entry_fail(e, -E2BIG, "EntryTooLarge", "entry over 256 KB");
		return NULL;
	}
	detail = json_loads(e->detail != NULL ? e->detail : "{}", 0, &jerr);
	if (!json_is_object(detail)) {
		json_decref(detail);
		entry_fail(e, -EBADMSG, "MalformedDetail", "Detail is not a JSON object");
		return NULL;
	}
	local_uuid_v4(id);
	format_time(now, when);
	env = json_pack("{ss ss ss ss ss ss ss s[] so}", "version", "0", "id", id,
	    "detail-type", e->detail_type, "source", e->source, "account", b->account,
	    "time", when, "region", b->region, "resources", "detail", detail);
	if (env == NULL) {
		entry_fail(e, -EINVAL, "InvalidArgument", "Source or DetailType is not valid UTF-8");
		return NULL;
	}
	*ret_env = env;
	return json_dumps(env, JSON_COMPACT);
}

/* Deliver one envelope to each distinct queue of its matching rules. */
static int
route_locked(struct sqlite_bus *b, const json_t *env, const char *text, struct errctx *ec)
{
	const char *done[MAX_RULES];
	size_t i, j, n_done = 0;
	int r;

	for (i = 0; i < b->n_rules; i++) {
		if (!pattern_match(b->rules[i].pattern, env))
			continue;
		for (j = 0; j < n_done; j++)
			if (strcmp(done[j], b->rules[i].queue) == 0)
				break;
		if (j < n_done)
			continue;
		done[n_done++] = b->rules[i].queue;
		r = sqlite_queue_insert_locked(b->st, b->rules[i].queue, text, strlen(text), NULL, 0,
		    NULL, ec);
		if (r < 0)
			return errctx_prefix(ec, "rule '%s'", b->rules[i].name);
	}
	return 0;
}

static int
sqlite_bus_publish(struct bus *bp, struct bus_entry *entries, size_t n, struct errctx *ec)
{
	struct sqlite_bus *b = to_sqlite(bp);
	int64_t now = sqlite_state_now_usec(b->st);
	json_t **envs = xcalloc(n > 0 ? n : 1, sizeof *envs);
	char **texts = xcalloc(n > 0 ? n : 1, sizeof *texts);
	int r = 0, permanent = 0;
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		entries[i].result = 0;
		entries[i].error[0] = '\0';
		texts[i] = envelope_build(b, &entries[i], now, &envs[i]);
		if (texts[i] == NULL) {
			if (permanent == 0)
				permanent = entries[i].result;
			bad = i;
		}
	}
	sqlite_state_lock(b->st);
	r = sqlite_state_begin_locked(b->st, ec);
	for (i = 0; r == 0 && i < n; i++)
		if (texts[i] != NULL)
			r = route_locked(b, envs[i], texts[i], ec);
	if (r == 0)
		r = sqlite_state_commit_locked(b->st, ec);
	else
		sqlite_state_rollback_locked(b->st);
	sqlite_state_unlock(b->st);
	if (r == 0 && b->published_cb != NULL)
		b->published_cb(b->published_arg);
	for (i = 0; i < n; i++) {
		if (r < 0 && texts[i] != NULL)
			entry_fail(&entries[i], r, r == -EAGAIN ? "ThrottlingException" : "InternalFailure",
			    errctx_msg(ec));
		free(texts[i]);
		json_decref(envs[i]);
	}
	free(texts);
	free(envs);
	if (r < 0)
		return errctx_prefix(ec, "publish");
	if (permanent < 0)
		return errctx_set(ec, permanent, "publish: entry %zu: %s", bad, entries[bad].error);
	return 0;
}

static int
sqlite_bus_preflight(struct bus *bp, struct errctx *ec)
{
	return sqlite_state_check(to_sqlite(bp)->st, ec);
}

static void
sqlite_bus_free(struct bus *bp)
{
	struct sqlite_bus *b = to_sqlite(bp);
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_rules; i++) {
		free(b->rules[i].name);
		free(b->rules[i].queue);
		pattern_free(b->rules[i].pattern);
	}
	free(b->rules);
	sqlite_state_free(b->st);
	free(b->account);
	free(b->region);
	free(b);
}

static const struct bus_ops sqlite_bus_ops = {
	.name = "sqlite",
	.publish = sqlite_bus_publish,
	.preflight = sqlite_bus_preflight,
	.free = sqlite_bus_free,
};

int
sqlite_bus_new(const struct sqlite_bus_options *o, struct bus **ret, struct errctx *ec)
{
	struct sqlite_bus *b;
	size_t i;
	int r = 0;

	*ret = NULL;
	b = xcalloc(1, sizeof *b);
	b->pub.ops = &sqlite_bus_ops;
	b->account = xstrdup(o->account != NULL ? o->account : SQLITE_BUS_DEFAULT_ACCOUNT);
	b->region = xstrdup(o->region != NULL ? o->region : SQLITE_BUS_DEFAULT_REGION);
	b->published_cb = o->published_cb;
	b->published_arg = o->published_arg;
	if (o->default_queue != NULL)
		r = rule_add_text(b, SQLITE_BUS_DEFAULT_RULE,
		    "{\"source\": [{\"prefix\": \"alchemiser.\"}]}", o->default_queue, ec);
	for (i = 0; r == 0 && i < o->n_rules; i++)
		r = rule_add_text(b, o->rules[i].name, o->rules[i].pattern, o->rules[i].queue, ec);
	if (r == 0 && o->rules_file != NULL)
		r = rules_file_load(b, o->rules_file, ec);
	if (r == 0 && o->state != NULL)
		b->st = sqlite_state_ref(o->state);
	else if (r == 0)
		r = sqlite_state_open(o->path, o->busy_timeout_usec, &b->st, ec);
	if (r < 0) {
		sqlite_bus_free(&b->pub);
		return errctx_prefix(ec, "sqlite bus");
	}
	if (o->state == NULL || o->clock != NULL)
		sqlite_state_set_clock(b->st, o->clock, o->clock_arg);
	*ret = &b->pub;
	return 0;
}

int
sqlite_bus_test_event(struct bus *bp, const char *event_json, FILE *out, struct errctx *ec)
{
	struct sqlite_bus *b = to_sqlite(bp);
	json_error_t jerr;
	json_t *ev;
	size_t i;
	int n = 0;

	ev = json_loads(event_json, 0, &jerr);
	if (!json_is_object(ev)) {
		json_decref(ev);
		return errctx_set(ec, -EINVAL, "event: %s", ev == NULL ? jerr.text : "expected a JSON object");
	}
	for (i = 0; i < b->n_rules; i++)
		if (pattern_match(b->rules[i].pattern, ev)) {
			fprintf(out, "%s -> %s\n", b->rules[i].name, b->rules[i].queue);
			n++;
		}
	json_decref(ev);
	return n;
}
