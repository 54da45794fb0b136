#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/file_watch.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

static void
touch(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
rm_tree(char *dir, const char *const *names)
{
	for (; *names != NULL; names++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, *names);

		(void)unlink(p);
	}
	(void)rmdir(dir);
	free(dir);
}

/* Writes to the file and other files of its folder say nothing; the file
 * deleted, renamed away or replaced does. */
START_TEST(test_file_watch_entry_changes)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *path = xasprintf("%s/state.sqlite", dir);
	_cleanup_free_ char *other = xasprintf("%s/state.sqlite-wal", dir);
	_cleanup_free_ char *moved = xasprintf("%s/moved", dir);
	const char *const names[] = { "state.sqlite", "state.sqlite-wal", "moved", NULL };
	struct errctx ec = { 0 };
	struct file_watch *w;

	touch(path, "a");
	ck_assert_ok(file_watch_new(path, &w, &ec), &ec);
	ck_assert_int_ge(file_watch_fd(w), 0);
	ck_assert(!file_watch_drain(w));
	touch(path, "more");
	touch(other, "wal");
	ck_assert(!file_watch_drain(w));
	/* Renamed away. */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert(file_watch_drain(w));
	ck_assert(!file_watch_drain(w));
	/* Another file put in its place. */
	ck_assert_int_eq(rename(other, path), 0);
	ck_assert(file_watch_drain(w));
	/* Deleted. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert(file_watch_drain(w));
	/* Another one's deletion is not its. */
	ck_assert_int_eq(unlink(moved), 0);
	ck_assert(!file_watch_drain(w));
	file_watch_free(w);
	rm_tree(dir, names);
}
END_TEST

/* The folder itself moved or deleted counts. */
START_TEST(test_file_watch_folder_goes)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *sub = xasprintf("%s/s", dir);
	_cleanup_free_ char *sub2 = xasprintf("%s/t", dir);
	_cleanup_free_ char *path = xasprintf("%s/s/f", dir);
	const char *const names[] = { "s", "t", NULL };
	struct errctx ec = { 0 };
	struct file_watch *w;

	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_ok(file_watch_new(path, &w, &ec), &ec);
	ck_assert(!file_watch_drain(w));
	ck_assert_int_eq(rename(sub, sub2), 0);
	ck_assert(file_watch_drain(w));
	ck_assert_int_eq(rmdir(sub2), 0);
	ck_assert(file_watch_drain(w));
	file_watch_free(w);
	rm_tree(dir, names);
}
END_TEST

/* A symbolic link's target is elsewhere: refused, the caller polls. A
 * folder that does not exist cannot be watched. */
START_TEST(test_file_watch_refuses)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *link = xasprintf("%s/link", dir);
	_cleanup_free_ char *missing = xasprintf("%s/no/such", dir);
	const char *const names[] = { "link", NULL };
	struct errctx ec = { 0 };
	struct file_watch *w = (struct file_watch *)&ec;

	ck_assert_int_eq(symlink("/nonexistent", link), 0);
	ck_assert_err(file_watch_new(link, &w, &ec), -ENOTSUP, &ec);
	ck_assert_ptr_null(w);
	ck_assert_err(file_watch_new(missing, &w, &ec), -ENOENT, &ec);
	ck_assert_ptr_null(w);
	file_watch_free(NULL);
	rm_tree(dir, names);
}
END_TEST

static Suite *
suite_file_watch(void)
{
	Suite *s = suite_create("file_watch");
	TCase *tc = tcase_create("entry");

	tcase_add_test(tc, test_file_watch_entry_changes);
	tcase_add_test(tc, test_file_watch_folder_goes);
	tcase_add_test(tc, test_file_watch_refuses);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_file_watch)
