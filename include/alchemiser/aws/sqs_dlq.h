/*
 * sqs_dlq: the operator's view of the SQS dead-letter queue (alchemiserd
 * --dead-letters): counts, a look at the parked messages, and moving them
 * back to the work queue.
 *   peek     ReceiveMessage on the DLQ (hidden 30 s while read), then
 *            ChangeMessageVisibility 0 so they stay where they were. SQS
 *            offers no other way to read a message; it adds one to each
 *            message's receive count in the DLQ (harmless there).
 *   redrive  all: StartMessageMoveTask (DLQ -> work queue) and wait for the
 *            task to finish; where the service refuses it (moto answers 500,
 *            an older region, a FIFO pair) receive-and-send instead.
 *            One id, or the fallback: receive from the DLQ, SendMessage to the
 *            work queue with the body and the original message attributes
 *            (the alchemiser.* parking attributes dropped), then delete from
 *            the DLQ. A message is deleted only after its copy was sent, so a
 *            failure in between duplicates it (absorbed by idempotency), never
 *            loses it.
 *   receive / release   the DLQ watcher's read (runtime/dlq_watch.h): the
 *            messages with their receipts, hidden while it looks at them,
 *            then visible again; the watcher never deletes one.
 * An id is the DLQ's MessageId or the original one (alchemiser.source_message_id).
 * Thread:  blocking calls (aws_client_call, any thread): the CLI's main
 *          thread, or the watcher's own thread while the loop runs.
 * Memory:  returned arrays are the caller's (sqs_dlq_messages_free).
 */
#ifndef ALCHEMISER_AWS_SQS_DLQ_H
#define ALCHEMISER_AWS_SQS_DLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct transport;

struct sqs_dlq_message {
	char		*message_id;		/* in the DLQ */
	char		*receipt;		/* of the receive that read it */
	char		*source_message_id;	/* on the work queue, NULL if unknown */
	char		*body;
	char		*reason;		/* alchemiser.reject_reason, NULL after a native redrive */
	unsigned	 receive_count;		/* on the work queue when parked, 0 if unknown */
	int64_t		 parked_usec;		/* SentTimestamp in the DLQ */
};

enum sqs_redrive_method {
	SQS_REDRIVE_NONE,
	SQS_REDRIVE_MOVE_TASK,
	SQS_REDRIVE_RECEIVE_SEND,
	_SQS_REDRIVE_MAX
};

/* ApproximateNumberOfMessages (+ NotVisible) of the DLQ. */
int	sqs_dlq_count(struct transport *t, uint64_t *visible, uint64_t *in_flight,
	    struct errctx *ec);
/* Up to max parked messages, each once. */
int	sqs_dlq_peek(struct transport *t, size_t max, struct sqs_dlq_message **ret, size_t *n,
	    struct errctx *ec);
/* For the DLQ watcher (runtime/dlq_watch.h): up to max messages, each once,
 * in at most max_calls receives, hidden for visibility_s; they stay hidden
 * until sqs_dlq_release (or their visibility lapses). A failed call after
 * some arrived returns those (0); with none, the error. */
int	sqs_dlq_receive(struct transport *t, size_t max, unsigned max_calls, int visibility_s,
	    struct sqs_dlq_message **ret, size_t *n, struct errctx *ec);
/* Visible again now (ChangeMessageVisibilityBatch 0); a failure only leaves
 * them hidden until their visibility lapses. */
void	sqs_dlq_release(struct transport *t, const struct sqs_dlq_message *m, size_t n);
void	sqs_dlq_messages_free(struct sqs_dlq_message *m, size_t n);
/* Move the message with id (NULL = all) back to the work queue. try_move_task:
 * all messages through a message-move task when the service has one. *method
 * says how; why (may be NULL, size why_size) why the move task was not used. */
int	sqs_dlq_redrive(struct transport *t, const char *id, bool try_move_task, uint64_t *moved,
	    enum sqs_redrive_method *method, char *why, size_t why_size, struct errctx *ec);
const char *sqs_redrive_method_to_string(enum sqs_redrive_method m);

#endif
