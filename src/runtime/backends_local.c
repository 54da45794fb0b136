/*
 * backends_local: the embedded bus (SQLite + event-pattern rules).
 */
#include <errno.h>

#include "alchemiser/core/err.h"
#include "backends_internal.h"

int
backends_open_local_bus(const struct config *cfg, const char *state_file, struct bus **ret,
    struct errctx *ec)
{
	(void)cfg;
	(void)state_file;
	(void)ret;
	return errctx_set(ec, -ENOTSUP, "the embedded bus is not part of this build yet");
}
