/*
 * sqlite_state: the one SQLite state file of the embedded backend, shared by
 * the queue (sqlite_queue), the bus (sqlite_bus) and the idempotency store
 * (sqlite_idem). Opening it sets WAL mode and a busy timeout, applies the
 * schema migrations (table schema_migrations, one row per version) and runs
 * PRAGMA quick_check, so a corrupt, foreign, newer or unreadable file is a
 * clear error at start-up, never a crash later.
 *
 * Concurrency: each struct sqlite_state is one connection guarded by a mutex,
 * so any thread may use it, one call at a time; the queue, bus and
 * idempotency store of one process share one (sqlite_state_ref), with its
 * statements prepared once and its writes committed in groups (see
 * sqlite_state.c). Several processes share the file through SQLite's locks: every write
 * is a BEGIN IMMEDIATE transaction, waiting up to the busy timeout for the
 * write lock (-EAGAIN after that).
 * Thread:  any; calls on one state are serialised by its mutex.
 * Memory:  sqlite_state_open() returns a state owned by the caller
 *          (sqlite_state_free, NULL-safe). Never carry one across fork().
 * Errors:  -ENOENT (missing folder), -EACCES (permissions, read-only),
 *          -EIO (corrupt or not an SQLite/alchemiserd file, I/O error),
 *          -ENOSPC (disk full), -EAGAIN (locked past the busy timeout),
 *          -EINVAL (schema newer than this build).
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_STATE_H
#define ALCHEMISER_LOCAL_SQLITE_STATE_H

#include <stdint.h>

struct errctx;
struct sqlite_state;

#define SQLITE_STATE_SCHEMA_VERSION 2
#define SQLITE_STATE_BUSY_TIMEOUT_USEC (5 * INT64_C(1000000))

/* A wall clock in microseconds since the epoch; tests inject their own. */
typedef int64_t (*sqlite_state_clock_cb)(void *arg);

/* Open (creating it if absent) and migrate the state file at path.
 * busy_timeout_usec <= 0 takes SQLITE_STATE_BUSY_TIMEOUT_USEC. */
int	sqlite_state_open(const char *path, int64_t busy_timeout_usec,
	    struct sqlite_state **ret, struct errctx *ec);
/* One more owner of st (the bus and idempotency store of a process share
 * the queue's connection); each owner calls sqlite_state_free once. */
struct sqlite_state *sqlite_state_ref(struct sqlite_state *st);
void	sqlite_state_free(struct sqlite_state *st);

/* Replace the wall clock (NULL = CLOCK_REALTIME) used for visibility,
 * delays and timestamps. Set it before the state is shared. */
void	sqlite_state_set_clock(struct sqlite_state *st, sqlite_state_clock_cb clock, void *arg);
int64_t	sqlite_state_now_usec(struct sqlite_state *st);

/* Preflight: the file still answers (quick_check) and has our schema. */
int	sqlite_state_check(struct sqlite_state *st, struct errctx *ec);

/* Cheap: the path still names the file we opened (not deleted or replaced).
 * -ENOENT with the path otherwise. */
int	sqlite_state_same_file(struct sqlite_state *st, struct errctx *ec);
/* While a write of this process failed for lack of space (SQLITE_FULL) and
 * none has succeeded since: try to give the space back (a TRUNCATE
 * checkpoint of the WAL, which a full file system can leave too big to
 * checkpoint by itself). 0: writes are fine; 1: they were failing and the
 * checkpoint just succeeded; -ENOSPC (with the reason) while it still
 * cannot write. Any thread; takes the lock, may wait the busy timeout. */
int	sqlite_state_recover_space(struct sqlite_state *st, struct errctx *ec);

/* The schema version of the file (for --check and tests). */
int	sqlite_state_schema_version(struct sqlite_state *st, int *ret, struct errctx *ec);

/* The path the state was opened with (borrowed, valid until free). */
const char *sqlite_state_path(const struct sqlite_state *st);

#endif
