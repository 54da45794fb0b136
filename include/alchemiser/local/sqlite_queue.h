/*
 * sqlite_queue: the transport seam over the SQLite state file, with SQS
 * semantics: visibility timeout, receive count, delay, dead-letter queue after
 * max_receive_count (moved on the next receive, as SQS does), batch delete,
 * change visibility, message attributes.
 *
 * Receipts are unique per receive ("<seq>.<random>"): a stale receipt (the
 * message was received again since) can neither delete nor hide the message,
 * and fails with -ENOENT. A receive claims its messages in one BEGIN IMMEDIATE
 * transaction, so two processes on the same file never receive a message while
 * it is invisible. Differences from SQS: ops on a stale or unknown receipt
 * fail with -ENOENT (SQS: ReceiptHandleIsInvalid, or a silent success);
 * change_visibility works on any current receipt, even after the timeout
 * lapsed (no MessageNotInflight), which makes a late heartbeat harmless.
 *
 * Long polling never blocks the loop, and an idle receive does not poll: it
 * sleeps until the doorbell rings (an inotify watch on the state file's
 * folder reports a write to its WAL: a commit of any process, --send or
 * another daemon), sqlite_transport_wake() (a publish of this process), the
 * earliest hidden message of the queue (delayed, in flight) becomes visible,
 * wait_usec passes, or the backstop poll_interval_usec passes. Without
 * inotify it re-checks every SQLITE_QUEUE_FALLBACK_POLL_USEC. The SQL itself
 * runs on the loop thread; it waits for another process's write lock at most
 * the busy timeout (transactions are short).
 *
 * Parked messages (reject, or max_receive_count reached) move to the DLQ
 * queue with their message id, body and receive count, a reason column, and
 * the message attributes ERROR_CODE ("Rejected" | "MaxReceiveCountExceeded"),
 * ERROR_MESSAGE (the reason) and SOURCE_QUEUE.
 *
 * Thread:  the transport ops on the loop thread of the base given to
 *          sqlite_transport_new(); the inspection functions (sync) on any
 *          thread with a state of their own or the transport's state.
 * Memory:  as transport.h; the constructor copies the options.
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_QUEUE_H
#define ALCHEMISER_LOCAL_SQLITE_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "alchemiser/local/sqlite_state.h"
#include "alchemiser/seams/transport.h"

struct event_base;
struct errctx;

#define SQLITE_QUEUE_POLL_INTERVAL_USEC (60 * INT64_C(1000000))	/* backstop */
#define SQLITE_QUEUE_FALLBACK_POLL_USEC (50 * INT64_C(1000))	/* no inotify */
#define SQLITE_QUEUE_MAX_RECEIVE_COUNT 5

struct sqlite_queue_options {
	const char	*path;			/* state file */
	const char	*queue;			/* work queue name, [A-Za-z0-9_-]{1,80} */
	const char	*dlq;			/* NULL = "<queue>-dlq" */
	unsigned	 max_receive_count;	/* 0 = SQLITE_QUEUE_MAX_RECEIVE_COUNT */
	int64_t		 poll_interval_usec;	/* backstop re-check of an empty queue; 0 = SQLITE_QUEUE_POLL_INTERVAL_USEC */
	int64_t		 busy_timeout_usec;	/* 0 = SQLITE_STATE_BUSY_TIMEOUT_USEC */
	sqlite_state_clock_cb clock;		/* NULL = CLOCK_REALTIME (tests inject) */
	void		*clock_arg;
};

/* The transport. base is the loop that runs the callbacks and poll timers.
 * Free it only when no op is outstanding (pending callbacks are dropped). */
int	sqlite_transport_new(struct event_base *base, const struct sqlite_queue_options *o,
	    struct transport **ret, struct errctx *ec);

/* From now on a receive that hands over messages keeps its transaction open
 * for its callback (issue #13): the callback's writes on the same thread
 * (the claims of those messages) join it, and the callback commits all
 * with sqlite_transport_commit_receive before acting on the messages; on
 * an error everything since the receive is undone (the messages are back
 * in the queue) and the callback must drop them. If the callback does not
 * commit, the transport does when it returns. Other threads' writes meanwhile
 * join the transaction and wait for that commit. Loop thread. */
void	sqlite_transport_hold_receives(struct transport *t);
int	sqlite_transport_commit_receive(struct transport *t, struct errctx *ec);

/* Wake a receive that is waiting for messages so it re-checks now (the bus of
 * the same process just published). Any thread; needs a thread-aware base
 * (evthread_use_pthreads() before event_base_new()). */
void	sqlite_transport_wake(struct transport *t);

/* The transport's state (borrowed) for the inspection functions below. */
struct sqlite_state *sqlite_transport_state(struct transport *t);

/* Send with a delay (0..15 min) and message attributes ({name: {DataType,
 * StringValue|BinaryValue}}, at most 10, or NULL). Synchronous; message_id
 * (37 bytes) may be NULL. The seam's send() is this with no delay or
 * attributes. */
int	sqlite_transport_send(struct transport *t, const char *body, int64_t delay_usec,
	    const json_t *attributes, char *message_id, struct errctx *ec);

/* ---- inspection (synchronous; tests, --once, a future --redrive) ---- */

struct sqlite_queue_counts {
	uint64_t	visible;	/* ready to receive now */
	uint64_t	in_flight;	/* received, invisible */
	uint64_t	delayed;	/* sent with a delay, never received yet */
};

int	sqlite_queue_count(struct sqlite_state *st, const char *queue,
	    struct sqlite_queue_counts *ret, struct errctx *ec);

struct sqlite_queue_parked {
	char		*message_id;
	char		*body;
	char		*reason;
	char		*source_queue;
	json_t		*attributes;	/* including ERROR_CODE/ERROR_MESSAGE/SOURCE_QUEUE */
	unsigned	 receive_count;
	int64_t		 sent_usec;
	int64_t		 parked_usec;
};

/* Up to max messages of a dead-letter queue, oldest first; *ret is an array
 * owned by the caller (sqlite_queue_parked_free). */
int	sqlite_queue_list_parked(struct sqlite_state *st, const char *dlq, size_t max,
	    struct sqlite_queue_parked **ret, size_t *n, struct errctx *ec);
void	sqlite_queue_parked_free(struct sqlite_queue_parked *p, size_t n);

/* Move every message of dlq back to the queue it came from, visible now with
 * a receive count of 0 (an operator's redrive). *moved may be NULL. */
int	sqlite_queue_redrive(struct sqlite_state *st, const char *dlq, uint64_t *moved,
	    struct errctx *ec);
/* The same for the one message with that id (message_id NULL = all);
 * *moved is 0 when it is not in dlq. */
int	sqlite_queue_redrive_message(struct sqlite_state *st, const char *dlq,
	    const char *message_id, uint64_t *moved, struct errctx *ec);

#endif
