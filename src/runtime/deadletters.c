/*
 * deadletters: the --dead-letters command on either backend. Both backends'
 * parked messages become one struct dead_letter, so listing and showing are
 * written once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/aws/sqs_dlq.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/deadletters.h"
#include "alchemiser/runtime/runsource.h"

/* At most this many messages are read for list and show. */
#define DEADLETTERS_MAX 1000

struct dead_letter {
	const char	*id;
	const char	*original_id;	/* NULL if the same or unknown */
	const char	*reason;	/* NULL if none was recorded */
	const char	*body;
	const json_t	*attributes;	/* NULL on SQS (shown by the reason) */
	unsigned	 receive_count;
	int64_t		 parked_usec;
};

/* What one backend read: the records point into its own arrays. */
struct dead_letters {
	struct dead_letter		*v;
	size_t				 n;
	uint64_t			 total;		/* the queue's count (may exceed n) */
	const char			*where;		/* queue name or URL */
	struct sqlite_queue_parked	*local;
	struct sqs_dlq_message		*sqs;
	json_t				*park_records;	/* SQS: the daemons' records (reasons) */
	size_t				 n_backend;
};

int
deadletters_action_from_string(const char *s)
{
	static const char *const names[_DEADLETTERS_ACTION_MAX] = {
		[DEADLETTERS_LIST] = "list", [DEADLETTERS_SHOW] = "show",
		[DEADLETTERS_REDRIVE] = "redrive",
	};
	int i;

	for (i = 0; i < _DEADLETTERS_ACTION_MAX; i++)
		if (s != NULL && strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

static bool
is_local(const struct backends *b)
{
	return strcmp(b->kind, "local") == 0;
}

static int
read_local(struct backends *b, const struct config *cfg, struct dead_letters *d, struct errctx *ec)
{
	struct sqlite_state *st = sqlite_transport_state(b->transport);
	struct sqlite_queue_counts counts;
	size_t i;
	int r;

	d->where = config_str(cfg, "local.dead_letter_queue");
	r = sqlite_queue_count(st, d->where, &counts, ec);
	if (r < 0)
		return r;
	d->total = counts.visible + counts.in_flight + counts.delayed;
	r = sqlite_queue_list_parked(st, d->where, DEADLETTERS_MAX, &d->local, &d->n_backend, ec);
	if (r < 0)
		return r;
	d->v = xcalloc(d->n_backend + 1, sizeof *d->v);
	for (i = 0; i < d->n_backend; i++) {
		const struct sqlite_queue_parked *p = &d->local[i];

		d->v[i] = (struct dead_letter){
			.id = p->message_id, .reason = p->reason, .body = p->body,
			.attributes = p->attributes, .receive_count = p->receive_count,
			.parked_usec = p->parked_usec,
		};
	}
	d->n = d->n_backend;
	return 0;
}

static const json_t *
park_record(const json_t *records, const char *message_id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(records, i, v)
		if (strcmp(json_string_value(json_object_get(v, "message_id")) ?: "", message_id) == 0)
			return v;
	return NULL;
}

static int
read_sqs(struct backends *b, const struct config *cfg, struct dead_letters *d, struct errctx *ec)
{
	uint64_t visible = 0, in_flight = 0;
	struct errctx pec = { 0 };
	const json_t *rec;
	size_t i;
	int r;

	d->where = config_str(cfg, "aws.dead_letter_queue_url");
	r = sqs_dlq_count(b->transport, &visible, &in_flight, ec);
	if (r < 0)
		return r;
	d->total = visible + in_flight;
	r = sqs_dlq_peek(b->transport, DEADLETTERS_MAX, &d->sqs, &d->n_backend, ec);
	if (r < 0)
		return r;
	/* A message SQS parked itself carries no reason; the DLQ watcher's park
	 * record (runtime/dlq_watch.h) says what became of its run. Without the
	 * records the list still stands. */
	if (runsource_list_parked(cfg, b, &d->park_records, &pec) < 0)
		log_debug("--dead-letters: no park records: %s", errctx_msg(&pec));
	d->v = xcalloc(d->n_backend + 1, sizeof *d->v);
	for (i = 0; i < d->n_backend; i++) {
		const struct sqs_dlq_message *m = &d->sqs[i];

		d->v[i] = (struct dead_letter){
			.id = m->message_id, .original_id = m->source_message_id, .reason = m->reason,
			.body = m->body, .receive_count = m->receive_count, .parked_usec = m->parked_usec,
		};
		if (m->reason == NULL && (rec = park_record(d->park_records, m->message_id)) != NULL) {
			d->v[i].reason = json_string_value(json_object_get(rec, "reason"));
			d->v[i].receive_count = (unsigned)json_integer_value(json_object_get(rec,
			    "receive_count"));
		}
	}
	d->n = d->n_backend;
	return 0;
}

static void
dead_letters_clear(struct dead_letters *d)
{
	sqlite_queue_parked_free(d->local, d->local != NULL ? d->n_backend : 0);
	sqs_dlq_messages_free(d->sqs, d->sqs != NULL ? d->n_backend : 0);
	json_decref(d->park_records);
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* Untrusted text for a terminal: control characters escaped, cut at size. */
static const char *
safe(const char *s, char *buf, size_t size)
{
	if (s == NULL)
		return "-";
	return log_escape(s, strlen(s), buf, size);
}

static const char *
when(int64_t usec, char *buf)
{
	if (usec <= 0)
		return "-";
	/* Whole seconds: the list is for reading. */
	return time_format_rfc3339(usec - usec % USEC_PER_SEC, buf);
}

static void
print_list(const struct dead_letters *d, FILE *out)
{
	char ts[RFC3339_STRLEN], reason[160];
	size_t i, j;

	fprintf(out, "%llu message(s) in the dead-letter queue %s\n", (unsigned long long)d->total,
	    d->where);
	if (d->n == 0)
		return;
	fprintf(out, "%-36s  %8s  %-20s  %s\n", "MESSAGE ID", "RECEIVES", "PARKED", "REASON");
	for (i = 0; i < d->n; i++)
		fprintf(out, "%-36s  %8u  %-20s  %s\n", d->v[i].id, d->v[i].receive_count,
		    when(d->v[i].parked_usec, ts), safe(d->v[i].reason, reason, sizeof reason));
	fprintf(out, "\nby reason:\n");
	/* Quadratic, and bounded by DEADLETTERS_MAX: a summary for a person. */
	for (i = 0; i < d->n; i++) {
		const char *ri = d->v[i].reason != NULL ? d->v[i].reason : "";
		size_t count = 0;
		bool first = true;

		for (j = 0; j < d->n; j++) {
			const char *rj = d->v[j].reason != NULL ? d->v[j].reason : "";

			if (strcmp(ri, rj) != 0)
				continue;
			if (j < i)
				first = false;
			count++;
		}
		if (first)
			fprintf(out, "%6zu  %s\n", count, ri[0] != '\0' ? safe(ri, reason, sizeof reason) :
			    "(no reason recorded: moved by the queue after too many receives)");
	}
}

static const struct dead_letter *
find(const struct dead_letters *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].id, id) == 0 ||
		    (d->v[i].original_id != NULL && strcmp(d->v[i].original_id, id) == 0))
			return &d->v[i];
	return NULL;
}

static void
print_one(const struct dead_letter *m, FILE *out)
{
	char ts[RFC3339_STRLEN], reason[1024];
	size_t i;

	fprintf(out, "message id:    %s\n", m->id);
	if (m->original_id != NULL)
		fprintf(out, "original id:   %s\n", m->original_id);
	fprintf(out, "reason:        %s\n", safe(m->reason, reason, sizeof reason));
	fprintf(out, "receive count: %u\n", m->receive_count);
	fprintf(out, "parked:        %s\n", when(m->parked_usec, ts));
	if (m->attributes != NULL) {
		char *a = json_dumps(m->attributes, JSON_COMPACT | JSON_SORT_KEYS);

		fprintf(out, "attributes:    %s\n", safe(a, reason, sizeof reason));
		free(a);
	}
	fputc('\n', out);
	/* The body whole; only bytes a terminal would act on are shown as \xNN. */
	for (i = 0; m->body[i] != '\0'; i++) {
		unsigned char c = (unsigned char)m->body[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('\n', out);
}

static int
redrive(struct backends *b, const struct config *cfg, const char *id, FILE *out,
    struct errctx *ec)
{
	uint64_t moved = 0;
	int r;

	if (is_local(b)) {
		r = sqlite_queue_redrive_message(sqlite_transport_state(b->transport),
		    config_str(cfg, "local.dead_letter_queue"), id, &moved, ec);
		if (r < 0)
			return r;
		fprintf(out, "moved %llu message(s) back to %s\n", (unsigned long long)moved,
		    config_str(cfg, "local.queue"));
	} else {
		enum sqs_redrive_method method;
		char why[256];

		r = sqs_dlq_redrive(b->transport, id, true, &moved, &method, why, sizeof why, ec);
		if (why[0] != '\0')
			fprintf(out, "no message-move task (%s): moving the messages one by one\n", why);
		if (r < 0)
			return r;
		fprintf(out, "moved %llu message(s) back to %s (%s)\n", (unsigned long long)moved,
		    config_str(cfg, "aws.queue_url"), sqs_redrive_method_to_string(method));
		if (moved > 0) {
			struct errctx fec = { 0 };
			size_t forgot = 0;

			/* The dashboard's records of them (runsource.h); the move stands either way. */
			if (runsource_forget_parked(cfg, b, id, &forgot, &fec) < 0)
				fprintf(out, "the dashboard's park records were not updated: %s\n",
				    errctx_msg(&fec));
		}
	}
	if (id != NULL && moved == 0)
		return errctx_set(ec, -ENOENT, "no message %s in the dead-letter queue", id);
	return 0;
}

int
deadletters_run(struct config *cfg, enum deadletters_action action, const char *id, FILE *out,
    FILE *err)
{
	struct event_base *base = event_base_new();
	struct dead_letters d = { 0 };
	struct backends *b = NULL;
	const struct dead_letter *m;
	struct errctx ec = { 0 };
	int r;

	r = backends_open(cfg, base, &b, &ec);
	if (r < 0)
		goto out;
	if (action == DEADLETTERS_REDRIVE) {
		r = redrive(b, cfg, id, out, &ec);
		goto out;
	}
	r = is_local(b) ? read_local(b, cfg, &d, &ec) : read_sqs(b, cfg, &d, &ec);
	if (r < 0)
		goto out;
	if (action == DEADLETTERS_LIST)
		print_list(&d, out);
	else if ((m = find(&d, id)) != NULL)
		print_one(m, out);
	else
		r = errctx_set(&ec, -ENOENT, "no message %s in the dead-letter queue %s", id, d.where);
out:
	if (r < 0)
		fprintf(err, "alchemiserd: --dead-letters: %s\n", errctx_msg(&ec));
	dead_letters_clear(&d);
	backends_close(b);
	event_base_free(base);
	return r < 0 ? 1 : 0;
}
