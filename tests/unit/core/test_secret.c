#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

static char *
write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

START_TEST(test_secret_reads_file_and_strips_newline)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *p = write_file(dir, "k", "s3cr3t\n", 0600);
	struct secret *s = NULL;

	ck_assert_ok(secret_from_file(p, &s, &ec), &ec);
	ck_assert_str_eq(secret_reveal(s), "s3cr3t");
	ck_assert_uint_eq(secret_len(s), 6);
	secret_free(s);
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_secret_refuses_group_readable_file)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *p = write_file(dir, "k", "s3cr3t\n", 0640);
	struct secret *s = NULL;

	ck_assert_err(secret_from_file(p, &s, &ec), -EACCES, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "chmod 600"));
	/* The reason never contains the secret itself. */
	ck_assert_ptr_null(strstr(ec.msg, "s3cr3t"));
	ck_assert_ptr_null(s);
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_secret_refuses_empty_and_missing)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *p = write_file(dir, "k", "\n", 0600);
	struct secret *s = NULL;

	ck_assert_err(secret_from_file(p, &s, &ec), -EINVAL, &ec);
	ck_assert_err(secret_from_file("/nonexistent/alchemiser/secret", &s, &ec), -ENOENT, &ec);
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
}
END_TEST

START_TEST(test_secret_load_prefers_credentials_directory)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *p = write_file(dir, "smtp-password", "fromcreds", 0400);
	struct secret *s = NULL;

	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	ck_assert_ok(secret_load("smtp-password", &s, &ec), &ec);
	ck_assert_str_eq(secret_reveal(s), "fromcreds");
	secret_free(s);
	/* A path with a slash is taken as a path, not a credential name. */
	ck_assert_ok(secret_load(p, &s, &ec), &ec);
	ck_assert_str_eq(secret_reveal(s), "fromcreds");
	secret_free(s);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(p);
	rmdir(dir);
	free(p);
	free(dir);
}
END_TEST

static Suite *
suite_secret(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("files");

	tcase_add_test(tc, test_secret_reads_file_and_strips_newline);
	tcase_add_test(tc, test_secret_refuses_group_readable_file);
	tcase_add_test(tc, test_secret_refuses_empty_and_missing);
	tcase_add_test(tc, test_secret_load_prefers_credentials_directory);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_secret)
