/* fixture: the Alpaca fixture server as a child process (see fixture.h). */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alchemiser/core/xalloc.h"
#include "fixture.h"

/* The pinned SDK the fixture loads (tests/alpaca/sdk-dir.sh installs it when
 * missing): its folder goes to the fixture in ALPACA_SDK_DIR. */
static void
find_sdk(void)
{
	const char *top = getenv("top_srcdir");
	char *cmd, dir[1024] = "";
	FILE *p;

	if (getenv("ALPACA_SDK_DIR") != NULL)
		return;
	cmd = xasprintf("top_srcdir='%s' top_builddir='%s' sh '%s/tests/alpaca/sdk-dir.sh'",
	    top != NULL ? top : ".", getenv("top_builddir") != NULL ? getenv("top_builddir") : ".",
	    top != NULL ? top : ".");
	p = popen(cmd, "r");
	free(cmd);
	ck_assert_msg(p != NULL, "cannot run tests/alpaca/sdk-dir.sh");
	if (fgets(dir, sizeof dir, p) == NULL)
		dir[0] = '\0';
	ck_assert_msg(pclose(p) == 0 && dir[0] != '\0',
	    "the Alpaca SDK is not installed and npm ci failed (tests/alpaca)");
	dir[strcspn(dir, "\n")] = '\0';
	setenv("ALPACA_SDK_DIR", dir, 1);
}

bool
fixture_start(struct fixture *f)
{
	const char *node = getenv("NODE"), *top = getenv("top_srcdir");
	char *script, line[128] = "";
	int fds[2];
	size_t len = 0;
	struct pollfd pfd;

	if (node == NULL || *node == '\0')
		node = "node";
	find_sdk();
	script = xasprintf("%s/tests/data/trading/alpaca_fixture.js", top != NULL ? top : ".");
	ck_assert_int_eq(pipe(fds), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp(node, node, script, "--port", "0", (char *)NULL);
		_exit(127);
	}
	free(script);
	close(fds[1]);
	/* Wait (bounded) for "LISTENING <port>". */
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (len < sizeof line - 1 && strchr(line, '\n') == NULL) {
		ssize_t n;

		if (poll(&pfd, 1, 15000) <= 0)
			break;
		n = read(fds[0], line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(fds[0]);
	if (sscanf(line, "LISTENING %d", &f->port) != 1) {
		fixture_stop(f);
		return false;
	}
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
	return true;
}

void
fixture_stop(struct fixture *f)
{
	int status;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	f->pid = 0;
}

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf != NULL ? strlen(*buf) : 0;

	*buf = xreallocarray(*buf, old + size * n + 1, 1);
	memcpy(*buf + old, p, size * n);
	(*buf)[old + size * n] = '\0';
	return size * n;
}

static char *
call(const struct fixture *f, const char *method, const char *path, const char *body)
{
	char *url = xasprintf("%s%s", f->url, path), *out = NULL;
	CURL *c = curl_easy_init();
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	ck_assert_int_eq(status, 200);
	curl_easy_cleanup(c);
	free(url);
	return out;
}

void
fixture_post(const struct fixture *f, const char *path, const char *json)
{
	free(call(f, "POST", path, json));
}

json_t *
fixture_requests(const struct fixture *f)
{
	char *text = call(f, "GET", "/__requests", NULL);
	json_t *j = json_loads(text, 0, NULL);

	free(text);
	ck_assert(json_is_array(j));
	return j;
}

int
fixture_count(const struct fixture *f, const char *method, const char *path)
{
	json_t *all = fixture_requests(f), *r;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "method")), method) == 0 &&
		    strcmp(json_string_value(json_object_get(r, "path")), path) == 0)
			n++;
	}
	json_decref(all);
	return n;
}
