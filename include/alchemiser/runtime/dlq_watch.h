/*
 * dlq_watch: the clean end of runs whose message SQS parked by itself
 * (issue #17, B1). When the daemon handling a message is killed on its last
 * permitted receive (the redrive policy's maxReceiveCount), SQS moves the
 * message to the DLQ at the next receive: no daemon sees it again, so its
 * run would keep its open orders, its claim IN_PROGRESS and get no mail.
 * With backend = aws, aws.dead_letter_queue_url set and
 * aws.dlq_watch_interval > 0, every daemon sweeps the DLQ that often, off
 * the loop (a thread of its own):
 *   - receive at most DLQ_WATCH_MAX_MESSAGES messages in at most
 *     DLQ_WATCH_MAX_CALLS receives, hidden DLQ_WATCH_VISIBILITY_S while
 *     looked at (aws/sqs_dlq.h), all made visible again at the end: the
 *     watcher never deletes or moves a message;
 *   - skip those the daemon parked itself (alchemiser.reject_reason: their
 *     run was ended then);
 *   - take the watcher's claim on dlq_watch_key() in the idempotency store
 *     (a space: no event id has one): COMPLETED = a daemon already ended it,
 *     held = another daemon is at it; so one daemon ends each, once;
 *   - pipeline_end_parked(): its stage's claim completed -> nothing to end
 *     (no mail); held by a live holder -> released, asked again next sweep;
 *     else the run is ended as a dead-lettered job's (open orders
 *     cancelled, claim released, one WorkflowFailed -> one error mail);
 *   - the park record (runsource_park_now: the dashboard and --dead-letters
 *     show the reason), then the watcher's claim completed (kept
 *     DLQ_WATCH_RETENTION_USEC, SQS's longest message retention) or, when
 *     nothing could be done yet, released.
 * At most DLQ_WATCH_MAX_ENDS messages are handled per sweep.
 * Thread:  new/tick/free on the loop thread; the sweep on its own thread.
 * Memory:  the watcher borrows the backends, pipeline and run source, which
 *          must outlive it (dlq_watch_free first).
 */
#ifndef ALCHEMISER_RUNTIME_DLQ_WATCH_H
#define ALCHEMISER_RUNTIME_DLQ_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/core/timeutil.h"
#include "alchemiser/runtime/pipeline.h"

struct backends;
struct config;
struct errctx;
struct event_base;
struct pipeline;
struct runsource;
struct dlq_watch;

#define DLQ_WATCH_MAX_MESSAGES	30	/* read per sweep */
#define DLQ_WATCH_MAX_CALLS	3	/* ReceiveMessage calls per sweep */
#define DLQ_WATCH_MAX_ENDS	10	/* messages claimed and handled per sweep */
#define DLQ_WATCH_VISIBILITY_S	60	/* hidden while a sweep looks at them */
#define DLQ_WATCH_FIRST_MAX_USEC	(10 * USEC_PER_SEC)	/* first sweep after start */
#define DLQ_WATCH_RETENTION_USEC	(INT64_C(14) * USEC_PER_DAY)

/* *ret NULL (and 0) when the watch is off: another backend, no DLQ URL, an
 * interval of 0, or --once. */
int	dlq_watch_new(const struct config *cfg, bool once, struct backends *b,
	    struct pipeline *p, struct runsource *rs, struct event_base *base,
	    struct dlq_watch **ret, struct errctx *ec);
/* Every loop tick: starts a sweep when one is due, none runs and the daemon
 * is running (cfg: the current snapshot, referenced by the sweep). NULL-safe. */
void	dlq_watch_tick(struct dlq_watch *w, struct config *cfg, bool running);
/* When dlq_watch_tick has work next (monotonic usec): the next sweep; 0 while
 * a sweep runs (its end is seen at a later tick); INT64_MAX when the watch is
 * off. The loop's idle timer is armed by it (issue #13). NULL-safe. */
int64_t	dlq_watch_due_usec(const struct dlq_watch *w);
/* Stops after the message the sweep is at (bounded by the AWS and broker
 * timeouts). NULL-safe. */
void	dlq_watch_free(struct dlq_watch *w);

/* ---- pure parts (unit tests) ---- */

/* The watcher's claim key of a parked message (caller frees):
 * "dlq-watch <message id> <SentTimestamp ms>". */
char	*dlq_watch_key(const char *message_id, int64_t sent_usec);
/* The reason given to the run's end. */
void	dlq_watch_why(char *buf, size_t size, unsigned max_receives);
/* After pipeline_end_parked: whether the park is recorded and the watcher's
 * claim completed (true), or the claim released for a later sweep (false). */
bool	dlq_watch_settled(enum pipeline_parked r);
/* Whether a DLQ message is the watcher's: not parked by a daemon itself
 * (those carry their reason or their original id). */
bool	dlq_watch_wanted(const char *reject_reason, const char *source_message_id);

#endif
