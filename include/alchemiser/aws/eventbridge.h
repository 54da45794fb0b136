/*
 * eventbridge: the bus seam over EventBridge PutEvents (AWS JSON 1.1).
 * publish splits entries into requests of at most 10 entries and under
 * 256 KB (entry size = Source + DetailType + Detail bytes, as AWS counts it),
 * checks every per-entry result, and retries only the entries that failed
 * with a retryable code (InternalFailure, ThrottlingException) with the
 * full-jitter backoff, up to entry_attempts. An entry that alone exceeds the
 * limit fails with -E2BIG. Returns 0 when all were accepted, the errno of a
 * permanent per-entry failure (-EINVAL, -EACCES) when there was one, else
 * -EAGAIN when some are still failing transiently; whole-request failures
 * (throttled beyond the retries, auth, missing bus) mark every entry of the
 * request with that errno.
 * preflight: DescribeEventBus, because PutEvents to a missing bus reports
 * success (aws/aws-sdk#186): -ENOENT when the bus does not exist.
 * Thread:  publish/preflight from any thread concurrently (blocking, one
 *          kept-alive curl handle per concurrent caller).
 * Memory:  options copied; creds borrowed; entries belong to the caller.
 */
#ifndef ALCHEMISER_AWS_EVENTBRIDGE_H
#define ALCHEMISER_AWS_EVENTBRIDGE_H

#include <stdint.h>

#include "alchemiser/seams/bus.h"

struct aws_credentials;

struct eventbridge_options {
	const char	*region;		/* required */
	const char	*endpoint;		/* NULL = https://events.REGION.amazonaws.com/ */
	const char	*bus_name;		/* required: name or ARN */
	int64_t		 connect_timeout_usec;	/* 0 = 3 s */
	int64_t		 timeout_usec;		/* 0 = 10 s */
	unsigned	 max_attempts;		/* per request; 0 = 3 */
	unsigned	 entry_attempts;	/* per failed entry; 0 = 3 */
	const char	*ca_file;
};

int	eventbridge_bus_new(const struct eventbridge_options *o, struct aws_credentials *creds,
	    struct bus **ret, struct errctx *ec);

#endif
