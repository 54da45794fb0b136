/*
 * pipeline: the processing of one message on a worker thread:
 * route -> (reject) | stage lookup -> per-correlation lock -> idempotency claim
 * -> stage handler -> publish (deterministic ids) -> complete -> outcome.
 * Every failure becomes an outcome with a reason; nothing here exits.
 * A renewer thread extends the lease of every claim held while its handler runs.
 * Claims and completions of jobs that reach that step together go to the
 * store as one batch when it offers batches (idem_store claim_batch,
 * complete_batch): each worker still waits for its own answer, so the order
 * (lock, claim, handler, complete, outcome) is unchanged; what batching adds
 * is at most PIPELINE_BATCH_WINDOW_USEC of waiting for the others.
 * Thread:  any worker thread; the pipeline struct is shared and thread-safe.
 * Memory:  job results are owned by the job (job_free).
 */
#ifndef ALCHEMISER_RUNTIME_PIPELINE_H
#define ALCHEMISER_RUNTIME_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "alchemiser/router/outcome.h"

struct route;

struct config;
struct queue_message;
struct backends;
struct event;
struct runtime;
struct pipeline;

struct job {
	struct queue_message	*msg;		/* owned */
	struct config		*cfg;		/* the snapshot this message started with (ref) */
	bool			 synthetic;	/* --once body processed directly: no receipt */
	int64_t			 received_usec;	/* monotonic */
	int64_t			 extend_at_usec;/* next visibility extension (monotonic) */
	int64_t			 visibility_usec;
	bool			 finished;	/* set by the loop when the outcome arrives */
	/* results, written by the worker */
	enum outcome		 outcome;
	char			 reason[384];
	/* The route's names, NULL when unknown: all five live in texts, one
	 * block (job_set_texts), not five copies per message (issue #13). */
	const char		*correlation_id;
	const char		*event_id;
	const char		*detail_type;
	const char		*source;
	const char		*handler;
	char			*texts;		/* owned */
	int64_t			 duration_ms;
	int64_t			 retry_delay_usec;	/* retry: at least this long (0 = back-off only) */
	bool			 infra_failure;	/* retry because a dependency (store, bus, mail, broker) failed */
	bool			 lease_wait;	/* retry because another live holder has the claim */
	bool			 deferred;	/* retry asked by the stage (stage_output.hold_usec) */
	bool			 dead_letter;	/* run again only to end the run; then parked */
	bool			 deleted;	/* its completion deleted the message (embedded store) */
	/* Claimed by the loop with its receive (embedded, issue #13): route
	 * is the body parsed once (the worker uses it, then frees it), and the
	 * claim is held (registered for renewal); the worker skips its own. */
	struct route		*route;
	bool			 preclaimed;
	bool			 preclaim_took_over;
	/* Done, its claim not completed yet: the loop completes it (and
	 * deletes the message) with the others it finds finished, then frees
	 * the claim and the run's lock (pipeline_complete_finished). */
	char			*complete_key;
	char			*complete_corr;
	/* The run's lock is held already (taken on the loop: pipeline_on_loop). */
	bool			 corr_held;
	/* Counted by a batch forming (pipeline.c, under its batch lock). */
	bool			 heading_claim;
	bool			 heading_complete;
	bool			 finishing;	/* its completion batch answered; worker not yet free */
	unsigned		 lease_waits;	/* times held in place for a lease (loop thread) */
	int64_t			 lease_wait_since_usec;	/* monotonic; 0 = not waiting */
	int			 dependency;	/* which one: enum metrics_dependency */
	/* Held in place (loop thread only): a dependency failure is retried
	 * without giving the message back, so it costs no receive count. */
	unsigned		 inplace_retries;
	bool			 marked_waiting;	/* the queue knows it waits (transport mark_waiting) */
	struct event		*resubmit_ev;
	struct runtime		*runtime;	/* for the resubmit timer */
	struct job		*next;		/* queue links (owner decides) */
};

struct job *job_new(struct queue_message *msg, struct config *cfg);
void	job_free(struct job *j);

/* The longest a claim or completion waits for others to join its batch
 * (reached only when a job expected is held up: a loaded machine). */
#define PIPELINE_BATCH_WINDOW_USEC	(20 * 1000)

struct pipeline *pipeline_new(struct backends *b);
/* Loop thread, embedded store only (its calls are short and local): route
 * the jobs of a receive and claim their keys in one batch before they are
 * submitted. A job whose key another job of this process holds, or that
 * the store does not give at once, is left to the worker's own claim. */
void	pipeline_preclaim(struct pipeline *p, struct job **jobs, size_t n);
/* The claim pipeline_preclaim took for job was undone with its receive's
 * transaction: forget it (no store call). */
void	pipeline_abandon(struct pipeline *p, struct job *job);
/* Embedded: the loop completes the claims of finished jobs (on) instead of
 * the workers' completion batches. Set once, before any job. */
void	pipeline_set_loop_completes(struct pipeline *p, bool on);
/* Loop thread: complete, in one batch, the claims of the finished jobs
 * that hold one (job->complete_key), deleting their messages with them;
 * then free their claims and run locks. Others are left alone. */
void	pipeline_complete_finished(struct pipeline *p, struct job **jobs, size_t n);
/* job (of a receive, about to be submitted) is heading for its claim: the
 * claim batch forming waits for it. */
void	pipeline_expect(struct pipeline *p, struct job *job);
/* A claim or completion batch is forming or at the store, or the workers of
 * an answered one are still on their way back: they will be free together. */
bool	pipeline_batching(struct pipeline *p);
/* The worker that ran job is free again (workers.c, after counting it free). */
void	pipeline_job_returned(struct pipeline *p, struct job *job);
/* job will not be processed now (released unstarted): wait for it no more,
 * and give back the claim taken with its receive. */
void	pipeline_forget(struct pipeline *p, struct job *job);
struct metrics;
/* Counters to update (orders and the account after an execution); may be NULL. */
void	pipeline_set_metrics(struct pipeline *p, struct metrics *m);
/* Process job on the calling worker thread. */
void	pipeline_process(struct pipeline *p, struct job *job);
/* Loop thread, embedded store: process job right here when its stage is
 * on_loop (stages/stage.h: short, no I/O of its own), its claim was taken
 * with its receive (pipeline_preclaim) and its run's lock is free now;
 * true = processed (its outcome is set; the loop completes its claim as for
 * a worker's job). false = nothing done: submit it to the workers. */
bool	pipeline_on_loop(struct pipeline *p, struct job *job);
/* Whether pipeline_on_loop may take job at all (its run's lock aside). */
bool	pipeline_loop_eligible(const struct pipeline *p, const struct job *job);
/* What pipeline_end_parked found for a message the queue parked by itself. */
enum pipeline_parked {
	PIPELINE_PARKED_ENDED,		/* run ended: orders cancelled, claim released, WorkflowFailed out */
	PIPELINE_PARKED_COMPLETED,	/* its stage had completed: nothing to end, no mail */
	PIPELINE_PARKED_NO_RUN,		/* no run to end (router rejects it, the error path's own) */
	PIPELINE_PARKED_HELD,		/* its claim is held by a live holder: ask again later */
	PIPELINE_PARKED_RETRY,		/* a dependency failed: ask again later */
	_PIPELINE_PARKED_MAX
};
/* msg (taken) was parked by the queue itself (an SQS redrive policy, after
 * its last permitted receive was killed): end its run as a dead-lettered
 * job's would be ended, with why as the reason, where one is due. reason
 * (size) gets what was done, for the park record and the log. Blocking; any
 * thread but the loop's (the DLQ watcher's). */
enum pipeline_parked pipeline_end_parked(struct pipeline *p, struct queue_message *msg,
	    struct config *cfg, const char *why, char *reason, size_t size);
/* The owner string of this process (core/owner.h), for claims. */
const char *pipeline_owner(struct pipeline *p, char *buf, size_t size);
/* Release every claim held right now (a forced stop; the main thread may
 * call it while workers are stuck in handlers). */
void	pipeline_release_claims(struct pipeline *p);
void	pipeline_free(struct pipeline *p);

#endif
