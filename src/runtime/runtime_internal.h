/*
 * runtime_internal: the state of the loop thread, shared by runtime.c (the
 * message flow and lifecycle) and runtime_main.c (start-up, timers, reload).
 * Thread: loop thread only.
 */
#ifndef ALCHEMISER_RUNTIME_INTERNAL_H
#define ALCHEMISER_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/router/outcome.h"
#include "alchemiser/seams/transport.h"

#define RUNTIME_DELETE_FLUSH_USEC	(100 * 1000)
/* The longest a receive waits for a claim or completion batch at the store
 * to answer (its workers then free up together). */
#define RUNTIME_POLL_BATCH_MAX_USEC	(1000 * 1000)
#define RUNTIME_POLL_BACKOFF_MAX_USEC	(60 * INT64_C(1000000))
#define RUNTIME_FORCED_EXIT_USEC	(500 * 1000)
/* A dependency failure is retried in place this many times (1, 2, 4, 8, 16,
 * 32 s apart) before the message goes back to the queue with its back-off. */
#define RUNTIME_INPLACE_RETRIES		6
/* A message waiting for another holder's claim asks again at most this far apart. */
#define RUNTIME_LEASE_POLL_MAX_USEC	(5 * INT64_C(1000000))
/* SQS refuses visibility timeouts over 12 hours. */
#define RUNTIME_MAX_VISIBILITY_USEC	(43200 * INT64_C(1000000))
/* A dependency unreachable at start-up is asked again 1, 2, 4 ... s later,
 * at most this far apart: a boot-time outage should cost seconds, not minutes. */
#define RUNTIME_START_BACKOFF_MAX_USEC	(15 * INT64_C(1000000))
/* The housekeeping tick while anything is going on (runtime_main.c). */
#define RUNTIME_TICK_USEC		(1000 * 1000)
/* Room for a STATUS= line: the counters, the last run, a disk-full reason. */
#define RUNTIME_STATUS_MAX		768

struct file_watch;
struct once_tracker;

enum runtime_state {
	RUNTIME_STARTING,	/* READY sent, waiting for the dependencies to answer */
	RUNTIME_RUNNING,
	RUNTIME_DRAINING,
	RUNTIME_STOPPED,
	_RUNTIME_STATE_MAX
};

struct runtime {
	struct event_base		*base;
	const struct runtime_options	*opt;
	struct config			*cfg;		/* current snapshot (ref) */
	struct backends			*b;
	struct pipeline			*pipeline;
	struct workers			*workers;
	struct metrics			*metrics;	/* always there; served if http.listen */
	struct httpd			*httpd;		/* NULL = no listener */
	struct pagework			*pagework;	/* renders blocking pages; with httpd */
	struct runsource		*runs;		/* the dashboard's run records */
	struct dlq_watch		*dlq;		/* NULL = off (runtime/dlq_watch.h) */
	enum runtime_state		 state;
	bool				 forced;
	bool				 fatal;		/* stopped because a backend is gone: exit 1 */
	bool				 disk_full;	/* the state file cannot be written (STATUS says so) */
	bool				 config_error;	/* a dependency refused the configuration: exit 2 */
	struct once_tracker		*once;		/* --once: the runs it waits for */
	bool				 once_timed_out;
	bool				 started;	/* the preflight passed once */
	char				 waiting[240];	/* STATUS while starting: "waiting for ..." */
	int64_t				 start_backoff_usec;

	struct event			*ev_sig[3];
	struct event			*ev_tick;	/* one-shot, armed by tick_arm */
	int64_t				 tick_due_usec;	/* monotonic; INT64_MAX = not armed */
	int64_t				 last_tick_usec;
	struct file_watch		*state_watch;	/* the state file's entry (embedded); NULL = polled */
	struct event			*ev_state_watch;
	struct event			*ev_poll_retry;
	struct event			*ev_poll_batch;	/* a fuller receive waited for long enough */
	bool				 poll_batch_due;
	struct event			*ev_flush;
	struct event			*ev_deadline;
	struct event			*ev_start_retry;	/* start-up preflight again */
	struct event			*ev_once_deadline;	/* daemon.once_timeout */

	bool				 prefetch;	/* embedded: receive beyond the free workers */
	bool				 receive_outstanding;
	bool				 idle_at_poll;
	int64_t				 receive_started_usec;
	int64_t				 poll_backoff_usec;
	unsigned			 ops_outstanding;

	/* Jobs for the loop (pipeline_on_loop) whose run's lock a worker's job
	 * holds: they run when it is released (runtime_finished_event_cb). In
	 * flight; back to the queue at once on a stop. */
	struct job			*loop_wait[TRANSPORT_MAX_BATCH];
	size_t				 n_loop_wait;
	struct job			**inflight;	/* received, outcome not yet acted on */
	size_t				 n_inflight, cap_inflight;
	char				*deletes[TRANSPORT_MAX_BATCH];
	size_t				 n_deletes;

	uint64_t			 received;
	uint64_t			 counters[_OUTCOME_MAX];
	bool				 any_failure;

	int64_t				 last_status_usec;
	char				 status_sent[RUNTIME_STATUS_MAX];	/* "" = send it again */
	int64_t				 last_watchdog_usec;
	int64_t				 watchdog_usec;
};

struct job;

void	runtime_begin_drain(struct runtime *rt, const char *why);
/* Hand a job to the workers; it counts as in flight until its outcome is acted on. */
void	runtime_submit(struct runtime *rt, struct job *job);
void	runtime_reload(struct runtime *rt);
void	runtime_tick(struct runtime *rt);
/* Something started (messages, a failure, a reload, a stop): the tick runs
 * within RUNTIME_TICK_USEC again if an idle daemon had armed it for later. */
void	runtime_tick_soon(struct runtime *rt);
/* An empty receive ended (a wake-up that happens anyway): the tick's checks
 * run now if the last tick is RUNTIME_TICK_USEC old. */
void	runtime_tick_on_empty_poll(struct runtime *rt);
/* Callbacks wired in runtime_main.c. */
void	runtime_signal_event_cb(int sig, short what, void *arg);
void	runtime_poll_retry_event_cb(int fd, short what, void *arg);
void	runtime_poll_batch_event_cb(int fd, short what, void *arg);
void	runtime_flush_event_cb(int fd, short what, void *arg);
void	runtime_deadline_event_cb(int fd, short what, void *arg);
void	runtime_finished_event_cb(void *arg);
/* The HTTP listener's pages (pages.c): /metrics and the dashboard. */
struct httpd_reply;
void	runtime_page_cb(const char *path, const char *query, struct httpd_reply *reply, void *arg);
/* Start polling (after READY and a passed preflight). */
void	runtime_start_polling(struct runtime *rt);
/* --once: daemon.once_timeout passed. */
void	runtime_once_timeout(struct runtime *rt);
/* Change visibility of in-flight messages due for their heartbeat. */
void	runtime_heartbeat(struct runtime *rt);

#endif
