/*
 * sqs_receive: the messages of a ReceiveMessage response read in one pass
 * over its text, without a jansson tree (issue #13: parsing the response
 * with json_loadb was about a third of the AWS path's instructions per
 * message: ten escaped bodies, each then copied out of the tree).
 * It reads the plain shape SQS, moto and local-aws-sqs answer: a top-level
 * object whose "Messages" (if any) is an array of objects with string
 * MessageId, ReceiptHandle, MD5OfBody and Body, an "Attributes" object of
 * strings, and no (or an empty) "MessageAttributes". Strings are decoded as
 * RFC 8259 says (\u escapes of four hex digits, surrogate pairs joined,
 * to UTF-8). On anything else it declines: raw bytes above 0x7f (jansson checks their UTF-8), numbers,
 * \u0000, a repeated field, message attributes, a missing field, deeper
 * nesting than SQS_RX_MAX_DEPTH, or text that is not JSON at all. A decline
 * says nothing about validity: the caller then parses with jansson, so
 * every outcome (messages or the error) stays what that path gives.
 * Thread:  any.
 * Memory:  the fields are malloc'd, NUL-terminated; sqs_rx_clear frees them.
 */
#ifndef ALCHEMISER_AWS_SQS_RECEIVE_H
#define ALCHEMISER_AWS_SQS_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>

#define SQS_RX_MAX_DEPTH 32

struct sqs_rx_message {
	char	*message_id;
	char	*receipt;
	char	*body;
	size_t	 body_len;
	char	*md5;			/* MD5OfBody, or NULL */
	char	*receive_count;		/* Attributes.ApproximateReceiveCount, or NULL */
	char	*sent;			/* Attributes.SentTimestamp (ms), or NULL */
	char	*first_receive;		/* Attributes.ApproximateFirstReceiveTimestamp, or NULL */
};

/* Read text (len bytes; an empty text is an empty receive): true with the
 * first *n (at most max) messages in out[0..max), the later ones only
 * checked; false when it declines (out is then all cleared). */
bool	sqs_rx_scan(const char *text, size_t len, size_t max, struct sqs_rx_message *out,
	    size_t *n);
void	sqs_rx_clear(struct sqs_rx_message *m);

#endif
