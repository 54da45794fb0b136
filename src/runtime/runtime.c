/*
 * runtime: the loop thread. It owns signals, timers and the transport, hands
 * messages to the workers and acts on their outcomes:
 *   done/duplicate -> batched delete       retry  -> visibility back-off
 *   reject         -> dead-letter queue    in flight -> visibility heartbeat
 * Lifecycle: STARTING (READY sent; dependencies not answering yet) -> RUNNING
 * -> DRAINING (SIGTERM/SIGINT, --once finished or timed out) -> STOPPED.
 * A stop never abandons a receive: the drain waits for it, and what it
 * returns goes back to the queue at once (visibility 0).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "alchemiser/aws/sqs.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/metrics.h"
#include "alchemiser/runtime/notify.h"
#include "alchemiser/runtime/once.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/runtime/runsource.h"
#include "alchemiser/runtime/runtime.h"
#include "alchemiser/runtime/workers.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/seams/transport.h"
#include "runtime_internal.h"


static void poll_queue(struct runtime *rt);
static void run_on_loop(struct runtime *rt, struct job **jobs, size_t n);
static void maybe_finish(struct runtime *rt);

static int64_t
now_usec(void)
{
	return time_now_monotonic_usec();
}

static struct timeval
tv_of(int64_t usec)
{
	struct timeval tv = { .tv_sec = usec / USEC_PER_SEC, .tv_usec = usec % USEC_PER_SEC };

	return tv;
}

/* ---- in-flight bookkeeping ---------------------------------------------- */

static void
inflight_add(struct runtime *rt, struct job *job)
{
	if (rt->n_inflight == rt->cap_inflight) {
		rt->cap_inflight = rt->cap_inflight ? rt->cap_inflight * 2 : 16;
		rt->inflight = xreallocarray(rt->inflight, rt->cap_inflight, sizeof *rt->inflight);
	}
	rt->inflight[rt->n_inflight++] = job;
}

static void
inflight_remove(struct runtime *rt, struct job *job)
{
	size_t i;

	for (i = 0; i < rt->n_inflight; i++) {
		if (rt->inflight[i] == job) {
			rt->inflight[i] = rt->inflight[--rt->n_inflight];
			return;
		}
	}
}

void
runtime_submit(struct runtime *rt, struct job *job)
{
	inflight_add(rt, job);
	workers_submit(rt->workers, job);
}

/* ---- asynchronous transport operations ---------------------------------- */

static void
op_done_cb(const int *results, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct runtime *rt = arg;
	size_t i, failed = 0;

	rt->ops_outstanding--;
	if (r < 0)
		log_warning("queue operation failed, the messages will be redelivered and "
		    "deduplicated: %s", errctx_msg(ec));
	else {
		for (i = 0; i < n; i++)
			failed += results != NULL && results[i] < 0;
		if (failed > 0)
			log_warning("%zu of %zu queue entries failed; they will be redelivered and "
			    "deduplicated", failed, n);
	}
	maybe_finish(rt);
}

static void
flush_deletes(struct runtime *rt)
{
	struct errctx ec = { 0 };
	size_t i, n = rt->n_deletes;

	if (n == 0)
		return;
	rt->ops_outstanding++;
	if (rt->b->transport->ops->delete_batch(rt->b->transport, (const char *const *)rt->deletes, n,
	    op_done_cb, rt, &ec) < 0) {
		rt->ops_outstanding--;
		log_warning("deleting %zu messages failed, they will be redelivered: %s", n,
		    errctx_msg(&ec));
	}
	for (i = 0; i < n; i++)
		free(rt->deletes[i]);
	rt->n_deletes = 0;
}

static void
queue_delete(struct runtime *rt, const char *receipt)
{
	rt->deletes[rt->n_deletes++] = xstrdup(receipt);
	if (rt->n_deletes == TRANSPORT_MAX_BATCH)
		flush_deletes(rt);
	else if (!evtimer_pending(rt->ev_flush, NULL)) {
		struct timeval tv = tv_of(RUNTIME_DELETE_FLUSH_USEC);

		evtimer_add(rt->ev_flush, &tv);
	}
}

/* Change the visibility of up to TRANSPORT_MAX_BATCH messages, counted as
 * an outstanding operation until its callback. */
static void
change_visibility_batch(struct runtime *rt, const struct transport_visibility *v, size_t n)
{
	struct errctx ec = { 0 };

	rt->ops_outstanding++;
	if (rt->b->transport->ops->change_visibility(rt->b->transport, v, n, op_done_cb, rt, &ec) < 0) {
		rt->ops_outstanding--;
		log_warning("changing the visibility of %zu message(s) failed: %s", n, errctx_msg(&ec));
	}
}

static void
change_visibility(struct runtime *rt, const char *receipt, int64_t timeout_usec)
{
	struct transport_visibility v = { .receipt = receipt, .timeout_usec = timeout_usec };

	change_visibility_batch(rt, &v, 1);
}

/* Exponential back-off with full jitter keyed on the receive count, capped:
 * a value between base and min(max, base * 2^(count-1)). */
static int64_t
retry_backoff_usec(const struct config *cfg, unsigned receive_count)
{
	int64_t base = config_usec(cfg, "daemon.retry_backoff_base");
	int64_t cap = config_usec(cfg, "daemon.retry_backoff_max");
	int64_t hi = base;
	uint64_t rnd = 0;
	unsigned i;

	for (i = 1; i < receive_count && hi < cap; i++)
		hi *= 2;
	if (hi > cap)
		hi = cap;
	if (hi <= base)
		return base;
	(void)!getrandom(&rnd, sizeof rnd, 0);
	return base + (int64_t)(rnd % (uint64_t)(hi - base + 1));
}

/* ---- outcomes ----------------------------------------------------------- */

static void
log_outcome(const struct job *job)
{
	static const int levels[_OUTCOME_MAX] = {
		[OUTCOME_DONE] = LOG_INFO, [OUTCOME_DUPLICATE] = LOG_INFO,
		[OUTCOME_RETRY] = LOG_WARNING, [OUTCOME_REJECT] = LOG_ERR,
	};
	struct log_fields f = {
		.message_id = LOG_MID_OUTCOME, .event_id = job->event_id,
		.correlation_id = job->correlation_id, .detail_type = job->detail_type,
		.source = job->source, .handler = job->handler,
		.outcome = outcome_to_string(job->outcome), .sqs_message_id = job->msg->message_id,
		.duration_ms = job->duration_ms,
	};

	const char *parts[] = { f.outcome, " ", job->handler != NULL ? job->handler : "message", ": ",
	    job->reason };

	log_parts(levels[job->outcome], &f, parts, ELEMENTSOF(parts));
}

/* The counters of one outcome (a retry in place included). */
static void
note_outcome(struct runtime *rt, const struct job *job)
{
	int64_t now = time_now_realtime_usec();
	int d;

	metrics_outcome(rt->metrics, job->handler, job->outcome, job->duration_ms);
	if (job->infra_failure)
		metrics_dependency(rt->metrics, job->dependency, false, now);
	else if (job->outcome == OUTCOME_DONE) {
		for (d = METRICS_DEP_IDEMPOTENCY; d < _METRICS_DEP_MAX; d++)
			metrics_dependency(rt->metrics, d, true, now);
		/* The last stage of a run, success or failure, by its handler's name. */
		if (job->handler != NULL && strcmp(job->handler, "completed") == 0)
			metrics_run_finished(rt->metrics, job->correlation_id, true, now);
		else if (job->handler != NULL && strcmp(job->handler, "errors") == 0)
			metrics_run_finished(rt->metrics, job->correlation_id, false, now);
	}
}

/* Tell the queue a held job waits (or runs again), so that a kill during the
 * wait, or its release at a stop, gives back the receive instead of spending
 * it (issue #17, B1). Only the embedded queue can; SQS counts every receive. */
static void
mark_waiting(struct runtime *rt, struct job *job, bool waiting)
{
	const struct transport_ops *ops = rt->b->transport->ops;
	struct errctx ec = { 0 };

	if (ops->mark_waiting == NULL || job->marked_waiting == waiting)
		return;
	rt->ops_outstanding++;
	if (ops->mark_waiting(rt->b->transport, job->msg->receipt, waiting, op_done_cb, rt, &ec) < 0) {
		rt->ops_outstanding--;
		log_warning("marking a held message as %s failed: %s", waiting ? "waiting" : "running",
		    errctx_msg(&ec));
		return;
	}
	job->marked_waiting = waiting;
}

/* Give a job held in place back to the queue now (drain). */
static void
release_held(struct runtime *rt, struct job *job)
{
	event_free(job->resubmit_ev);
	job->resubmit_ev = NULL;
	inflight_remove(rt, job);
	change_visibility(rt, job->msg->receipt, 0);
	job_free(job);
}

static void
runtime_resubmit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct runtime *rt = job->runtime;

	(void)fd;
	(void)what;
	if (rt->state == RUNTIME_RUNNING) {
		event_free(job->resubmit_ev);
		job->resubmit_ev = NULL;
		mark_waiting(rt, job, false);
		workers_submit(rt->workers, job);
		return;
	}
	release_held(rt, job);
	maybe_finish(rt);
}

/* Why in place: while the idempotency store or the bus is down, giving the
 * message back would cost a receive count per attempt and park healthy work
 * in the DLQ. Held, it keeps its visibility (the heartbeat extends it) and
 * polling pauses for as long as the dependency fails. */
static bool
hold_in_place(struct runtime *rt, struct job *job)
{
	int64_t delay = USEC_PER_SEC << job->inplace_retries;
	struct log_fields f = {
		.event_id = job->event_id, .correlation_id = job->correlation_id,
		.detail_type = job->detail_type, .handler = job->handler,
		.outcome = outcome_to_string(job->outcome), .sqs_message_id = job->msg->message_id,
		.duration_ms = job->duration_ms,
	};
	struct timeval tv;

	if (job->synthetic || !job->infra_failure || rt->state != RUNTIME_RUNNING ||
	    job->inplace_retries >= RUNTIME_INPLACE_RETRIES)
		return false;
	job->inplace_retries++;
	/* "retried" counts every retry, the ones in place too. */
	rt->counters[OUTCOME_RETRY]++;
	note_outcome(rt, job);
	job->runtime = rt;
	job->resubmit_ev = evtimer_new(rt->base, runtime_resubmit_cb, job);
	tv = tv_of(delay);
	evtimer_add(job->resubmit_ev, &tv);
	/* No new work while a dependency is failing. */
	if (!evtimer_pending(rt->ev_poll_retry, NULL))
		evtimer_add(rt->ev_poll_retry, &tv);
	mark_waiting(rt, job, true);
	log_full(LOG_WARNING, &f, "%s %s: %s; held, retrying in %lld s (%u/%d)",
	    outcome_to_string(job->outcome),
	    job->handler != NULL ? job->handler : "message", job->reason,
	    (long long)(delay / USEC_PER_SEC), job->inplace_retries, RUNTIME_INPLACE_RETRIES);
	return true;
}

/* Why in place: a claim held by another live process is not a failure of
 * this message. Given back, every wait would cost a receive count, and a few
 * kills of the holder would park a healthy run in the DLQ (issue #17, B1).
 * Held, the message keeps its visibility (the heartbeat extends it) and the
 * claim is asked for again every few seconds; polling goes on. After two
 * leases without the holder finishing, it goes back with the lease as delay.
 * A stage that asks to run again later (the storm guard's summary) is held
 * the same way, for as long as it asked. */
static bool
hold_for_lease(struct runtime *rt, struct job *job)
{
	int64_t lease = config_usec(job->cfg, "daemon.idempotency_lease");
	int64_t now = now_usec(), delay;
	struct timeval tv;

	if (job->synthetic || rt->state != RUNTIME_RUNNING)
		return false;
	if (job->deferred)
		delay = job->retry_delay_usec;
	else if (job->lease_wait) {
		if (job->lease_wait_since_usec == 0)
			job->lease_wait_since_usec = now;
		if (now - job->lease_wait_since_usec > 2 * lease)
			return false;
		delay = lease / 10;
		if (delay < USEC_PER_SEC)
			delay = USEC_PER_SEC;
		if (delay > RUNTIME_LEASE_POLL_MAX_USEC)
			delay = RUNTIME_LEASE_POLL_MAX_USEC;
	} else
		return false;
	job->lease_waits++;
	job->runtime = rt;
	job->resubmit_ev = evtimer_new(rt->base, runtime_resubmit_cb, job);
	tv = tv_of(delay);
	evtimer_add(job->resubmit_ev, &tv);
	mark_waiting(rt, job, true);
	/* The first wait, then the 2nd, 4th, 8th...: runs queued behind one
	 * account are asked again every second, and must not flood the journal. */
	if ((job->lease_waits & (job->lease_waits - 1)) == 0)
		log_info("%s: %s; held, asking again in %lld s", job->handler != NULL ? job->handler :
		    "message", job->reason, (long long)(delay / USEC_PER_SEC));
	return true;
}

/* The receives the queue allows before it parks a message itself: the
 * embedded queue's setting, or the SQS redrive policy read at start-up
 * (0: none known, the queue never parks). */
static unsigned
max_receives(struct runtime *rt)
{
	struct sqs_queue_info info;

	if (strcmp(config_str(rt->cfg, "daemon.backend"), "local") == 0)
		return (unsigned)config_int(rt->cfg, "daemon.max_receive_count");
	return sqs_transport_queue_info(rt->b->transport, &info) == 0 ? info.max_receive_count : 0;
}

/* Why: on SQS each kill during a wait costs a receive (the queue cannot
 * give it back, mark_waiting), so a few kills during one run's wait for the
 * account would park a healthy run. A run held waiting for the account (the
 * execution stage asked for the hold) whose receive count nears the redrive
 * limit goes back as a fresh copy instead (transport requeue: same body and
 * attributes, so the same idempotency key and plan). The wait stays bounded:
 * trading.account_wait counts from the plan's time, which is in the body.
 * Not below 3 receives: the copy would be sent again at once, every poll. */
static bool
requeue_waiting(struct runtime *rt, struct job *job)
{
	const struct transport_ops *ops = rt->b->transport->ops;
	struct log_fields f = {
		.event_id = job->event_id, .correlation_id = job->correlation_id,
		.detail_type = job->detail_type, .handler = job->handler,
		.outcome = outcome_to_string(job->outcome), .sqs_message_id = job->msg->message_id,
		.duration_ms = job->duration_ms,
	};
	struct errctx ec = { 0 };
	unsigned max;

	if (ops->requeue == NULL || job->synthetic || !job->deferred ||
	    rt->state != RUNTIME_RUNNING || job->handler == NULL ||
	    strcmp(job->handler, "execution") != 0)
		return false;
	max = max_receives(rt);
	if (max < 3 || job->msg->receive_count + 1 < max)
		return false;
	rt->ops_outstanding++;
	if (ops->requeue(rt->b->transport, job->msg, job->retry_delay_usec, op_done_cb, rt,
	    &ec) < 0) {
		rt->ops_outstanding--;
		log_full(LOG_WARNING, &f, "sending a fresh copy of a waiting message failed (held "
		    "as before): %s", errctx_msg(&ec));
		return false;
	}
	rt->counters[OUTCOME_RETRY]++;
	note_outcome(rt, job);
	log_full(LOG_NOTICE, &f, "%s %s: %s; receive %u of %u: sent again as a fresh message, "
	    "so kills during the wait cannot park it", outcome_to_string(job->outcome), job->handler,
	    job->reason, job->msg->receive_count, max);
	return true;
}

/* Why: a message parked without a word leaves its run half done (open orders,
 * no mail). When the daemon rejects a run's message, or its last permitted
 * receive ends in a retry, the job runs once more to end the run cleanly
 * (stage_deadletter_handle) and is parked by the daemon with its reason. The
 * error path's own messages are only parked (the circuit breaker). */
static bool
end_in_dead_letter(struct runtime *rt, struct job *job)
{
	unsigned max;

	if (job->synthetic || job->dead_letter || job->correlation_id == NULL ||
	    job->handler == NULL || strcmp(job->handler, "errors") == 0 ||
	    strcmp(job->handler, "error-mail") == 0 || rt->state == RUNTIME_STOPPED)
		return false;
	if (job->outcome == OUTCOME_RETRY) {
		max = max_receives(rt);
		if (max == 0 || job->msg->receive_count < max)
			return false;
		log_warning("%s %s: %s; its last permitted receive (%u of %u): ending the run",
		    outcome_to_string(job->outcome), job->handler, job->reason, job->msg->receive_count, max);
	} else if (job->outcome != OUTCOME_REJECT)
		return false;
	job->dead_letter = true;
	workers_submit(rt->workers, job);
	return true;
}

/* Returns true when the job stays in flight (held in place). */
static bool
act_on_outcome(struct runtime *rt, struct job *job)
{
	struct errctx ec = { 0 };

	if (job->outcome == OUTCOME_RETRY && requeue_waiting(rt, job))
		return false;	/* the copy carries the run on; this one is deleted */
	if (job->outcome == OUTCOME_RETRY && hold_for_lease(rt, job))
		return true;
	if (job->outcome == OUTCOME_RETRY && hold_in_place(rt, job))
		return true;
	if (end_in_dead_letter(rt, job))
		return true;
	rt->counters[job->outcome]++;
	note_outcome(rt, job);
	log_outcome(job);
	if (rt->once != NULL) {
		struct once_observation ob = {
			.outcome = job->outcome, .handler = job->handler,
			.correlation_id = job->correlation_id, .body = job->msg->body,
			.body_len = job->msg->body_len,
		};

		once_observe(rt->once, &ob);
	}
	if (job->outcome == OUTCOME_RETRY || job->outcome == OUTCOME_REJECT)
		rt->any_failure = true;
	if (job->synthetic) {
		/* --once on AWS processed this body directly; a retry must not lose it. */
		if (job->outcome == OUTCOME_RETRY &&
		    rt->b->transport->ops->send(rt->b->transport, job->msg->body, NULL, &ec) < 0)
			log_full(LOG_ERR, &(struct log_fields){ .correlation_id = job->correlation_id,
			    .event_id = job->event_id, .duration_ms = -1 },
			    "could not queue the --once event for a later retry: %s", errctx_msg(&ec));
		return false;
	}
	switch (job->outcome) {
	case OUTCOME_DONE:
	case OUTCOME_DUPLICATE:
		if (!job->deleted)
			queue_delete(rt, job->msg->receipt);
		break;
	case OUTCOME_RETRY: {
		int64_t delay = retry_backoff_usec(job->cfg, job->msg->receive_count);

		if (job->retry_delay_usec > delay)
			delay = job->retry_delay_usec;
		/* A wait (another holder's claim or lease, or the stage asked to
		 * run later) that ends during a stop goes back at once, as a job
		 * held in place does (runtime_begin_drain): nothing failed. */
		if ((job->lease_wait || job->deferred) && rt->state != RUNTIME_RUNNING)
			delay = 0;
		if (delay > RUNTIME_MAX_VISIBILITY_USEC)
			delay = RUNTIME_MAX_VISIBILITY_USEC;
		change_visibility(rt, job->msg->receipt, delay);
		break;
	}
	case OUTCOME_REJECT: {
		struct log_fields f = {
			.message_id = LOG_MID_PARKED, .sqs_message_id = job->msg->message_id,
			.correlation_id = job->correlation_id, .duration_ms = -1,
		};

		rt->ops_outstanding++;
		if (rt->b->transport->ops->reject(rt->b->transport, job->msg, job->reason, op_done_cb, rt,
		    &ec) < 0) {
			rt->ops_outstanding--;
			log_full(LOG_ERR, &f, "parking message %s in the dead-letter queue failed, it will be "
			    "redelivered: %s", job->msg->message_id, errctx_msg(&ec));
		} else {
			log_full(LOG_NOTICE, &f, "parked in the dead-letter queue: %s", job->reason);
			runsource_parked(rt->runs, job->msg->message_id, job->reason,
			    job->msg->receive_count, job->msg->body);
		}
		break;
	}
	default:
		break;
	}
	return false;
}

/* Act on the outcomes of the finished jobs of list head (a worker's, or
 * the loop's own: pipeline_on_loop), their completions first. Their outcome
 * lines go out together (log_batch_begin): one write for the batch. */
static void
finish_jobs(struct runtime *rt, struct job *head)
{
	struct job *job, *next;
	size_t n = 0;

	/* Embedded: their completions (and deletes) first, in one transaction. */
	for (job = head; job != NULL; job = job->next)
		n += job->complete_key != NULL;
	if (n > 0) {
		struct job **done = xcalloc(n, sizeof *done);

		n = 0;
		for (job = head; job != NULL; job = job->next)
			if (job->complete_key != NULL)
				done[n++] = job;
		pipeline_complete_finished(rt->pipeline, done, n);
		free(done);
	}
	log_batch_begin();
	for (job = head; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		if (act_on_outcome(rt, job))
			continue;
		inflight_remove(rt, job);
		job_free(job);
	}
	log_batch_end();
}

void
runtime_finished_event_cb(void *arg)
{
	struct runtime *rt = arg;

	finish_jobs(rt, workers_drain_finished(rt->workers));
	/* Jobs for the loop waiting for a run's lock a finished job may have freed. */
	if (rt->n_loop_wait > 0)
		run_on_loop(rt, NULL, 0);
	if (rt->state != RUNTIME_RUNNING)
		flush_deletes(rt);
	poll_queue(rt);
	maybe_finish(rt);
}

/* ---- receiving ---------------------------------------------------------- */

/* Back to the queue at once (a stop): a job for the loop not yet run. */
static void
release_unrun(struct runtime *rt, struct job *job)
{
	inflight_remove(rt, job);
	pipeline_forget(rt->pipeline, job);
	change_visibility(rt, job->msg->receipt, 0);
	job_free(job);
}

/* The jobs whose stage runs on the loop (pipeline_on_loop: jobs, n, in
 * flight), with those that waited for a run's lock (rt->loop_wait), in
 * rounds: the finished jobs of the workers first (their completions free
 * the run locks the next stage of a run waits for), then every job whose
 * run's lock is free, completed together (one transaction) and acted on;
 * a job whose lock a job of the round before held runs in the next round.
 * One whose lock a worker's job holds waits in rt->loop_wait (at most
 * TRANSPORT_MAX_BATCH; beyond that it goes to the workers, which wait). */
static void
run_on_loop(struct runtime *rt, struct job **jobs, size_t n)
{
	struct job *all[2 * TRANSPORT_MAX_BATCH];
	size_t i, m = 0;

	for (i = 0; i < rt->n_loop_wait; i++)
		all[m++] = rt->loop_wait[i];
	rt->n_loop_wait = 0;
	for (i = 0; i < n; i++)
		all[m++] = jobs[i];
	finish_jobs(rt, workers_drain_finished(rt->workers));
	while (m > 0 && rt->state == RUNTIME_RUNNING) {
		struct job *done = NULL, **tail = &done;
		size_t k = 0;

		for (i = 0; i < m; i++) {
			if (pipeline_on_loop(rt->pipeline, all[i])) {
				*tail = all[i];
				tail = &all[i]->next;
			} else
				all[k++] = all[i];
		}
		if (done == NULL)
			break;
		finish_jobs(rt, done);
		m = k;
	}
	for (i = 0; i < m; i++) {
		if (rt->state != RUNTIME_RUNNING)
			release_unrun(rt, all[i]);
		else if (rt->n_loop_wait < ELEMENTSOF(rt->loop_wait))
			rt->loop_wait[rt->n_loop_wait++] = all[i];
		else
			workers_submit(rt->workers, all[i]);
	}
}

static void
runtime_receive_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct runtime *rt = arg;
	bool idle_before = rt->idle_at_poll;
	struct job *start[TRANSPORT_MAX_BATCH], *on_loop[TRANSPORT_MAX_BATCH];
	size_t i, n_start = 0, n_free, n_on_loop = 0;

	rt->receive_outstanding = false;
	if (r == -ECANCELED) {
		maybe_finish(rt);
		return;
	}
	/* Messages or a failure: the housekeeping tick looks after them (an
	 * idle daemon had armed it only for what was due). */
	if (r < 0 || n > 0)
		runtime_tick_soon(rt);
	metrics_dependency(rt->metrics, METRICS_DEP_QUEUE, r >= 0, time_now_realtime_usec());
	if (r < 0) {
		/* Pause polling while the dependency fails instead of burning receive counts. */
		rt->poll_backoff_usec = rt->poll_backoff_usec == 0 ? USEC_PER_SEC :
		    rt->poll_backoff_usec * 2 > RUNTIME_POLL_BACKOFF_MAX_USEC ?
		    RUNTIME_POLL_BACKOFF_MAX_USEC : rt->poll_backoff_usec * 2;
		log_warning("receiving from the queue failed, will retry in %lld ms: %s",
		    (long long)(rt->poll_backoff_usec / USEC_PER_MSEC), errctx_msg(ec));
		if (rt->state == RUNTIME_RUNNING) {
			struct timeval tv = tv_of(rt->poll_backoff_usec);

			evtimer_add(rt->ev_poll_retry, &tv);
		}
		maybe_finish(rt);
		return;
	}
	rt->poll_backoff_usec = 0;
	metrics_received(rt->metrics, n);
	/* The jobs free workers take at once head for one claim batch; the
	 * prefetched rest count when a worker takes them (workers.c). */
	n_free = workers_free_slots(rt->workers);
	for (i = 0; i < n; i++) {
		struct job *job = job_new(msgs[i], rt->cfg);
		struct log_fields f = { .message_id = LOG_MID_RECEIVED, .sqs_message_id = msgs[i]->message_id,
			.duration_ms = -1 };

		job->visibility_usec = config_usec(rt->cfg, "daemon.visibility_timeout");
		job->extend_at_usec = job->received_usec + job->visibility_usec / 2;
		/* How long since its first delivery: a redelivery that took about
		 * the visibility timeout was held by a consumer that never saw it. */
		if (msgs[i]->receive_count > 1 && msgs[i]->first_receive_usec > 0)
			log_full(LOG_DEBUG, &f, "received message (receive count %u, first received %lld ms ago)",
			    msgs[i]->receive_count,
			    (long long)((time_now_realtime_usec() - msgs[i]->first_receive_usec) / USEC_PER_MSEC));
		else
			log_full(LOG_DEBUG, &f, "received message (receive count %u)", msgs[i]->receive_count);
		rt->received++;
		if (rt->state == RUNTIME_RUNNING && n_start < ELEMENTSOF(start)) {
			start[n_start++] = job;
		} else if (rt->state == RUNTIME_RUNNING)
			runtime_submit(rt, job);
		else {
			/* Drain started during the receive: release it at once. */
			change_visibility(rt, job->msg->receipt, 0);
			job_free(job);
		}
	}
	/* Embedded: their claims go with the receive, from here (pipeline.h),
	 * in its transaction: one commit for both, and none of it stands if
	 * that commit fails (the messages are back in the queue: drop them). */
	if (rt->prefetch && n_start > 0) {
		struct errctx cec = { 0 };

		pipeline_preclaim(rt->pipeline, start, n_start);
		if (sqlite_transport_commit_receive(rt->b->transport, &cec) < 0) {
			log_warning("receiving from the queue failed, will retry: %s", errctx_msg(&cec));
			for (i = 0; i < n_start; i++) {
				pipeline_abandon(rt->pipeline, start[i]);
				job_free(start[i]);
			}
			rt->received -= n_start;
			n_start = 0;
			if (!evtimer_pending(rt->ev_poll_retry, NULL)) {
				struct timeval tv = tv_of(USEC_PER_SEC);

				evtimer_add(rt->ev_poll_retry, &tv);
			}
		}
	}
	/* Embedded: a short, pure handler runs here and now (pipeline_on_loop);
	 * the rest go to the workers first. */
	if (rt->prefetch && rt->state == RUNTIME_RUNNING) {
		size_t k = 0;

		for (i = 0; i < n_start; i++) {
			if (pipeline_loop_eligible(rt->pipeline, start[i])) {
				inflight_add(rt, start[i]);
				on_loop[n_on_loop++] = start[i];
			} else
				start[k++] = start[i];
		}
		n_start = k;
	}
	/* Counted for the claim (or completion) batch before any of them starts. */
	for (i = 0; i < n_start && i < n_free; i++)
		pipeline_expect(rt->pipeline, start[i]);
	/* They start together: their claims go to the store as one batch. */
	for (i = 0; i < n_start; i++)
		runtime_submit(rt, start[i]);
	if (n_on_loop > 0)
		run_on_loop(rt, on_loop, n_on_loop);
	/* --once ends when every run it moved has ended and the queue has nothing
	 * visible for it; a run still going (a message of it hidden for a while,
	 * or retried) keeps it polling until daemon.once_timeout. */
	if (rt->opt->once && rt->state == RUNTIME_RUNNING && n == 0 && idle_before &&
	    rt->n_inflight == 0 && rt->ops_outstanding == 0 && once_unfinished(rt->once) == 0) {
		log_info("--once: every run it moved has ended and the queue is idle: finishing");
		runtime_begin_drain(rt, "once: finished");
		return;
	}
	poll_queue(rt);
	maybe_finish(rt);
	if (n == 0)
		runtime_tick_on_empty_poll(rt);
}

static void
poll_queue(struct runtime *rt)
{
	struct errctx ec = { 0 };
	unsigned free_slots, want;
	int64_t wait, vis;

	if (rt->state != RUNTIME_RUNNING || rt->receive_outstanding ||
	    evtimer_pending(rt->ev_poll_retry, NULL))
		return;
	free_slots = workers_free_slots(rt->workers);
	if (free_slots == 0)
		return;
	if (free_slots > TRANSPORT_MAX_BATCH)
		free_slots = TRANSPORT_MAX_BATCH;
	want = free_slots;
	/* Embedded: a receive takes up to TRANSPORT_MAX_BATCH messages even
	 * with fewer free workers (issue #13: one receive commit for 10, and
	 * the workers take the rest one after another without a trip through
	 * the loop). At most TRANSPORT_MAX_BATCH in flight beyond the workers
	 * busy now; the prefetched ones stay hidden (the heartbeat extends
	 * them), go back at once on a stop, and a kill -9 frees them at the
	 * next start (recover_dead). Not on SQS: a message waiting here is one
	 * another consumer could run now. */
	if (rt->prefetch && workers_queued(rt->workers) == 0) {
		unsigned n = workers_size(rt->workers);

		want = free_slots + (n < TRANSPORT_MAX_BATCH ? TRANSPORT_MAX_BATCH - n : 0);
		if (want > TRANSPORT_MAX_BATCH)
			want = TRANSPORT_MAX_BATCH;
	}
	/* With a batching store, a receive for one or two free workers while the
	 * others wait for their batch's answer (they will be free together)
	 * costs a request each time: wait for that answer, at most
	 * RUNTIME_POLL_BATCH_MAX_USEC. Workers busy in handlers are not waited for. */
	if (rt->b->idem->ops->claim_batch != NULL && !rt->poll_batch_due &&
	    free_slots < (workers_size(rt->workers) < TRANSPORT_MAX_BATCH ? workers_size(rt->workers) :
	    TRANSPORT_MAX_BATCH) && pipeline_batching(rt->pipeline)) {
		if (!evtimer_pending(rt->ev_poll_batch, NULL)) {
			struct timeval tv = tv_of(RUNTIME_POLL_BATCH_MAX_USEC);

			evtimer_add(rt->ev_poll_batch, &tv);
		}
		return;
	}
	rt->poll_batch_due = false;
	evtimer_del(rt->ev_poll_batch);
	wait = config_usec(rt->cfg, "daemon.poll_wait");
	/* --once never waits for a long poll it does not need. */
	if (rt->opt->once && wait > config_usec(rt->cfg, "daemon.once_idle_wait"))
		wait = config_usec(rt->cfg, "daemon.once_idle_wait");
	vis = config_usec(rt->cfg, "daemon.visibility_timeout");
	rt->idle_at_poll = rt->n_inflight == 0 && rt->ops_outstanding == 0;
	rt->receive_outstanding = true;
	rt->receive_started_usec = now_usec();
	if (rt->b->transport->ops->receive(rt->b->transport, want, wait, vis,
	    runtime_receive_cb, rt, &ec) < 0) {
		struct timeval tv = tv_of(USEC_PER_SEC);

		rt->receive_outstanding = false;
		log_warning("starting a receive failed, will retry in 1 s: %s", errctx_msg(&ec));
		evtimer_add(rt->ev_poll_retry, &tv);
	}
}

void
runtime_poll_retry_event_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	poll_queue(arg);
}

void
runtime_poll_batch_event_cb(int fd, short what, void *arg)
{
	struct runtime *rt = arg;

	(void)fd;
	(void)what;
	rt->poll_batch_due = true;
	poll_queue(rt);
}

void
runtime_flush_event_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_deletes(arg);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void
maybe_finish(struct runtime *rt)
{
	if (rt->state != RUNTIME_DRAINING)
		return;
	/* n_inflight, not the pool's count: a job stays ours until its outcome was
	 * acted on, including the moment it sits finished in the pool's done list. */
	if (rt->receive_outstanding || rt->n_inflight > 0)
		return;
	if (rt->n_deletes > 0)
		flush_deletes(rt);
	if (rt->ops_outstanding > 0)
		return;
	rt->state = RUNTIME_STOPPED;
	event_base_loopexit(rt->base, NULL);
}

void
runtime_begin_drain(struct runtime *rt, const char *why)
{
	struct job *job, *next;
	struct timeval tv;

	if (rt->state != RUNTIME_RUNNING)
		return;
	rt->state = RUNTIME_DRAINING;
	runtime_tick_soon(rt);
	if (!rt->opt->once)
		log_notice("stopping (%s): finishing %u in-flight message(s) within %lld s", why,
		    (unsigned)rt->n_inflight,
		    (long long)(config_usec(rt->cfg, "daemon.shutdown_timeout") / USEC_PER_SEC));
	notify_stopping("draining in-flight messages");
	evtimer_del(rt->ev_poll_retry);
	evtimer_del(rt->ev_poll_batch);
	/* The transport ends the receive without losing what it took (SQS lets
	 * the long poll return: a request abandoned mid-poll can still be handed
	 * messages, which would then stay hidden for their visibility timeout);
	 * runtime_receive_cb gives back whatever arrives. */
	if (rt->receive_outstanding)
		rt->b->transport->ops->cancel_receive(rt->b->transport);
	/* Messages no worker started go back to the queue at once. */
	for (job = workers_take_unstarted(rt->workers); job != NULL; job = next) {
		next = job->next;
		inflight_remove(rt, job);
		pipeline_forget(rt->pipeline, job);
		log_debug("released unstarted message %s", job->msg->message_id);
		if (!job->synthetic)
			change_visibility(rt, job->msg->receipt, 0);
		job_free(job);
	}
	/* So do jobs for the loop waiting for a run's lock. */
	for (size_t i = 0; i < rt->n_loop_wait; i++)
		release_unrun(rt, rt->loop_wait[i]);
	rt->n_loop_wait = 0;
	/* Held jobs go back at once too (their timers would only release them). */
	for (size_t i = 0; i < rt->n_inflight;) {
		struct job *held = rt->inflight[i];

		if (held->resubmit_ev == NULL)
			i++;
		else
			release_held(rt, held);	/* removes it: i stays */
	}
	flush_deletes(rt);
	tv = tv_of(config_usec(rt->cfg, "daemon.shutdown_timeout"));
	evtimer_add(rt->ev_deadline, &tv);
	maybe_finish(rt);
}

/* The drain deadline passed (or a second SIGTERM): release what still runs. */
static void
force_stop(struct runtime *rt)
{
	struct job *running[64];
	size_t n, i;

	/* Finished ones first: their claims are completed, not released. */
	runtime_finished_event_cb(rt);
	n = workers_running(rt->workers, running, ELEMENTSOF(running));
	log_warning("stop deadline: releasing %zu message(s) still being handled", n);
	for (i = 0; i < n; i++)
		if (!running[i]->synthetic)
			change_visibility(rt, running[i]->msg->receipt, 0);
	/* Their claims too, so another daemon need not wait for the leases. */
	pipeline_release_claims(rt->pipeline);
	rt->forced = true;
	rt->state = RUNTIME_STOPPED;
	flush_deletes(rt);
	/* Give the visibility changes a moment to go out, then leave the loop. */
	{
		struct timeval tv = tv_of(RUNTIME_FORCED_EXIT_USEC);

		event_base_loopexit(rt->base, &tv);
	}
}

void
runtime_deadline_event_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	force_stop(arg);
}

void
runtime_signal_event_cb(int sig, short what, void *arg)
{
	struct runtime *rt = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		runtime_reload(rt);
		break;
	case SIGTERM:
	case SIGINT:
		if (rt->state == RUNTIME_STARTING) {
			/* Nothing received yet: nothing to drain. */
			log_notice("stopping (%s) while waiting for the dependencies",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			rt->state = RUNTIME_STOPPED;
			event_base_loopexit(rt->base, NULL);
		} else if (rt->state == RUNTIME_RUNNING)
			runtime_begin_drain(rt, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		else if (!rt->forced) {
			log_notice("second stop signal: fast stop");
			force_stop(rt);
		}
		break;
	default:
		break;
	}
}

/* ---- entry points for runtime_main.c ------------------------------------ */

void
runtime_start_polling(struct runtime *rt)
{
	poll_queue(rt);
}

void
runtime_once_timeout(struct runtime *rt)
{
	_cleanup_free_ char *left = once_unfinished_list(rt->once, 5);

	rt->once_timed_out = true;
	log_error("--once: daemon.once_timeout (%lld s) passed with %zu run(s) unfinished: %s",
	    (long long)(config_usec(rt->cfg, "daemon.once_timeout") / USEC_PER_SEC),
	    once_unfinished(rt->once), left[0] != '\0' ? left : "still starting");
	if (rt->state == RUNTIME_STARTING) {
		rt->state = RUNTIME_STOPPED;
		event_base_loopexit(rt->base, NULL);
	} else
		runtime_begin_drain(rt, "once: timeout");
}

/* Extend the visibility of messages whose handler runs past half their timeout. */
void
runtime_heartbeat(struct runtime *rt)
{
	struct transport_visibility v[TRANSPORT_MAX_BATCH];
	int64_t now = now_usec();
	size_t i, n = 0;

	for (i = 0; i < rt->n_inflight; i++) {
		struct job *job = rt->inflight[i];

		if (job->synthetic || now < job->extend_at_usec)
			continue;
		v[n].receipt = job->msg->receipt;
		v[n].timeout_usec = job->visibility_usec;
		job->extend_at_usec = now + job->visibility_usec / 2;
		if (++n == TRANSPORT_MAX_BATCH) {
			change_visibility_batch(rt, v, n);
			n = 0;
		}
	}
	if (n > 0)
		change_visibility_batch(rt, v, n);
}
