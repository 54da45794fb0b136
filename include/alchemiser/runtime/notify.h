/*
 * notify: the systemd notification protocol (READY, STATUS, WATCHDOG,
 * RELOADING with MONOTONIC_USEC, STOPPING). Without NOTIFY_SOCKET every call is
 * a no-op, so the daemon runs the same from a shell.
 * Thread: loop thread.
 */
#ifndef ALCHEMISER_RUNTIME_NOTIFY_H
#define ALCHEMISER_RUNTIME_NOTIFY_H

#include <stdint.h>

void	notify_ready(const char *status);
void	notify_status(const char *status);
void	notify_watchdog(void);
void	notify_reloading(void);
void	notify_stopping(const char *status);
/* The watchdog interval systemd asked for (WATCHDOG_USEC), 0 when none. */
int64_t	notify_watchdog_usec(void);

#endif
