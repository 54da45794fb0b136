#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alchemiser/core/owner.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

struct decimal
test_dec(const char *s)
{
	struct errctx ec = { 0 };
	struct decimal d;

	ck_assert_ok(decimal_parse(s, &d, &ec), &ec);
	return d;
}

int
test_run_suite(Suite *s)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *
test_shared_path(const char *rel)
{
	const char *dir = getenv("SHARED_DIR");
	const char *ci = getenv("CI");
	char *path;
	struct stat st;

	if (dir == NULL || *dir == '\0')
		dir = "../shared";
	path = xasprintf("%s/testdata/%s", dir, rel);
	if (stat(path, &st) == 0)
		return path;
	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "CI=true but outside test data %s is missing\n", path);
		abort();
	}
	fprintf(stderr, "note: %s absent (plain clone?): outside-data cases not run\n", path);
	free(path);
	return NULL;
}

char *
test_data_path(const char *rel)
{
	const char *top = getenv("top_srcdir");

	return xasprintf("%s/tests/data/%s", top != NULL ? top : ".", rel);
}

char *
test_read_file(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

char *
test_tmpdir(void)
{
	char *t = xstrdup("/tmp/alchemiser-test.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(t));
	return t;
}

static uint64_t rng_state;

void
test_rng_seed(const char *test)
{
	const char *env = getenv("SEED");
	uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();

	fprintf(stderr, "%s: SEED=%" PRIu64 "\n", test, seed);
	rng_state = seed;
}

/* splitmix64: small, seedable, good enough to pick test values. */
uint64_t
test_rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
test_dead_owner(char *out, size_t size)
{
	int fd[2];
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[OWNER_MAX];

		owner_self(buf, sizeof buf);	/* the child computes its own */
		(void)!write(fd[1], buf, strlen(buf));
		_exit(0);
	}
	close(fd[1]);
	n = read(fd[0], out, size - 1);
	ck_assert_int_gt(n, 0);
	out[n] = '\0';
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}
