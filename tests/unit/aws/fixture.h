/*
 * fixture: test-owned helper processes for the aws tests. A scripted HTTP
 * server (tests/data/aws/fixture_server.py) on 127.0.0.1 with a port the test
 * picks, started with fork/exec and stopped by its PID.
 * Thread:  test main thread. Memory: fixture_free() stops and frees.
 */
#ifndef ALCHEMISER_TESTS_AWS_FIXTURE_H
#define ALCHEMISER_TESTS_AWS_FIXTURE_H

#include <sys/types.h>
#include <jansson.h>

struct fixture {
	pid_t	 pid;
	int	 port;
	char	*dir;		/* temp dir holding routes and the request log */
	char	*url;		/* "http://127.0.0.1:PORT" */
	char	*ca_file;	/* TLS fixtures: the self-signed certificate */
};

/* A free loopback port (bound and released; the caller uses it at once). */
int	fixture_pick_port(void);
/* Block until something listens on 127.0.0.1:port or pid died; 0 or -1. */
int	fixture_wait_listen(int port, pid_t pid, int timeout_ms);
/* Start the scripted server with routes (JSON text, see the script). Aborts
 * the test if it does not start: tests fail, never skip. */
struct fixture *fixture_start(const char *routes_json);
/* The same over HTTPS with a fresh self-signed certificate for 127.0.0.1
 * (f->url is https://..., f->ca_file the certificate to trust). */
struct fixture *fixture_start_tls(const char *routes_json);
/* Requests seen so far, as a JSON array of {method, path, headers, body}. */
json_t	*fixture_requests(const struct fixture *f);
void	fixture_free(struct fixture *f);

#endif
