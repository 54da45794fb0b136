/*
 * replay: feeds the committed seed corpus and every regression input of every
 * fuzz target through the same entry point the libFuzzer binary uses
 * (tests/fuzz/fuzz.h), in any build: no clang needed. Under
 * --enable-sanitizers this runs the whole corpus under ASan and UBSan.
 *
 *   replay                       every file of tests/fuzz/corpus/<target>/ and
 *                                tests/fuzz/regressions/<target>/ of each target
 *   replay TARGET PATH...        the given files or folders through TARGET
 *
 * The source tree is $top_srcdir (make check exports it), else the one this
 * program was built from. Each file is named on stderr before it runs, so the
 * test log says which input crashed. Exit 0 when every input ran; a crash is
 * a crash (or a sanitizer report).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_TOP_SRCDIR
#define FUZZ_TOP_SRCDIR "."
#endif

/* A target's child found unreadable or missing inputs (but nothing crashed). */
#define REPLAY_CHILD_FAILED 3

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
};

static const struct target targets[] = {
	{ "router", fuzz_router_one },
	{ "event", fuzz_event_one },
	{ "dsl", fuzz_dsl_one },
	{ "config", fuzz_config_one },
	{ "sigv4", fuzz_sigv4_one },
	{ "http", fuzz_http_one },
};

static int
run_file(const struct target *t, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;

	f = fopen(path, "rbe");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			buf = realloc(buf, cap);
			FUZZ_CHECK(buf != NULL);
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	fprintf(stderr, "replay %s: %s (%zu bytes)\n", t->name, path, len);
	/* An exact-size copy, so ASan sees reads past the end of the input. */
	{
		uint8_t *exact = malloc(len > 0 ? len : 1);

		FUZZ_CHECK(exact != NULL);
		memcpy(exact, buf, len);
		t->one(exact, len);
		free(exact);
	}
	free(buf);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order. Returns the count, or -1 when
 * dir is missing and must_exist. */
static int
run_dir(const struct target *t, const char *dir, bool must_exist, int *failed)
{
	char **names = NULL, path[4096];
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int count = 0;

	d = opendir(dir);
	if (d == NULL) {
		if (must_exist || errno != ENOENT) {
			fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
			(*failed)++;
			return -1;
		}
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		FUZZ_CHECK(names != NULL);
		names[n] = strdup(de->d_name);
		FUZZ_CHECK(names[n] != NULL);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(t, path) < 0)
				(*failed)++;
			else
				count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

static const struct target *
find_target(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof targets / sizeof targets[0]; i++)
		if (strcmp(targets[i].name, name) == 0)
			return &targets[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char dir[4096];
	int failed = 0, i, nc, nr;
	struct stat st;
	size_t k;

	if (top == NULL || *top == '\0')
		top = FUZZ_TOP_SRCDIR;
	if (argc >= 2) {
		const struct target *t = find_target(argv[1]);

		if (t == NULL || argc < 3) {
			fprintf(stderr, "usage: %s [router|event|dsl|config|sigv4|http PATH...]\n", argv[0]);
			return 2;
		}
		for (i = 2; i < argc; i++) {
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				(void)run_dir(t, argv[i], true, &failed);
			else if (run_file(t, argv[i]) < 0)
				failed++;
		}
		return failed > 0 ? 1 : 0;
	}
	/* One child per target, so one crashing input does not hide the others
	 * and the log names every failing target. */
	for (k = 0; k < sizeof targets / sizeof targets[0]; k++) {
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		FUZZ_CHECK(pid >= 0);
		if (pid == 0) {
			int child_failed = 0;

			(void)snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", top, targets[k].name);
			nc = run_dir(&targets[k], dir, true, &child_failed);
			(void)snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", top,
			    targets[k].name);
			nr = run_dir(&targets[k], dir, false, &child_failed);
			if (nc == 0) {
				fprintf(stderr, "replay: %s: empty corpus\n", targets[k].name);
				child_failed++;
			}
			printf("%-7s %s: %d corpus inputs, %d regression inputs\n", targets[k].name,
			    child_failed > 0 ? "FAIL" : "ok", nc < 0 ? 0 : nc, nr < 0 ? 0 : nr);
			fflush(NULL);
			exit(child_failed > 0 ? REPLAY_CHILD_FAILED : 0);
		}
		FUZZ_CHECK(waitpid(pid, &status, 0) == pid);
		if (WIFSIGNALED(status)) {
			printf("%-7s CRASH: signal %d on the input named last above\n", targets[k].name,
			    WTERMSIG(status));
			failed++;
		} else if (WEXITSTATUS(status) != 0) {
			/* Anything else is a sanitizer's exit code (ASan: 1). */
			if (WEXITSTATUS(status) != REPLAY_CHILD_FAILED)
				printf("%-7s CRASH: exit status %d on the input named last above\n",
				    targets[k].name, WEXITSTATUS(status));
			failed++;
		}
	}
	return failed > 0 ? 1 : 0;
}
