/* curl multi on a libevent loop: libcurl tells us which sockets to watch
 * (socket callback) and when to wake it (timer callback); we call
 * curl_multi_socket_action from libevent callbacks only, so completions
 * always run from the loop, never inside http_multi_start(). */
#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "http_internal.h"

struct http_xfer {
	struct http_multi	*m;
	CURL			*curl;
	struct http_capture	 cap;
	char			*url;
	void			*body;		/* our copy of the request body */
	http_done_cb		 cb;
	void			*arg;
	struct event		*deferred;	/* cancel: completes from the loop */
	struct http_xfer	*prev, *next;
};

struct http_multi {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct http_options	 o;
	char			*ca_file;
	char			*ca_path;
	char			*user_agent;
	struct http_xfer	*xfers;		/* running (attached to the multi) */
	struct http_xfer	*cancelled;	/* detached, callback pending */
	size_t			 n_running;
	bool			 in_action;
};

struct sock_ctx {
	struct event	*ev;
	curl_socket_t	 fd;
};

static void check_done(struct http_multi *m);

static void
xfer_link(struct http_xfer **head, struct http_xfer *x)
{
	x->prev = NULL;
	x->next = *head;
	if (*head != NULL)
		(*head)->prev = x;
	*head = x;
}

static void
xfer_unlink(struct http_xfer **head, struct http_xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else if (*head == x)
		*head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

static void
xfer_destroy(struct http_xfer *x)
{
	if (x->deferred != NULL)
		event_free(x->deferred);
	http_capture_free(&x->cap);
	curl_easy_cleanup(x->curl);
	free(x->url);
	free(x->body);
	free(x);
}

static void
xfer_finish(struct http_xfer *x, CURLcode code)
{
	struct http_response resp;
	struct errctx ec;

	errctx_clear(&ec);
	if (code == CURLE_OK) {
		http_capture_take(x->curl, &x->cap, &resp);
		x->cb(&resp, 0, &ec, x->arg);
		http_response_free(&resp);
	} else {
		int r = http_curl_error(code, &x->cap, x->url, &ec);

		x->cb(NULL, r, &ec, x->arg);
	}
	xfer_destroy(x);
}

static void
action(struct http_multi *m, curl_socket_t fd, int flags)
{
	int running = 0;

	m->in_action = true;
	curl_multi_socket_action(m->multi, fd, flags, &running);
	m->in_action = false;
	check_done(m);
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_multi *m = arg;
	int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	action(m, fd, flags);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int
socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_multi *m = userp;
	struct sock_ctx *sc = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (sc != NULL) {
			event_free(sc->ev);
			free(sc);
			curl_multi_assign(m->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) |
	    EV_PERSIST);
	if (sc == NULL) {
		sc = xcalloc(1, sizeof *sc);
		sc->fd = s;
		curl_multi_assign(m->multi, s, sc);
	} else {
		event_del(sc->ev);
		event_free(sc->ev);
	}
	sc->ev = event_new(m->base, s, kind, event_cb, m);
	if (sc->ev == NULL)
		abort();
	event_add(sc->ev, NULL);
	return 0;
}

static int
timerfunc_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_multi *m = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(m->timer);
		return 0;
	}
	/* Even a 0 ms timeout goes through the loop: that keeps completions
	 * out of the call that added the handle. */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(m->timer, &tv);
	return 0;
}

static void
check_done(struct http_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct http_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode code = msg->data.result;

		curl_multi_remove_handle(m->multi, x->curl);
		xfer_unlink(&m->xfers, x);
		m->n_running--;
		/* msg is invalid after remove_handle; code was copied above. */
		xfer_finish(x, code);
	}
}

struct http_multi *
http_multi_new(struct event_base *base, const struct http_options *o)
{
	struct http_multi *m = xcalloc(1, sizeof *m);

	http_global_init();
	m->base = base;
	m->multi = curl_multi_init();
	m->timer = evtimer_new(base, timer_cb, m);
	if (m->multi == NULL || m->timer == NULL)
		abort();
	m->o = *o;
	m->o.ca_file = m->ca_file = xstrdup_or_null(o->ca_file);
	m->o.ca_path = m->ca_path = xstrdup_or_null(o->ca_path);
	m->o.user_agent = m->user_agent = xstrdup_or_null(o->user_agent);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timerfunc_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	return m;
}

int
http_multi_start(struct http_multi *m, const struct http_request *req, http_done_cb cb,
    void *arg, struct http_xfer **ret, struct errctx *ec)
{
	struct http_xfer *x = xcalloc(1, sizeof *x);
	struct http_request copy = *req;
	CURLMcode mc;
	int r;

	x->m = m;
	x->cb = cb;
	x->arg = arg;
	x->url = xstrdup(req->url);
	x->curl = curl_easy_init();
	if (x->curl == NULL)
		abort();
	/* libcurl copies URL and header strings but not POSTFIELDS. */
	if (req->body_len > 0) {
		x->body = xmalloc(req->body_len);
		memcpy(x->body, req->body, req->body_len);
	}
	copy.body = x->body;
	r = http_setup(x->curl, &m->o, &copy, &x->cap, ec);
	if (r < 0) {
		xfer_destroy(x);
		return r;
	}
	curl_easy_setopt(x->curl, CURLOPT_PRIVATE, x);
	mc = curl_multi_add_handle(m->multi, x->curl);
	if (mc != CURLM_OK) {
		xfer_destroy(x);
		return errctx_set(ec, -EIO, "http: curl_multi_add_handle: %s", curl_multi_strerror(mc));
	}
	xfer_link(&m->xfers, x);
	m->n_running++;
	if (ret != NULL)
		*ret = x;
	return 0;
}

static void
deferred_cancel_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_xfer *x = arg;
	struct errctx ec;

	xfer_unlink(&x->m->cancelled, x);
	errctx_set(&ec, -ECANCELED, "http: transfer cancelled");
	x->cb(NULL, -ECANCELED, &ec, x->arg);
	xfer_destroy(x);
}

void
http_multi_cancel(struct http_multi *m, struct http_xfer *x)
{
	struct timeval zero = { 0, 0 };

	if (x == NULL || x->deferred != NULL)
		return;
	curl_multi_remove_handle(m->multi, x->curl);
	xfer_unlink(&m->xfers, x);
	xfer_link(&m->cancelled, x);
	m->n_running--;
	x->deferred = evtimer_new(m->base, deferred_cancel_cb, x);
	if (x->deferred == NULL)
		abort();
	evtimer_add(x->deferred, &zero);
}

void
http_multi_discard(struct http_multi *m, struct http_xfer *x)
{
	if (x == NULL)
		return;
	if (x->deferred != NULL) {
		xfer_unlink(&m->cancelled, x);
	} else {
		curl_multi_remove_handle(m->multi, x->curl);
		xfer_unlink(&m->xfers, x);
		m->n_running--;
	}
	xfer_destroy(x);
}

size_t
http_multi_running(const struct http_multi *m)
{
	return m->n_running;
}

void
http_multi_free(struct http_multi *m)
{
	struct errctx ec;

	if (m == NULL)
		return;
	errctx_set(&ec, -ECANCELED, "http: shutting down");
	while (m->xfers != NULL) {
		struct http_xfer *x = m->xfers;

		curl_multi_remove_handle(m->multi, x->curl);
		xfer_unlink(&m->xfers, x);
		m->n_running--;
		x->cb(NULL, -ECANCELED, &ec, x->arg);
		xfer_destroy(x);
	}
	while (m->cancelled != NULL) {
		struct http_xfer *x = m->cancelled;

		xfer_unlink(&m->cancelled, x);
		x->cb(NULL, -ECANCELED, &ec, x->arg);
		xfer_destroy(x);
	}
	curl_multi_cleanup(m->multi);
	event_free(m->timer);
	free(m->ca_file);
	free(m->ca_path);
	free(m->user_agent);
	free(m);
}
