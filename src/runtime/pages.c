/*
 * pages: what the HTTP listener serves. /metrics is the Prometheus text;
 * every other path is the dashboard's (dashboard.h) or 404. The callback runs
 * on the loop thread; a page that may block is rendered by a page thread
 * (pagework.h) and answered when it is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/dashboard.h"
#include "alchemiser/runtime/httpd.h"
#include "alchemiser/runtime/metrics.h"
#include "alchemiser/runtime/pagework.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/runtime/runsource.h"
#include "runtime_internal.h"

/* The embedded dead-letter queue's depth, read at scrape time (one indexed
 * count in the state file). On SQS that is a network call the loop must not
 * wait for: alert on the queue's CloudWatch metric there. */
static void
append_dead_letters(struct runtime *rt, struct httpd_reply *reply)
{
	struct sqlite_queue_counts c;
	struct errctx ec = { 0 };
	struct textbuf b = { 0 };

	if (strcmp(rt->b->kind, "local") != 0 ||
	    sqlite_queue_count(sqlite_transport_state(rt->b->transport),
	    config_str(rt->cfg, "local.dead_letter_queue"), &c, &ec) < 0)
		return;
	textbuf_append_len(&b, reply->body, reply->body_len);
	textbuf_printf(&b, "# HELP alchemiserd_dead_letter_messages Messages parked in the embedded "
	    "dead-letter queue.\n# TYPE alchemiserd_dead_letter_messages gauge\n"
	    "alchemiserd_dead_letter_messages %llu\n",
	    (unsigned long long)(c.visible + c.in_flight + c.delayed));
	free(reply->body);
	reply->body = textbuf_take(&b, &reply->body_len);
}

/* A page rendered on a page thread: what it reads, copied or borrowed
 * from objects that outlive the page threads (the backends, the config
 * snapshot it holds a reference on). */
struct page_task {
	struct httpd_pending	*pending;
	struct config		*cfg;		/* ref */
	struct dashboard_ctx	 c;
	struct metrics_summary	 summary;
	char			 path[HTTPD_PATH_MAX];
	struct httpd_reply	 reply;
};

static void
page_render_fn(void *arg)
{
	struct page_task *t = arg;

	dashboard_page(&t->c, t->path, &t->reply);
}

static void
page_done_cb(void *arg, bool cancelled)
{
	struct page_task *t = arg;

	if (cancelled)
		httpd_pending_drop(t->pending);
	else
		httpd_pending_reply(t->pending, &t->reply);
	free(t->reply.body);
	config_unref(t->cfg);
	free(t);
}

static void
page_deferred(struct runtime *rt, const struct dashboard_ctx *c, const char *path,
    struct httpd_reply *reply)
{
	struct page_task *t = xcalloc(1, sizeof *t);

	t->cfg = config_ref(rt->cfg);
	t->c = *c;
	t->summary = *c->summary;
	t->c.summary = &t->summary;
	t->c.jobs = NULL;	/* only the status page shows them, on the loop thread */
	t->c.n_jobs = 0;
	t->c.mode = config_str(t->cfg, "trading.mode");
	(void)snprintf(t->path, sizeof t->path, "%s", path);
	t->pending = httpd_defer(reply);
	if (pagework_submit(rt->pagework, page_render_fn, page_done_cb, t) < 0) {
		static const char busy[] = "too many pages being rendered; try again\n";

		t->reply = (struct httpd_reply){ .status = 503, .body = xstrdup(busy),
			.body_len = sizeof busy - 1 };
		page_done_cb(t, false);
	}
}

void
runtime_page_cb(const char *path, const char *query, struct httpd_reply *reply, void *arg)
{
	struct runtime *rt = arg;

	(void)query;
	if (strcmp(path, "/metrics") == 0) {
		reply->status = 200;
		reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
		reply->body = metrics_render(rt->metrics, (unsigned)rt->n_inflight, &reply->body_len);
		append_dead_letters(rt, reply);
		return;
	}
	{
		struct dashboard_job jobs[64];
		size_t n = 0, i;
		int64_t now = time_now_monotonic_usec();
		struct metrics_summary summary;
		struct dashboard_ctx c = {
			.backend = rt->b->kind, .mode = config_str(rt->cfg, "trading.mode"),
			.state = rt->state == RUNTIME_STARTING ? "starting: waiting for the queue, bus and "
			    "idempotency store to answer" : rt->state == RUNTIME_RUNNING ? "running" :
			    rt->state == RUNTIME_DRAINING ? "draining" : "stopped",
			.in_flight = (unsigned)rt->n_inflight, .summary = &summary,
			.src = runsource_get(rt->runs), .broker = rt->b->broker,
			.now_usec = time_now_realtime_usec(),
		};

		metrics_summary(rt->metrics, &summary);
		if (dashboard_page_blocks(path)) {
			page_deferred(rt, &c, path, reply);
			return;
		}
		/* Only the loop thread changes these fields once a job is back from
		 * its worker; a running job's routing fields belong to the worker,
		 * so only held or queued jobs show their handler. */
		for (i = 0; i < rt->n_inflight && n < ELEMENTSOF(jobs); i++) {
			const struct job *j = rt->inflight[i];
			bool mine = j->resubmit_ev != NULL;

			jobs[n++] = (struct dashboard_job){
				.handler = mine ? j->handler : NULL,
				.correlation_id = mine ? j->correlation_id : NULL,
				.age_ms = (now - j->received_usec) / USEC_PER_MSEC,
				.retries = j->inplace_retries,
			};
		}
		c.jobs = jobs;
		c.n_jobs = n;
		dashboard_page(&c, path, reply);
	}
}
