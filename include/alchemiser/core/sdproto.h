/*
 * sdproto: the two systemd protocols the daemon speaks, without libsystemd
 * (issue #13: libsystemd and the six libraries it pulls in, gcrypt, lzma,
 * lz4, zstd, cap, gpg-error, cost about a millisecond of every start). Both
 * are documented as stable interfaces for exactly this use:
 *   - the notification protocol (sd_notify(3)): newline-separated
 *     assignments in one datagram to the AF_UNIX socket $NOTIFY_SOCKET (a
 *     path, or '@' for the abstract namespace); WATCHDOG_USEC and
 *     WATCHDOG_PID (sd_watchdog_enabled(3));
 *   - the native journal protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
 *     one datagram of fields to /run/systemd/journal/socket, "KEY=value\n",
 *     or "KEY\n", a little-endian 64-bit length and the value, then "\n",
 *     for a value that holds a newline.
 * Thread:  any (the journal socket is opened once and shared).
 * Memory:  nothing kept beyond that socket.
 */
#ifndef ALCHEMISER_CORE_SDPROTO_H
#define ALCHEMISER_CORE_SDPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Send state to $NOTIFY_SOCKET: 1 sent, 0 no socket set, or a negative errno. */
int	sdproto_notify(const char *state);
int	sdproto_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WATCHDOG_USEC if it is set for this process (WATCHDOG_PID absent or ours), else 0. */
int64_t	sdproto_watchdog_usec(void);
/* One journal entry of n "KEY=value" fields: 0 or a negative errno (the
 * caller then writes the line elsewhere). */
int	sdproto_journal_sendv(const struct iovec *iov, size_t n);
/* Tests: send journal entries to this socket instead (before the first entry). */
void	sdproto_set_journal_socket(const char *path);

#endif
