#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/maildir.h"
#include "helpers.h"

#define THREADS 4
#define PER_THREAD 25

static const char *const to[] = { "ops@example.test", "Second <two@example.test>" };

static size_t	count_files(const char *dir, char **first);
static void	rm_maildir(const char *path);
static void	*send_many(void *arg);

static size_t
count_files(const char *dir, char **first)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n++ == 0 && first != NULL)
			*first = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

static void
rm_maildir(const char *path)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(sub); i++) {
		char *dir = xasprintf("%s/%s", path, sub[i]);
		DIR *d = opendir(dir);
		struct dirent *e;

		while (d != NULL && (e = readdir(d)) != NULL) {
			char *f;

			if (e->d_name[0] == '.')
				continue;
			f = xasprintf("%s/%s", dir, e->d_name);
			(void) unlink(f);
			free(f);
		}
		if (d != NULL)
			closedir(d);
		(void) rmdir(dir);
		free(dir);
	}
	(void) rmdir(path);
}

START_TEST(test_maildir_delivers_into_new)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *md = xasprintf("%s/Maildir", dir);
	char *newdir = xasprintf("%s/new", md), *tmpdir = xasprintf("%s/tmp", md);
	struct maildir_mailer_options o = { .path = md, .from = "Bot <bot@example.test>",
		.to = to, .n_to = 2 };
	struct mail_message m = { .subject = "Trading report", .text = "body\n",
		.html = "<p>body</p>", .id = "evt-1" };
	struct mailer *mailer = NULL;
	char *file = NULL, *content;
	struct stat st;

	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	ck_assert_str_eq(mailer->ops->name, "maildir");
	ck_assert_ok(mailer->ops->send(mailer, &m, &ec), &ec);
	ck_assert_uint_eq(count_files(newdir, &file), 1);
	ck_assert_uint_eq(count_files(tmpdir, NULL), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* A message with an id: <id>-<hash>.<host>, the same for every delivery. */
	ck_assert_ptr_nonnull(strstr(file, "/new/evt-1-"));
	content = test_read_file(file, NULL);
	ck_assert_ptr_null(strchr(content, '\r'));
	ck_assert_ptr_nonnull(strstr(content, "\nFrom: Bot <bot@example.test>\n"));
	ck_assert_ptr_nonnull(strstr(content, "\nTo: ops@example.test,\n Second <two@example.test>\n"));
	ck_assert_ptr_nonnull(strstr(content, "\nSubject: Trading report\n"));
	ck_assert_ptr_nonnull(strstr(content, "\nMessage-ID: <evt-1@example.test>\n"));
	ck_assert_ptr_nonnull(strstr(content, "<p>body</p>"));
	free(content);
	free(file);
	mailer_free(mailer);
	rm_maildir(md);
	(void) rmdir(dir);
	free(tmpdir);
	free(newdir);
	free(md);
	free(dir);
}
END_TEST

START_TEST(test_maildir_refuses_bad_message_and_writes_nothing)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *md = xasprintf("%s/M", dir), *newdir = xasprintf("%s/new", md);
	struct maildir_mailer_options o = { .path = md, .from = "bot@example.test",
		.to = to, .n_to = 1 };
	struct mail_message m = { .subject = "x\nBcc: evil@example.test", .text = "t" };
	struct mailer *mailer = NULL;

	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	ck_assert_err(mailer->ops->send(mailer, &m, &ec), -EINVAL, &ec);
	ck_assert_uint_eq(count_files(newdir, NULL), 0);
	mailer_free(mailer);
	rm_maildir(md);
	(void) rmdir(dir);
	free(newdir);
	free(md);
	free(dir);
}
END_TEST

START_TEST(test_maildir_refuses_bad_options)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *file = xasprintf("%s/plainfile", dir);
	struct maildir_mailer_options o = { .path = file, .from = "bot@example.test",
		.to = to, .n_to = 1 };
	struct mailer *mailer = NULL;
	FILE *f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_lt(maildir_mailer_new(&o, &mailer, &ec), 0);
	ck_assert_ptr_nonnull(strstr(ec.msg, "plainfile"));
	o.path = dir;
	o.from = "not an address";
	ck_assert_err(maildir_mailer_new(&o, &mailer, &ec), -EINVAL, &ec);
	o.from = "bot@example.test";
	o.n_to = 0;
	ck_assert_err(maildir_mailer_new(&o, &mailer, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(mailer);
	unlink(file);
	rmdir(dir);
	free(file);
	free(dir);
}
END_TEST

static void *
send_many(void *arg)
{
	struct mailer *mailer = arg;
	struct mail_message m = { .subject = "concurrent", .text = "t" };
	struct errctx ec = { 0 };
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (mailer->ops->send(mailer, &m, &ec) < 0)
			return (void *)1;
	return NULL;
}

START_TEST(test_maildir_concurrent_names_are_unique)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *md = xasprintf("%s/M", dir), *newdir = xasprintf("%s/new", md);
	struct maildir_mailer_options o = { .path = md, .from = "bot@example.test",
		.to = to, .n_to = 1 };
	struct mailer *mailer = NULL;
	pthread_t t[THREADS];
	void *res;
	int i;

	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, send_many, mailer), 0);
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &res), 0);
		ck_assert_ptr_null(res);
	}
	ck_assert_uint_eq(count_files(newdir, NULL), THREADS * PER_THREAD);
	mailer_free(mailer);
	rm_maildir(md);
	(void) rmdir(dir);
	free(newdir);
	free(md);
	free(dir);
}
END_TEST

/* Issue #17, B3: a redelivery after kill -9 (delivered, claim not completed)
 * finds the first copy, in new/ or moved to cur/ by a reader. */
START_TEST(test_maildir_same_id_delivered_once)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *md = xasprintf("%s/M", dir);
	char *newdir = xasprintf("%s/new", md), *curdir = xasprintf("%s/cur", md);
	struct maildir_mailer_options o = { .path = md, .from = "bot@example.test", .to = to, .n_to = 1 };
	struct mail_message m = { .subject = "Trading report", .text = "body\n", .id = "evt-7" };
	struct mail_message other = { .subject = "Trading report", .text = "body\n", .id = "evt.7" };
	struct mailer *mailer = NULL;
	char *file = NULL, *moved;

	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	ck_assert_ok(mailer->ops->send(mailer, &m, &ec), &ec);
	ck_assert_ok(mailer->ops->send(mailer, &m, &ec), &ec);
	ck_assert_uint_eq(count_files(newdir, &file), 1);
	/* A reader moved it to cur/ and flagged it seen. */
	moved = xasprintf("%s/%s:2,S", curdir, strrchr(file, '/') + 1);
	ck_assert_int_eq(rename(file, moved), 0);
	ck_assert_ok(mailer->ops->send(mailer, &m, &ec), &ec);
	ck_assert_uint_eq(count_files(newdir, NULL), 0);
	ck_assert_uint_eq(count_files(curdir, NULL), 1);
	/* Another id that reads the same once sanitised is another message. */
	ck_assert_ok(mailer->ops->send(mailer, &other, &ec), &ec);
	ck_assert_uint_eq(count_files(newdir, NULL), 1);
	{
		char *tmpdir = xasprintf("%s/tmp", md);

		ck_assert_uint_eq(count_files(tmpdir, NULL), 0);
		free(tmpdir);
	}
	mailer_free(mailer);
	rm_maildir(md);
	(void) rmdir(dir);
	free(moved);
	free(file);
	free(curdir);
	free(newdir);
	free(md);
	free(dir);
}
END_TEST

/* Partial files of a killed process are removed at start-up; a live one's stay. */
START_TEST(test_maildir_cleans_tmp_of_dead_processes)
{
	struct errctx ec = { 0 };
	char *dir = test_tmpdir(), *md = xasprintf("%s/M", dir), *tmpdir = xasprintf("%s/tmp", md);
	struct maildir_mailer_options o = { .path = md, .from = "bot@example.test", .to = to, .n_to = 1 };
	struct mailer *mailer = NULL;
	char host[128], *dead, *live, *foreign;
	pid_t child;
	FILE *f;

	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	mailer_free(mailer);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(gethostname(host, sizeof host), 0);
	dead = xasprintf("%s/1767323045.M000001P%ldQ1.%s", tmpdir, (long)child, host);
	live = xasprintf("%s/1767323045.M000002P%ldQ1.%s", tmpdir, (long)getppid(), host);
	foreign = xasprintf("%s/1767323045.M000003P%ldQ1.otherhost", tmpdir, (long)child);
	ck_assert_ptr_nonnull(f = fopen(dead, "w"));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(live, "w"));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(foreign, "w"));
	fclose(f);
	ck_assert_ok(maildir_mailer_new(&o, &mailer, &ec), &ec);
	ck_assert_int_ne(access(dead, F_OK), 0);
	ck_assert_int_eq(access(live, F_OK), 0);
	ck_assert_int_eq(access(foreign, F_OK), 0);
	mailer_free(mailer);
	rm_maildir(md);
	(void) rmdir(dir);
	free(dead);
	free(live);
	free(foreign);
	free(tmpdir);
	free(md);
	free(dir);
}
END_TEST

static Suite *
suite_maildir(void)
{
	Suite *s = suite_create("maildir");
	TCase *tc;

	tc = tcase_create("deliver");
	tcase_add_test(tc, test_maildir_delivers_into_new);
	tcase_add_test(tc, test_maildir_concurrent_names_are_unique);
	tcase_add_test(tc, test_maildir_same_id_delivered_once);
	tcase_add_test(tc, test_maildir_cleans_tmp_of_dead_processes);
	suite_add_tcase(s, tc);
	tc = tcase_create("refuse");
	tcase_add_test(tc, test_maildir_refuses_bad_message_and_writes_nothing);
	tcase_add_test(tc, test_maildir_refuses_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_maildir)
