/* The dashboard's record source per backend: see include/alchemiser/runtime/runsource.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/dynamodb_runs.h"
#include "alchemiser/aws/sqs_dlq.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/local/sqlite_runs.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/dashboard.h"
#include "alchemiser/runtime/pagework.h"
#include "alchemiser/runtime/runsource.h"
#include "alchemiser/seams/bus.h"

#define PRUNE_EVERY_USEC	(INT64_C(3600) * USEC_PER_SEC)

struct runsource;

/* The backends' bus with every published event also recorded. */
struct runs_bus {
	struct bus		 base;
	struct bus		*inner;
	struct runsource	*rs;
};

struct runsource {
	struct dashboard_source	 src;
	struct backends		*b;
	struct runs_bus		*bus;		/* installed as b->bus; NULL = none */
	/* local */
	struct sqlite_state	*st;
	char			*dlq;
	int64_t			 archive_age_usec;
	uint64_t		 archive_max;
	_Atomic int64_t		 last_prune_usec;	/* monotonic; 0 = never */
	/* aws */
	struct dynamodb_runs	*ddb;
	struct pagework		*bg;		/* writes park records off the loop */
};

/* ---- local ---------------------------------------------------------------- */

static int
local_runs_list(void *arg, size_t max, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;

	return sqlite_runs_list(rs->st, max, ret, ec);
}

static int
local_runs_events(void *arg, const char *correlation_id, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;

	return sqlite_runs_events(rs->st, correlation_id, ret, ec);
}

static int
local_dead_letters(void *arg, size_t max, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;
	struct sqlite_queue_parked *p = NULL;
	struct sqlite_queue_counts c;
	json_t *msgs;
	size_t n = 0, i;
	int r;

	*ret = NULL;
	r = sqlite_queue_count(rs->st, rs->dlq, &c, ec);
	if (r < 0)
		return r;
	r = sqlite_queue_list_parked(rs->st, rs->dlq, max, &p, &n, ec);
	if (r < 0)
		return r;
	msgs = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(msgs, json_pack("{s:s, s:I, s:I, s:s?, s:s}", "message_id",
		    p[i].message_id, "receive_count", (json_int_t)p[i].receive_count, "parked_usec",
		    (json_int_t)p[i].parked_usec, "reason", p[i].reason, "body", p[i].body));
	sqlite_queue_parked_free(p, n);
	*ret = json_pack("{s:I, s:o}", "total", (json_int_t)(c.visible + c.in_flight + c.delayed),
	    "messages", msgs);
	return 0;
}

/* After a run's last event, at most once per PRUNE_EVERY_USEC per daemon. */
static void
local_maybe_prune(struct runsource *rs)
{
	int64_t now = time_now_monotonic_usec(), last = atomic_load(&rs->last_prune_usec);
	struct errctx ec = { 0 };
	uint64_t removed = 0;

	if ((last != 0 && now - last < PRUNE_EVERY_USEC) ||
	    !atomic_compare_exchange_strong(&rs->last_prune_usec, &last, now))
		return;
	if (sqlite_runs_prune(rs->st, time_now_realtime_usec() - rs->archive_age_usec, rs->archive_max,
	    &removed, &ec) < 0)
		log_warning("run archive (%s) not pruned: %s", SQLITE_RUNS_QUEUE, errctx_msg(&ec));
	else if (removed > 0)
		log_info("run archive (%s): %llu old event(s) deleted", SQLITE_RUNS_QUEUE,
		    (unsigned long long)removed);
}

/* ---- aws ------------------------------------------------------------------ */

static int
aws_runs_list(void *arg, size_t max, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;

	return dynamodb_runs_list(rs->ddb, time_now_realtime_usec(), max, ret, ec);
}

static int
aws_runs_events(void *arg, const char *correlation_id, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;

	return dynamodb_runs_events(rs->ddb, correlation_id, ret, ec);
}

static int
aws_dead_letters(void *arg, size_t max, json_t **ret, struct errctx *ec)
{
	struct runsource *rs = arg;
	uint64_t visible = 0, in_flight = 0, total;
	json_t *msgs = NULL;
	int r;

	*ret = NULL;
	r = sqs_dlq_count(rs->b->transport, &visible, &in_flight, ec);
	if (r < 0)
		return r;
	r = dynamodb_runs_parked(rs->ddb, time_now_realtime_usec(), max, &msgs, ec);
	if (r < 0)
		return r;
	total = visible + in_flight;
	*ret = json_pack("{s:I, s:o}", "total", (json_int_t)total, "messages", msgs);
	if (json_array_size(msgs) != total) {
		char *note = xasprintf("The queue holds %llu message(s) (SQS's approximate count); "
		    "the daemons recorded %zu parking(s) that were not moved back. The difference is "
		    "messages SQS moved there itself (its redrive policy, after too many receives), "
		    "parked before aws.runs_table was set, or moved back without this tool: "
		    "alchemiserd --dead-letters list reads the queue itself (which receives the "
		    "messages, so a page never does).", (unsigned long long)total, json_array_size(msgs));

		json_object_set_new(*ret, "note", json_string(note));
		free(note);
	}
	return 0;
}

struct park_task {
	struct runsource	*rs;
	char			*message_id, *reason, *body;
	unsigned		 receive_count;
	int64_t			 time_usec;
};

static void
park_fn(void *arg)
{
	struct park_task *t = arg;
	struct errctx ec = { 0 };

	if (dynamodb_runs_park(t->rs->ddb, t->message_id, t->reason, t->receive_count, t->body,
	    t->time_usec, &ec) < 0)
		log_warning("the dashboard's record of parked message %s not written: %s",
		    t->message_id, errctx_msg(&ec));
}

static void
park_done_cb(void *arg, bool cancelled)
{
	struct park_task *t = arg;

	if (cancelled)
		log_warning("the dashboard's record of parked message %s not written: stopping",
		    t->message_id);
	free(t->message_id);
	free(t->reason);
	free(t->body);
	free(t);
}

/* ---- the bus that records ------------------------------------------------- */

static int
runs_bus_publish(struct bus *bb, struct bus_entry *entries, size_t n, struct errctx *ec)
{
	struct runs_bus *b = (struct runs_bus *)bb;
	struct runsource *rs = b->rs;
	bool run_ended = false;
	size_t i;
	int r;

	r = b->inner->ops->publish(b->inner, entries, n, ec);
	for (i = 0; i < n; i++) {
		if (entries[i].result != 0)
			continue;
		if (strcmp(entries[i].detail_type, "WorkflowCompleted") == 0 ||
		    strcmp(entries[i].detail_type, "WorkflowFailed") == 0)
			run_ended = true;
		if (rs->ddb != NULL) {
			struct errctx rec = { 0 };

			/* The event is out: a record that fails is the dashboard's loss,
			 * never a reason to run the step again. */
			if (dynamodb_runs_record(rs->ddb, entries[i].detail_type, entries[i].detail,
			    time_now_realtime_usec(), &rec) < 0)
				log_warning("%s not recorded for the dashboard: %s", entries[i].detail_type,
				    errctx_msg(&rec));
		}
	}
	if (run_ended && rs->st != NULL)
		local_maybe_prune(rs);
	return r;
}

static int
runs_bus_preflight(struct bus *bb, struct errctx *ec)
{
	struct runs_bus *b = (struct runs_bus *)bb;

	return b->inner->ops->preflight(b->inner, ec);
}

static void
runs_bus_free(struct bus *bb)
{
	struct runs_bus *b = (struct runs_bus *)bb;

	b->inner->ops->free(b->inner);
	free(b);
}

static const struct bus_ops runs_bus_ops = {
	.name = "runs",
	.publish = runs_bus_publish,
	.preflight = runs_bus_preflight,
	.free = runs_bus_free,
};

static void
wrap_bus(struct runsource *rs)
{
	struct runs_bus *b = xcalloc(1, sizeof *b);

	b->base.ops = &runs_bus_ops;
	b->inner = rs->b->bus;
	b->rs = rs;
	rs->b->bus = &b->base;
	rs->bus = b;
}

/* ---- the source ----------------------------------------------------------- */

static void
ddb_options(const struct config *cfg, struct dynamodb_runs_options *o)
{
	const char *ep = config_str(cfg, "aws.dynamodb_endpoint"), *ca = config_str(cfg, "aws.ca_file");

	*o = (struct dynamodb_runs_options){
		.region = config_str(cfg, "aws.region"), .endpoint = ep[0] != '\0' ? ep : NULL,
		.table_name = config_str(cfg, "aws.runs_table"),
		.connect_timeout_usec = config_usec(cfg, "aws.connect_timeout"),
		.timeout_usec = config_usec(cfg, "aws.request_timeout"),
		.max_attempts = (unsigned)config_int(cfg, "aws.max_attempts"),
		.ca_file = ca[0] != '\0' ? ca : NULL,
		.retention_usec = config_usec(cfg, "aws.runs_retention"),
	};
}

/* The park records' store for a one-shot command: *ret NULL (and 0) when
 * the backend keeps none (not aws, or no runs table). */
static int
parked_store_open(const struct config *cfg, struct backends *b, struct dynamodb_runs **ret,
    struct errctx *ec)
{
	struct dynamodb_runs_options o;

	*ret = NULL;
	if (strcmp(b->kind, "aws") != 0 || config_str(cfg, "aws.runs_table")[0] == '\0')
		return 0;
	ddb_options(cfg, &o);
	return dynamodb_runs_new(&o, b->aws_credentials, ret, ec);
}

int
runsource_forget_parked(const struct config *cfg, struct backends *b, const char *message_id,
    size_t *removed, struct errctx *ec)
{
	struct dynamodb_runs *ddb;
	int r;

	*removed = 0;
	r = parked_store_open(cfg, b, &ddb, ec);
	if (r == 0 && ddb != NULL)
		r = dynamodb_runs_unpark(ddb, message_id, time_now_realtime_usec(), removed, ec);
	dynamodb_runs_free(ddb);
	return r;
}

int
runsource_list_parked(const struct config *cfg, struct backends *b, json_t **ret,
    struct errctx *ec)
{
	struct dynamodb_runs *ddb;
	int r;

	*ret = NULL;
	r = parked_store_open(cfg, b, &ddb, ec);
	if (r == 0 && ddb != NULL)
		r = dynamodb_runs_parked(ddb, time_now_realtime_usec(), SIZE_MAX, ret, ec);
	dynamodb_runs_free(ddb);
	return r;
}

int
runsource_new(const struct config *cfg, struct backends *b, struct event_base *base,
    struct runsource **ret, struct errctx *ec)
{
	struct runsource *rs = xcalloc(1, sizeof *rs);
	int r;

	rs->b = b;
	rs->src.arg = rs;
	if (strcmp(b->kind, "local") == 0) {
		rs->st = sqlite_transport_state(b->transport);
		rs->dlq = xstrdup(config_str(cfg, "local.dead_letter_queue"));
		rs->archive_age_usec = config_usec(cfg, "local.run_archive_age");
		rs->archive_max = (uint64_t)config_int(cfg, "local.run_archive_max");
		rs->src.runs_list = local_runs_list;
		rs->src.runs_events = local_runs_events;
		rs->src.dead_letters = local_dead_letters;
		wrap_bus(rs);
	} else if (config_str(cfg, "aws.runs_table")[0] != '\0') {
		struct dynamodb_runs_options o;

		ddb_options(cfg, &o);
		r = dynamodb_runs_new(&o, b->aws_credentials, &rs->ddb, ec);
		if (r == 0)
			r = pagework_new(base, 1, &rs->bg, ec);
		if (r < 0) {
			runsource_free(rs);
			return errctx_prefix(ec, "aws.runs_table");
		}
		rs->src.runs_list = aws_runs_list;
		rs->src.runs_events = aws_runs_events;
		rs->src.dead_letters = aws_dead_letters;
		wrap_bus(rs);
	} else
		rs->src.missing = "Run records on AWS need aws.runs_table (see alchemiserd.conf(5)).";
	*ret = rs;
	return 0;
}

const struct dashboard_source *
runsource_get(const struct runsource *rs)
{
	return &rs->src;
}

void
runsource_parked(struct runsource *rs, const char *message_id, const char *reason,
    unsigned receive_count, const char *body)
{
	struct park_task *t;

	if (rs == NULL || rs->ddb == NULL || message_id == NULL)
		return;
	t = xcalloc(1, sizeof *t);
	*t = (struct park_task){ .rs = rs, .message_id = xstrdup(message_id),
		.reason = reason != NULL ? xstrdup(reason) : NULL, .body = xstrdup(body != NULL ? body : ""),
		.receive_count = receive_count, .time_usec = time_now_realtime_usec() };
	if (pagework_submit(rs->bg, park_fn, park_done_cb, t) < 0)
		park_done_cb(t, true);
}

int
runsource_park_now(struct runsource *rs, const char *message_id, const char *reason,
    unsigned receive_count, const char *body, struct errctx *ec)
{
	if (rs == NULL || rs->ddb == NULL || message_id == NULL)
		return 0;
	return dynamodb_runs_park(rs->ddb, message_id, reason, receive_count, body,
	    time_now_realtime_usec(), ec);
}

void
runsource_free(struct runsource *rs)
{
	if (rs == NULL)
		return;
	pagework_free(rs->bg);
	if (rs->bus != NULL) {
		/* Give the backends their own bus back. */
		rs->b->bus = rs->bus->inner;
		free(rs->bus);
	}
	dynamodb_runs_free(rs->ddb);
	free(rs->dlq);
	free(rs);
}
