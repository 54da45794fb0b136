/*
 * owner: the identity a daemon process puts on the claims and messages it
 * holds, and the rule by which a later process may judge that holder dead.
 *   "HOST:PID:BOOT:PIDNS:START"
 * HOST the host name, PID the process id, BOOT the first 8 hex digits of the
 * kernel boot id, PIDNS the inode of the pid namespace, START the process start
 * time (clock ticks since boot, /proc/PID/stat field 22).
 * A holder is dead when it names this host and either a previous boot, or a
 * process of our own pid namespace that no longer exists (or whose pid now
 * belongs to a process started at another time). Any other holder (another
 * host, another pid namespace, an older owner format) is not judged: its
 * lease decides, as before.
 * Thread:  any.
 * Memory:  caller-provided buffers.
 */
#ifndef ALCHEMISER_CORE_OWNER_H
#define ALCHEMISER_CORE_OWNER_H

#include <stdbool.h>
#include <stddef.h>

#define OWNER_MAX 128

/* This process's owner string (computed once, then cached). */
const char *owner_self(char *buf, size_t size);

/* True when holder is provably gone (see above); why gets a phrase for the
 * log ("process 1234 of this host no longer exists"). */
bool	owner_is_dead(const char *holder, char *why, size_t why_size);

#endif
