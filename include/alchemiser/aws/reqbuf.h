/*
 * reqbuf: an AWS JSON request body written straight into a growing buffer.
 * The hot requests (ReceiveMessage, DeleteMessageBatch, the DynamoDB
 * transactions of a batch) have a fixed shape: building a jansson tree only
 * to dump it again cost more than the request's signing (issue #13).
 *   reqbuf_raw   literal JSON text the caller vouches for (punctuation, keys)
 *   reqbuf_str   a string value, quoted and escaped as RFC 8259 says (", \,
 *                and control characters; other bytes pass as they are, so
 *                UTF-8 stays UTF-8); NULL writes ""
 *   reqbuf_int   a decimal integer
 * Thread:  one buffer per caller.
 * Memory:  the buffer grows with xreallocarray; reqbuf_take hands it over (caller
 *          frees), reqbuf_free drops it.
 */
#ifndef ALCHEMISER_AWS_REQBUF_H
#define ALCHEMISER_AWS_REQBUF_H

#include <stddef.h>
#include <stdint.h>

struct reqbuf {
	char	*buf;
	size_t	 len, cap;
};

void	reqbuf_raw(struct reqbuf *b, const char *text);
void	reqbuf_str(struct reqbuf *b, const char *s);
void	reqbuf_int(struct reqbuf *b, int64_t v);
/* The text so far, NUL-terminated (never NULL); *len gets its length. */
char	*reqbuf_take(struct reqbuf *b, size_t *len);
void	reqbuf_free(struct reqbuf *b);

#endif
