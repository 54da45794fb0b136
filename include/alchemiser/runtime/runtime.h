/*
 * runtime: the daemon. One libevent loop thread owns signals, timers and the
 * transport (receive, delete, visibility, dead-letter); a pool of worker
 * threads runs the message pipeline. runtime_run() returns the exit code.
 * Thread:  call from the main thread only.
 * Memory:  cfg is borrowed (the runtime takes its own reference).
 */
#ifndef ALCHEMISER_RUNTIME_RUNTIME_H
#define ALCHEMISER_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

struct config;

struct runtime_options {
	const char	*config_path;	/* re-read on SIGHUP; NULL = defaults only */
	bool		 once;		/* process until idle, then exit */
	const char	*event_body;	/* --once: body to enqueue/process first (NULL: none) */
	size_t		 event_len;
};

int	runtime_run(struct config *cfg, const struct runtime_options *o);
/* Put one body on the configured work queue (alchemiserd --send); exit code. */
int	runtime_send(struct config *cfg, const char *body, size_t len);

#endif
