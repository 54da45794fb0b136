/*
 * fixture: start, drive and stop the Alpaca fixture server
 * (tests/data/trading/alpaca_fixture.js) from a check test. The server listens
 * on 127.0.0.1 with a port it picks and reports; we stop it by its PID.
 * Thread:  test main thread. Memory: returned JSON is the caller's.
 */
#ifndef ALCHEMISER_TESTS_TRADING_FIXTURE_H
#define ALCHEMISER_TESTS_TRADING_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct fixture {
	pid_t	pid;
	int	port;
	char	url[64];	/* "http://127.0.0.1:<port>" */
};

/* false when node is not available (the caller skips). */
bool	fixture_start(struct fixture *f);
void	fixture_stop(struct fixture *f);
/* POST a control request (/__state, /__script, /__reset) with a JSON body. */
void	fixture_post(const struct fixture *f, const char *path, const char *json);
/* Every API request recorded so far (array). */
json_t	*fixture_requests(const struct fixture *f);
/* How many recorded requests have this method and path. */
int	fixture_count(const struct fixture *f, const char *method, const char *path);

#endif
