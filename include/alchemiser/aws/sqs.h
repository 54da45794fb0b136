/*
 * sqs: the transport seam over Amazon SQS (AWS JSON 1.0 protocol).
 * receive/delete/change_visibility/reject run asynchronously on the loop's
 * curl multi (the long poll never blocks the loop); send and preflight are
 * blocking (start-up, --once, reload). Requests go to the regional (or
 * overridden) endpoint with QueueUrl as a parameter, never to the queue URL.
 *   receive   MaxNumberOfMessages 1..10, WaitTimeSeconds 0..20, VisibilityTimeout,
 *             ApproximateReceiveCount / SentTimestamp / ApproximateFirstReceiveTimestamp
 *             (asked as MessageSystemAttributeNames and the legacy AttributeNames),
 *             all message attributes; MD5OfBody checked (a mismatch fails the
 *             receive with -EPROTO, like botocore; the messages come back).
 *             The HTTP timeout of a poll is WaitTimeSeconds + timeout_usec (10 s).
 *   delete / change_visibility   the *Batch calls; per-entry results:
 *             0, -ENOENT (ReceiptHandleIsInvalid), -EINVAL (other sender
 *             faults, MessageNotInflight), -EAGAIN (server faults).
 *   reject    SendMessage of the body to the DLQ with message attributes
 *             alchemiser.reject_reason, alchemiser.source_message_id,
 *             alchemiser.receive_count (plus the original attributes, up to
 *             SQS's 10), then DeleteMessage on the work queue. No DLQ -> -EINVAL.
 *   preflight GetQueueAttributes of the work queue (and DLQ): -ENOENT when
 *             missing, -EACCES on auth errors; fills sqs_queue_info.
 * free() runs the callbacks of operations still outstanding, with -ECANCELED.
 * Thread:  the loop thread for everything except send/preflight (any thread
 *          while the loop does not use the transport).
 * Memory:  options copied; creds borrowed (must outlive the transport).
 */
#ifndef ALCHEMISER_AWS_SQS_H
#define ALCHEMISER_AWS_SQS_H

#include <stdbool.h>
#include <stdint.h>

#include "alchemiser/seams/transport.h"

struct event_base;
struct aws_credentials;

struct sqs_options {
	const char	*region;		/* required */
	const char	*endpoint;		/* NULL = https://sqs.REGION.amazonaws.com/ */
	const char	*queue_url;		/* required */
	const char	*dlq_url;		/* NULL = reject is refused */
	int64_t		 connect_timeout_usec;	/* 0 = 3 s */
	int64_t		 timeout_usec;		/* per request, a poll gets its wait on top; 0 = 10 s */
	unsigned	 max_attempts;		/* 0 = 3 */
	const char	*ca_file;
};

/* What preflight learned about the work queue. */
struct sqs_queue_info {
	int64_t		 visibility_timeout_usec;
	int64_t		 maximum_message_size;	/* bytes */
	unsigned	 max_receive_count;	/* from RedrivePolicy, 0 = none */
	char		 queue_arn[256];
	char		 dead_letter_target_arn[256];
};

int	sqs_transport_new(struct event_base *base, const struct sqs_options *o,
	    struct aws_credentials *creds, struct transport **ret, struct errctx *ec);
/* Valid after a successful preflight; -ENOENT before. */
int	sqs_transport_queue_info(const struct transport *t, struct sqs_queue_info *ret);
struct aws_client;
/* The transport's client (borrowed) and queue URLs (dlq_url may be NULL),
 * for the dead-letter tool (sqs_dlq.h). */
struct aws_client *sqs_transport_client(struct transport *t, const char **queue_url,
	    const char **dlq_url);

#endif
