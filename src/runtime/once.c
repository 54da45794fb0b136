/*
 * once: the runs a --once process waits for (see once.h). Only the stage of
 * each outcome and, for the trading email, its trading_success flag decide:
 * the steps themselves are the pipeline's business.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/runtime/once.h"

enum run_state {
	RUN_ACTIVE,
	RUN_SUCCEEDED,
	RUN_FAILED,
	RUN_REJECTED,
	RUN_HANDLED,		/* a run-less retried message that was delivered again */
	_RUN_STATE_MAX
};

struct once_run {
	char		*id;		/* correlation id, or "message body <hash>" */
	enum run_state	 state;
	bool		 failed;	/* WorkflowFailed seen: the error email ends it */
	bool		 trading_mail;
};

struct once_tracker {
	struct once_run	*runs;
	size_t		 n, cap;
	size_t		 rejected;	/* messages parked */
	/* Open addressing over runs by id: slot = run index + 1, 0 empty.
	 * Why: --once on a backlog of distinct runs looked each one up in a
	 * list, quadratic in the backlog (13 % of a 12k-message drain). */
	size_t		*index;
	size_t		 index_cap;	/* a power of two, > 2 n */
	size_t		 n_body;	/* runs keyed by a message body (body_key) */
};

#define BODY_KEY_PREFIX "message body "


struct once_tracker *
once_tracker_new(void)
{
	return xcalloc(1, sizeof(struct once_tracker));
}

void
once_tracker_free(struct once_tracker *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->runs[i].id);
	free(t->runs);
	free(t->index);
	free(t);
}

static size_t
id_hash(const char *id)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *id != '\0'; id++) {
		h ^= (unsigned char)*id;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

/* The slot of id in the index: its run, or the empty slot where it goes. */
static size_t *
index_slot(struct once_tracker *t, const char *id)
{
	size_t mask = t->index_cap - 1, i = id_hash(id) & mask;

	while (t->index[i] != 0 && strcmp(t->runs[t->index[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return &t->index[i];
}

static void
index_grow(struct once_tracker *t)
{
	size_t i;

	t->index_cap = t->index_cap ? t->index_cap * 2 : 16;
	free(t->index);
	t->index = xcalloc(t->index_cap, sizeof *t->index);
	for (i = 0; i < t->n; i++)
		*index_slot(t, t->runs[i].id) = i + 1;
}

static struct once_run *
find_run(struct once_tracker *t, const char *id)
{
	size_t *slot;

	if (t->index_cap == 0)
		return NULL;
	slot = index_slot(t, id);
	return *slot != 0 ? &t->runs[*slot - 1] : NULL;
}

static struct once_run *
ensure_run(struct once_tracker *t, const char *id)
{
	struct once_run *r = find_run(t, id);

	if (r != NULL)
		return r;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->runs = xreallocarray(t->runs, t->cap, sizeof *t->runs);
	}
	r = &t->runs[t->n++];
	memset(r, 0, sizeof *r);
	r->id = xstrdup(id);
	r->state = RUN_ACTIVE;
	if (strncmp(id, BODY_KEY_PREFIX, strlen(BODY_KEY_PREFIX)) == 0)
		t->n_body++;
	if (2 * t->n >= t->index_cap)
		index_grow(t);
	else
		*index_slot(t, id) = t->n;
	return r;
}

/* FNV-1a: a redelivery (or the re-queued --once body) has the same text. */
static void
body_key(const struct once_observation *o, char *buf, size_t size)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; o->body != NULL && i < o->body_len; i++) {
		h ^= (unsigned char)o->body[i];
		h *= UINT64_C(1099511628211);
	}
	(void)snprintf(buf, size, BODY_KEY_PREFIX "%016" PRIx64, h);
}

/* The trading email of a failed trade (TradeExecuted with success false)
 * goes out beside the error email: the run is failed, not done. */
static bool
trading_mail_reports_failure(const struct once_observation *o)
{
	struct route *rt;
	bool failed = false;

	if (o->body == NULL)
		return false;
	rt = route_message(o->body, o->body_len, NULL);
	if (rt->event != NULL)
		failed = json_is_false(domain_event_get(rt->event, "trading_success"));
	route_free(rt);
	return failed;
}

static bool
is(const char *handler, const char *name)
{
	return handler != NULL && strcmp(handler, name) == 0;
}

void
once_observe(struct once_tracker *t, const struct once_observation *o)
{
	struct once_run *run, *pending = NULL;
	char key[64] = "";

	/* Why only then: hashing every body cost a --once drain 1 % (issue #13);
	 * a done message needs it only when some run is keyed by a body. */
	if (t->n_body > 0 || o->outcome == OUTCOME_RETRY || o->correlation_id == NULL) {
		body_key(o, key, sizeof key);
		pending = find_run(t, key);
	}
	if (o->outcome == OUTCOME_REJECT) {
		t->rejected++;
		if (pending != NULL && pending->state == RUN_ACTIVE)
			pending->state = RUN_REJECTED;
		/* The run cannot go on without the parked message. */
		if (o->correlation_id != NULL) {
			run = ensure_run(t, o->correlation_id);
			if (run->state == RUN_ACTIVE)
				run->state = RUN_REJECTED;
		}
		return;
	}
	if (o->outcome == OUTCOME_RETRY) {
		/* It comes back (after its back-off, or from the queue for a
		 * re-queued --once body): wait for it. */
		(void)ensure_run(t, o->correlation_id != NULL ? o->correlation_id : key);
		return;
	}
	/* done or duplicate */
	if (pending != NULL && pending->state == RUN_ACTIVE)
		pending->state = RUN_HANDLED;
	if (o->correlation_id == NULL)
		return;
	if (is(o->handler, "notify") || is(o->handler, "error-mail")) {
		/* An ending step: it ends a run we follow, it never starts one. */
		run = find_run(t, o->correlation_id);
		if (run == NULL || run->state != RUN_ACTIVE)
			return;
		if (is(o->handler, "error-mail"))
			run->state = RUN_FAILED;
		else {
			run->trading_mail = true;
			if (trading_mail_reports_failure(o))
				run->failed = true;
			else if (!run->failed)
				run->state = RUN_SUCCEEDED;
		}
		return;
	}
	if (is(o->handler, "completed") || is(o->handler, "pnl"))
		return;
	/* A copy of a command that already ran started nothing here. */
	if (is(o->handler, "start") && o->outcome == OUTCOME_DUPLICATE)
		return;
	run = ensure_run(t, o->correlation_id);
	if (is(o->handler, "errors") && run->state == RUN_ACTIVE)
		run->failed = true;
}

size_t
once_unfinished(const struct once_tracker *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->runs[i].state == RUN_ACTIVE;
	return n;
}

char *
once_unfinished_list(const struct once_tracker *t, size_t max)
{
	char *buf = NULL;
	size_t len = 0, i, shown = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return xstrdup("");
	for (i = 0; i < t->n; i++) {
		if (t->runs[i].state != RUN_ACTIVE)
			continue;
		if (shown == max) {
			fputs(", ...", f);
			break;
		}
		fprintf(f, "%s%s", shown > 0 ? ", " : "", t->runs[i].id);
		shown++;
	}
	fclose(f);
	return buf;
}

void
once_counts(const struct once_tracker *t, size_t *succeeded, size_t *failed, size_t *rejected)
{
	size_t i;

	*succeeded = *failed = 0;
	for (i = 0; i < t->n; i++) {
		*succeeded += t->runs[i].state == RUN_SUCCEEDED;
		*failed += t->runs[i].state == RUN_FAILED;
	}
	*rejected = t->rejected;
}

int
once_exit_code(const struct once_tracker *t)
{
	size_t ok, failed, rejected;

	if (once_unfinished(t) > 0)
		return ONCE_EXIT_TIMEOUT;
	once_counts(t, &ok, &failed, &rejected);
	if (failed > 0)
		return ONCE_EXIT_RUN_FAILED;
	if (rejected > 0)
		return ONCE_EXIT_REJECTED;
	return ONCE_EXIT_OK;
}
