/*
 * test_sqlite_state: opening the state file: schema, migrations, and clear
 * errors (never a crash) for corrupt, foreign, newer or unreachable files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_state.h"
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

static Suite *
suite_sqlite_state(void)
{
	Suite *s = suite_create("sqlite_state");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_state_creates_and_reopens);
	tcase_add_test(tc, test_sqlite_state_garbage_file_is_a_clear_error);
	tcase_add_test(tc, test_sqlite_state_damaged_pages_are_a_clear_error);
	tcase_add_test(tc, test_sqlite_state_foreign_database_is_refused);
	tcase_add_test(tc, test_sqlite_state_newer_schema_is_refused);
	tcase_add_test(tc, test_sqlite_state_missing_folder);
	tcase_add_test(tc, test_sqlite_state_unreadable_file);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_state)
