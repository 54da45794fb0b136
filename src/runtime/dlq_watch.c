/* The DLQ watcher: see include/alchemiser/runtime/dlq_watch.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/sqs.h"
#include "alchemiser/aws/sqs_dlq.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/owner.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/dlq_watch.h"
#include "alchemiser/runtime/pagework.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/runtime/runsource.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/seams/transport.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/account_lease.h"
#include "alchemiser/stages/run_key.h"

struct dlq_watch {
	struct backends		*b;
	struct pipeline		*p;
	struct runsource	*rs;
	struct pagework		*thread;	/* one thread: one sweep at a time */
	int64_t			 interval_usec;	/* a restart key: the value at start-up */
	bool			 sweeping;	/* loop thread */
	int64_t			 next_usec;	/* monotonic: the next sweep is due */
	atomic_bool		 stopping;
};

struct sweep {
	struct dlq_watch	*w;
	struct config		*cfg;		/* ref */
};

char *
dlq_watch_key(const char *message_id, int64_t sent_usec)
{
	return xasprintf("dlq-watch %s %lld", message_id, (long long)(sent_usec / USEC_PER_MSEC));
}

void
dlq_watch_why(char *buf, size_t size, unsigned max_receives)
{
	if (max_receives > 0)
		(void)snprintf(buf, size, "parked by SQS after %u receives: the daemon handling it "
		    "stopped each time (killed or crashed)", max_receives);
	else
		(void)snprintf(buf, size, "parked by SQS after its last permitted receive: the daemon "
		    "handling it stopped each time (killed or crashed)");
}

bool
dlq_watch_settled(enum pipeline_parked r)
{
	switch (r) {
	case PIPELINE_PARKED_ENDED:
	case PIPELINE_PARKED_COMPLETED:
	case PIPELINE_PARKED_NO_RUN:
		return true;
	case PIPELINE_PARKED_HELD:
	case PIPELINE_PARKED_RETRY:
	default:
		return false;
	}
}

bool
dlq_watch_wanted(const char *reject_reason, const char *source_message_id)
{
	return reject_reason == NULL && source_message_id == NULL;
}

/* The redrive policy's maxReceiveCount read at start-up, else the setting. */
static unsigned
max_receives(const struct dlq_watch *w, const struct config *cfg)
{
	struct sqs_queue_info info;

	if (sqs_transport_queue_info(w->b->transport, &info) == 0 && info.max_receive_count > 0)
		return info.max_receive_count;
	return (unsigned)config_int(cfg, "daemon.max_receive_count");
}

/* The watcher's claim on key; a holder proven dead is taken over at once. */
static int
claim_key(struct dlq_watch *w, const struct config *cfg, const char *key, const char *owner,
    enum idem_claim_result *res, char *holder, struct errctx *ec)
{
	struct idem_store *idem = w->b->idem;
	char dead[OWNER_MAX], why[128] = "";
	struct idem_claim c = {
		.key = key, .owner = owner, .detail_type = "dlq-watch",
		.now_usec = time_now_realtime_usec(),
		.lease_usec = config_usec(cfg, "daemon.idempotency_lease"),
		.retention_usec = DLQ_WATCH_RETENTION_USEC,
	};
	int r;

	r = idem->ops->claim(idem, &c, res, holder, ec);
	if (r < 0 || *res != IDEM_BUSY || holder[0] == '\0' || !owner_is_dead(holder, why, sizeof why))
		return r;
	(void)snprintf(dead, sizeof dead, "%s", holder);
	c.dead_owner = dead;
	return idem->ops->claim(idem, &c, res, holder, ec);
}

/* The run just ended held the account lease (its execution was killed on
 * every receive): free it now, so the account's next run does not wait a
 * whole lease for it (daemon.idempotency_lease, 5 min by default). Only an
 * execution step holds one; only that run's lease, or a dead holder's, is
 * freed (account_lease_release_ended), and conditionally on that holder. */
static void
release_ended_lease(struct dlq_watch *w, const struct sqs_dlq_message *m,
    const struct log_fields *f)
{
	struct route *rt = route_message(m->body, strlen(m->body), m->message_id);
	char account[128], holder[256] = "";
	struct errctx ec = { 0 };
	int r;

	if (w->b->broker == NULL || rt->rejected || rt->event == NULL || rt->handler == NULL ||
	    strcmp(rt->handler, "execution") != 0)
		goto out;
	r = run_key_account(w->b->broker, account, sizeof account, &ec);
	if (r == 0)
		r = account_lease_release_ended(w->b->idem, account, rt->event->correlation_id, holder,
		    sizeof holder, &ec);
	if (r < 0)
		log_full(LOG_WARNING, f, "dead-letter watch: the account lease of run %s not released "
		    "(it lapses by itself): %s", rt->event->correlation_id, errctx_msg(&ec));
	else if (r > 0)
		log_full(LOG_NOTICE, f, "dead-letter watch: released the account lease of %s held by "
		    "%s", account, holder);
out:
	route_free(rt);
}

/* One parked message; true when it was ours to handle (counts against
 * DLQ_WATCH_MAX_ENDS). */
static bool
look_at(struct dlq_watch *w, struct config *cfg, const struct sqs_dlq_message *m)
{
	struct idem_store *idem = w->b->idem;
	_cleanup_free_ char *key = dlq_watch_key(m->message_id, m->parked_usec);
	struct log_fields f = { .sqs_message_id = m->message_id, .duration_ms = -1 };
	enum idem_claim_result claim;
	enum pipeline_parked res;
	struct queue_message *qm;
	struct errctx ec = { 0 };
	char owner[OWNER_MAX], holder[128] = "", why[256], reason[512];
	unsigned max = max_receives(w, cfg);

	pipeline_owner(w->p, owner, sizeof owner);
	if (claim_key(w, cfg, key, owner, &claim, holder, &ec) < 0) {
		log_full(LOG_WARNING, &f, "dead-letter watch: message %s: the idempotency store did not "
		    "answer (next sweep): %s", m->message_id, errctx_msg(&ec));
		return false;
	}
	if (claim == IDEM_COMPLETED || claim == IDEM_BUSY) {
		log_full(LOG_DEBUG, &f, "dead-letter watch: message %s: %s", m->message_id,
		    claim == IDEM_COMPLETED ? "its run was ended already" : "another daemon is at it");
		return false;
	}
	qm = xcalloc(1, sizeof *qm);
	qm->message_id = xstrdup(m->message_id);
	qm->receipt = xstrdup(m->receipt);
	qm->body = xstrdup(m->body);
	qm->body_len = strlen(m->body);
	qm->receive_count = max;
	qm->sent_usec = m->parked_usec;
	dlq_watch_why(why, sizeof why, max);
	res = pipeline_end_parked(w->p, qm, cfg, why, reason, sizeof reason);
	if (!dlq_watch_settled(res)) {
		log_full(res == PIPELINE_PARKED_HELD ? LOG_INFO : LOG_WARNING, &f, "dead-letter watch: "
		    "message %s was parked by SQS; not ended now (next sweep): %s", m->message_id, reason);
		if (idem->ops->release(idem, key, owner, &ec) < 0)
			log_full(LOG_WARNING, &f, "dead-letter watch: releasing %s failed (its lease will "
			    "expire): %s", key, errctx_msg(&ec));
		return true;
	}
	/* The record first: a kill before the completion only repeats the
	 * (idempotent) end at a later sweep, never loses the record. */
	if (runsource_park_now(w->rs, m->message_id, reason, max, m->body, &ec) < 0)
		log_full(LOG_WARNING, &f, "dead-letter watch: the record of parked message %s not "
		    "written: %s", m->message_id, errctx_msg(&ec));
	errctx_clear(&ec);
	if (idem->ops->complete(idem, key, owner, time_now_realtime_usec(), &ec) < 0)
		log_full(LOG_WARNING, &f, "dead-letter watch: completing %s failed (a later sweep ends "
		    "the run again, which changes nothing): %s", key, errctx_msg(&ec));
	if (res == PIPELINE_PARKED_ENDED) {
		log_full(LOG_WARNING, &f, "dead-letter watch: message %s was parked by SQS; its run is "
		    "ended: %s", m->message_id, reason);
		release_ended_lease(w, m, &f);
	}
	else if (res == PIPELINE_PARKED_COMPLETED)
		log_full(LOG_NOTICE, &f, "dead-letter watch: message %s was parked by SQS after its "
		    "stage completed: recorded, nothing to end", m->message_id);
	else
		log_full(LOG_WARNING, &f, "dead-letter watch: message %s was parked by SQS; nothing to "
		    "end: %s", m->message_id, reason);
	return true;
}

static void
sweep_fn(void *arg)
{
	struct sweep *s = arg;
	struct dlq_watch *w = s->w;
	struct sqs_dlq_message *m = NULL, *mine, *theirs;
	struct errctx ec = { 0 };
	size_t n = 0, i, n_mine = 0, n_theirs = 0;
	unsigned handled = 0;

	if (sqs_dlq_receive(w->b->transport, DLQ_WATCH_MAX_MESSAGES, DLQ_WATCH_MAX_CALLS,
	    DLQ_WATCH_VISIBILITY_S, &m, &n, &ec) < 0) {
		log_warning("dead-letter watch: reading the dead-letter queue failed (next sweep): %s",
		    errctx_msg(&ec));
		return;
	}
	/* The daemons' own parkings go back at once (the operator's
	 * --dead-letters should find them); the others after a look. Every
	 * one stays in the DLQ, visible again: the operator inspects and
	 * redrives them. */
	mine = xcalloc(n + 1, sizeof *mine);	/* shallow copies: m owns the strings */
	theirs = xcalloc(n + 1, sizeof *theirs);
	for (i = 0; i < n; i++)
		if (dlq_watch_wanted(m[i].reason, m[i].source_message_id))
			mine[n_mine++] = m[i];
		else
			theirs[n_theirs++] = m[i];
	sqs_dlq_release(w->b->transport, theirs, n_theirs);
	free(theirs);
	if (n > 0)
		log_debug("dead-letter watch: %zu message(s) read, %zu parked by SQS", n, n_mine);
	for (i = 0; i < n_mine && handled < DLQ_WATCH_MAX_ENDS && !atomic_load(&w->stopping); i++)
		if (look_at(w, s->cfg, &mine[i]))
			handled++;
	sqs_dlq_release(w->b->transport, mine, n_mine);
	free(mine);
	sqs_dlq_messages_free(m, n);
}

static void
sweep_done_cb(void *arg, bool cancelled)
{
	struct sweep *s = arg;
	struct dlq_watch *w = s->w;

	(void)cancelled;
	w->sweeping = false;
	w->next_usec = time_now_monotonic_usec() + w->interval_usec;
	config_unref(s->cfg);
	free(s);
}

void
dlq_watch_tick(struct dlq_watch *w, struct config *cfg, bool running)
{
	struct sweep *s;

	if (w == NULL || w->sweeping || !running || time_now_monotonic_usec() < w->next_usec)
		return;
	s = xcalloc(1, sizeof *s);
	s->w = w;
	s->cfg = config_ref(cfg);
	w->sweeping = true;
	if (pagework_submit(w->thread, sweep_fn, sweep_done_cb, s) < 0)
		sweep_done_cb(s, true);
}

int64_t
dlq_watch_due_usec(const struct dlq_watch *w)
{
	if (w == NULL)
		return INT64_MAX;
	return w->sweeping ? 0 : w->next_usec;
}

int
dlq_watch_new(const struct config *cfg, bool once, struct backends *b, struct pipeline *p,
    struct runsource *rs, struct event_base *base, struct dlq_watch **ret, struct errctx *ec)
{
	int64_t interval = config_usec(cfg, "aws.dlq_watch_interval");
	struct dlq_watch *w;
	int r;

	*ret = NULL;
	if (once || interval <= 0 || strcmp(b->kind, "aws") != 0 ||
	    config_str(cfg, "aws.dead_letter_queue_url")[0] == '\0')
		return 0;
	w = xcalloc(1, sizeof *w);
	w->b = b;
	w->p = p;
	w->rs = rs;
	w->interval_usec = interval;
	atomic_init(&w->stopping, false);
	/* Soon after a start (a restart after kills is when parked runs wait),
	 * then every interval. */
	w->next_usec = time_now_monotonic_usec() +
	    (interval < DLQ_WATCH_FIRST_MAX_USEC ? interval : DLQ_WATCH_FIRST_MAX_USEC);
	r = pagework_new(base, 1, &w->thread, ec);
	if (r < 0) {
		free(w);
		return errctx_prefix(ec, "dead-letter watch");
	}
	*ret = w;
	return 0;
}

void
dlq_watch_free(struct dlq_watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stopping, true);
	pagework_free(w->thread);
	free(w);
}
