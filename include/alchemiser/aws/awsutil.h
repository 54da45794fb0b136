/*
 * awsutil: small pure helpers shared by the aws layer: SHA-256 / HMAC /
 * MD5 in hex, SigV4 URI encoding, the time formats AWS speaks (X-Amz-Date,
 * RFC 7231 Date headers, ISO 8601 expirations) and a growable byte buffer.
 * Thread:  pure functions, any thread.
 * Memory:  returned char * belong to the caller (free()); buffers are the
 *          caller's.
 */
#ifndef ALCHEMISER_AWS_AWSUTIL_H
#define ALCHEMISER_AWS_AWSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;

#define AWS_SHA256_LEN 32
#define AWS_SHA256_HEX_LEN 64
#define AWS_MD5_HEX_LEN 32
/* "20150830T123600Z" */
#define AWS_AMZ_DATE_LEN 16

/* A growable byte string, always NUL-terminated. */
struct abuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	abuf_init(struct abuf *b);
void	abuf_add(struct abuf *b, const void *p, size_t n);
void	abuf_puts(struct abuf *b, const char *s);
void	abuf_putc(struct abuf *b, char c);
void	abuf_printf(struct abuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the string to the caller (never NULL) and reset b. */
char	*abuf_steal(struct abuf *b);
void	abuf_free(struct abuf *b);

void	aws_sha256(const void *data, size_t len, unsigned char out[AWS_SHA256_LEN]);
/* out gets 64 lowercase hex digits plus NUL. */
void	aws_sha256_hex(const void *data, size_t len, char out[AWS_SHA256_HEX_LEN + 1]);
void	aws_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
	    unsigned char out[AWS_SHA256_LEN]);
void	aws_md5_hex(const void *data, size_t len, char out[AWS_MD5_HEX_LEN + 1]);
void	aws_hex(const unsigned char *in, size_t n, char *out);

/* SigV4 UriEncode of n bytes into b: unreserved A-Z a-z 0-9 - _ . ~ kept,
 * every other byte %XY (upper case); '/' kept when keep_slash. */
void	aws_uri_encode(struct abuf *b, const char *s, size_t n, bool keep_slash);
/* Decode %XY escapes (and nothing else: '+' stays '+') into a new string. */
char	*aws_uri_decode(const char *s, size_t n);

/* X-Amz-Date of a wall-clock time: "YYYYMMDDTHHMMSSZ" + NUL. */
void	aws_format_amz_date(int64_t usec, char out[AWS_AMZ_DATE_LEN + 1]);
/* RFC 7231 IMF-fixdate ("Tue, 02 Jan 2026 03:04:05 GMT"); -EINVAL otherwise. */
int	aws_parse_http_date(const char *s, int64_t *ret_usec);
/* ISO 8601 / RFC 3339 as AWS writes expirations: "2026-01-02T03:04:05Z",
 * optional fraction, "Z" or "+HH:MM"; -EINVAL otherwise. */
int	aws_parse_iso8601(const char *s, int64_t *ret_usec);

int64_t	aws_now_usec(void);		/* CLOCK_REALTIME */
int64_t	aws_monotonic_usec(void);	/* CLOCK_MONOTONIC */
/* Uniform in [0, 1), from a thread-safe generator. */
double	aws_random01(void);

/* The part of an AWS error type after '#' (and before ':'), as botocore does:
 * "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist". Copies into out. */
void	aws_error_code_short(const char *type, char *out, size_t size);

#endif
