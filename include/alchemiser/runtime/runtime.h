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
/* Called first thing in a process that will run the daemon: a stop
 * (SIGTERM, SIGINT) or reload (SIGHUP) that comes while it starts is held
 * pending until runtime_run() has its handlers in place, so a stop during
 * start-up ends the daemon cleanly (exit 0) instead of killing it by the
 * signal. A process that returns before runtime_run() exits with them held. */
void	runtime_hold_signals(void);
/* Put one body on the configured work queue (alchemiserd --send); exit code. */
int	runtime_send(struct config *cfg, const char *body, size_t len);

#endif
