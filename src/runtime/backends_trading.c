/*
 * backends_trading: broker, market data and mailer.
 */
#include <stddef.h>

#include "alchemiser/runtime/backends.h"
#include "backends_internal.h"

int
backends_open_trading(const struct config *cfg, struct backends *b, struct errctx *ec)
{
	(void)cfg;
	(void)ec;
	b->broker = NULL;
	b->marketdata = NULL;
	b->mailer = NULL;
	return 0;
}

void
backends_close_trading(struct backends *b)
{
	(void)b;
}
