/*
 * httpd: the optional read-only HTTP listener (libevent evhttp) for
 * /metrics and the dashboard. Security is here, pages elsewhere:
 *   - binds to a numeric address; anything but loopback needs a bearer token;
 *   - GET and HEAD only; header and body size limits; 10 s timeouts;
 *   - at most max_connections connections served, others get 503;
 *   - the request target must be a plain path ([A-Za-z0-9/_.-], no "..",
 *     at most HTTPD_PATH_MAX bytes) with an optional query of the same
 *     characters plus = and &; anything else is 400;
 *   - every answer: Content-Security-Policy default-src 'none' (plus inline
 *     styles and images the pages use), X-Content-Type-Options nosniff,
 *     Cache-Control no-store, Referrer-Policy no-referrer, X-Frame-Options DENY.
 * Thread:  the loop thread of the base given to httpd_new(); the page callback
 *          runs there and must not block.
 * Memory:  httpd_new() copies the options (the token is duplicated); free with
 *          httpd_free(). A page's body is owned by the reply (freed by httpd).
 */
#ifndef ALCHEMISER_RUNTIME_HTTPD_H
#define ALCHEMISER_RUNTIME_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

struct errctx;
struct event_base;
struct secret;
struct httpd;

#define HTTPD_PATH_MAX 256

struct httpd_reply {
	int		 status;		/* 200, 404, ... */
	const char	*content_type;		/* static string */
	char		*body;			/* owned, may be NULL */
	size_t		 body_len;
	/* httpd's own: the request, and whether the page answers it later. */
	void		*req_;
	bool		 deferred_;
};

/* A request a page answers later (a page rendered off the loop thread). */
struct httpd_pending;

/* path and query (query "" when absent) have passed httpd_target_parse. */
typedef void (*httpd_page_cb)(const char *path, const char *query, struct httpd_reply *reply,
    void *arg);

struct httpd_options {
	const char		*listen;		/* "127.0.0.1:9187", "[::1]:9187" */
	const struct secret	*token;			/* NULL = none */
	unsigned		 max_connections;	/* 0 = 16 */
	httpd_page_cb		 page_cb;
	void			*page_arg;
};

/* In a page callback, instead of filling reply: answer later with
 * httpd_pending_reply() on the loop thread (the handle is freed by it), or
 * give up with httpd_pending_drop() (before httpd_free; the client gets no
 * answer). A client that closed its connection meanwhile is handled by
 * libevent: the late answer is discarded. */
struct httpd_pending *httpd_defer(struct httpd_reply *reply);
void	httpd_pending_reply(struct httpd_pending *p, struct httpd_reply *r);
void	httpd_pending_drop(struct httpd_pending *p);

int	httpd_new(struct event_base *base, const struct httpd_options *o, struct httpd **ret,
	    struct errctx *ec);
void	httpd_free(struct httpd *h);

/* Pure parts, public for tests and the fuzzer. */
/* Split "ADDRESS:PORT" (IPv6 in brackets); -EINVAL with the reason. host gets
 * the numeric address, *loopback whether it is 127.0.0.0/8 or ::1. */
int	httpd_listen_parse(const char *listen, char *host, size_t host_size, unsigned *port,
	    bool *loopback, struct errctx *ec);
/* Check a request target and split it into path and query (buffers of
 * HTTPD_PATH_MAX bytes); -EINVAL if it is not allowed. */
int	httpd_target_parse(const char *target, char *path, char *query);
/* "Bearer TOKEN" against the token, in constant time for equal lengths. */
bool	httpd_authorized(const char *authorization, const struct secret *token);

#endif
