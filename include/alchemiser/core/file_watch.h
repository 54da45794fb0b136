/*
 * file_watch: tells, without polling, that the directory entry of a file may
 * have changed (the file deleted, renamed away, or another one put in its
 * place). An inotify watch on the file's folder for entries coming and
 * going, filtered on the file's name; the folder itself deleted or moved and
 * lost events count too. Writes to the file are not watched (they would
 * wake the caller for nothing). What the event means is for the caller to
 * check (stat and compare): the watch only says "look now".
 * A symbolic link as the file is refused (-ENOTSUP): the entry that counts
 * is then elsewhere, and the caller must poll instead.
 * Thread:  one thread at a time.
 * Memory:  the caller owns the watch (file_watch_free).
 */
#ifndef ALCHEMISER_CORE_FILE_WATCH_H
#define ALCHEMISER_CORE_FILE_WATCH_H

#include <stdbool.h>

#include "alchemiser/core/err.h"

struct file_watch;

/* Watch path's entry. -ENOTSUP for a symbolic link, the errno of inotify
 * otherwise (-EMFILE, -ENOSPC: the limits are reached). */
int	file_watch_new(const char *path, struct file_watch **ret, struct errctx *ec);
/* Readable when something may have happened (non-blocking; for the event loop). */
int	file_watch_fd(const struct file_watch *w);
/* Read what is queued: true when the entry may have changed since the last call. */
bool	file_watch_drain(struct file_watch *w);
void	file_watch_free(struct file_watch *w);

#endif
