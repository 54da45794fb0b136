/*
 * sqlite_queue: the transport seam of the embedded backend. Every op runs
 * its SQL from a libevent callback on the loop (never inside the call that
 * started it) and ends with exactly one callback. A receive on an empty
 * queue sleeps until the doorbell rings (inotify on the state file's WAL:
 * any process's write), a publish of this process wakes it, the earliest
 * in-flight or delayed message of the queue becomes visible, or the
 * backstop (poll_interval) passes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "sqlite_internal.h"
#include "sqlite_queue_internal.h"

enum op_kind {
	OP_RECEIVE,
	OP_BATCH,
	_OP_MAX
};

struct op {
	TAILQ_ENTRY(op)		 link;
	struct sqlite_transport	*t;
	struct event		*ev;
	enum op_kind		 kind;
	void			*arg;
	/* receive */
	transport_receive_cb	 rcb;
	unsigned		 max;
	int64_t			 deadline_usec;	/* monotonic */
	int64_t			 visibility_usec;
	bool			 cancelled;
	/* delete / visibility / park */
	transport_batch_cb	 bcb;
	enum queue_apply	 apply;
	char			**receipts;
	int64_t			*timeouts;
	size_t			 n;
	char			*reason;
};

struct sqlite_transport {
	struct transport	 pub;	/* first: the seam pointer is this struct's */
	struct event_base	*base;
	struct sqlite_state	*st;
	struct sqlite_queue_conf conf;
	int64_t			 poll_interval_usec;
	struct op		*receiving;
	TAILQ_HEAD(, op)	 ops;
	struct event		*wake_ev;	/* another thread published: re-check now */
	bool			 recovered;	/* sqlite_queue_recover_dead ran */
	bool			 hold_receives;	/* a receive's transaction waits for its callback */
	/* The doorbell: an inotify watch on the state file's folder, for writes
	 * to its WAL (every commit of every process appends to it). The watch
	 * exists only from the moment a receive is about to sleep until one
	 * returns messages (issue #13: while messages flow, our own WAL writes
	 * would queue an event each); -1 when inotify is unavailable (then the
	 * queue is re-checked every SQLITE_QUEUE_FALLBACK_POLL_USEC). */
	int			 bell_fd;
	int			 bell_wd;	/* the watch, -1 = none now */
	struct event		*bell_ev;
	char			*bell_dir;
	char			*wal_name;	/* "<state file name>-wal" */
	/* The last receive returned messages: the next one goes straight to
	 * the write transaction (the read that spares an idle poll the write
	 * lock would only cost a statement). */
	bool			 flowing;
};

static void	op_run_cb(evutil_socket_t fd, short what, void *arg);

static int64_t
monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct sqlite_transport *
to_sqlite(struct transport *t)
{
	return (struct sqlite_transport *)t;
}

static void
op_schedule(struct op *op, int64_t delay_usec)
{
	struct timeval tv = {
		.tv_sec = (time_t)(delay_usec / 1000000),
		.tv_usec = (suseconds_t)(delay_usec % 1000000),
	};

	/* Why event_active for "now": zero timeouts sit in libevent's min-heap, which
	 * does not keep insertion order, so a visibility release could run before an
	 * earlier heartbeat and be undone by it. The active queue is FIFO. */
	if (delay_usec <= 0)
		event_active(op->ev, EV_TIMEOUT, 0);
	else
		(void)event_add(op->ev, &tv);
}

static struct op *
op_new(struct sqlite_transport *t, enum op_kind kind, void *arg)
{
	struct op *op = xcalloc(1, sizeof *op);

	op->t = t;
	op->kind = kind;
	op->arg = arg;
	op->ev = event_new(t->base, -1, 0, op_run_cb, op);
	if (op->ev == NULL)
		abort();	/* only fails on out of memory */
	TAILQ_INSERT_TAIL(&t->ops, op, link);
	return op;
}

static void
op_free(struct op *op)
{
	size_t i;

	TAILQ_REMOVE(&op->t->ops, op, link);
	event_free(op->ev);
	for (i = 0; i < op->n; i++)
		free(op->receipts[i]);
	free(op->receipts);
	free(op->timeouts);
	free(op->reason);
	free(op);
}

/* Read what the doorbell queued: true when the WAL was written since the
 * last read (or events were lost), so the next look must take the lock. */
static bool
bell_drain(struct sqlite_transport *t)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rung = false;
	ssize_t n;

	/* No watch (messages flow): nothing rings; what it left is read at the next arm. */
	if (t->bell_fd < 0 || t->bell_wd < 0)
		return false;
	while ((n = read(t->bell_fd, buf, sizeof buf)) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
			    (ev->len > 0 && strcmp(ev->name, t->wal_name) == 0))
				rung = true;
			p += sizeof *ev + ev->len;
		}
	}
	return rung;
}

/* Arm the doorbell: true when the watch is new (the caller must look at
 * the queue once more, under the write lock: a commit whose WAL frames
 * were written before the watch existed rang nothing). */
static bool
bell_arm(struct sqlite_transport *t)
{
	if (t->bell_fd < 0 || t->bell_wd >= 0)
		return false;
	t->bell_wd = inotify_add_watch(t->bell_fd, t->bell_dir, IN_MODIFY);
	return t->bell_wd >= 0;
}

/* Messages flow: no watch until a receive is about to sleep again. */
static void
bell_disarm(struct sqlite_transport *t)
{
	if (t->bell_wd < 0)
		return;
	(void)inotify_rm_watch(t->bell_fd, t->bell_wd);
	t->bell_wd = -1;
}

static void
receive_finish(struct op *op, struct queue_message **msgs, size_t n, int r,
    const struct errctx *ec)
{
	struct sqlite_transport *t = op->t;
	transport_receive_cb cb = op->rcb;
	void *arg = op->arg;

	if (t->bell_ev != NULL)
		(void)event_del(t->bell_ev);
	t->flowing = n > 0;
	if (n > 0)
		bell_disarm(t);
	/* Unlink first: the callback may start the next receive. */
	t->receiving = NULL;
	op_free(op);
	cb(msgs, n, r, ec, arg);
	/* The callback did not commit what it was handed: do it now. */
	if (n > 0 && t->hold_receives) {
		struct errctx sub = { 0 };

		(void)sqlite_state_release_hold(t->st, &sub);
	}
}

static void
receive_run(struct op *op)
{
	struct sqlite_transport *t = op->t;
	struct queue_message *msgs[TRANSPORT_MAX_BATCH];
	struct errctx ec;
	int64_t left, sleep_usec, next = 0;
	size_t n = 0;
	bool rung;
	int r;

	errctx_clear(&ec);
	if (op->cancelled) {
		errctx_set(&ec, -ECANCELED, "receive cancelled");
		receive_finish(op, NULL, 0, -ECANCELED, &ec);
		return;
	}
	/* Once per process: what a dead process of this host had received is
	 * visible again at once, not after its visibility timeout. A failure is
	 * harmless (the timeout still frees them): try again next receive. */
	if (!t->recovered && sqlite_queue_recover_dead(t->st, &t->conf, &ec) >= 0)
		t->recovered = true;
	errctx_clear(&ec);
	/* Drain before looking: a write after this rings again. */
	rung = bell_drain(t);
again:
	/* Held: the callback's own writes (the claims of these messages) join
	 * this transaction, one commit for both (sqlite_transport_commit_receive). */
	if (t->hold_receives)
		sqlite_state_hold(t->st);
	r = sqlite_queue_claim(t->st, &t->conf, op->max, op->visibility_usec, rung || t->flowing,
	    msgs, &n, &ec);
	if (t->hold_receives && (r < 0 || n == 0)) {
		struct errctx sub = { 0 };

		/* Nothing handed over: commit what the receive did (parked or
		 * recovered messages) now; if that fails, the receive failed. */
		if (sqlite_state_release_hold(t->st, &sub) < 0 && r == 0) {
			ec = sub;
			r = sub.code;
		}
	}
	if (r < 0) {
		receive_finish(op, NULL, 0, r, &ec);
		return;
	}
	left = op->deadline_usec - monotonic_usec();
	if (n > 0 || left <= 0) {
		receive_finish(op, msgs, n, 0, &ec);
		return;
	}
	t->flowing = false;
	/* About to sleep: the doorbell first, then one more look under the
	 * write lock (it waits for a commit in progress), so no write between
	 * the look above and the watch goes unheard. */
	if (bell_arm(t)) {
		(void)bell_drain(t);
		rung = true;
		goto again;
	}
	/* Sleep until the doorbell, a wake, the wait's end, the backstop, or
	 * the moment the earliest hidden message of the queue shows again. */
	sleep_usec = t->bell_wd >= 0 ? t->poll_interval_usec : SQLITE_QUEUE_FALLBACK_POLL_USEC;
	if (left < sleep_usec)
		sleep_usec = left;
	errctx_clear(&ec);
	if (sqlite_queue_next_visible(t->st, t->conf.queue, &next, &ec) == 0 && next > 0 &&
	    next - sqlite_state_now_usec(t->st) < sleep_usec)
		sleep_usec = next - sqlite_state_now_usec(t->st);
	if (t->bell_ev != NULL)
		(void)event_add(t->bell_ev, NULL);
	op_schedule(op, sleep_usec);
}

/* Loop thread: a sleeping receive checks the queue at once. The doorbell
 * (the WAL written by any process) and a same-process wake both call it. */
static void
wake_receive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sqlite_transport *t = arg;

	(void)fd;
	(void)what;
	if (t->receiving == NULL || t->receiving->cancelled)
		return;
	(void)event_del(t->receiving->ev);
	op_schedule(t->receiving, 0);
}

static void
batch_run(struct op *op)
{
	int results[TRANSPORT_MAX_BATCH];
	transport_batch_cb cb = op->bcb;
	void *arg = op->arg;
	struct errctx ec;
	size_t i, n = op->n;
	int r;

	errctx_clear(&ec);
	for (i = 0; i < n; i++)
		results[i] = 0;
	r = sqlite_queue_apply(op->t->st, &op->t->conf, op->apply, (const char *const *)op->receipts,
	    op->timeouts, n, op->reason, results, &ec);
	if (r < 0)
		for (i = 0; i < n; i++)
			results[i] = r;
	op_free(op);
	cb(results, n, r, &ec, arg);
}

static void
op_run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct op *op = arg;

	(void)fd;
	(void)what;
	if (op->kind == OP_RECEIVE)
		receive_run(op);
	else
		batch_run(op);
}

/* Watch the folder, not the WAL itself: SQLite may delete and create the
 * WAL again (last connection closed), which a watch on the file would not
 * survive. Without inotify (limits reached) the queue is polled instead. */
static void
bell_open(struct sqlite_transport *t, const char *path)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash == NULL ? xstrdup(".") :
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));

	t->wal_name = xasprintf("%s-wal", slash != NULL ? slash + 1 : path);
	t->bell_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->bell_fd < 0)
		return;
	/* Tried once here, kept only while a receive sleeps (bell_arm). */
	t->bell_wd = inotify_add_watch(t->bell_fd, dir, IN_MODIFY);
	if (t->bell_wd < 0) {
		(void)close(t->bell_fd);
		t->bell_fd = -1;
		return;
	}
	t->bell_dir = xstrdup(dir);
	t->bell_ev = event_new(t->base, t->bell_fd, EV_READ, wake_receive_cb, t);
	if (t->bell_ev == NULL)
		abort();	/* only fails on out of memory */
}

static int
sqlite_transport_receive(struct transport *tp, unsigned max, int64_t wait_usec,
    int64_t visibility_usec, transport_receive_cb cb, void *arg, struct errctx *ec)
{
	struct sqlite_transport *t = to_sqlite(tp);
	struct op *op;

	if (max < 1 || max > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "receive: max %u is not in 1..%d", max, TRANSPORT_MAX_BATCH);
	if (visibility_usec < 0 || visibility_usec > LOCAL_MAX_VISIBILITY_USEC)
		return errctx_set(ec, -EINVAL, "receive: visibility timeout out of 0..12 h");
	if (t->receiving != NULL)
		return errctx_set(ec, -EINVAL, "receive: a receive is already outstanding");
	op = op_new(t, OP_RECEIVE, arg);
	op->rcb = cb;
	op->max = max;
	op->visibility_usec = visibility_usec;
	op->deadline_usec = monotonic_usec() + (wait_usec > 0 ? wait_usec : 0);
	t->receiving = op;
	op_schedule(op, 0);
	return 0;
}

static void
sqlite_transport_cancel_receive(struct transport *tp)
{
	struct sqlite_transport *t = to_sqlite(tp);

	if (t->receiving == NULL || t->receiving->cancelled)
		return;
	t->receiving->cancelled = true;
	/* Re-arm at once: the callback runs from the loop, not from here. */
	(void)event_del(t->receiving->ev);
	op_schedule(t->receiving, 0);
}

static int
batch_start(struct sqlite_transport *t, enum queue_apply apply, const char *const *receipts,
    const int64_t *timeouts, size_t n, const char *reason, transport_batch_cb cb, void *arg,
    struct errctx *ec)
{
	struct op *op;
	size_t i;

	if (n < 1 || n > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "batch of %zu entries is not in 1..%d", n, TRANSPORT_MAX_BATCH);
	op = op_new(t, OP_BATCH, arg);
	op->bcb = cb;
	op->apply = apply;
	op->n = n;
	op->receipts = xcalloc(n, sizeof *op->receipts);
	op->timeouts = xcalloc(n, sizeof *op->timeouts);
	for (i = 0; i < n; i++) {
		op->receipts[i] = xstrdup_or_null(receipts[i]);
		op->timeouts[i] = timeouts != NULL ? timeouts[i] : 0;
	}
	if (reason != NULL) {
		size_t len = strlen(reason);

		/* Bounded, and cut on a UTF-8 boundary so the JSON attribute stays valid. */
		if (len > LOCAL_MAX_REASON) {
			len = LOCAL_MAX_REASON;
			while (len > 0 && ((unsigned char)reason[len] & 0xc0) == 0x80)
				len--;
		}
		op->reason = xstrndup(reason, len);
	}
	op_schedule(op, 0);
	return 0;
}

static int
sqlite_transport_delete_batch(struct transport *tp, const char *const *receipts, size_t n,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	return batch_start(to_sqlite(tp), QUEUE_APPLY_DELETE, receipts, NULL, n, NULL, cb, arg, ec);
}

static int
sqlite_transport_change_visibility(struct transport *tp, const struct transport_visibility *v,
    size_t n, transport_batch_cb cb, void *arg, struct errctx *ec)
{
	const char *receipts[TRANSPORT_MAX_BATCH];
	int64_t timeouts[TRANSPORT_MAX_BATCH];
	size_t i;

	if (n > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "batch of %zu entries is not in 1..%d", n, TRANSPORT_MAX_BATCH);
	for (i = 0; i < n; i++) {
		receipts[i] = v[i].receipt;
		timeouts[i] = v[i].timeout_usec;
	}
	return batch_start(to_sqlite(tp), QUEUE_APPLY_VISIBILITY, receipts, timeouts, n, NULL, cb,
	    arg, ec);
}

static int
sqlite_transport_mark_waiting(struct transport *tp, const char *receipt, bool waiting,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	return batch_start(to_sqlite(tp), waiting ? QUEUE_APPLY_WAIT : QUEUE_APPLY_RUN, &receipt,
	    NULL, 1, NULL, cb, arg, ec);
}

static int
sqlite_transport_reject(struct transport *tp, const struct queue_message *m, const char *reason,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	const char *receipt = m->receipt;

	return batch_start(to_sqlite(tp), QUEUE_APPLY_PARK, &receipt, NULL, 1,
	    reason != NULL && *reason != '\0' ? reason : "rejected (no reason given)", cb, arg, ec);
}

/* SendMessage's rules: at most 10 attributes, typed String/Number/Binary. */
static int
attributes_check(const json_t *a, struct errctx *ec)
{
	const char *name, *type;
	json_t *v;

	if (!json_is_object(a))
		return errctx_set(ec, -EINVAL, "message attributes: expected an object");
	if (json_object_size(a) > 10)
		return errctx_set(ec, -E2BIG, "message attributes: more than 10");
	json_object_foreach((json_t *)a, name, v) {
		type = json_string_value(json_object_get(v, "DataType"));
		if (*name == '\0' || strlen(name) > 256 || strncmp(name, "AWS.", 4) == 0 ||
		    strncmp(name, "Amazon.", 7) == 0)
			return errctx_set(ec, -EINVAL, "message attribute '%s': invalid name", name);
		if (type == NULL || (strncmp(type, "String", 6) != 0 && strncmp(type, "Number", 6) != 0 &&
		    strncmp(type, "Binary", 6) != 0))
			return errctx_set(ec, -EINVAL, "message attribute '%s': DataType must be String, Number or Binary", name);
		if (!json_is_string(json_object_get(v, strncmp(type, "Binary", 6) == 0 ?
		    "BinaryValue" : "StringValue")))
			return errctx_set(ec, -EINVAL, "message attribute '%s': missing its value", name);
	}
	return 0;
}

int
sqlite_transport_send(struct transport *tp, const char *body, int64_t delay_usec,
    const json_t *attributes, char *message_id, struct errctx *ec)
{
	struct sqlite_transport *t = to_sqlite(tp);
	char *attrs = NULL;
	size_t len = body != NULL ? strlen(body) : 0;
	int r;

	if (len == 0)
		return errctx_set(ec, -EINVAL, "send: empty message body");
	if (len > LOCAL_MAX_BODY)
		return errctx_set(ec, -E2BIG, "send: body of %zu bytes exceeds %d", len, LOCAL_MAX_BODY);
	if (delay_usec < 0 || delay_usec > LOCAL_MAX_DELAY_USEC)
		return errctx_set(ec, -EINVAL, "send: delay out of 0..15 min");
	if (attributes != NULL) {
		if ((r = attributes_check(attributes, ec)) < 0)
			return r;
		attrs = json_dumps(attributes, JSON_COMPACT);
	}
	sqlite_state_lock(t->st);
	r = sqlite_state_begin_locked(t->st, ec);
	if (r == 0)
		r = sqlite_queue_insert_locked(t->st, t->conf.queue, body, len, attrs, delay_usec,
		    message_id, ec);
	if (r == 0)
		r = sqlite_state_commit_locked(t->st, ec);
	else
		sqlite_state_rollback_locked(t->st);
	sqlite_state_unlock(t->st);
	free(attrs);
	return r < 0 ? errctx_prefix(ec, "queue '%s'", t->conf.queue) : 0;
}

static int
sqlite_transport_send_op(struct transport *tp, const char *body, char *ret_id, struct errctx *ec)
{
	return sqlite_transport_send(tp, body, 0, NULL, ret_id, ec);
}

static int
sqlite_transport_preflight(struct transport *tp, struct errctx *ec)
{
	return sqlite_state_check(to_sqlite(tp)->st, ec);
}

void
sqlite_transport_hold_receives(struct transport *tp)
{
	to_sqlite(tp)->hold_receives = true;
}

int
sqlite_transport_commit_receive(struct transport *tp, struct errctx *ec)
{
	struct sqlite_transport *t = to_sqlite(tp);
	int r;

	if (!t->hold_receives)
		return 0;
	r = sqlite_state_release_hold(t->st, ec);
	return r < 0 ? errctx_prefix(ec, "queue '%s': receive", t->conf.queue) : 0;
}

void
sqlite_transport_wake(struct transport *tp)
{
	struct sqlite_transport *t = to_sqlite(tp);

	/* Safe from any thread: the runtime's base is made thread-aware. */
	event_active(t->wake_ev, EV_TIMEOUT, 0);
}

static void
sqlite_transport_free(struct transport *tp)
{
	struct sqlite_transport *t = to_sqlite(tp);

	if (t == NULL)
		return;
	if (t->wake_ev != NULL)
		event_free(t->wake_ev);
	if (t->bell_ev != NULL)
		event_free(t->bell_ev);
	if (t->bell_fd >= 0)
		(void)close(t->bell_fd);
	free(t->wal_name);
	free(t->bell_dir);
	while (!TAILQ_EMPTY(&t->ops))
		op_free(TAILQ_FIRST(&t->ops));
	sqlite_state_free(t->st);
	free(t->conf.queue);
	free(t->conf.dlq);
	free(t);
}

static const struct transport_ops sqlite_transport_ops = {
	.name = "sqlite",
	.receive = sqlite_transport_receive,
	.cancel_receive = sqlite_transport_cancel_receive,
	.delete_batch = sqlite_transport_delete_batch,
	.change_visibility = sqlite_transport_change_visibility,
	.mark_waiting = sqlite_transport_mark_waiting,
	.reject = sqlite_transport_reject,
	.send = sqlite_transport_send_op,
	.preflight = sqlite_transport_preflight,
	.free = sqlite_transport_free,
};

int
sqlite_transport_new(struct event_base *base, const struct sqlite_queue_options *o,
    struct transport **ret, struct errctx *ec)
{
	struct sqlite_transport *t;
	int r;

	*ret = NULL;
	if (base == NULL)
		return errctx_set(ec, -EINVAL, "sqlite queue: no event base");
	if (!local_queue_name_valid(o->queue))
		return errctx_set(ec, -EINVAL, "sqlite queue: invalid queue name '%s' ([A-Za-z0-9_-], 1..80)",
		    o->queue != NULL ? o->queue : "");
	t = xcalloc(1, sizeof *t);
	t->bell_fd = -1;
	t->bell_wd = -1;
	t->pub.ops = &sqlite_transport_ops;
	t->base = base;
	TAILQ_INIT(&t->ops);
	t->wake_ev = event_new(base, -1, 0, wake_receive_cb, t);
	if (t->wake_ev == NULL)
		abort();	/* only fails on out of memory */
	t->conf.queue = xstrdup(o->queue);
	t->conf.dlq = o->dlq != NULL ? xstrdup(o->dlq) : xasprintf("%s-dlq", o->queue);
	t->conf.max_receive_count = o->max_receive_count > 0 ? o->max_receive_count :
	    SQLITE_QUEUE_MAX_RECEIVE_COUNT;
	t->poll_interval_usec = o->poll_interval_usec > 0 ? o->poll_interval_usec :
	    SQLITE_QUEUE_POLL_INTERVAL_USEC;
	if (!local_queue_name_valid(t->conf.dlq) || strcmp(t->conf.dlq, t->conf.queue) == 0) {
		r = errctx_set(ec, -EINVAL, "sqlite queue: invalid dead-letter queue name '%s'", t->conf.dlq);
		goto fail;
	}
	r = sqlite_state_open(o->path, o->busy_timeout_usec, &t->st, ec);
	if (r < 0)
		goto fail;
	sqlite_state_set_clock(t->st, o->clock, o->clock_arg);
	bell_open(t, o->path);
	*ret = &t->pub;
	return 0;
fail:
	sqlite_transport_free(&t->pub);
	return r;
}

struct sqlite_state *
sqlite_transport_state(struct transport *t)
{
	return to_sqlite(t)->st;
}
