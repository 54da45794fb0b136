/*
 * test_sqlite_state: opening the state file: schema, migrations, and clear
 * errors (never a crash) for corrupt, foreign, newer or unreachable files.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_state.h"
#include "../../../src/local/sqlite_internal.h"
#include "local_test.h"

static char *dir;
static char *path;

static void
setup(void)
{
	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
}

static void
teardown(void)
{
	free(path);
	test_rmtree(dir);
	free(dir);
}

static void
write_file(const char *p, const char *text, size_t n)
{
	FILE *f = fopen(p, "wb");

	ck_assert_ptr_nonnull(f);
	while (n > 0) {
		size_t k = strlen(text) < n ? strlen(text) : n;

		ck_assert_uint_eq(fwrite(text, 1, k, f), k);
		n -= k;
	}
	fclose(f);
}

static void
raw_exec(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(test_sqlite_state_creates_and_reopens)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	int v;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_ok(sqlite_state_schema_version(st, &v, &ec), &ec);
	ck_assert_int_eq(v, SQLITE_STATE_SCHEMA_VERSION);
	ck_assert_ok(sqlite_state_check(st, &ec), &ec);
	ck_assert_str_eq(sqlite_state_path(st), path);
	sqlite_state_free(st);
	/* Reopening applies nothing twice. */
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_ok(sqlite_state_schema_version(st, &v, &ec), &ec);
	ck_assert_int_eq(v, SQLITE_STATE_SCHEMA_VERSION);
	sqlite_state_free(st);
	sqlite_state_free(NULL);
}
END_TEST

/* One value of a one-row query on a raw connection (read only). */
static char *
raw_text(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *out;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	out = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

static void
assert_raw(const char *sql, const char *want)
{
	char *got = raw_text(sql);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", sql, got, want);
	free(got);
}

/* Every table and index of the current schema, its migrations recorded,
 * WAL mode, our application id, nothing else left in the folder. */
static void
assert_complete_state_file(void)
{
	DIR *d;
	struct dirent *e;

	assert_raw("PRAGMA journal_mode", "wal");
	assert_raw("PRAGMA application_id", "1097622376");
	assert_raw("PRAGMA quick_check", "ok");
	assert_raw("SELECT group_concat(version, ',') FROM (SELECT version FROM schema_migrations"
	    " ORDER BY version)", "1,2");
	assert_raw("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE"
	    " name NOT LIKE 'sqlite_%' ORDER BY name)", "idempotency,idempotency_expires,"
	    "queue_messages,queue_messages_exhausted,queue_messages_ready,schema_migrations");
	/* Usable: a row goes into each table. */
	raw_exec("INSERT INTO queue_messages (queue, message_id, body, sent_usec, visible_usec)"
	    " VALUES ('q', 'm', 'b', 1, 1);"
	    "INSERT INTO idempotency (key, status, owner, claimed_usec, expires_usec)"
	    " VALUES ('k', 'IN_PROGRESS', 'o', 1, 2)");
	/* The private file it was built under is gone (no -journal either). */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		ck_assert_msg(strstr(e->d_name, ".new-") == NULL && strstr(e->d_name, "-journal") == NULL,
		    "left behind: %s", e->d_name);
	closedir(d);
}

/* A new file is built without a journal on disk and synced once (start-up
 * speed, issue #13): it must come out the same as the step-by-step one. */
START_TEST(test_sqlite_state_new_file_is_complete)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_ok(sqlite_state_check(st, &ec), &ec);
	sqlite_state_free(st);
	assert_complete_state_file();
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_ok(sqlite_state_check(st, &ec), &ec);
	sqlite_state_free(st);
}
END_TEST

/* A state file of an earlier release (schema version 1, written before the
 * fast creation existed, rows in it) opens, migrates and keeps its rows. */
START_TEST(test_sqlite_state_old_file_still_opens)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	int v;

	raw_exec("PRAGMA journal_mode = WAL; PRAGMA application_id = 1097622376;"
	    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
	    " applied_usec INTEGER NOT NULL, description TEXT NOT NULL);"
	    "CREATE TABLE queue_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " queue TEXT NOT NULL, message_id TEXT NOT NULL, body BLOB NOT NULL, attributes TEXT,"
	    " sent_usec INTEGER NOT NULL, visible_usec INTEGER NOT NULL,"
	    " receive_count INTEGER NOT NULL DEFAULT 0, first_receive_usec INTEGER,"
	    " receipt TEXT UNIQUE, source_queue TEXT, dlq_reason TEXT, dlq_usec INTEGER);"
	    "CREATE INDEX queue_messages_ready ON queue_messages(queue, visible_usec);"
	    "CREATE TABLE idempotency (key TEXT PRIMARY KEY, status TEXT NOT NULL CHECK"
	    " (status IN ('IN_PROGRESS', 'COMPLETED')), owner TEXT NOT NULL,"
	    " lease_expires_usec INTEGER, detail_type TEXT, correlation_id TEXT,"
	    " claimed_usec INTEGER NOT NULL, completed_usec INTEGER, expires_usec INTEGER NOT NULL);"
	    "CREATE INDEX idempotency_expires ON idempotency(expires_usec);"
	    "INSERT INTO schema_migrations VALUES (1, 1, 'queue messages and idempotency records');"
	    "INSERT INTO queue_messages (queue, message_id, body, sent_usec, visible_usec)"
	    " VALUES ('old', 'old-1', 'kept', 1, 1)");
	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_ok(sqlite_state_schema_version(st, &v, &ec), &ec);
	ck_assert_int_eq(v, SQLITE_STATE_SCHEMA_VERSION);
	ck_assert_ok(sqlite_state_check(st, &ec), &ec);
	sqlite_state_free(st);
	assert_raw("SELECT body FROM queue_messages WHERE message_id = 'old-1'", "kept");
	assert_complete_state_file();
}
END_TEST

struct holder {
	sqlite3		*db;
	int		 hold_ms;
	atomic_bool	 released;
};

static void *
release_later(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { h->hold_ms / 1000, (long)(h->hold_ms % 1000) * 1000000 };

	(void)nanosleep(&ts, NULL);
	atomic_store(&h->released, true);
	ck_assert_int_eq(sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	return NULL;
}

/* Our busy handler (short steps, not sqlite3_busy_timeout's): a write waits
 * for another connection's write lock and goes through once it is free... */
START_TEST(test_sqlite_state_waits_for_another_writer)
{
	struct sqlite_state *st = NULL;
	struct holder h = { .hold_ms = 150 };
	struct errctx ec;
	pthread_t th;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	sqlite_state_free(st);
	ck_assert_int_eq(sqlite3_open(path, &h.db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(pthread_create(&th, NULL, release_later, &h), 0);
	/* Opening migrates inside BEGIN IMMEDIATE: it must wait for the lock. */
	ck_assert_ok(sqlite_state_open(path, 30 * INT64_C(1000000), &st, &ec), &ec);
	ck_assert(atomic_load(&h.released));
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	sqlite_state_free(st);
	sqlite3_close(h.db);
}
END_TEST

/* ...and gives up with -EAGAIN once its busy timeout has passed. */
START_TEST(test_sqlite_state_busy_timeout_gives_up)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	sqlite3 *db;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	sqlite_state_free(st);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_err(sqlite_state_open(path, 200 * INT64_C(1000), &st, &ec), -EAGAIN, &ec);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}
END_TEST

static int
count_quick_checks(unsigned type, void *arg, void *stmt, void *x)
{
	const char *sql = sqlite3_sql(stmt);

	(void)type;
	(void)x;
	if (sql != NULL && strstr(sql, "quick_check") != NULL)
		(*(int *)arg)++;
	return 0;
}

/* Start-up checks the state four times on one connection (the open, then
 * three preflights): a quick_check that just passed is not repeated (each
 * reads the whole file). The window is 10 s, far above the time these calls
 * take; a check after it reads the file again (not waited for here). */
START_TEST(test_sqlite_state_check_reuses_a_fresh_quick_check)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	int n = 0, i;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	ck_assert_int_eq(sqlite3_trace_v2(sqlite_state_lock(st), SQLITE_TRACE_STMT, count_quick_checks, &n),
	    SQLITE_OK);
	sqlite_state_unlock(st);
	for (i = 0; i < 3; i++)
		ck_assert_ok(sqlite_state_check(st, &ec), &ec);
	ck_assert_int_eq(n, 0);
	sqlite_state_free(st);
}
END_TEST

START_TEST(test_sqlite_state_garbage_file_is_a_clear_error)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	write_file(path, "this is not a database, just text. ", 8192);
	errctx_clear(&ec);
	ck_assert_err(sqlite_state_open(path, 0, &st, &ec), -EIO, &ec);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), path));
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "corrupt or not a database"));
}
END_TEST

START_TEST(test_sqlite_state_damaged_pages_are_a_clear_error)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	char junk[4096];
	int fd, i, r;

	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	sqlite_state_free(st);
	/* Fold the WAL into the main file, then overwrite every page but the header. */
	raw_exec("PRAGMA wal_checkpoint(TRUNCATE)");
	memset(junk, 0xa5, sizeof junk);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (i = 1; i < 8; i++)
		ck_assert_int_eq(pwrite(fd, junk, sizeof junk, (off_t)i * 4096), (ssize_t)sizeof junk);
	close(fd);
	errctx_clear(&ec);
	r = sqlite_state_open(path, 0, &st, &ec);
	ck_assert_err(r, -EIO, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "corrupt"));
}
END_TEST

START_TEST(test_sqlite_state_foreign_database_is_refused)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	raw_exec("CREATE TABLE people (name TEXT)");
	ck_assert_err(sqlite_state_open(path, 0, &st, &ec), -EIO, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "not an alchemiserd state file"));
}
END_TEST

START_TEST(test_sqlite_state_newer_schema_is_refused)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	sqlite_state_free(st);
	raw_exec("INSERT INTO schema_migrations VALUES (99, 0, 'from the future')");
	ck_assert_err(sqlite_state_open(path, 0, &st, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "schema version 99 is newer"));
}
END_TEST

START_TEST(test_sqlite_state_missing_folder)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;
	char *p = xasprintf("%s/no/such/dir/state.db", dir);

	ck_assert_err(sqlite_state_open(p, 0, &st, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), p));
	ck_assert_err(sqlite_state_open("", 0, &st, &ec), -EINVAL, &ec);
	free(p);
}
END_TEST

START_TEST(test_sqlite_state_unreadable_file)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	if (geteuid() == 0)
		return;	/* root reads anything */
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	sqlite_state_free(st);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_lt(sqlite_state_open(path, 0, &st, &ec), 0);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), path));
	(void)chmod(path, 0600);
}
END_TEST

/* One write op of the group's transaction: INSERT x into t, then commit it
 * or undo it. items: the SAVEPOINT-less form of per-item batches. */
static int
op_insert(struct sqlite_state *st, int x, bool items, bool undo)
{
	struct errctx ec = { 0 };
	char sql[64];
	int r;

	sqlite_state_lock(st);
	r = items ? sqlite_state_begin_items_locked(st, &ec) : sqlite_state_begin_locked(st, &ec);
	ck_assert_ok(r, &ec);
	(void)snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d)", x);
	ck_assert_int_eq(sqlite3_exec(sqlite_state_db_locked(st), sql, NULL, NULL, NULL), SQLITE_OK);
	if (undo) {
		sqlite_state_rollback_locked(st);
		r = 0;
	} else
		r = sqlite_state_commit_locked(st, &ec);
	sqlite_state_unlock(st);
	return r;
}

static int
count_t(const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[128];
	int n;

	(void)snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE %s", where);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* Undoing a write op (issue #13: a SAVEPOINT only where something else must
 * stay): alone in its transaction it is rolled back with it and the next op
 * starts a new one; after a finished write of the group it is undone alone
 * (ROLLBACK TO op); a per-item batch (no SAVEPOINT) that is undone anyway
 * takes the group with it, and the group's holder is told. Other
 * connections see only what was committed. */
START_TEST(test_sqlite_state_undone_op_keeps_the_others)
{
	struct sqlite_state *st = NULL;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	raw_exec("CREATE TABLE t (x INTEGER)");
	/* Alone: undone, then a fresh transaction for the next one. */
	ck_assert_int_eq(op_insert(st, 1, false, true), 0);
	ck_assert_int_eq(op_insert(st, 2, false, false), 0);
	ck_assert_int_eq(op_insert(st, 3, true, true), 0);
	ck_assert_int_eq(op_insert(st, 4, true, false), 0);
	ck_assert_int_eq(count_t("x IN (1, 3)"), 0);
	ck_assert_int_eq(count_t("x IN (2, 4)"), 2);
	/* Held: the first op (no SAVEPOINT) finished, the second is undone
	 * alone; the commit keeps the first. */
	sqlite_state_hold(st);
	ck_assert_int_eq(op_insert(st, 10, false, false), 0);
	ck_assert_int_eq(op_insert(st, 11, false, true), 0);
	ck_assert_int_eq(op_insert(st, 12, true, false), 0);
	ck_assert_int_eq(count_t("x >= 10"), 0);
	ck_assert_ok(sqlite_state_release_hold(st, &ec), &ec);
	ck_assert_int_eq(count_t("x = 10 OR x = 12"), 2);
	ck_assert_int_eq(count_t("x = 11"), 0);
	/* Held: a per-item op undone after a finished write: the whole group
	 * is gone, and release_hold says so. */
	sqlite_state_hold(st);
	ck_assert_int_eq(op_insert(st, 20, false, false), 0);
	ck_assert_int_eq(op_insert(st, 21, true, true), 0);
	ck_assert_int_lt(sqlite_state_release_hold(st, &ec), 0);
	ck_assert_int_eq(count_t("x >= 20"), 0);
	/* The connection goes on. */
	ck_assert_int_eq(op_insert(st, 30, true, false), 0);
	ck_assert_int_eq(count_t("x = 30"), 1);
	sqlite_state_free(st);
}
END_TEST

/* Random hex from the per-thread pool (issue #13): the right length, hex
 * only, never the same twice, and a forked child does not repeat what its
 * parent hands out next (the pool is emptied in the child). */
START_TEST(test_sqlite_state_random_hex_is_fresh)
{
	char a[65], b[65], c[65];
	int fds[2], status;
	size_t i;
	pid_t pid;

	local_random_hex(a, 32);
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
	for (i = 0; i < 300; i++) {
		local_random_hex(b, 32);
		ck_assert_str_ne(a, b);
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		local_random_hex(c, 32);
		_exit(write(fds[1], c, 64) == 64 ? 0 : 1);
	}
	local_random_hex(b, 32);
	memset(c, 0, sizeof c);
	ck_assert_int_eq(read(fds[0], c, 64), 64);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_str_ne(b, c);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

static Suite *
suite_sqlite_state(void)
{
	Suite *s = suite_create("sqlite_state");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_state_creates_and_reopens);
	tcase_add_test(tc, test_sqlite_state_new_file_is_complete);
	tcase_add_test(tc, test_sqlite_state_old_file_still_opens);
	tcase_add_test(tc, test_sqlite_state_waits_for_another_writer);
	tcase_add_test(tc, test_sqlite_state_busy_timeout_gives_up);
	tcase_add_test(tc, test_sqlite_state_check_reuses_a_fresh_quick_check);
	tcase_add_test(tc, test_sqlite_state_garbage_file_is_a_clear_error);
	tcase_add_test(tc, test_sqlite_state_damaged_pages_are_a_clear_error);
	tcase_add_test(tc, test_sqlite_state_foreign_database_is_refused);
	tcase_add_test(tc, test_sqlite_state_newer_schema_is_refused);
	tcase_add_test(tc, test_sqlite_state_missing_folder);
	tcase_add_test(tc, test_sqlite_state_unreadable_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("group");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_state_undone_op_keeps_the_others);
	tcase_add_test(tc, test_sqlite_state_random_hex_is_fresh);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_state)
