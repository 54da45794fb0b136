/*
 * Tests for sqlite_mem: SQLite's allocator keeps small blocks of a thread and
 * hands them out again, sizes and contents survive realloc, big blocks go
 * straight to malloc, and a thread's kept blocks go when it exits (ASan and
 * valgrind see no leak). main installs it before SQLite initialises.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sqlite3.h>

#include "../../../src/local/sqlite_mem.h"
#include "../helpers.h"

static int installed = -2;

START_TEST(test_sqlite_mem_installed_before_init)
{
	ck_assert_int_eq(installed, 0);
	ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
	/* Too late once SQLite runs: refused, nothing changes. */
	ck_assert_int_eq(sqlite_mem_install(), -1);
}
END_TEST

START_TEST(test_sqlite_mem_reuses_small_blocks)
{
	unsigned char *p, *q, *r;
	int i;

	ck_assert_int_eq(sqlite3_initialize(), SQLITE_OK);
	p = sqlite3_malloc(100);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(sqlite3_msize(p), 100);
	memset(p, 0xab, 100);
	sqlite3_free(p);
	/* The same class again: the block just given back. */
	q = sqlite3_malloc(120);
	ck_assert_ptr_eq(q, p);
	/* Grown within its class: kept in place, contents intact. */
	q[0] = 7;
	r = sqlite3_realloc(q, 128);
	ck_assert_ptr_eq(r, q);
	ck_assert_int_eq(r[0], 7);
	/* Grown past it: moved, contents copied. */
	for (i = 0; i < 128; i++)
		r[i] = (unsigned char)i;
	q = sqlite3_realloc(r, 5000);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_ge(sqlite3_msize(q), 5000);
	for (i = 0; i < 128; i++)
		ck_assert_int_eq(q[i], (unsigned char)i);
	/* Shrunk: the first bytes stay. */
	r = sqlite3_realloc(q, 10);
	ck_assert_ptr_nonnull(r);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(r[i], (unsigned char)i);
	sqlite3_free(r);
	/* Big blocks work (straight to malloc) and are 16-byte aligned. */
	p = sqlite3_malloc(1 << 20);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_int_ge(sqlite3_msize(p), 1 << 20);
	memset(p, 1, 1 << 20);
	sqlite3_free(p);
	sqlite3_free(NULL);
	ck_assert_int_eq(sqlite3_msize(NULL), 0);
}
END_TEST

static void *
churn(void *arg)
{
	void *blocks[300];
	int i;

	(void)arg;
	for (i = 0; i < 300; i++)
		blocks[i] = sqlite3_malloc(16 + (i * 37) % 15000);
	for (i = 0; i < 300; i++)
		sqlite3_free(blocks[i]);
	return NULL;
}

/* A real database through it, and threads that keep blocks and exit. */
START_TEST(test_sqlite_mem_serves_a_database_and_threads)
{
	pthread_t th[3];
	sqlite3 *db;
	sqlite3_stmt *s;
	int i;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
	    " INSERT INTO t SELECT printf('k%d', i), randomblob(i % 700) FROM n;"
	    "DELETE FROM t WHERE rowid % 3 = 0;", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(s, 0), 1334);
	sqlite3_finalize(s);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, churn, NULL), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	/* Gives back what this thread keeps. */
	ck_assert_int_eq(sqlite3_shutdown(), SQLITE_OK);
}
END_TEST

static Suite *
suite_sqlite_mem(void)
{
	Suite *s = suite_create("sqlite_mem");
	TCase *tc = tcase_create("mem");

	tcase_add_test(tc, test_sqlite_mem_installed_before_init);
	tcase_add_test(tc, test_sqlite_mem_reuses_small_blocks);
	tcase_add_test(tc, test_sqlite_mem_serves_a_database_and_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	installed = sqlite_mem_install();
	return test_run_suite(suite_sqlite_mem());
}
