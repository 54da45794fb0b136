/*
 * transport: the work queue seam (SQS in production, the SQLite queue in the
 * embedded default). The runtime sees only this interface.
 * Thread:  every op is called on the loop thread only. Operations are
 *          asynchronous: each one ends exactly once with its callback, on the
 *          loop thread, and never from inside the call that started it.
 * Memory:  the receive callback takes ownership of each struct queue_message
 *          (free with queue_message_free); the op arguments are copied before
 *          the op returns.
 */
#ifndef ALCHEMISER_SEAMS_TRANSPORT_H
#define ALCHEMISER_SEAMS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct errctx;
struct transport;

#define TRANSPORT_MAX_BATCH 10	/* SQS limit for receive, delete and visibility batches */
#define TRANSPORT_ID_MAX 128	/* a message id and its NUL (SQS: 36-character UUID) */

struct queue_message {
	char	*message_id;		/* SQS MessageId */
	char	*receipt;		/* receipt handle: what delete/visibility use */
	char	*body;			/* NUL-terminated; body_len excludes the NUL */
	size_t	 body_len;
	unsigned receive_count;		/* ApproximateReceiveCount (1 on first delivery) */
	int64_t	 sent_usec;		/* SentTimestamp, wall clock */
	int64_t	 first_receive_usec;	/* ApproximateFirstReceiveTimestamp */
	json_t	*attributes;		/* message attributes {name: {DataType, StringValue}} or NULL */
};

void	queue_message_free(struct queue_message *m);

/* Receive completion: n messages (0 on an empty poll), ownership passes to the
 * callback (the array itself is freed by the transport after the call). r < 0
 * with ec on failure (then n is 0). */
typedef void (*transport_receive_cb)(struct queue_message **msgs, size_t n, int r,
    const struct errctx *ec, void *arg);
/* Batch completion: results[i] is 0 or a negative errno for entry i. */
typedef void (*transport_batch_cb)(const int *results, size_t n, int r,
    const struct errctx *ec, void *arg);

struct transport_visibility {
	const char	*receipt;
	int64_t		 timeout_usec;	/* 0 = visible again now */
};

struct transport_ops {
	const char *name;
	/* Start a receive of at most max (1..10) messages, waiting up to wait_usec
	 * for the first one, and hiding them for visibility_usec. At most one
	 * receive is outstanding at a time. */
	int	(*receive)(struct transport *t, unsigned max, int64_t wait_usec,
		    int64_t visibility_usec, transport_receive_cb cb, void *arg, struct errctx *ec);
	/* End an outstanding receive as early as is safe: its callback still runs
	 * once, with r = -ECANCELED and n = 0 when nothing was taken, or with the
	 * messages the queue already handed out (the caller gives them back).
	 * The SQLite queue ends at once (a receive takes messages atomically);
	 * SQS lets the long poll return, since a ReceiveMessage abandoned in
	 * flight can still be answered with messages nobody will ever see. */
	void	(*cancel_receive)(struct transport *t);
	/* Delete up to 10 messages by receipt. */
	int	(*delete_batch)(struct transport *t, const char *const *receipts, size_t n,
		    transport_batch_cb cb, void *arg, struct errctx *ec);
	/* Change the visibility of up to 10 messages. */
	int	(*change_visibility)(struct transport *t, const struct transport_visibility *v,
		    size_t n, transport_batch_cb cb, void *arg, struct errctx *ec);
	/* Optional (NULL: the queue counts every receive, as SQS does). Mark a
	 * message held in place as waiting (for another holder's lease, or a
	 * stage that asked to run later) or as running again. A waiting
	 * message's receive is given back when it is released or its receiver
	 * dies: a wait is not an attempt, and kills during long waits must not
	 * park a healthy run (issue #17, B1). */
	int	(*mark_waiting)(struct transport *t, const char *receipt, bool waiting,
		    transport_batch_cb cb, void *arg, struct errctx *ec);
	/* Park a message in the dead-letter queue with the reason (kept as a message
	 * attribute), then delete it from the work queue. */
	int	(*reject)(struct transport *t, const struct queue_message *m, const char *reason,
		    transport_batch_cb cb, void *arg, struct errctx *ec);
	/* Optional (NULL: not offered; the SQLite queue gives receives back
	 * instead, mark_waiting). Put a fresh copy of a message held in place
	 * (same body and message attributes, so the same idempotency key) on the
	 * work queue, visible after delay_usec, then delete the message: its
	 * receive count starts again. For a run waiting for the account whose
	 * count nears the redrive limit: on SQS each kill during a wait costs a
	 * receive. On failure of the send the message stays as it was. */
	int	(*requeue)(struct transport *t, const struct queue_message *m, int64_t delay_usec,
		    transport_batch_cb cb, void *arg, struct errctx *ec);
	/* Put a body on the work queue (--once, --send, tests). Synchronous: used
	 * before the loop runs. ret_id (TRANSPORT_ID_MAX bytes, or NULL) gets the
	 * new message's id. */
	int	(*send)(struct transport *t, const char *body, char *ret_id, struct errctx *ec);
	/* Start-up and reload check: the queue exists and is usable. Synchronous. */
	int	(*preflight)(struct transport *t, struct errctx *ec);
	void	(*free)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
};

#endif
