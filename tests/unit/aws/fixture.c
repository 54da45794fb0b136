#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "alchemiser/core/xalloc.h"
#include "fixture.h"

int
fixture_pick_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int
fixture_wait_listen(int port, pid_t pid, int timeout_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t)port) };
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int st;

		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			close(fd);
			return 0;
		}
		close(fd);
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static struct fixture *start(const char *routes_json, bool tls);

struct fixture *
fixture_start(const char *routes_json)
{
	return start(routes_json, false);
}

struct fixture *
fixture_start_tls(const char *routes_json)
{
	return start(routes_json, true);
}

static struct fixture *
start(const char *routes_json, bool tls)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	const char *py = getenv("PYTHON3");
	const char *top = getenv("top_srcdir");
	char *routes, *log, *script, portbuf[16], *key = NULL;
	FILE *fp;
	int attempt;

	if (py == NULL || *py == '\0')
		py = "python3";
	f->dir = xstrdup("/tmp/alchemiser-awsfix.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	routes = xasprintf("%s/routes.json", f->dir);
	log = xasprintf("%s/requests.jsonl", f->dir);
	script = xasprintf("%s/tests/data/aws/fixture_server.py", top != NULL ? top : ".");
	fp = fopen(routes, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(routes_json, fp);
	fclose(fp);
	fp = fopen(log, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	if (tls) {
		char *cmd;

		f->ca_file = xasprintf("%s/cert.pem", f->dir);
		key = xasprintf("%s/key.pem", f->dir);
		cmd = xasprintf("openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 1 "
		    "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", key, f->ca_file);
		ck_assert_msg(system(cmd) == 0, "openssl could not make a test certificate");
		free(cmd);
	}
	/* A port can be taken between pick and bind: try a few. */
	for (attempt = 0; attempt < 3; attempt++) {
		f->port = fixture_pick_port();
		snprintf(portbuf, sizeof portbuf, "%d", f->port);
		f->pid = fork();
		ck_assert_int_ge(f->pid, 0);
		if (f->pid == 0) {
			if (tls)
				execlp(py, py, script, portbuf, routes, log, f->ca_file, key, (char *)NULL);
			else
				execlp(py, py, script, portbuf, routes, log, (char *)NULL);
			_exit(127);
		}
		if (fixture_wait_listen(f->port, f->pid, 10000) == 0)
			break;
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	ck_assert_msg(f->pid > 0, "fixture server %s did not start", script);
	f->url = xasprintf("%s://127.0.0.1:%d", tls ? "https" : "http", f->port);
	free(key);
	free(routes);
	free(log);
	free(script);
	return f;
}

json_t *
fixture_requests(const struct fixture *f)
{
	char *log = xasprintf("%s/requests.jsonl", f->dir);
	FILE *fp = fopen(log, "r");
	json_t *arr = json_array();
	char *line = NULL;
	size_t cap = 0;

	ck_assert_ptr_nonnull(fp);
	while (getline(&line, &cap, fp) > 0) {
		json_t *v = json_loads(line, 0, NULL);

		if (v != NULL)
			json_array_append_new(arr, v);
	}
	free(line);
	fclose(fp);
	free(log);
	return arr;
}

void
fixture_free(struct fixture *f)
{
	char *cmd;

	if (f == NULL)
		return;
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	cmd = xasprintf("%s/routes.json", f->dir);
	unlink(cmd);
	free(cmd);
	cmd = xasprintf("%s/requests.jsonl", f->dir);
	unlink(cmd);
	free(cmd);
	if (f->ca_file != NULL) {
		unlink(f->ca_file);
		free(f->ca_file);
		cmd = xasprintf("%s/key.pem", f->dir);
		unlink(cmd);
		free(cmd);
	}
	rmdir(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
}
