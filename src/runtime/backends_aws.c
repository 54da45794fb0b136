/*
 * backends_aws: the AWS family (SQS, EventBridge, DynamoDB).
 */
#include <errno.h>

#include "alchemiser/core/err.h"
#include "backends_internal.h"

int
backends_open_aws(const struct config *cfg, struct event_base *base, struct backends *b,
    struct errctx *ec)
{
	(void)cfg;
	(void)base;
	(void)b;
	return errctx_set(ec, -ENOTSUP, "backend = aws needs the AWS layer, which this build lacks");
}
