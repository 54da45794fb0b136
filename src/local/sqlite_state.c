/*
 * sqlite_state: open, check and migrate the state file; the transaction and
 * error helpers the queue, bus and idempotency store share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_state.h"
#include "sqlite_internal.h"
#include "sqlite_mem.h"

/* The WAL is checkpointed at 256 pages (1 MiB with 4 KiB pages) and cut back
 * to 1 MiB after a reset: at SQLite's default (1000 pages, never cut) the WAL
 * alone filled a 4 MB state file system and could then not be checkpointed
 * into a main file that had no room to grow. */

/* Wall-clock time of the first write that failed for lack of space since the
 * last that succeeded, 0 when writes succeed. Per process: every connection
 * of it shares the state file and its file system. */
static _Atomic int64_t nospace_since_usec;

/* "Alch": marks the file as ours, so a foreign SQLite file is refused. */
#define STATE_APPLICATION_ID 0x416c6368

/* Prepared statements kept per connection (issue #13: preparing on every
 * call was half of the CPU per message). Keyed by the address of the SQL
 * text (callers pass string literals: sqlite_internal.h), so a look-up is a
 * few pointer compares; a statement in use when the same text is asked for
 * again gets a private one. */
#define STMT_CACHE_MAX 48
/* Where a statement was last found, by a hash of its SQL's address and of
 * the statement's (STMT_HINTS a power of two): a look-up is then one
 * compare, not a scan of the cache (issue #13: the scans were 2 % of the
 * CPU per message). A stale hint only costs the scan. */
#define STMT_HINTS 64

/* Group commit: a write transaction stays open for the writers queued on
 * the mutex behind it, at most GROUP_MAX_OPS writes or GROUP_WINDOW_USEC
 * since its BEGIN (docs/architecture.md "Group commit"). */
#define GROUP_MAX_OPS 64
#define GROUP_WINDOW_USEC 2000

/* A quick_check that passed this long ago is not repeated by
 * sqlite_state_check. Why: start-up ran it four times on the one shared
 * connection (the open, then the queue's, the bus's and the idempotency
 * store's preflight), each a read of the whole file: 50-130 ms each on a
 * 50 MB state file (a run archive of 25,000 events), between READY and the
 * first receive. A reload's check (later) still reads the file. */
#define CHECK_REUSE_USEC (INT64_C(10) * 1000000)

struct stmt_slot {
	const char	*sql;	/* the caller's literal: the key */
	bool		 busy;
	uint64_t	 used;	/* LRU tick */
	sqlite3_stmt	*s;
};

/* A writer waiting for the COMMIT of the group its write joined (on the
 * writer's stack, linked while it waits). */
struct group_member {
	struct group_member	*next;
	bool			 done;
	struct errctx		 ec;	/* code 0: committed */
};

struct sqlite_state {
	sqlite3			*db;
	char			*path;
	pthread_mutex_t		 lock;
	pthread_cond_t		 committed;	/* a group ended: its members may return */
	atomic_uint		 waiting;	/* threads blocked in sqlite_state_lock() */
	atomic_uint		 refs;
	sqlite_state_clock_cb	 clock;
	void			*clock_arg;
	dev_t			 dev;	/* identity of the file we opened */
	ino_t			 ino;
	/* under lock: */
	struct stmt_slot	 stmts[STMT_CACHE_MAX];
	uint64_t		 stmt_tick;
	uint8_t			 by_sql[STMT_HINTS];	/* slot index hints */
	uint8_t			 by_stmt[STMT_HINTS];
	bool			 group_open;	/* BEGIN IMMEDIATE done, COMMIT not yet */
	bool			 op_open;	/* a writer's op is running (begin .. commit) */
	bool			 op_savepoint;	/* ... inside SAVEPOINT op (else it is alone or atomic per item) */
	unsigned		 group_ops;
	int64_t			 group_start_usec;	/* monotonic */
	struct group_member	*members;
	/* A hold (sqlite_state_hold): the group stays open until its holder
	 * releases it; the holder's own writes return without waiting. */
	bool			 held;
	bool			 hold_broken;	/* the open group was rolled back meanwhile */
	pthread_t		 holder;
	/* busy_wait: the connection is only used under lock. */
	int64_t			 busy_timeout_usec;
	int64_t			 busy_since_usec;	/* monotonic, first SQLITE_BUSY of this wait */
	int64_t			 checked_usec;	/* monotonic: the last quick_check that passed; under lock */
};

struct migration {
	int		 version;
	const char	*description;
	const char	*sql;
};

/* Append-only: a released migration never changes; add a new version instead. */
static const struct migration migrations[] = {
	{ 1, "queue messages and idempotency records",
	  "CREATE TABLE queue_messages ("
	  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  queue TEXT NOT NULL,"
	  "  message_id TEXT NOT NULL,"
	  "  body BLOB NOT NULL,"
	  "  attributes TEXT,"
	  "  sent_usec INTEGER NOT NULL,"
	  "  visible_usec INTEGER NOT NULL,"
	  "  receive_count INTEGER NOT NULL DEFAULT 0,"
	  "  first_receive_usec INTEGER,"
	  "  receipt TEXT UNIQUE,"
	  "  source_queue TEXT,"
	  "  dlq_reason TEXT,"
	  "  dlq_usec INTEGER);"
	  "CREATE INDEX queue_messages_ready ON queue_messages(queue, visible_usec);"
	  "CREATE TABLE idempotency ("
	  "  key TEXT PRIMARY KEY,"
	  "  status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED')),"
	  "  owner TEXT NOT NULL,"
	  "  lease_expires_usec INTEGER,"
	  "  detail_type TEXT,"
	  "  correlation_id TEXT,"
	  "  claimed_usec INTEGER NOT NULL,"
	  "  completed_usec INTEGER,"
	  "  expires_usec INTEGER NOT NULL);"
	  "CREATE INDEX idempotency_expires ON idempotency(expires_usec);" },
	/* Why: parking exhausted messages scanned every visible row on each
	 * receive; with this index the cost no longer grows with the backlog. */
	{ 2, "index for parking exhausted messages",
	  "CREATE INDEX queue_messages_exhausted ON queue_messages(queue, receive_count, visible_usec);" },
};

static int	group_finish_locked(struct sqlite_state *st, struct errctx *ret);
static int64_t	monotonic_usec(void);

static int64_t
realtime_usec(void *arg)
{
	struct timespec ts;

	(void)arg;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
sqlite_state_err(sqlite3 *db, int rc, struct errctx *ec, const char *what)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	int sys = db != NULL ? sqlite3_system_errno(db) : 0;
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = -EAGAIN;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return errctx_set(ec, -EIO, "%s: the state file is corrupt or not a database (%s); "
		    "move it aside to start with an empty state", what, msg);
	case SQLITE_CANTOPEN:
		code = sys == ENOENT ? -ENOENT : sys == EACCES || sys == EPERM ? -EACCES : -EIO;
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		code = -EACCES;
		break;
	case SQLITE_FULL:
		code = -ENOSPC;
		{
			int64_t none = 0;

			(void)atomic_compare_exchange_strong(&nospace_since_usec, &none, realtime_usec(NULL));
		}
		break;
	case SQLITE_NOMEM:
		code = -ENOMEM;
		break;
	default:
		code = -EIO;
		break;
	}
	if (sys != 0 && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
		return errctx_set(ec, code, "%s: %s (%s)", what, msg, strerror(sys));
	return errctx_set(ec, code, "%s: %s", what, msg);
}

static int64_t
monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One statement through the cache (BEGIN, COMMIT, SAVEPOINT...). */
static int
step_locked(struct sqlite_state *st, const char *sql, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	r = sqlite_state_prepare_locked(st, sql, &s, ec);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_state_err(st->db, rc, ec, sql);
	sqlite_state_release_locked(st, s);
	return r;
}

static int
exec_locked(struct sqlite_state *st, const char *sql, struct errctx *ec)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return sqlite_state_err(st->db, rc, ec, "state file");
	return 0;
}

/* A one-row, one-column pragma, copied into buf. */
static int
pragma_text(struct sqlite_state *st, const char *sql, char *buf, size_t len, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc, r;

	r = sqlite_state_prepare_locked(st, sql, &s, ec);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = sqlite_state_err(st->db, rc, ec, sql);
		sqlite_state_release_locked(st, s);
		return r;
	}
	t = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
	(void)snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
	sqlite_state_release_locked(st, s);
	return 0;
}

static int
int_query_locked(struct sqlite_state *st, const char *sql, int64_t *ret, struct errctx *ec)
{
	char buf[32];
	int r;

	r = pragma_text(st, sql, buf, sizeof buf, ec);
	if (r < 0)
		return r;
	*ret = strtoll(buf, NULL, 10);
	return 0;
}

static int
migrate_locked(struct sqlite_state *st, struct errctx *ec)
{
	int64_t version = 0, app_id = 0, tables = 0, known = SQLITE_STATE_SCHEMA_VERSION;
	char sql[160];
	size_t i;
	int r;

	r = sqlite_state_begin_locked(st, ec);
	if (r < 0)
		return r;
	/* Read inside the write transaction: two daemons starting together
	 * must not both apply a migration. */
	if ((r = int_query_locked(st, "PRAGMA application_id", &app_id, ec)) < 0 ||
	    (r = int_query_locked(st, "SELECT count(*) FROM sqlite_master", &tables, ec)) < 0)
		goto fail;
	if (app_id != STATE_APPLICATION_ID && (app_id != 0 || tables != 0)) {
		r = errctx_set(ec, -EIO, "not an alchemiserd state file (application_id %lld, %lld tables)",
		    (long long)app_id, (long long)tables);
		goto fail;
	}
	if (tables != 0 &&
	    (r = int_query_locked(st, "SELECT coalesce(max(version), 0) FROM schema_migrations",
	    &version, ec)) < 0)
		goto fail;
	if (version > known) {
		r = errctx_set(ec, -EINVAL, "schema version %lld is newer than this alchemiserd supports (%lld)",
		    (long long)version, (long long)known);
		goto fail;
	}
	if (tables == 0) {
		(void)snprintf(sql, sizeof sql, "PRAGMA application_id = %d;"
		    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
		    " applied_usec INTEGER NOT NULL, description TEXT NOT NULL);", STATE_APPLICATION_ID);
		if ((r = exec_locked(st, sql, ec)) < 0)
			goto fail;
	}
	for (i = 0; i < ELEMENTSOF(migrations); i++) {
		char *ins;

		if (migrations[i].version <= version)
			continue;
		if ((r = exec_locked(st, migrations[i].sql, ec)) < 0) {
			errctx_prefix(ec, "migration %d", migrations[i].version);
			goto fail;
		}
		ins = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%d, %lld, %Q)",
		    migrations[i].version, (long long)sqlite_state_now_usec(st), migrations[i].description);
		r = exec_locked(st, ins, ec);
		sqlite3_free(ins);
		if (r < 0)
			goto fail;
	}
	return sqlite_state_commit_locked(st, ec);
fail:
	sqlite_state_rollback_locked(st);
	return r;
}

/* SQLite's busy handler for the write lock another connection holds (the
 * paper broker's in this process, or another process). Why not
 * sqlite3_busy_timeout: it sleeps 1 ms at the first collision and 2, 5,
 * 10 ms after, while a commit holds the lock for well under a millisecond
 * here; each of the workflow's paper orders cost a millisecond or more of
 * sleep that way. Short steps first (50 us, doubling to 1 ms), then 1 ms
 * steps up to 100 ms of waiting and 5 ms after, until the busy timeout. */
static int
busy_wait(void *arg, int count)
{
	struct sqlite_state *st = arg;

	return time_lock_wait(count, &st->busy_since_usec, st->busy_timeout_usec) ? 1 : 0;
}

/* The connection, waiting for another writer's lock in busy_wait's steps. */
static int
connect_locked(struct sqlite_state *st, int64_t busy_timeout_usec, int create, struct errctx *ec)
{
	/* NOMUTEX: the state's own mutex already serialises every use of the
	 * connection (sqlite_state_lock), so SQLite's would be a second lock
	 * taken per call for nothing. */
	int rc = sqlite3_open_v2(st->path, &st->db,
	    SQLITE_OPEN_READWRITE | create | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return sqlite_state_err(st->db, rc, ec, "open");
	st->busy_timeout_usec = busy_timeout_usec;
	(void)sqlite3_busy_handler(st->db, busy_wait, st);
	return 0;
}

static int
use_wal_locked(struct sqlite_state *st, struct errctx *ec)
{
	char buf[32];
	int r = pragma_text(st, "PRAGMA journal_mode = WAL", buf, sizeof buf, ec);

	if (r < 0)
		return r;
	if (strcmp(buf, "wal") != 0)
		return errctx_set(ec, -EIO, "cannot use WAL mode (journal mode is '%s'): "
		    "the state file must be on a local file system", buf);
	return 0;
}

static int
open_locked(struct sqlite_state *st, int64_t busy_timeout_usec, int create, struct errctx *ec)
{
	char buf[256];
	int r;

	/* journal_mode is the first statement that reads the header: a file
	 * that is not a database fails here with SQLITE_NOTADB. */
	if ((r = connect_locked(st, busy_timeout_usec, create, ec)) < 0 ||
	    (r = use_wal_locked(st, ec)) < 0)
		return r;
	/* FULL: a commit survives power loss; a lost delete or claim would mean
	 * a message handled twice. */
	if ((r = exec_locked(st, "PRAGMA synchronous = FULL", ec)) < 0)
		return r;
	if ((r = exec_locked(st, "PRAGMA wal_autocheckpoint = 256", ec)) < 0 ||
	    (r = exec_locked(st, "PRAGMA journal_size_limit = 1048576", ec)) < 0)
		return r;
	r = pragma_text(st, "PRAGMA quick_check", buf, sizeof buf, ec);
	if (r < 0)
		return r;
	if (strcmp(buf, "ok") != 0)
		return errctx_set(ec, -EIO, "the state file is corrupt (quick_check: %s); "
		    "move it aside to start with an empty state", buf);
	st->checked_usec = monotonic_usec();
	return migrate_locked(st, ec);
}

static struct sqlite_state *
state_new(const char *path)
{
	struct sqlite_state *st = xcalloc(1, sizeof *st);

	st->path = xstrdup(path);
	st->clock = realtime_usec;
	atomic_init(&st->refs, 1);
	atomic_init(&st->waiting, 0);
	(void)pthread_mutex_init(&st->lock, NULL);
	{
		pthread_condattr_t ca;

		/* The group window is on the monotonic clock. */
		(void)pthread_condattr_init(&ca);
		(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		(void)pthread_cond_init(&st->committed, &ca);
		(void)pthread_condattr_destroy(&ca);
	}
	return st;
}

/* The schema of a new file, built under its private name. Nothing may see
 * that file before it is complete, so its writes need no journal on disk
 * and no fsync each (journal_mode MEMORY, synchronous OFF: building it took
 * nine fdatasyncs, the biggest part of a first start-up); the caller syncs
 * the finished file once before linking it into place. WAL is set last, so
 * the first real open finds the file in its final mode. */
static int
build_locked(struct sqlite_state *st, int64_t busy_timeout_usec, struct errctx *ec)
{
	int r;

	if ((r = connect_locked(st, busy_timeout_usec, SQLITE_OPEN_CREATE, ec)) < 0 ||
	    (r = exec_locked(st, "PRAGMA journal_mode = MEMORY", ec)) < 0 ||
	    (r = exec_locked(st, "PRAGMA synchronous = OFF", ec)) < 0 ||
	    (r = migrate_locked(st, ec)) < 0)
		return r;
	return use_wal_locked(st, ec);
}

/* fsync a file or a folder by name. */
static int
sync_path(const char *path, bool folder, struct errctx *ec)
{
	int fd = open(path, (folder ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return errctx_set(ec, -errno, "cannot open '%s' to sync it: %s", path, strerror(errno));
	if (fsync(fd) < 0)
		r = errctx_set(ec, -errno, "cannot sync '%s': %s", path, strerror(errno));
	(void)close(fd);
	return r;
}

/* Only a missing file is created, and never as an empty file at its final
 * name: the schema is built under a private name, synced, and linked into
 * place (if another process won the race, its file is used), and the link
 * is synced with its folder. So an empty file at the path can only be one
 * that lost its contents, and it is refused. */
static int
create_state_file(const char *path, int64_t busy_timeout_usec, struct errctx *ec)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new-%ld", path, (long)getpid());
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash == NULL ? xstrdup(".") :
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	struct sqlite_state *st;
	int r;

	(void)unlink(tmp);
	st = state_new(tmp);
	r = build_locked(st, busy_timeout_usec, ec);
	/* Closing the only connection checkpoints and removes the -wal and -shm files. */
	sqlite_state_free(st);
	if (r == 0)
		r = sync_path(tmp, false, ec);
	if (r == 0 && link(tmp, path) < 0 && errno != EEXIST)
		r = errctx_set(ec, -errno, "cannot create it: %s", strerror(errno));
	(void)unlink(tmp);
	if (r == 0)
		r = sync_path(dir, true, ec);
	return r;
}

/* Why: SQLite keeps memory statistics by default, behind a global mutex
 * taken on every allocation of every connection (80 lock/unlock pairs per
 * message, issue #13); nothing here reads them. Its allocations go through
 * sqlite_mem (per-thread lists of small blocks: the libsqlite3 we link has
 * no lookaside, so each statement run mallocs its cursors). Only possible
 * before SQLite initialises: if another part of the process opened a
 * database first, the calls are refused and nothing changes. */
static void
sqlite_global_config(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite_mem_install();
}

int
sqlite_state_open(const char *path, int64_t busy_timeout_usec, struct sqlite_state **ret,
    struct errctx *ec)
{
	static pthread_once_t config_once = PTHREAD_ONCE_INIT;
	struct sqlite_state *st;
	struct stat sb;
	int r;

	(void)pthread_once(&config_once, sqlite_global_config);
	*ret = NULL;
	if (path == NULL || *path == '\0')
		return errctx_set(ec, -EINVAL, "state file: no path");
	if (busy_timeout_usec <= 0)
		busy_timeout_usec = SQLITE_STATE_BUSY_TIMEOUT_USEC;
	if (stat(path, &sb) < 0 && errno == ENOENT) {
		r = create_state_file(path, busy_timeout_usec, ec);
		if (r < 0)
			return errctx_prefix(ec, "state file '%s'", path);
	} else if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
		/* Issue #17 B10: taken as fresh state, it lost the history without a word. */
		return errctx_set(ec, -EIO, "state file '%s' is empty (0 bytes): the queue, claims and "
		    "paper-broker history it held are gone, and an empty file is not taken as fresh "
		    "state. Restore it from a backup, or start afresh with: mv '%s' '%s.empty'",
		    path, path, path);
	st = state_new(path);
	r = open_locked(st, busy_timeout_usec, 0, ec);
	if (r < 0) {
		errctx_prefix(ec, "state file '%s'", path);
		sqlite_state_free(st);
		return r;
	}
	if (stat(path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
	}
	*ret = st;
	return 0;
}

struct sqlite_state *
sqlite_state_ref(struct sqlite_state *st)
{
	atomic_fetch_add(&st->refs, 1);
	return st;
}

void
sqlite_state_free(struct sqlite_state *st)
{
	size_t i;

	if (st == NULL || atomic_fetch_sub(&st->refs, 1) > 1)
		return;
	(void)pthread_mutex_lock(&st->lock);
	st->held = false;
	(void)group_finish_locked(st, NULL);
	(void)pthread_mutex_unlock(&st->lock);
	for (i = 0; i < STMT_CACHE_MAX; i++)
		sqlite3_finalize(st->stmts[i].s);
	/* close_v2: statements are finalised by their users; a leak would
	 * keep the handle as a zombie rather than crash. */
	(void)sqlite3_close_v2(st->db);
	(void)pthread_cond_destroy(&st->committed);
	(void)pthread_mutex_destroy(&st->lock);
	free(st->path);
	free(st);
}

void
sqlite_state_set_clock(struct sqlite_state *st, sqlite_state_clock_cb clock, void *arg)
{
	st->clock = clock != NULL ? clock : realtime_usec;
	st->clock_arg = arg;
}

int64_t
sqlite_state_now_usec(struct sqlite_state *st)
{
	return st->clock(st->clock_arg);
}

const char *
sqlite_state_path(const struct sqlite_state *st)
{
	return st->path;
}

int
sqlite_state_check(struct sqlite_state *st, struct errctx *ec)
{
	char buf[256];
	int v, r;

	sqlite_state_lock(st);
	if (st->checked_usec != 0 && monotonic_usec() - st->checked_usec < CHECK_REUSE_USEC)
		r = 0;
	else {
		r = pragma_text(st, "PRAGMA quick_check", buf, sizeof buf, ec);
		if (r == 0 && strcmp(buf, "ok") != 0)
			r = errctx_set(ec, -EIO, "the state file is corrupt (quick_check: %s)", buf);
		if (r == 0)
			st->checked_usec = monotonic_usec();
	}
	sqlite_state_unlock(st);
	if (r == 0)
		r = sqlite_state_schema_version(st, &v, ec);
	if (r == 0 && v != SQLITE_STATE_SCHEMA_VERSION)
		r = errctx_set(ec, -EINVAL, "schema version %d, expected %d", v, SQLITE_STATE_SCHEMA_VERSION);
	if (r < 0)
		return errctx_prefix(ec, "state file '%s'", st->path);
	return 0;
}

int
sqlite_state_same_file(struct sqlite_state *st, struct errctx *ec)
{
	struct stat sb;

	/* SQLite keeps using an unlinked file: everything written to it would
	 * vanish with the process, and new messages go to a new file. */
	if (stat(st->path, &sb) < 0)
		return errctx_set(ec, -ENOENT, "state file '%s' was deleted while in use (%s)",
		    st->path, strerror(errno));
	if (sb.st_dev != st->dev || sb.st_ino != st->ino)
		return errctx_set(ec, -ENOENT, "state file '%s' was replaced while in use", st->path);
	return 0;
}

int
sqlite_state_schema_version(struct sqlite_state *st, int *ret, struct errctx *ec)
{
	int64_t v = 0;
	int r;

	sqlite_state_lock(st);
	r = int_query_locked(st, "SELECT coalesce(max(version), 0) FROM schema_migrations", &v, ec);
	sqlite_state_unlock(st);
	*ret = (int)v;
	return r;
}

/*
 * Locking and group commit.
 *
 * Who owns the connection: the state's mutex. Every call takes it for its
 * whole SQL (sqlite_state_lock .. unlock), so one connection serves the
 * loop thread and the worker threads, one call at a time; the connection
 * is opened NOMUTEX because this mutex is the only one it needs. One
 * connection per process (the queue, bus and idempotency store share it)
 * means no fcntl lock traffic and no page re-reads between our own writers.
 *
 * Group commit: a writer runs its statements inside SAVEPOINT op of the
 * open group transaction (BEGIN IMMEDIATE by the group's first writer),
 * so that undoing it (ROLLBACK TO op) leaves the writes of the group's
 * other members. No SAVEPOINT when there is nothing else to keep (the
 * transaction holds no finished write yet: undoing the op is a ROLLBACK of
 * the whole transaction), nor for a batch of single-statement items
 * (sqlite_state_begin_items_locked). Why: inside a SAVEPOINT SQLite copies
 * every page the op changes to a statement journal first (a 64 KiB buffer
 * and a page copy each, malloc'd and freed per op), and the SAVEPOINT and
 * RELEASE are two more statements: 3-5 % of the CPU per message (issue #13).
 * When it is done and other threads wait for the mutex, it leaves the
 * transaction open and waits on `committed` (which releases the mutex):
 * the next writers join the same transaction, and the last of them (no one
 * left waiting, GROUP_MAX_OPS writes, or GROUP_WINDOW_USEC since BEGIN)
 * commits once for all. Nobody returns before the COMMIT that holds its
 * write succeeded (synchronous=FULL: it is on disk), so a kill -9 at any
 * point loses only writes no caller was told of; if the COMMIT fails,
 * every member of the group gets the error. A write never waits for
 * writers that are not already queued, so a lone writer commits at once.
 */
static bool
group_due_locked(struct sqlite_state *st)
{
	int64_t age;

	if (st->held)
		return false;
	if (st->group_ops >= GROUP_MAX_OPS)
		return true;
	age = monotonic_usec() - st->group_start_usec;
	if (age >= GROUP_WINDOW_USEC)
		return true;
	/* Why no wait for writers that are not queued yet: tried (a delay
	 * for the threads that wrote lately), it cost a timed sleep per write
	 * and more CPU per message than the commits it saved. */
	return atomic_load(&st->waiting) == 0;
}

static void
group_notify_locked(struct sqlite_state *st, const struct errctx *ec)
{
	struct group_member *m;

	for (m = st->members; m != NULL; m = m->next) {
		if (ec != NULL && ec->code < 0)
			m->ec = *ec;
		m->done = true;
	}
	st->members = NULL;
	st->group_ops = 0;
	(void)pthread_cond_broadcast(&st->committed);
}

/* COMMIT the open group (ROLLBACK when no write of it is left) and tell
 * its members. */
static int
group_finish_locked(struct sqlite_state *st, struct errctx *ret)
{
	struct errctx ec = { 0 };
	int r = 0;

	if (!st->group_open || st->op_open)
		return 0;
	st->group_open = false;
	if (st->group_ops == 0) {
		if (!sqlite3_get_autocommit(st->db))
			(void)step_locked(st, "ROLLBACK", &ec);
		group_notify_locked(st, NULL);
		return 0;
	}
	r = step_locked(st, "COMMIT", &ec);
	if (r < 0) {
		if (!sqlite3_get_autocommit(st->db))
			(void)step_locked(st, "ROLLBACK", NULL);
		errctx_prefix(&ec, "commit");
		if (ret != NULL)
			*ret = ec;
	} else
		atomic_store(&nospace_since_usec, 0);
	group_notify_locked(st, &ec);
	return r;
}

sqlite3 *
sqlite_state_lock(struct sqlite_state *st)
{
	atomic_fetch_add(&st->waiting, 1);
	(void)pthread_mutex_lock(&st->lock);
	atomic_fetch_sub(&st->waiting, 1);
	return st->db;
}

sqlite3 *
sqlite_state_db_locked(struct sqlite_state *st)
{
	return st->db;
}

void
sqlite_state_unlock(struct sqlite_state *st)
{
	/* The last one out commits what the group's writers left open
	 * (they wait for it), even when this call only read. */
	if (st->group_open && !st->op_open && group_due_locked(st))
		(void)group_finish_locked(st, NULL);
	(void)pthread_mutex_unlock(&st->lock);
}

static int
begin_op_locked(struct sqlite_state *st, bool items, struct errctx *ec)
{
	int r;

	if (!st->group_open) {
		r = step_locked(st, "BEGIN IMMEDIATE", ec);
		if (r < 0)
			return r;
		st->group_open = true;
		st->group_ops = 0;
		st->group_start_usec = monotonic_usec();
	}
	/* Nothing finished in the transaction yet (group_ops counts the
	 * writes that returned, the holder's included): undoing this op
	 * undoes the whole transaction and loses nobody's write. */
	st->op_savepoint = !items && st->group_ops > 0;
	if (st->op_savepoint) {
		r = step_locked(st, "SAVEPOINT op", ec);
		if (r < 0) {
			st->op_savepoint = false;
			sqlite_state_rollback_locked(st);
			return r;
		}
	}
	st->op_open = true;
	return 0;
}

int
sqlite_state_begin_locked(struct sqlite_state *st, struct errctx *ec)
{
	return begin_op_locked(st, false, ec);
}

int
sqlite_state_begin_items_locked(struct sqlite_state *st, struct errctx *ec)
{
	return begin_op_locked(st, true, ec);
}

int
sqlite_state_commit_locked(struct sqlite_state *st, struct errctx *ec)
{
	struct group_member me = { 0 };
	int r;

	if (st->op_savepoint && (r = step_locked(st, "RELEASE op", ec)) < 0) {
		sqlite_state_rollback_locked(st);
		return r;
	}
	st->op_open = false;
	st->op_savepoint = false;
	st->group_ops++;
	/* The holder commits the group itself when it releases its hold. */
	if (st->held && pthread_equal(st->holder, pthread_self()))
		return 0;
	me.next = st->members;
	st->members = &me;
	/* Timed: whoever finds the group due when it wakes commits it, so a
	 * group never outlives its window whoever else comes or goes. */
	while (!me.done) {
		struct timespec until;
		int64_t at;

		if (st->group_open && !st->op_open && group_due_locked(st)) {
			(void)group_finish_locked(st, NULL);
			continue;
		}
		if (st->held) {
			/* Its holder commits it: sqlite_state_release_hold wakes us. */
			(void)pthread_cond_wait(&st->committed, &st->lock);
			continue;
		}
		at = st->group_start_usec + GROUP_WINDOW_USEC;
		until.tv_sec = (time_t)(at / 1000000);
		until.tv_nsec = (long)(at % 1000000) * 1000;
		(void)pthread_cond_timedwait(&st->committed, &st->lock, &until);
	}
	if (me.ec.code < 0)
		return errctx_set(ec, me.ec.code, "%s", me.ec.msg);
	return 0;
}

void
sqlite_state_hold(struct sqlite_state *st)
{
	sqlite_state_lock(st);
	st->held = true;
	st->hold_broken = false;
	st->holder = pthread_self();
	(void)pthread_mutex_unlock(&st->lock);
}

int
sqlite_state_release_hold(struct sqlite_state *st, struct errctx *ec)
{
	int r = 0;

	sqlite_state_lock(st);
	if (!st->held || !pthread_equal(st->holder, pthread_self())) {
		(void)pthread_mutex_unlock(&st->lock);
		return 0;
	}
	st->held = false;
	if (st->hold_broken)
		r = errctx_set(ec, -EIO, "the transaction was rolled back: %s", sqlite3_errmsg(st->db));
	else if (st->group_open && !st->op_open)
		r = group_finish_locked(st, ec);
	/* Members that joined meanwhile wait untimed: wake them either way. */
	(void)pthread_cond_broadcast(&st->committed);
	(void)pthread_mutex_unlock(&st->lock);
	return r;
}

void
sqlite_state_rollback_locked(struct sqlite_state *st)
{
	struct errctx ec = { 0 };

	if (st->op_open && st->op_savepoint && !sqlite3_get_autocommit(st->db)) {
		(void)step_locked(st, "ROLLBACK TO op", NULL);
		(void)step_locked(st, "RELEASE op", NULL);
	} else if (st->op_open && st->group_open && !sqlite3_get_autocommit(st->db)) {
		/* An op without a SAVEPOINT is undone with its transaction. */
		(void)step_locked(st, "ROLLBACK", NULL);
		if (st->group_ops == 0) {
			/* Nothing else was in it: no write of anyone is lost. */
			st->op_open = false;
			st->group_open = false;
			group_notify_locked(st, NULL);
			return;
		}
	}
	st->op_open = false;
	st->op_savepoint = false;
	if (st->group_open && sqlite3_get_autocommit(st->db)) {
		/* SQLite rolled the whole transaction back (I/O error, disk
		 * full): the group's earlier writes are gone with it. */
		st->group_open = false;
		if (st->held)
			st->hold_broken = true;
		(void)errctx_set(&ec, -EIO, "the group transaction was rolled back: %s",
		    sqlite3_errmsg(st->db));
		group_notify_locked(st, &ec);
	}
}

static size_t
hint_of(const void *p)
{
	/* Fibonacci hashing of the address: its low bits are alignment. */
	return (size_t)(((uint64_t)(uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15)) >> 58) &
	    (STMT_HINTS - 1);
}

static int
stmt_take(struct sqlite_state *st, size_t i, sqlite3_stmt **ret)
{
	struct stmt_slot *c = &st->stmts[i];

	if (c->busy)
		return -1;	/* nested use of the same text: a private one */
	c->busy = true;
	c->used = ++st->stmt_tick;
	st->by_stmt[hint_of(c->s)] = (uint8_t)i;
	*ret = c->s;
	return 0;
}

int
sqlite_state_prepare_locked(struct sqlite_state *st, const char *sql, sqlite3_stmt **ret,
    struct errctx *ec)
{
	struct stmt_slot *slot = NULL, *lru = NULL;
	size_t i, h = hint_of(sql);
	int rc;

	i = st->by_sql[h];
	if (st->stmts[i].s != NULL && st->stmts[i].sql == sql && stmt_take(st, i, ret) == 0)
		return 0;
	for (i = 0; i < STMT_CACHE_MAX; i++) {
		struct stmt_slot *c = &st->stmts[i];

		if (c->s != NULL && c->sql == sql) {
			if (stmt_take(st, i, ret) < 0)
				break;
			st->by_sql[h] = (uint8_t)i;
			return 0;
		}
		/* An empty slot, else the least recently used idle one. */
		if (c->busy || (lru != NULL && lru->s == NULL))
			continue;
		if (lru == NULL || c->s == NULL || c->used < lru->used)
			lru = c;
	}
	if (i == STMT_CACHE_MAX)
		slot = lru;
	rc = sqlite3_prepare_v3(st->db, sql, -1, slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0, ret,
	    NULL);
	if (rc != SQLITE_OK)
		return sqlite_state_err(st->db, rc, ec, "prepare");
	if (slot != NULL) {
		sqlite3_finalize(slot->s);
		slot->sql = sql;
		slot->s = *ret;
		slot->busy = true;
		slot->used = ++st->stmt_tick;
		st->by_sql[h] = (uint8_t)(slot - st->stmts);
		st->by_stmt[hint_of(slot->s)] = (uint8_t)(slot - st->stmts);
	}
	return 0;
}

void
sqlite_state_release_locked(struct sqlite_state *st, sqlite3_stmt *s)
{
	size_t i;

	if (s == NULL)
		return;
	i = st->by_stmt[hint_of(s)];
	if (st->stmts[i].s != s)
		for (i = 0; i < STMT_CACHE_MAX && st->stmts[i].s != s; i++)
			;
	if (i < STMT_CACHE_MAX) {
		(void)sqlite3_reset(s);
		(void)sqlite3_clear_bindings(s);
		st->stmts[i].busy = false;
		return;
	}
	sqlite3_finalize(s);
}

int
sqlite_state_recover_space(struct sqlite_state *st, struct errctx *ec)
{
	int64_t since = atomic_load(&nospace_since_usec);
	struct errctx sub = { 0 };
	char sql[64];
	int r;

	if (since == 0)
		return 0;
	(void)snprintf(sql, sizeof sql, "PRAGMA application_id = %d", STATE_APPLICATION_ID);
	sqlite_state_lock(st);
	/* Give back what the WAL holds (a no-op if it cannot be copied yet),
	 * then prove a write goes through: rewriting page 1 with the same id
	 * needs room like any commit, and its success clears the flag. */
	(void)sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	r = sqlite_state_begin_locked(st, &sub);
	if (r == 0 && (r = exec_locked(st, sql, &sub)) < 0)
		sqlite_state_rollback_locked(st);
	if (r == 0)
		r = sqlite_state_commit_locked(st, &sub);
	sqlite_state_unlock(st);
	if (r == 0)
		return 1;
	return errctx_set(ec, -ENOSPC, "state file '%s': cannot write for lack of space for %lld s "
	    "(%s); retrying, it recovers by itself once space is freed", st->path,
	    (long long)((realtime_usec(NULL) - since) / 1000000), errctx_msg(&sub));
}

/* Random bytes come from the kernel (getrandom) in blocks of RANDOM_POOL,
 * kept per thread and used once: a receive wants 16 per message and a
 * publish 16 per event, and one system call per receive was the only one
 * the floor program does not make (issue #13). A forked child starts with
 * an empty pool (pthread_atfork), so it never hands out its parent's bytes. */
#define RANDOM_POOL 4096

static __thread unsigned char pool[RANDOM_POOL];
static __thread size_t pool_left;	/* unused bytes at the end of pool */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void
pool_after_fork(void)
{
	explicit_bzero(pool, sizeof pool);
	pool_left = 0;
}

static void
pool_init(void)
{
	(void)pthread_atfork(NULL, NULL, pool_after_fork);
}

static void
pool_fill(void)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof pool) {
		n = getrandom(pool + got, sizeof pool - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		/* getrandom cannot fail on Linux >= 3.17 once seeded. */
		if (n < 0)
			abort();
		got += (size_t)n;
	}
	pool_left = sizeof pool;
}

void
local_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	(void)pthread_once(&pool_once, pool_init);
	if (nbytes > 256)
		nbytes = 256;
	if (pool_left < nbytes)
		pool_fill();
	for (i = 0; i < nbytes; i++) {
		unsigned char b = pool[sizeof pool - pool_left + i];

		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	/* Used once: wiped as it is handed out. */
	explicit_bzero(pool + sizeof pool - pool_left, nbytes);
	pool_left -= nbytes;
	out[2 * nbytes] = '\0';
}

/* Private until core/uuid.c lands on main; then this becomes uuid_v4(). */
void
local_uuid_v4(char out[LOCAL_ID_STRLEN])
{
	char h[33];

	local_random_hex(h, 16);
	h[12] = '4';
	h[16] = "89ab"[strtol((char[]){ h[16], '\0' }, NULL, 16) & 3];
	(void)snprintf(out, LOCAL_ID_STRLEN, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12,
	    h + 16, h + 20);
}

bool
local_queue_name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	return n > 0 && n <= LOCAL_QUEUE_NAME_MAX && name[n] == '\0';
}
