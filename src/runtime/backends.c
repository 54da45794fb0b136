/*
 * backends: builds the seams from the configuration. The only file that knows
 * which implementation runs (style.md §7.1).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_idem.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/local/sqlite_state.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/seams/bus.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/seams/transport.h"
#include "alchemiser/stages/storm.h"
#include "backends_internal.h"

/* state_dir, or $STATE_DIRECTORY (systemd StateDirectory=) when the file kept the default. */
char *
backends_state_dir(const struct config *cfg)
{
	const struct config_key *k = config_table_find("daemon.state_dir");
	const char *env = getenv("STATE_DIRECTORY");
	const char *dir = config_str(cfg, "daemon.state_dir");

	if (env != NULL && *env != '\0' && strcmp(dir, k->def) == 0) {
		/* systemd may pass several, colon-separated: the first is ours. */
		const char *colon = strchr(env, ':');

		return colon != NULL ? xstrndup(env, (size_t)(colon - env)) : xstrdup(env);
	}
	return xstrdup(dir);
}

/* mkdir -p with mode 0700: state holds orders and mail. */
int
backends_mkdirs(const char *path, struct errctx *ec)
{
	_cleanup_free_ char *copy = xstrdup(path);
	char *p;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			return errctx_set(ec, -errno, "creating %s: %s", copy, strerror(errno));
		*p = '/';
	}
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
		return errctx_set(ec, -errno, "creating %s: %s", copy, strerror(errno));
	return 0;
}

char *
backends_state_file(const struct config *cfg)
{
	const char *file = config_str(cfg, "local.state_file");
	_cleanup_free_ char *dir = NULL;

	if (file[0] != '\0')
		return xstrdup(file);
	dir = backends_state_dir(cfg);
	return xasprintf("%s/state.sqlite", dir);
}

static int
open_local(const struct config *cfg, struct event_base *base, struct backends *b, struct errctx *ec)
{
	_cleanup_free_ char *dir = backends_state_dir(cfg), *file = backends_state_file(cfg);
	struct sqlite_queue_options qo = {
		.path = file,
		.queue = config_str(cfg, "local.queue"),
		.dlq = config_str(cfg, "local.dead_letter_queue"),
		.max_receive_count = (unsigned)config_int(cfg, "daemon.max_receive_count"),
		.poll_interval_usec = config_usec(cfg, "local.poll_interval"),
		.busy_timeout_usec = config_usec(cfg, "local.busy_timeout"),
	};
	struct sqlite_idem_options io = {
		.path = file, .busy_timeout_usec = config_usec(cfg, "local.busy_timeout"),
	};
	int r;

	r = backends_mkdirs(dir, ec);
	if (r < 0)
		return r;
	r = sqlite_transport_new(base, &qo, &b->transport, ec);
	if (r < 0)
		return errctx_prefix(ec, "embedded queue");
	/* One connection per process (issue #13): the idempotency store and
	 * the bus share the queue's, so their writes commit in one group. */
	io.state = sqlite_transport_state(b->transport);
	r = sqlite_idem_new(&io, &b->idem, ec);
	if (r < 0)
		return errctx_prefix(ec, "embedded idempotency store");
	r = backends_open_local_bus(cfg, file, b->transport, &b->bus, ec);
	if (r < 0)
		return errctx_prefix(ec, "embedded bus");
	return 0;
}

static int
open_backends(const struct config *cfg, struct event_base *base, bool trading,
    struct backends **ret, struct errctx *ec)
{
	struct backends *b = xcalloc(1, sizeof *b);
	int r;

	b->kind = config_str(cfg, "daemon.backend");
	b->storm = storm_guard_new();
	if (strcmp(b->kind, "local") == 0)
		r = open_local(cfg, base, b, ec);
	else
		r = backends_open_aws(cfg, base, b, ec);
	if (r >= 0 && trading)
		r = backends_open_trading(cfg, b, ec);
	if (r < 0) {
		backends_close(b);
		return r;
	}
	*ret = b;
	return 0;
}

int
backends_open(const struct config *cfg, struct event_base *base, struct backends **ret,
    struct errctx *ec)
{
	return open_backends(cfg, base, true, ret, ec);
}

int
backends_open_queue(const struct config *cfg, struct event_base *base, struct backends **ret,
    struct errctx *ec)
{
	return open_backends(cfg, base, false, ret, ec);
}

int
backends_preflight(struct backends *b, struct errctx *ec)
{
	int r;

	r = b->transport->ops->preflight(b->transport, ec);
	if (r < 0)
		return errctx_prefix(ec, "queue");
	r = b->bus->ops->preflight(b->bus, ec);
	if (r < 0)
		return errctx_prefix(ec, "bus");
	r = b->idem->ops->preflight(b->idem, ec);
	if (r < 0)
		return errctx_prefix(ec, "idempotency store");
	if (strcmp(b->kind, "aws") == 0)
		backends_aws_note_store(b);
	return 0;
}

int
backends_health(struct backends *b, struct errctx *ec)
{
	if (strcmp(b->kind, "local") != 0)
		return 0;
	return sqlite_state_same_file(sqlite_transport_state(b->transport), ec);
}

const char *
backends_state_path(struct backends *b)
{
	if (strcmp(b->kind, "local") != 0)
		return NULL;
	return sqlite_state_path(sqlite_transport_state(b->transport));
}

int
backends_degraded(struct backends *b, struct errctx *ec)
{
	if (strcmp(b->kind, "local") != 0)
		return 0;
	return sqlite_state_recover_space(sqlite_transport_state(b->transport), ec);
}

void
backends_close(struct backends *b)
{
	if (b == NULL)
		return;
	backends_close_trading(b);
	if (b->idem != NULL)
		b->idem->ops->free(b->idem);
	if (b->bus != NULL)
		b->bus->ops->free(b->bus);
	if (b->transport != NULL)
		b->transport->ops->free(b->transport);
	backends_close_aws(b);
	storm_guard_free(b->storm);
	free(b);
}
