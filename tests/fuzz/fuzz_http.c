/* Fuzz target: the dashboard's request path. The input is a request target
 * as a client sends it: checked and split (httpd_target_parse), then, when
 * accepted, rendered by the dashboard with no backend data (every page must
 * answer and escape what it echoes). The same bytes also go through the
 * listen-address parser and the bearer-token check. */
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/runtime/dashboard.h"
#include "alchemiser/runtime/httpd.h"
#include "fuzz.h"

int
fuzz_http_one(const uint8_t *data, size_t size)
{
	static struct secret *token;
	struct metrics_summary summary = { .received = 1 };
	struct dashboard_ctx c = {
		.backend = "aws", .state = "running", .mode = "paper", .summary = &summary,
		.now_usec = 1,
	};
	struct httpd_reply reply = { 0 };
	char text[HTTPD_PATH_MAX * 2], path[HTTPD_PATH_MAX], query[HTTPD_PATH_MAX], host[64];
	struct errctx ec = { 0 };
	unsigned port;
	bool loopback;
	size_t i;

	if (token == NULL)
		token = secret_new("fuzz-token", 10);
	if (size >= sizeof text)
		size = sizeof text - 1;
	memcpy(text, data, size);
	text[size] = '\0';

	if (httpd_listen_parse(text, host, sizeof host, &port, &loopback, &ec) == 0)
		FUZZ_CHECK(port >= 1 && port <= 65535 && host[0] != '\0');
	(void)httpd_authorized(text, token);
	FUZZ_CHECK(httpd_authorized("Bearer fuzz-token", token));

	if (httpd_target_parse(text, path, query) < 0)
		return 0;
	/* What passed is a plain path: no way to break out of an attribute. */
	FUZZ_CHECK(path[0] == '/' && strstr(path, "..") == NULL);
	for (i = 0; path[i] != '\0'; i++)
		FUZZ_CHECK(strchr("<>\"'&%\\ ", path[i]) == NULL);
	dashboard_page(&c, path, &reply);
	FUZZ_CHECK(reply.status == 200 || reply.status == 404);
	FUZZ_CHECK(reply.body != NULL && reply.body_len == strlen(reply.body));
	FUZZ_CHECK(strstr(reply.body, "<script") == NULL);
	free(reply.body);
	return 0;
}

FUZZ_ENTRY(fuzz_http_one)
