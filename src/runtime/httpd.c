/*
 * httpd: evhttp with the limits and headers of httpd.h. The connection limit
 * is kept by hand (libevent 2.1 has no evhttp_set_max_connections): each
 * connection is counted at its first request and uncounted by its close
 * callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/runtime/httpd.h"

#define HTTPD_DEFAULT_CONNECTIONS	16
#define HTTPD_MAX_HEADERS		8192
#define HTTPD_MAX_BODY			1024
#define HTTPD_TIMEOUT_SEC		10

/* Inline styles and data: images only; no script, no font, no frame. */
#define HTTPD_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct httpd {
	struct evhttp			*http;
	struct secret			*token;
	unsigned			 max_connections;
	struct evhttp_connection	**conns;	/* counted connections */
	unsigned			 n_conns;
	httpd_page_cb			 page_cb;
	void				*page_arg;
};

int
httpd_listen_parse(const char *listen, char *host, size_t host_size, unsigned *port,
    bool *loopback, struct errctx *ec)
{
	const char *colon, *h = listen;
	size_t hlen;
	unsigned char addr[16];
	char *end;
	unsigned long p;

	if (listen == NULL || *listen == '\0')
		return errctx_set(ec, -EINVAL, "http.listen: empty");
	if (*listen == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			return errctx_set(ec, -EINVAL, "http.listen '%s': want [IPv6]:PORT", listen);
		h = listen + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return errctx_set(ec, -EINVAL, "http.listen '%s': want ADDRESS:PORT", listen);
		hlen = (size_t)(colon - listen);
	}
	if (hlen == 0 || hlen >= host_size)
		return errctx_set(ec, -EINVAL, "http.listen '%s': no address", listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
		return errctx_set(ec, -EINVAL, "http.listen '%s': port must be 1..65535", listen);
	*port = (unsigned)p;
	if (inet_pton(AF_INET, host, addr) == 1)
		*loopback = addr[0] == 127;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		*loopback = memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	else
		return errctx_set(ec, -EINVAL, "http.listen '%s': the address must be numeric "
		    "(127.0.0.1, ::1, 0.0.0.0 ...)", listen);
	return 0;
}

static bool
path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '/' || c == '_' || c == '-' || c == '.';
}

int
httpd_target_parse(const char *target, char *path, char *query)
{
	const char *q;
	size_t plen, i;

	if (target == NULL || target[0] != '/' || strlen(target) >= HTTPD_PATH_MAX)
		return -EINVAL;
	q = strchr(target, '?');
	plen = q != NULL ? (size_t)(q - target) : strlen(target);
	for (i = 0; i < plen; i++)
		if (!path_char(target[i]))
			return -EINVAL;
	memcpy(path, target, plen);
	path[plen] = '\0';
	if (strstr(path, "..") != NULL || strstr(path, "//") != NULL)
		return -EINVAL;
	query[0] = '\0';
	if (q != NULL) {
		for (i = 1; q[i] != '\0'; i++)
			if (!path_char(q[i]) && q[i] != '=' && q[i] != '&')
				return -EINVAL;
		memcpy(query, q + 1, i);	/* i - 1 characters and the NUL */
	}
	return 0;
}

bool
httpd_authorized(const char *authorization, const struct secret *token)
{
	const char *given, *want;
	size_t n, i;
	unsigned char diff = 0;

	if (token == NULL)
		return true;
	if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0)
		return false;
	given = authorization + 7;
	want = secret_reveal(token);
	n = secret_len(token);
	if (strlen(given) != n)
		return false;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(given[i] ^ want[i]);
	return diff == 0;
}

static void
conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct httpd *h = arg;
	unsigned i;

	for (i = 0; i < h->n_conns; i++)
		if (h->conns[i] == evcon) {
			h->conns[i] = h->conns[--h->n_conns];
			return;
		}
}

/* Count the request's connection; false when the limit is reached. */
static bool
conn_admit(struct httpd *h, struct evhttp_connection *evcon)
{
	unsigned i;

	for (i = 0; i < h->n_conns; i++)
		if (h->conns[i] == evcon)
			return true;
	if (h->n_conns >= h->max_connections)
		return false;
	h->conns[h->n_conns++] = evcon;
	evhttp_connection_set_closecb(evcon, conn_close_cb, h);
	return true;
}

static void
send_reply(struct evhttp_request *req, struct httpd_reply *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	static const char *const reasons[][2] = {
		{ "200", "OK" }, { "400", "Bad Request" }, { "401", "Unauthorized" },
		{ "404", "Not Found" }, { "500", "Internal Server Error" },
		{ "503", "Service Unavailable" },
	};
	const char *reason = "Error";
	char code[8];
	size_t i;

	evhttp_add_header(out, "Content-Type", r->content_type != NULL ? r->content_type :
	    "text/plain; charset=utf-8");
	evhttp_add_header(out, "Content-Security-Policy", HTTPD_CSP);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	(void)snprintf(code, sizeof code, "%d", r->status);
	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reasons[i][0], code) == 0)
			reason = reasons[i][1];
	if (buf != NULL && r->body != NULL)
		evbuffer_add(buf, r->body, r->body_len);
	evhttp_send_reply(req, r->status, reason, buf);
	if (buf != NULL)
		evbuffer_free(buf);
	free(r->body);
	r->body = NULL;
}

static void
reply_text(struct evhttp_request *req, int status, const char *text)
{
	struct httpd_reply r = { .status = status, .body = xstrdup(text), .body_len = strlen(text) };

	send_reply(req, &r);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct httpd *h = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct httpd_reply r = { .status = 500 };
	char path[HTTPD_PATH_MAX], query[HTTPD_PATH_MAX];

	if (!conn_admit(h, evhttp_request_get_connection(req))) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		reply_text(req, 503, "too many connections\n");
		return;
	}
	if (!httpd_authorized(evhttp_find_header(in, "Authorization"), h->token)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"alchemiserd\"");
		reply_text(req, 401, "a bearer token is required\n");
		return;
	}
	if (httpd_target_parse(evhttp_request_get_uri(req), path, query) < 0) {
		reply_text(req, 400, "bad request target\n");
		return;
	}
	r.req_ = req;
	h->page_cb(path, query, &r, h->page_arg);
	if (!r.deferred_)
		send_reply(req, &r);
}

struct httpd_pending {
	struct evhttp_request	*req;
};

struct httpd_pending *
httpd_defer(struct httpd_reply *reply)
{
	struct httpd_pending *p = xcalloc(1, sizeof *p);

	p->req = reply->req_;
	reply->deferred_ = true;
	return p;
}

void
httpd_pending_reply(struct httpd_pending *p, struct httpd_reply *r)
{
	send_reply(p->req, r);
	free(p);
}

void
httpd_pending_drop(struct httpd_pending *p)
{
	free(p);
}

int
httpd_new(struct event_base *base, const struct httpd_options *o, struct httpd **ret,
    struct errctx *ec)
{
	struct httpd *h;
	char host[64];
	unsigned port;
	bool loopback;
	int r;

	r = httpd_listen_parse(o->listen, host, sizeof host, &port, &loopback, ec);
	if (r < 0)
		return r;
	if (!loopback && o->token == NULL)
		return errctx_set(ec, -EINVAL, "http.listen %s is not a loopback address: set "
		    "http.token (a bearer token from a credential)", o->listen);
	h = xcalloc(1, sizeof *h);
	h->token = o->token != NULL ? secret_dup(o->token) : NULL;
	h->max_connections = o->max_connections > 0 ? o->max_connections : HTTPD_DEFAULT_CONNECTIONS;
	h->conns = xcalloc(h->max_connections, sizeof *h->conns);
	h->page_cb = o->page_cb;
	h->page_arg = o->page_arg;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		httpd_free(h);
		return errctx_set(ec, -ENOMEM, "evhttp_new failed");
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->http, HTTPD_MAX_HEADERS);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY);
	evhttp_set_timeout(h->http, HTTPD_TIMEOUT_SEC);
	evhttp_set_gencb(h->http, request_cb, h);
	if (evhttp_bind_socket(h->http, host, (uint16_t)port) < 0) {
		r = errno != 0 ? -errno : -EADDRINUSE;
		httpd_free(h);
		return errctx_set(ec, r, "http.listen %s: cannot listen: %s", o->listen, strerror(-r));
	}
	*ret = h;
	return 0;
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	secret_free(h->token);
	free(h->conns);
	free(h);
}
