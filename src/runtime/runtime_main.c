/*
 * runtime_main: start-up, timers (status line, watchdog, heartbeats), reload
 * and teardown of the loop thread. Order follows style.md §7.9; teardown is
 * the exact reverse of start-up.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/file_watch.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/dlq_watch.h"
#include "alchemiser/runtime/httpd.h"
#include "alchemiser/runtime/pagework.h"
#include "alchemiser/runtime/runsource.h"
#include "alchemiser/runtime/metrics.h"
#include "alchemiser/runtime/notify.h"
#include "alchemiser/runtime/once.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/runtime/runtime.h"
#include "alchemiser/runtime/workers.h"
#include "alchemiser/seams/transport.h"
#include "runtime_internal.h"

/* A timer may fire this much before a finer clock says it is due (libevent
 * reads a coarse monotonic clock): close enough counts, or an idle daemon
 * would wake twice for one ping. */
#define TICK_SLACK_USEC (10 * USEC_PER_MSEC)

/* Room for the counters and the last run's id (up to 127 bytes). */
#define STATUS_MAX 512

/* The counters, then how the last run ended: `systemctl status` is where an
 * operator looks first, and "done 14" alone does not say whether today's
 * run failed. */
static void
status_text(struct runtime *rt, char *buf, size_t size)
{
	struct metrics_summary s;
	int n;

	if (rt->state == RUNTIME_STARTING) {
		(void)snprintf(buf, size, "%s", rt->waiting[0] != '\0' ? rt->waiting : "starting");
		return;
	}
	n = snprintf(buf, size, "%s; received %llu, done %llu, duplicate %llu, retried %llu, "
	    "rejected %llu, in flight %u",
	    rt->state == RUNTIME_RUNNING ? "running" : "draining",
	    (unsigned long long)rt->received,
	    (unsigned long long)rt->counters[OUTCOME_DONE],
	    (unsigned long long)rt->counters[OUTCOME_DUPLICATE],
	    (unsigned long long)rt->counters[OUTCOME_RETRY],
	    (unsigned long long)rt->counters[OUTCOME_REJECT],
	    (unsigned)rt->n_inflight);
	if (rt->metrics == NULL || n < 0 || (size_t)n >= size)
		return;
	metrics_summary(rt->metrics, &s);
	if (s.last_run[0] != '\0') {
		char ts[RFC3339_STRLEN];

		(void)snprintf(buf + n, size - (size_t)n, "; last run %s %s at %s", s.last_run,
		    s.last_run_success ? "succeeded" : "FAILED",
		    time_format_rfc3339(s.last_run_success ? s.last_success_usec :
		    s.last_failure_usec, ts));
	}
}

/* Why "progress": WATCHDOG=1 proves more than a ticking timer. A receive that
 * has been outstanding far past its long poll means the loop is stuck on a
 * dependency it cannot see, and systemd should know. */
static bool
loop_made_progress(struct runtime *rt, int64_t now)
{
	int64_t limit;

	if (!rt->receive_outstanding)
		return true;
	limit = config_usec(rt->cfg, "daemon.poll_wait") + config_usec(rt->cfg, "aws.request_timeout") +
	    30 * USEC_PER_SEC;
	return now - rt->receive_started_usec < limit;
}

/*
 * The housekeeping tick (issue #13: an idle daemon sleeps). While anything
 * is going on (messages in flight or waiting, a failing dependency, a full
 * disk, start-up, a drain, a dead-letter sweep) it runs every second, or
 * every quarter of the watchdog interval if that is shorter, as it always
 * did: heartbeats, STATUS=, the state file's health, the disk-full check.
 * An idle daemon arms it only for what is due next: the watchdog ping
 * (WATCHDOG_USEC / 2) and the next dead-letter sweep; STATUS= is sent when
 * its text changes (a quiet daemon's does not), the state file's entry is
 * watched by inotify (file_watch) and its health checked again whenever an
 * empty long poll ends. Whatever ends the quiet (a receive that returns
 * messages or fails, a reload, a stop) brings the tick back within a second
 * (runtime_tick_soon).
 */
static int64_t
busy_period(const struct runtime *rt)
{
	int64_t q = rt->watchdog_usec / 4;

	return rt->watchdog_usec > 0 && q > 0 && q < RUNTIME_TICK_USEC ? q : RUNTIME_TICK_USEC;
}

/* Nothing in flight or pending that the tick must look after each second. */
static bool
runtime_quiet(struct runtime *rt, int64_t now)
{
	return rt->state == RUNTIME_RUNNING && rt->n_inflight == 0 && rt->n_loop_wait == 0 &&
	    rt->ops_outstanding == 0 && rt->n_deletes == 0 && !rt->disk_full &&
	    !evtimer_pending(rt->ev_poll_retry, NULL) && !evtimer_pending(rt->ev_poll_batch, NULL) &&
	    dlq_watch_due_usec(rt->dlq) != 0 && loop_made_progress(rt, now);
}

static int64_t
tick_next_usec(struct runtime *rt, int64_t now)
{
	int64_t next = INT64_MAX, due;

	if (!runtime_quiet(rt, now))
		return now + busy_period(rt);
	if (rt->watchdog_usec > 0)
		next = rt->last_watchdog_usec + rt->watchdog_usec / 2;
	due = dlq_watch_due_usec(rt->dlq);
	if (due < next)
		next = due;
	/* No inotify for the state file: its health is polled as before. */
	if (rt->state_watch == NULL && strcmp(rt->b->kind, "local") == 0 &&
	    rt->last_tick_usec + RUNTIME_TICK_USEC < next)
		next = rt->last_tick_usec + RUNTIME_TICK_USEC;
	return next < now + TICK_SLACK_USEC ? now + TICK_SLACK_USEC : next;
}

static void
tick_add(struct runtime *rt, int64_t now, int64_t at)
{
	int64_t d = at > now ? at - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(d / USEC_PER_SEC), .tv_usec = (suseconds_t)(d % USEC_PER_SEC) };

	rt->tick_due_usec = at;
	event_add(rt->ev_tick, &tv);
}

static void
tick_arm(struct runtime *rt, int64_t now)
{
	int64_t next = tick_next_usec(rt, now);

	if (next == INT64_MAX) {
		rt->tick_due_usec = INT64_MAX;
		event_del(rt->ev_tick);
	} else
		tick_add(rt, now, next);
}

void
runtime_tick_soon(struct runtime *rt)
{
	int64_t now;

	if (rt->ev_tick == NULL)
		return;
	now = time_now_monotonic_usec();
	if (rt->tick_due_usec > now + busy_period(rt))
		tick_add(rt, now, now + busy_period(rt));
}

void
runtime_tick_on_empty_poll(struct runtime *rt)
{
	if (rt->state == RUNTIME_RUNNING &&
	    time_now_monotonic_usec() - rt->last_tick_usec >= RUNTIME_TICK_USEC)
		runtime_tick(rt);
}

/* STATUS= when its text changed, at most every daemon.status_interval while
 * the daemon is busy (the counters change with every message) and at once
 * when it has gone quiet or its disk-full state changed. */
static void
send_status(struct runtime *rt, int64_t now, bool quiet, const struct errctx *full_ec)
{
	char status[STATUS_MAX], text[RUNTIME_STATUS_MAX];

	status_text(rt, status, sizeof status);
	if (rt->disk_full)
		(void)snprintf(text, sizeof text, "cannot write: %s; %s", errctx_msg(full_ec), status);
	else
		(void)snprintf(text, sizeof text, "%s", status);
	if (strcmp(text, rt->status_sent) == 0)
		return;
	if (!quiet && now - rt->last_status_usec < config_usec(rt->cfg, "daemon.status_interval"))
		return;
	notify_status(text);
	(void)snprintf(rt->status_sent, sizeof rt->status_sent, "%s", text);
	rt->last_status_usec = now;
}

void
runtime_tick(struct runtime *rt)
{
	int64_t now = time_now_monotonic_usec();
	struct errctx ec = { 0 };
	int r;

	rt->last_tick_usec = now;
	runtime_heartbeat(rt);
	dlq_watch_tick(rt->dlq, rt->cfg, rt->state == RUNTIME_RUNNING);
	if (rt->state == RUNTIME_RUNNING && backends_health(rt->b, &ec) < 0) {
		log_error("stopping: %s", errctx_msg(&ec));
		rt->fatal = true;
		runtime_begin_drain(rt, "a backend is gone");
	}
	/* Issue #17: a full state file system is said in STATUS while it lasts,
	 * and the WAL is checkpointed as soon as space returns. */
	errctx_clear(&ec);
	r = backends_degraded(rt->b, &ec);
	if (r < 0 && !rt->disk_full)
		log_warning("%s", errctx_msg(&ec));
	else if (r >= 0 && rt->disk_full)
		log_notice("the state file can be written again");
	if ((r < 0) != rt->disk_full)
		rt->last_status_usec = 0;	/* say it now */
	rt->disk_full = r < 0;
	/* Not while starting: STATUS says what start-up waits for (start_when_ready). */
	if (rt->state != RUNTIME_STARTING)
		send_status(rt, now, runtime_quiet(rt, now), &ec);
	if (rt->watchdog_usec > 0 && now + TICK_SLACK_USEC - rt->last_watchdog_usec >= rt->watchdog_usec / 2 &&
	    loop_made_progress(rt, now)) {
		notify_watchdog();
		rt->last_watchdog_usec = now;
	}
	tick_arm(rt, now);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	runtime_tick(arg);
}

/* The state file's entry changed (deleted, renamed, replaced): check its
 * health now, as a tick would. */
static void
state_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *rt = arg;

	(void)fd;
	(void)what;
	if (file_watch_drain(rt->state_watch))
		runtime_tick(rt);
}

void
runtime_reload(struct runtime *rt)
{
	struct config *next = NULL;
	struct errctx ec = { 0 };
	struct log_fields f = { .message_id = LOG_MID_RELOAD, .duration_ms = -1 };
	char *problems = NULL, *line, *save = NULL, *restart;
	size_t len = 0;
	FILE *errs;
	int r;

	notify_reloading();
	errs = open_memstream(&problems, &len);
	r = config_load(rt->opt->config_path, errs, &next, &ec);
	fclose(errs);
	/* Issue #17 B9: an emptied or truncated file must not quietly reset the keys. */
	if (r == 0 && (r = config_reload_check(rt->cfg, next, &ec)) < 0) {
		config_unref(next);
		next = NULL;
	}
	if (r < 0) {
		for (line = strtok_r(problems, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
			log_full(LOG_ERR, &f, "reload: %s", line);
		log_full(LOG_ERR, &f, "reload rejected, keeping the previous configuration: %s",
		    errctx_msg(&ec));
	} else {
		restart = config_plain_http_endpoints(next);
		if (restart != NULL)
			log_full(LOG_WARNING, &f, "daemon.allow_plain_http = yes: credentials go in clear "
			    "text to %s", restart);
		free(restart);
		restart = config_diff_restart_keys(rt->cfg, next);
		if (restart != NULL)
			log_full(LOG_WARNING, &f, "reload: changes to %s take effect after a restart", restart);
		free(restart);
		config_unref(rt->cfg);
		rt->cfg = next;
		log_set_max_level(log_level_from_string(config_str(next, "daemon.log_level")));
		/* While starting, the start-up retry is already asking. */
		if (rt->state != RUNTIME_STARTING && backends_preflight(rt->b, &ec) < 0)
			log_full(LOG_WARNING, &f, "reload: preflight failed, continuing: %s", errctx_msg(&ec));
		log_full(LOG_NOTICE, &f, "configuration reloaded from %s", config_origin(next));
	}
	free(problems);
	if (rt->state == RUNTIME_STARTING) {
		char status[STATUS_MAX];

		status_text(rt, status, sizeof status);
		notify_ready(status);
	} else {
		notify_ready(r < 0 ? "reload rejected; running with the previous configuration" : "running");
		/* The counters again soon: that line replaced them. */
		rt->status_sent[0] = '\0';
		runtime_tick_soon(rt);
	}
}

/* The state file's entry, watched so that an idle daemon notices a deleted
 * or replaced file at once without polling for it; without inotify (limits
 * reached, a symbolic link) the tick polls it every second, as before. */
static void
state_watch_open(struct runtime *rt)
{
	const char *path = backends_state_path(rt->b);
	struct errctx ec = { 0 };

	if (path == NULL)
		return;
	if (file_watch_new(path, &rt->state_watch, &ec) < 0) {
		log_info("the state file is checked every second: %s", errctx_msg(&ec));
		return;
	}
	rt->ev_state_watch = event_new(rt->base, file_watch_fd(rt->state_watch), EV_READ | EV_PERSIST,
	    state_watch_cb, rt);
	event_add(rt->ev_state_watch, NULL);
}

static void
once_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	runtime_once_timeout(arg);
}

static int start_event(struct runtime *rt, const char *body, size_t len);

/* Start-up: the dependencies (queue, bus, idempotency store) must answer
 * before the first receive. One that does not is asked again with back-off,
 * like an outage at run time, while STATUS= says what is awaited; only a
 * configuration that a dependency refuses as invalid (-EINVAL) stops. */
static void
start_when_ready(struct runtime *rt)
{
	struct errctx ec = { 0 };
	struct timeval tv;
	char status[STATUS_MAX];
	int r;

	/* The preflight blocks the loop (up to the AWS timeouts and retries of
	 * one call): start the watchdog interval afresh so a slow answer is not
	 * taken for a wedged loop. */
	if (rt->watchdog_usec > 0) {
		notify_watchdog();
		rt->last_watchdog_usec = time_now_monotonic_usec();
	}
	r = backends_preflight(rt->b, &ec);
	if (r == -EINVAL) {
		log_error("start-up preflight: the configuration is refused: %s", errctx_msg(&ec));
		rt->config_error = true;
		rt->state = RUNTIME_STOPPED;
		event_base_loopexit(rt->base, NULL);
		return;
	}
	if (r < 0) {
		rt->start_backoff_usec = rt->start_backoff_usec == 0 ? USEC_PER_SEC :
		    rt->start_backoff_usec * 2 > RUNTIME_START_BACKOFF_MAX_USEC ?
		    RUNTIME_START_BACKOFF_MAX_USEC : rt->start_backoff_usec * 2;
		(void)snprintf(rt->waiting, sizeof rt->waiting, "waiting for %s", errctx_msg(&ec));
		log_warning("%s; asking again in %lld s", rt->waiting,
		    (long long)(rt->start_backoff_usec / USEC_PER_SEC));
		notify_status(rt->waiting);
		tv.tv_sec = rt->start_backoff_usec / USEC_PER_SEC;
		tv.tv_usec = rt->start_backoff_usec % USEC_PER_SEC;
		evtimer_add(rt->ev_start_retry, &tv);
		return;
	}
	if (rt->waiting[0] != '\0')
		log_notice("the dependencies answer now: starting (%s before)", rt->waiting);
	else
		log_debug("the queue, bus and idempotency store answer: polling");
	rt->waiting[0] = '\0';
	rt->state = RUNTIME_RUNNING;
	rt->started = true;
	if (rt->opt->once && rt->opt->event_body != NULL &&
	    start_event(rt, rt->opt->event_body, rt->opt->event_len) < 0) {
		rt->fatal = true;
		runtime_begin_drain(rt, "once: the event could not be started");
		return;
	}
	status_text(rt, status, sizeof status);
	notify_status(status);
	(void)snprintf(rt->status_sent, sizeof rt->status_sent, "%s", status);
	rt->last_status_usec = time_now_monotonic_usec();
	runtime_start_polling(rt);
}

static void
start_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_when_ready(arg);
}

static int
start_event(struct runtime *rt, const char *body, size_t len)
{
	struct queue_message *m;
	struct errctx ec = { 0 };
	struct job *job;

	if (strcmp(rt->b->kind, "local") == 0) {
		/* Embedded: enqueue it like any sender would, then process the queue. */
		if (rt->b->transport->ops->send(rt->b->transport, body, NULL, &ec) < 0) {
			log_error("--once: could not enqueue the event: %s", errctx_msg(&ec));
			return -EIO;
		}
		return 0;
	}
	/* AWS: process it first, directly; a retry puts it on the queue (runtime.c). */
	m = xcalloc(1, sizeof *m);
	/* A fresh id per run: the last-resort idempotency key of a command
	 * without a correlation id must not repeat from one --once to the next. */
	{
		char id[UUID_STRLEN];

		if (uuid_v4(id) < 0) {
			free(m);
			log_error("--once: cannot make a message id");
			return -EIO;
		}
		m->message_id = xasprintf("cli-%s", id);
	}
	m->body = xstrndup(body, len);
	m->body_len = len;
	m->receive_count = 1;
	job = job_new(m, rt->cfg);
	job->synthetic = true;
	rt->received++;
	runtime_submit(rt, job);
	return 0;
}

static const int runtime_sigs[3] = { SIGHUP, SIGTERM, SIGINT };

static void
runtime_signal_mask(int how)
{
	sigset_t set;
	int i;

	sigemptyset(&set);
	for (i = 0; i < 3; i++)
		sigaddset(&set, runtime_sigs[i]);
	pthread_sigmask(how, &set, NULL);
}

void
runtime_hold_signals(void)
{
	runtime_signal_mask(SIG_BLOCK);
}

int
runtime_run(struct config *cfg, const struct runtime_options *o)
{
	const int *sigs = runtime_sigs;
	struct runtime rt = { .opt = o, .state = RUNTIME_STARTING };
	struct log_fields f = { .message_id = LOG_MID_STARTED, .duration_ms = -1 };
	struct errctx ec = { 0 };
	int rc = 0, i;

	rt.cfg = config_ref(cfg);
	log_set_max_level(log_level_from_string(config_str(cfg, "daemon.log_level")));
	evthread_use_pthreads();
	rt.base = event_base_new();
	if (rt.base == NULL) {
		log_error("cannot create the event loop");
		config_unref(rt.cfg);
		return 1;
	}
	/* Building the backends touches no network: a failure here is the
	 * configuration or the local set-up, which waiting cannot cure. */
	if (backends_open(cfg, rt.base, &rt.b, &ec) < 0) {
		log_error("start-up failed: %s", errctx_msg(&ec));
		rc = 2;
		goto out_base;
	}
	if (runsource_new(cfg, rt.b, rt.base, &rt.runs, &ec) < 0) {
		log_error("start-up failed: %s", errctx_msg(&ec));
		rc = 2;
		goto out_backends;
	}
	rt.metrics = metrics_new();
	rt.pipeline = pipeline_new(rt.b);
	pipeline_set_metrics(rt.pipeline, rt.metrics);
	if (config_str(cfg, "http.listen")[0] != '\0') {
		struct httpd_options ho = {
			.listen = config_str(cfg, "http.listen"), .token = config_secret(cfg, "http.token"),
			.max_connections = (unsigned)config_int(cfg, "http.max_connections"),
			.page_cb = runtime_page_cb, .page_arg = &rt,
		};

		int hr = httpd_new(rt.base, &ho, &rt.httpd, &ec);

		if (hr == 0)
			hr = pagework_new(rt.base, 2, &rt.pagework, &ec);
		if (hr < 0) {
			log_error("start-up failed: %s", errctx_msg(&ec));
			httpd_free(rt.httpd);
			pipeline_free(rt.pipeline);
			metrics_free(rt.metrics);
			/* A listen value the parser refuses is configuration (2, as
			 * config.c already says); a busy port is the machine's (1). */
			rc = hr == -EINVAL ? 2 : 1;
			goto out_backends;
		}
		log_info("serving /metrics and the dashboard on http://%s/", config_str(cfg, "http.listen"));
	}
	if (dlq_watch_new(cfg, o->once, rt.b, rt.pipeline, rt.runs, rt.base, &rt.dlq, &ec) < 0)
		/* Only a thread that cannot start: run without the watch, loudly. */
		log_error("the dead-letter watch is off: %s", errctx_msg(&ec));
	rt.workers = workers_new(rt.base, rt.pipeline, (unsigned)config_int(cfg, "daemon.concurrency"),
	    runtime_finished_event_cb, &rt);
	rt.prefetch = strcmp(config_str(cfg, "daemon.backend"), "local") == 0;
	pipeline_set_loop_completes(rt.pipeline, rt.prefetch);
	if (rt.prefetch)
		sqlite_transport_hold_receives(rt.b->transport);
	for (i = 0; i < 3; i++) {
		rt.ev_sig[i] = evsignal_new(rt.base, sigs[i], runtime_signal_event_cb, &rt);
		evsignal_add(rt.ev_sig[i], NULL);
	}
	/* Handlers in place: a signal held since start-up arrives now (threads
	 * started meanwhile keep them blocked, so it comes to this one). */
	runtime_signal_mask(SIG_UNBLOCK);
	rt.watchdog_usec = notify_watchdog_usec();
	rt.ev_tick = event_new(rt.base, -1, 0, tick_cb, &rt);
	rt.tick_due_usec = INT64_MAX;
	state_watch_open(&rt);
	rt.ev_poll_retry = evtimer_new(rt.base, runtime_poll_retry_event_cb, &rt);
	rt.ev_poll_batch = evtimer_new(rt.base, runtime_poll_batch_event_cb, &rt);
	rt.ev_flush = evtimer_new(rt.base, runtime_flush_event_cb, &rt);
	rt.ev_deadline = evtimer_new(rt.base, runtime_deadline_event_cb, &rt);
	rt.ev_start_retry = evtimer_new(rt.base, start_retry_cb, &rt);
	rt.ev_once_deadline = evtimer_new(rt.base, once_deadline_cb, &rt);
	signal(SIGPIPE, SIG_IGN);
	if (o->once) {
		struct timeval tv = {
			.tv_sec = config_usec(cfg, "daemon.once_timeout") / USEC_PER_SEC,
			.tv_usec = config_usec(cfg, "daemon.once_timeout") % USEC_PER_SEC,
		};

		rt.once = once_tracker_new();
		evtimer_add(rt.ev_once_deadline, &tv);
	}

	log_full(LOG_INFO, &f, "alchemiserd started: backend %s, %lld workers%s", rt.b->kind,
	    (long long)config_int(cfg, "daemon.concurrency"), o->once ? ", --once" : "");
	/* READY as soon as the configuration is valid and the backends are
	 * built: an outage of a dependency is a state to report, not a failed
	 * start (systemd would give up on the service after a few restarts). */
	notify_ready("starting: checking the queue, bus and idempotency store");
	rt.last_status_usec = rt.last_watchdog_usec = rt.last_tick_usec = time_now_monotonic_usec();
	runtime_tick_soon(&rt);
	start_when_ready(&rt);
	if (rt.state != RUNTIME_STOPPED)
		event_base_dispatch(rt.base);

	if (rt.forced) {
		/* Handlers are stuck past the deadline: their messages were released;
		 * leave without tearing down what those threads still use. */
		log_notice("stopped (forced): %llu received, %llu done",
		    (unsigned long long)rt.received, (unsigned long long)rt.counters[OUTCOME_DONE]);
		fflush(NULL);
		/* --once: released messages were not finished, so neither are their runs. */
		_exit(o->once ? ONCE_EXIT_TIMEOUT : 0);
	}
	f.message_id = LOG_MID_STOPPED;
	log_full(o->once ? LOG_INFO : LOG_NOTICE, &f, "stopped: received %llu, done %llu, duplicate %llu, "
	    "retried %llu, rejected %llu", (unsigned long long)rt.received,
	    (unsigned long long)rt.counters[OUTCOME_DONE], (unsigned long long)rt.counters[OUTCOME_DUPLICATE],
	    (unsigned long long)rt.counters[OUTCOME_RETRY], (unsigned long long)rt.counters[OUTCOME_REJECT]);
	/* What the AWS backend cost on the wire (tests and the bench read it). */
	if (aws_requests_total() > 0)
		log_info("AWS requests: %llu, for %llu messages received",
		    (unsigned long long)aws_requests_total(), (unsigned long long)rt.received);
	if (rt.config_error)
		rc = 2;
	else if (rt.fatal)
		rc = 1;
	else if (o->once && !rt.started)
		rc = ONCE_EXIT_TIMEOUT;		/* stopped before the dependencies answered */
	else if (o->once) {
		size_t ok, failed, rejected;

		rc = once_exit_code(rt.once);
		once_counts(rt.once, &ok, &failed, &rejected);
		log_full(rc == 0 ? LOG_INFO : LOG_ERR, &f, "--once: exit %d: %zu run(s) succeeded, "
		    "%zu failed, %zu unfinished, %zu message(s) rejected", rc, ok, failed,
		    once_unfinished(rt.once), rejected);
	}
	/* Before the workers: a sweep may wait for a run's lock a worker holds. */
	dlq_watch_free(rt.dlq);
	workers_stop(rt.workers, true);
	event_free(rt.ev_once_deadline);
	event_free(rt.ev_start_retry);
	once_tracker_free(rt.once);
	event_free(rt.ev_deadline);
	event_free(rt.ev_flush);
	event_free(rt.ev_poll_retry);
	event_free(rt.ev_poll_batch);
	event_free(rt.ev_tick);
	if (rt.ev_state_watch != NULL)
		event_free(rt.ev_state_watch);
	file_watch_free(rt.state_watch);
	for (i = 0; i < 3; i++)
		event_free(rt.ev_sig[i]);
	/* Pages still being rendered finish (their requests get no answer)
	 * before the listener and its requests go. */
	pagework_free(rt.pagework);
	httpd_free(rt.httpd);
	workers_free(rt.workers);
	pipeline_free(rt.pipeline);
	metrics_free(rt.metrics);
	free(rt.inflight);
out_backends:
	runsource_free(rt.runs);
	backends_close(rt.b);
out_base:
	event_base_free(rt.base);
	config_unref(rt.cfg);
	return rc;
}

int
runtime_send(struct config *cfg, const char *body, size_t len)
{
	struct event_base *base = event_base_new();
	struct backends *b = NULL;
	struct errctx ec = { 0 };
	char id[TRANSPORT_ID_MAX] = "";
	int rc = 0;

	(void)len;
	/* Issue #17 B8: only the queue; the broker and mailer are not needed to send. */
	if (backends_open_queue(cfg, base, &b, &ec) < 0 ||
	    b->transport->ops->send(b->transport, body, id, &ec) < 0) {
		fprintf(stderr, "alchemiserd: --send failed: %s\n", errctx_msg(&ec));
		rc = 1;
	} else
		/* The id alone on stdout: what a script needs to find the message later. */
		printf("%s\n", id);
	backends_close(b);
	event_base_free(base);
	return rc;
}
