/*
 * client: one AWS JSON-protocol endpoint (SQS, EventBridge, DynamoDB):
 * POST / with X-Amz-Target, signed with SigV4 on every attempt, retried in
 * standard mode (retry.h) with the endpoint's quota and clock offset, one
 * forced credential refresh on expired-token codes, errors parsed from JSON
 * (__type/code/message), x-amzn-query-error, x-amzn-ErrorType or the XML
 * some emulators answer with.
 *   aws_client_call   blocking; any thread; a pool of curl easy handles
 *                     gives each concurrent caller its own kept-alive one.
 *   aws_client_start  asynchronous on an http_multi (the loop thread); the
 *                     callback runs exactly once, never inside the start.
 * Thread:  aws_client_call from any thread; start/cancel on the loop thread.
 * Memory:  options are copied; the credentials object is borrowed and must
 *          outlive the client. Response JSON handed to the caller (sync) is
 *          the caller's; in the async callback it is borrowed (json_incref to keep).
 */
#ifndef ALCHEMISER_AWS_CLIENT_H
#define ALCHEMISER_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct errctx;
struct event_base;
struct http_multi;
struct aws_credentials;
struct aws_client;
struct aws_call;

struct aws_client_options {
	const char		*service;	/* signing name: "sqs", "events", "dynamodb" */
	const char		*endpoint_prefix;/* host label: "sqs", "events", "dynamodb" */
	const char		*target_prefix;	/* "AmazonSQS", "AWSEvents", "DynamoDB_20120810" */
	const char		*content_type;	/* "application/x-amz-json-1.0" or "-1.1" */
	const char		*region;	/* required */
	const char		*endpoint;	/* NULL = https://PREFIX.REGION.amazonaws.com/ */
	unsigned		 max_attempts;	/* 0 = 3 */
	int64_t			 connect_timeout_usec;	/* 0 = 3 s */
	int64_t			 timeout_usec;		/* 0 = 10 s */
	const char		*ca_file;
	struct aws_credentials	*creds;		/* borrowed */
};

struct aws_error {
	long	status;			/* HTTP status, 0 when none arrived */
	char	code[128];		/* short error code, "" if none */
	char	message[256];
};

int	aws_client_new(const struct aws_client_options *o, struct aws_client **ret,
	    struct errctx *ec);
void	aws_client_free(struct aws_client *c);	/* no async call may be outstanding */
const char *aws_client_url(const struct aws_client *c);

/* The negative errno for a service error: -EACCES (auth, signature, denied),
 * -EAGAIN (throttled, 5xx), -ENOENT (queue/table/bus missing), -EEXIST
 * (conditional check failed), -EINVAL (other client errors), -EPROTO. */
int	aws_error_errno(const struct aws_error *e);

/* Blocking call. 0 with *ret = the response object ({} for an empty body).
 * On failure a negative errno, err filled (may be NULL) and *ret = the parsed
 * error body or NULL (DynamoDB puts the old item there). */
int	aws_client_call(struct aws_client *c, const char *op, const json_t *req, json_t **ret,
	    struct aws_error *err, struct errctx *ec);

/* The same with the body already written as JSON text (reqbuf.h): no tree
 * built to be dumped. body is borrowed. */
int	aws_client_call_text(struct aws_client *c, const char *op, const char *body, size_t len,
	    json_t **ret, struct aws_error *err, struct errctx *ec);

/* resp is borrowed ({} on success, the error body or NULL on failure). */
typedef void (*aws_call_cb)(json_t *resp, int r, const struct aws_error *err,
    const struct errctx *ec, void *arg);

/* timeout_usec: per attempt (0 = the client's). */
int	aws_client_start(struct aws_client *c, struct http_multi *m, struct event_base *base,
	    const char *op, const json_t *req, int64_t timeout_usec, aws_call_cb cb, void *arg,
	    struct aws_call **ret, struct errctx *ec);
/* The same with the body written as JSON text; body (malloc'd) is taken
 * over, whatever the outcome. */
int	aws_client_start_text(struct aws_client *c, struct http_multi *m, struct event_base *base,
	    const char *op, char *body, size_t len, int64_t timeout_usec, aws_call_cb cb, void *arg,
	    struct aws_call **ret, struct errctx *ec);
/* A raw call's callback: on success (r == 0) the 2xx response body as it
 * came (len bytes, NUL-terminated, borrowed for the call; len 0 for an empty
 * body), parsed by nobody; on failure body is NULL, r and err as for
 * aws_call_cb (the error body is parsed for err as usual). */
typedef void (*aws_call_raw_cb)(const char *body, size_t len, int r, const struct aws_error *err,
    const struct errctx *ec, void *arg);
/* aws_client_start_text whose success hands over the body unparsed: for a
 * response read by a purpose-built reader (sqs_receive.h). */
int	aws_client_start_raw(struct aws_client *c, struct http_multi *m, struct event_base *base,
	    const char *op, char *body, size_t len, int64_t timeout_usec, aws_call_raw_cb cb,
	    void *arg, struct aws_call **ret, struct errctx *ec);
/* The callback still runs once, later, with -ECANCELED. */
void	aws_call_cancel(struct aws_call *call);
/* The callback runs now with -ECANCELED (owner shutting down). */
void	aws_call_abort(struct aws_call *call);

/* HTTP attempts sent by this client / by every client of the process
 * (retries count; --once logs the total, tests and the bench read it). */
uint64_t aws_client_requests(const struct aws_client *c);
uint64_t aws_requests_total(void);

/* Test and bench hooks. */
int	aws_client_quota_tokens(struct aws_client *c);
int64_t	aws_client_clock_offset_usec(struct aws_client *c);

#endif
