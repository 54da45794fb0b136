/*
 * err: the error context that travels beside every negative return code.
 * Thread:  any; an errctx belongs to the caller and is never shared.
 * Memory:  fixed-size buffer inside the struct, nothing to free.
 * Errors:  functions return 0 or a negative errno and fill *ec; ec may be NULL
 *          when the caller does not want the text.
 *
 * The errno values we use and what they mean (one place for the whole project):
 *   -EINVAL     bad argument or bad configuration value
 *   -EPROTO     malformed response or JSON from a peer
 *   -EBADMSG    a message that fails its schema (permanent: reject)
 *   -EAGAIN     throttled or otherwise worth retrying later
 *   -ETIMEDOUT  a deadline passed
 *   -ECONNRESET a connection broke mid-exchange
 *   -EACCES     authentication or signature refused
 *   -ENOENT     a queue, bus, table, file or record that does not exist
 *   -E2BIG      over a documented limit (size, depth, count)
 *   -EOVERFLOW  arithmetic out of range
 *   -EEXIST     a conditional write lost (already claimed, duplicate id)
 *   -EDOM       division by zero (decimal)
 *   -ENODATA    not enough history for an indicator (ticker and window named),
 *               or bars stale, future or before the data starts for the as-of session
 *   -EIO        a local store failed (corrupt or unreadable file, I/O error)
 *   -ENOSPC     the disk is full
 *   -ECANCELED  an asynchronous operation was cancelled (shutdown)
 * Which of these retry and which reject is decided in one place:
 * router/dispatch.c (outcome_from_errno) and stages/stage.c for the stages.
 */
#ifndef ALCHEMISER_CORE_ERR_H
#define ALCHEMISER_CORE_ERR_H

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>

#define ERRCTX_MSG_MAX 512

struct errctx {
	int	code;			/* negative errno, 0 when clear */
	char	msg[ERRCTX_MSG_MAX];	/* readable reason, "" when clear */
};

/* Reset to "no error". */
void	errctx_clear(struct errctx *ec);

/* Record code (a negative errno) and a formatted reason; returns code. */
int	errctx_set(struct errctx *ec, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Prepend "<context>: " to the current reason; returns the current code
 * (or -EIO if the context holds no code, which is a caller bug). */
int	errctx_prefix(struct errctx *ec, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The reason, "" if none; valid while *ec lives. NULL-safe. */
const char *errctx_msg(const struct errctx *ec);

/* True for the failures a later attempt may cure: throttling, timeouts,
 * broken or refused connections, I/O and protocol hiccups of a peer, memory.
 * The one answer to "retry or give up?" for every layer that talks to a
 * dependency (stages, executor). */
bool	errno_is_transient(int code);

/* Short symbolic name of a negative errno ("EINVAL"), for logs and tests. */
const char *errno_name(int code);

#endif
