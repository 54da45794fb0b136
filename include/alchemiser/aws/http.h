/*
 * http: libcurl for the aws layer, two ways.
 *   http_easy   blocking, one handle per worker thread, reused so the
 *               connection stays alive between calls (bus, idem_store, and
 *               the credential providers).
 *   http_multi  curl multi driven by a libevent event_base
 *               (curl_multi_socket_action + socket events + one timer): the
 *               SQS long poll and batches on the loop thread, which never
 *               blocks. Every started transfer completes exactly once with
 *               its callback, on the loop thread, never from inside
 *               http_multi_start().
 * TLS peer and host verification are always on; only the CA file/path can be
 * chosen. Proxies follow libcurl's environment rules except for transfers with
 * no_proxy (instance metadata and container endpoints).
 * Thread:  an http_easy belongs to one thread at a time; an http_multi to the
 *          thread running its event_base.
 * Memory:  requests are copied by http_multi_start (the caller's may go away);
 *          a response belongs to whoever receives it (http_response_free).
 */
#ifndef ALCHEMISER_AWS_HTTP_H
#define ALCHEMISER_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct event_base;

#define HTTP_MAX_BODY (16 * 1024 * 1024)	/* ten 1 MiB SQS messages plus JSON */

struct http_options {
	int64_t		 connect_timeout_usec;	/* 0 = 3 s */
	int64_t		 timeout_usec;		/* whole exchange; 0 = 10 s */
	const char	*ca_file;		/* NULL = the system store */
	const char	*ca_path;
	const char	*user_agent;		/* NULL = "alchemiserd" */
};

struct http_request {
	const char		*method;	/* "GET", "POST", "PUT" */
	const char		*url;
	const char *const	*headers;	/* "Name: value" lines */
	size_t			 n_headers;
	const void		*body;
	size_t			 body_len;
	int64_t			 timeout_usec;	/* 0 = the options' timeout */
	bool			 no_proxy;
};

struct http_response {
	long	 status;		/* HTTP status, 0 if none arrived */
	char	*body;			/* NUL-terminated, may be "" */
	size_t	 body_len;
	char	**headers;		/* "Name: value" without CRLF, last response only */
	size_t	 n_headers;
};

/* Value of the first header called name (case-insensitive), or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);
void	http_response_free(struct http_response *r);	/* contents; NULL-safe */

/* Blocking. Returns 0 when a response arrived (whatever its status) with *resp
 * filled; a negative errno when none did: -ETIMEDOUT, -ECONNRESET (refused,
 * reset, nothing received), -EACCES (TLS peer verification), -E2BIG (body over
 * HTTP_MAX_BODY), -EIO otherwise. */
struct http_easy *http_easy_new(const struct http_options *o);
int	http_easy_perform(struct http_easy *h, const struct http_request *req,
	    struct http_response *resp, struct errctx *ec);
void	http_easy_free(struct http_easy *h);

/* Completion: r as for http_easy_perform, or -ECANCELED. resp is valid only
 * during the call (NULL when r < 0); the callback may steal resp->body by
 * setting it to NULL. */
typedef void (*http_done_cb)(struct http_response *resp, int r, const struct errctx *ec, void *arg);

struct http_multi;
struct http_xfer;

struct http_multi *http_multi_new(struct event_base *base, const struct http_options *o);
/* Start a transfer; *ret (may be NULL) names it for http_multi_cancel until
 * its callback runs. On a negative return no callback will run. */
int	http_multi_start(struct http_multi *m, const struct http_request *req, http_done_cb cb,
	    void *arg, struct http_xfer **ret, struct errctx *ec);
/* Abort: the callback still runs once, later, from the loop, with -ECANCELED. */
void	http_multi_cancel(struct http_multi *m, struct http_xfer *x);
/* Drop a running transfer without its callback (the owner is going away). */
void	http_multi_discard(struct http_multi *m, struct http_xfer *x);
/* Transfers still running: their callbacks run now with -ECANCELED. */
void	http_multi_free(struct http_multi *m);
size_t	http_multi_running(const struct http_multi *m);

/* libcurl's one-time global setup; called by the constructors (idempotent). */
void	http_global_init(void);

#endif
