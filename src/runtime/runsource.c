/* The dashboard's record source per backend: see include/alchemiser/runtime/runsource.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/local/sqlite_runs.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/dashboard.h"
#include "alchemiser/runtime/runsource.h"

struct runsource {
	struct dashboard_source	 src;
	struct backends		*b;
	struct sqlite_state	*st;		/* local */
	char			*dlq;		/* local: the embedded DLQ's name */
};

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

int
runsource_new(const struct config *cfg, struct backends *b, struct runsource **ret,
    struct errctx *ec)
{
	struct runsource *rs = xcalloc(1, sizeof *rs);

	(void)ec;
	rs->b = b;
	rs->src.arg = rs;
	if (strcmp(b->kind, "local") == 0) {
		rs->st = sqlite_transport_state(b->transport);
		rs->dlq = xstrdup(config_str(cfg, "local.dead_letter_queue"));
		rs->src.runs_list = local_runs_list;
		rs->src.runs_events = local_runs_events;
		rs->src.dead_letters = local_dead_letters;
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
	(void)rs;
	(void)message_id;
	(void)reason;
	(void)receive_count;
	(void)body;
}

void
runsource_free(struct runsource *rs)
{
	if (rs == NULL)
		return;
	free(rs->dlq);
	free(rs);
}
