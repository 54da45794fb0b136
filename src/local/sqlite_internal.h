/*
 * sqlite_internal: what the embedded backend's files share, private to
 * src/local: the locked connection of a state, transactions, SQLite error
 * mapping, ids, and the queue insert the bus also uses.
 * Thread:  the *_locked functions need sqlite_state_lock() held.
 * Memory:  as stated per function.
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_INTERNAL_H
#define ALCHEMISER_LOCAL_SQLITE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct errctx;
struct sqlite_state;

#define LOCAL_ID_STRLEN 37	/* a v4 UUID plus NUL */
#define LOCAL_QUEUE_NAME_MAX 80
#define LOCAL_MAX_VISIBILITY_USEC (INT64_C(43200) * INT64_C(1000000))	/* 12 h, as SQS */
#define LOCAL_MAX_DELAY_USEC (INT64_C(900) * INT64_C(1000000))		/* 15 min, as SQS */
#define LOCAL_MAX_BODY 1048576
#define LOCAL_MAX_REASON 4096

sqlite3	*sqlite_state_lock(struct sqlite_state *st);
/* The connection, for a caller holding the lock. */
sqlite3	*sqlite_state_db_locked(struct sqlite_state *st);
void	sqlite_state_unlock(struct sqlite_state *st);

/* BEGIN IMMEDIATE: takes the write lock now, so a read-then-write cannot be
 * overtaken by another process. A write joins the open group transaction
 * if there is one (sqlite_state.c, "group commit"): commit_locked returns
 * once the COMMIT holding it is done (it may wait for the writers queued
 * behind it, the mutex released meanwhile); every write goes through
 * begin/commit, never autocommit, so no caller is told of a write the
 * group has not committed. */
int	sqlite_state_begin_locked(struct sqlite_state *st, struct errctx *ec);
/* The same for an op whose items are one statement each (SQLite undoes a
 * failed statement by itself; the other items stay) and that rolls back
 * only when the whole transaction is gone (sqlite3_get_autocommit): no
 * SAVEPOINT around it. Were it to roll back anyway, the whole group
 * transaction goes and every member of it fails. */
int	sqlite_state_begin_items_locked(struct sqlite_state *st, struct errctx *ec);
int	sqlite_state_commit_locked(struct sqlite_state *st, struct errctx *ec);
void	sqlite_state_rollback_locked(struct sqlite_state *st);
/* A hold: the calling thread's writes from now on join one transaction
 * that stays open (other threads' writes join it and wait) until the same
 * thread calls release_hold, which COMMITs it and returns how that went.
 * Its writes return before they are committed: the holder must not act on
 * them (tell anyone) before release_hold said 0; on an error they are all
 * undone. Not under the lock; one hold at a time. */
void	sqlite_state_hold(struct sqlite_state *st);
int	sqlite_state_release_hold(struct sqlite_state *st, struct errctx *ec);
/* A prepared statement for sql, from the connection's cache (prepared once,
 * SQLITE_PREPARE_PERSISTENT). sql must be a string literal (or live as long
 * as the state and never change): its address is the cache key. Give the
 * statement back with sqlite_state_release_locked (reset and unbound, never
 * finalize it); bindings may be SQLITE_STATIC until then. */
int	sqlite_state_prepare_locked(struct sqlite_state *st, const char *sql,
	    sqlite3_stmt **ret, struct errctx *ec);
void	sqlite_state_release_locked(struct sqlite_state *st, sqlite3_stmt *s);

/* Map an SQLite result to a negative errno and set ec with what + the reason. */
int	sqlite_state_err(sqlite3 *db, int rc, struct errctx *ec, const char *what);

/* A random v4 UUID (message ids, event ids until core/uuid lands). */
void	local_uuid_v4(char out[LOCAL_ID_STRLEN]);
/* n random bytes (at most 256; from a per-thread pool the kernel fills,
 * 4 KiB per getrandom call) as 2n lower-case hex digits plus NUL. */
void	local_random_hex(char *out, size_t nbytes);
/* [A-Za-z0-9_-]{1,80}, as SQS queue names. */
bool	local_queue_name_valid(const char *name);

/* Put a message on queue (sqlite_queue.c); attributes is JSON text or NULL.
 * message_id (LOCAL_ID_STRLEN) may be NULL. */
int	sqlite_queue_insert_locked(struct sqlite_state *st, const char *queue,
	    const char *body, size_t len, const char *attributes, int64_t delay_usec,
	    char *message_id, struct errctx *ec);

#endif
