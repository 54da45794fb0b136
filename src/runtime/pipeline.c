#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/owner.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/router/route.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/runtime/metrics.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/seams/bus.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/seams/transport.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/stages/stage.h"

/* Correlation ids being processed right now: at most one message per run at a
 * time, so the steps of one workflow never race each other. */
/* One allocation each (the id or key after the struct): two of these per
 * message (issue #13). */
struct corr_entry {
	char			*id;	/* in this allocation */
	struct corr_entry	*next;
};

/* A claim held right now; the renewer extends its lease while the handler runs. */
struct claim_entry {
	char			*key;	/* in this allocation */
	bool			 done;	/* handled; the loop completes it: never released */
	char			 owner[128];
	int64_t			 lease_usec;
	int64_t			 renewed_usec;	/* monotonic */
	struct claim_entry	*next;
};

/* A worker waiting in a batch (on its own stack): one claim or completion. */
struct batch_slot {
	struct job			*job;
	struct idem_claim_item		*claim;
	struct idem_complete_item	*complete;
	struct errctx			 ec;	/* the batch's reason when r < 0 */
	struct batch_slot		*next;
	/* A follower sleeps on its own semaphore, not on batch_cond: the
	 * answer wakes each follower once and none re-takes batch_lock, where
	 * a broadcast woke every waiter (both batches' followers and leaders)
	 * into a stampede on the lock (issue #13: 16 futex calls a message). */
	sem_t				 answered;
};

/* Group commit for the idempotency store (issue #13): the claims (or the
 * completions) of the workers that reach that step together go to the store
 * as one batch. The first to arrive leads: it waits until every job still
 * heading for that step has joined (the jobs of a receive for claims, the
 * claimed jobs whose handlers run for completions; a job that turns away or
 * must wait for its run's lock stops counting), at most
 * PIPELINE_BATCH_WINDOW_USEC, then sends; the others wait for its answer. */
struct batcher {
	struct batch_slot	*head, **tail;
	size_t			 n;
	bool			 leader;	/* someone is gathering this batch */
};

struct pipeline {
	struct backends		*b;
	struct metrics		*metrics;	/* NULL = none */
	pthread_mutex_t		 lock;
	pthread_cond_t		 released;
	struct corr_entry	*busy;
	/* lease renewal */
	pthread_mutex_t		 claims_lock;
	pthread_cond_t		 claims_wake;
	struct claim_entry	*claims;
	bool			 renewer_idle;	/* waits for a claim, untimed */
	bool			 stopping;
	pthread_t		 renewer;
	/* batching: under batch_lock */
	pthread_mutex_t		 batch_lock;
	pthread_cond_t		 batch_cond;
	struct batcher		 claims_b, completes_b;
	unsigned		 heading_claims;	/* jobs of a receive not yet at their claim */
	unsigned		 heading_completes;	/* claimed jobs not yet at their completion */
	unsigned		 sending;	/* batches at the store right now */
	unsigned		 finishing;	/* jobs of an answered completion batch not yet back in the pool */
	bool			 loop_completes;	/* embedded: no completion batches (set once) */
};

static void *renewer_main(void *arg);
static void end_dead_letter_run(struct pipeline *p, struct job *job, const struct route *rt,
    const char *why);
static bool	claims_reserve(struct pipeline *p, const char *key, const char *owner,
		    int64_t lease_usec);
static void	claims_remove(struct pipeline *p, const char *key, const char *owner);
static void	claims_mark_done(struct pipeline *p, const char *key, const char *owner);
static bool	corr_try_acquire(struct pipeline *p, const char *id);

struct job *
job_new(struct queue_message *msg, struct config *cfg)
{
	struct job *j = xcalloc(1, sizeof *j);

	j->msg = msg;
	j->cfg = config_ref(cfg);
	j->received_usec = time_now_monotonic_usec();
	return j;
}

/* The job's names become copies of these (any may be NULL, or one of the
 * job's own: copied before the old block goes). */
static void
job_set_texts(struct job *j, const char *detail_type, const char *source, const char *handler,
    const char *event_id, const char *correlation_id)
{
	const char *in[] = { detail_type, source, handler, event_id, correlation_id };
	const char **out[] = { &j->detail_type, &j->source, &j->handler, &j->event_id,
	    &j->correlation_id };
	size_t len[ELEMENTSOF(in)], size = 0, i;
	char *block = NULL, *at;

	for (i = 0; i < ELEMENTSOF(in); i++) {
		len[i] = in[i] != NULL ? strlen(in[i]) + 1 : 0;
		size += len[i];
	}
	if (size > 0)
		block = xmalloc(size);
	for (i = 0, at = block; i < ELEMENTSOF(in); i++) {
		if (in[i] != NULL)
			memcpy(at, in[i], len[i]);
		*out[i] = in[i] != NULL ? at : NULL;
		at += len[i];
	}
	free(j->texts);
	j->texts = block;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	queue_message_free(j->msg);
	config_unref(j->cfg);
	free(j->texts);
	route_free(j->route);
	free(j->complete_key);
	free(j->complete_corr);
	free(j);
}

struct pipeline *
pipeline_new(struct backends *b)
{
	struct pipeline *p = xcalloc(1, sizeof *p);

	p->b = b;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->released, NULL);
	pthread_mutex_init(&p->claims_lock, NULL);
	pthread_cond_init(&p->claims_wake, NULL);
	pthread_mutex_init(&p->batch_lock, NULL);
	pthread_cond_init(&p->batch_cond, NULL);
	p->claims_b.tail = &p->claims_b.head;
	p->completes_b.tail = &p->completes_b.head;
	{
		sigset_t all, old;

		/* Signals belong to the loop thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		if (pthread_create(&p->renewer, NULL, renewer_main, p) != 0) {
			log_error("cannot start the lease renewer thread");
			abort();
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return p;
}

void
pipeline_expect(struct pipeline *p, struct job *job)
{
	pthread_mutex_lock(&p->batch_lock);
	/* A job claimed with its receive goes straight to its handler: it
	 * is expected at the completion batch instead. */
	if (job->preclaimed && !job->heading_complete && !p->loop_completes) {
		job->heading_complete = true;
		p->heading_completes++;
	} else if (!job->preclaimed && !job->heading_claim) {
		job->heading_claim = true;
		p->heading_claims++;
	}
	pthread_mutex_unlock(&p->batch_lock);
}

/* Enough to send: everyone expected is here, or a full batch. The workers
 * of an answered completion batch still on their way back count too: they
 * take the next queued (prefetched) job as they return, and it heads for a
 * claim, or (claimed with its receive) for a completion. */
static bool
batch_full(const struct pipeline *p, const struct batcher *bt, bool completions)
{
	unsigned heading = (completions ? p->heading_completes : p->heading_claims) + p->finishing;

	return heading == 0 || bt->n >= TRANSPORT_MAX_BATCH;
}

/* A leader is gathering the claims (or completions) and may send now. */
static bool
batch_ready(const struct pipeline *p, bool completions)
{
	const struct batcher *bt = completions ? &p->completes_b : &p->claims_b;

	return bt->leader && batch_full(p, bt, completions);
}

static void
heading_leave_locked(struct pipeline *p, struct job *job, bool completes)
{
	bool *flag = completes ? &job->heading_complete : &job->heading_claim;

	if (!*flag)
		return;
	*flag = false;
	if (completes)
		p->heading_completes--;
	else
		p->heading_claims--;
	/* A leader counting on this job should look again (only when it can
	 * send now: every wake-up is a futex round trip). */
	if (batch_ready(p, completes))
		pthread_cond_broadcast(&p->batch_cond);
}

/* job will not join the claim (or completion) batch now. */
static void
heading_leave(struct pipeline *p, struct job *job, bool completes)
{
	pthread_mutex_lock(&p->batch_lock);
	heading_leave_locked(p, job, completes);
	pthread_mutex_unlock(&p->batch_lock);
}

bool
pipeline_batching(struct pipeline *p)
{
	bool r;

	pthread_mutex_lock(&p->batch_lock);
	r = p->sending > 0 || p->claims_b.n > 0 || p->completes_b.n > 0 || p->finishing > 0;
	pthread_mutex_unlock(&p->batch_lock);
	return r;
}

void
pipeline_job_returned(struct pipeline *p, struct job *job)
{
	pthread_mutex_lock(&p->batch_lock);
	if (job->finishing) {
		job->finishing = false;
		p->finishing--;
		if (batch_ready(p, false) || batch_ready(p, true))
			pthread_cond_broadcast(&p->batch_cond);
	}
	pthread_mutex_unlock(&p->batch_lock);
}

void
pipeline_forget(struct pipeline *p, struct job *job)
{
	pthread_mutex_lock(&p->batch_lock);
	heading_leave_locked(p, job, false);
	heading_leave_locked(p, job, true);
	pthread_mutex_unlock(&p->batch_lock);
	if (job->preclaimed) {
		struct errctx ec = { 0 };
		char owner[OWNER_MAX];

		/* Released unstarted: the claim goes back now, not after its lease. */
		job->preclaimed = false;
		pipeline_owner(p, owner, sizeof owner);
		if (p->b->idem->ops->release(p->b->idem, job->route->idempotency_key, owner, &ec) < 0)
			log_warning("releasing the claim on %s failed (its lease will expire): %s",
			    job->route->idempotency_key, errctx_msg(&ec));
		claims_remove(p, job->route->idempotency_key, owner);
	}
}

static void
batch_send(struct pipeline *p, struct batch_slot *list, size_t n)
{
	struct idem_store *idem = p->b->idem;
	struct idem_claim_item *ci = NULL;
	struct idem_complete_item *co = NULL;
	struct batch_slot *sl;
	struct errctx ec = { 0 };
	size_t i;
	int r;

	if (list->claim != NULL) {
		ci = xcalloc(n, sizeof *ci);
		for (sl = list, i = 0; sl != NULL; sl = sl->next, i++)
			ci[i] = *sl->claim;
		r = idem->ops->claim_batch(idem, ci, n, &ec);
		for (sl = list, i = 0; sl != NULL; sl = sl->next, i++) {
			*sl->claim = ci[i];
			if (r < 0)
				sl->claim->r = r;
			if (sl->claim->r < 0)
				sl->ec = ec;
		}
	} else {
		co = xcalloc(n, sizeof *co);
		for (sl = list, i = 0; sl != NULL; sl = sl->next, i++)
			co[i] = *sl->complete;
		r = idem->ops->complete_batch(idem, co, n, &ec);
		for (sl = list, i = 0; sl != NULL; sl = sl->next, i++) {
			*sl->complete = co[i];
			if (r < 0)
				sl->complete->r = r;
			if (sl->complete->r < 0)
				sl->ec = ec;
		}
	}
	free(ci);
	free(co);
}

/* Join the batch of bt with slot (filled in by the caller); returns when the
 * store answered it. The store call happens without the lock. */
static void
batch_join(struct pipeline *p, struct batcher *bt, struct batch_slot *slot, struct job *job,
    bool completions)
{
	struct batch_slot *list, *sl;
	struct timespec until;
	size_t n;

	pthread_mutex_lock(&p->batch_lock);
	heading_leave_locked(p, job, completions);
	slot->next = NULL;
	*bt->tail = slot;
	bt->tail = &slot->next;
	bt->n++;
	if (bt->leader) {
		if (batch_full(p, bt, completions))
			pthread_cond_broadcast(&p->batch_cond);
		if (sem_init(&slot->answered, 0, 0) != 0)
			abort();
		pthread_mutex_unlock(&p->batch_lock);
		while (sem_wait(&slot->answered) != 0)
			;	/* EINTR */
		(void)sem_destroy(&slot->answered);
		return;
	}
	bt->leader = true;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += PIPELINE_BATCH_WINDOW_USEC * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!batch_full(p, bt, completions) &&
	    pthread_cond_timedwait(&p->batch_cond, &p->batch_lock, &until) == 0)
		;
	list = bt->head;
	n = bt->n;
	bt->head = NULL;
	bt->tail = &bt->head;
	bt->n = 0;
	bt->leader = false;
	p->sending++;
	pthread_mutex_unlock(&p->batch_lock);

	batch_send(p, list, n);

	pthread_mutex_lock(&p->batch_lock);
	p->sending--;
	for (sl = list; sl != NULL; sl = sl->next) {
		/* A claimed job's completion will come: from now on the next
		 * completion batch waits for it (before anyone wakes, or the
		 * first one back would complete alone). */
		if (sl->claim != NULL && sl->claim->r == 0 && !sl->job->heading_complete &&
		    !p->loop_completes &&
		    (sl->claim->res == IDEM_CLAIMED || sl->claim->res == IDEM_TAKEN_OVER)) {
			sl->job->heading_complete = true;
			p->heading_completes++;
		}
		if (sl->complete != NULL && !sl->job->finishing) {
			sl->job->finishing = true;
			p->finishing++;
		}
	}
	/* The counts above only hold a gathering leader back: nobody to wake
	 * unless another batch can go now. */
	if (batch_ready(p, false) || batch_ready(p, true))
		pthread_cond_broadcast(&p->batch_cond);
	pthread_mutex_unlock(&p->batch_lock);
	/* Each follower returns (and its slot, on its stack, ends) once
	 * posted: read next first. The leader's own slot is not posted. */
	while (list != NULL) {
		sl = list;
		list = list->next;
		if (sl != slot)
			(void)sem_post(&sl->answered);
	}
}

/* claim() through the batch when the store has one. */
static int
batched_claim(struct pipeline *p, struct job *job, struct idem_claim *c,
    enum idem_claim_result *ret, char *holder, struct errctx *ec)
{
	struct idem_store *idem = p->b->idem;
	struct idem_claim_item it = { .c = *c };
	struct batch_slot slot = { .job = job, .claim = &it };

	if (idem->ops->claim_batch == NULL || c->dead_owner != NULL) {
		heading_leave(p, job, false);
		return idem->ops->claim(idem, c, ret, holder, ec);
	}
	batch_join(p, &p->claims_b, &slot, job, false);
	if (it.r < 0) {
		*ec = slot.ec;
		return it.r;
	}
	*ret = it.res;
	if (holder != NULL)
		(void)snprintf(holder, 128, "%s", it.holder);
	return 0;
}

static int
batched_complete(struct pipeline *p, struct job *job, const char *key, const char *owner,
    int64_t now_usec, struct errctx *ec)
{
	struct idem_store *idem = p->b->idem;
	struct idem_complete_item it = {
		.key = key, .owner = owner, .now_usec = now_usec,
		.receipt = job->synthetic ? NULL : job->msg->receipt,
	};
	struct batch_slot slot = { .job = job, .complete = &it };

	if (idem->ops->complete_batch == NULL)
		return idem->ops->complete(idem, key, owner, now_usec, ec);
	batch_join(p, &p->completes_b, &slot, job, true);
	if (it.r < 0)
		*ec = slot.ec;
	/* The embedded store deleted the message with the completion. */
	job->deleted = it.deleted;
	return it.r;
}

/* Why on the loop, with the receive: a claim batch formed by the workers
 * costs each of them a sleep until the batch is answered, and a commit for
 * every few messages; here the claims of a whole receive (up to 10) go in
 * one call without anyone waiting (issue #13). Only for a store whose calls
 * are short and local (the embedded one): the loop must not wait on a
 * network. Safety: each key is registered in this process (claims_reserve)
 * before it is claimed, so no other job here takes it for "our own live
 * claim"; the job keeps its route, so its body is parsed once. */
void
pipeline_preclaim(struct pipeline *p, struct job **jobs, size_t n)
{
	struct idem_store *idem = p->b->idem;
	struct idem_claim_item items[TRANSPORT_MAX_BATCH];
	struct job *who[TRANSPORT_MAX_BATCH];
	struct errctx ec = { 0 };
	char owner[OWNER_MAX];
	int64_t now = time_now_realtime_usec();
	size_t i, k = 0;

	if (idem->ops->claim_batch == NULL)
		return;
	pipeline_owner(p, owner, sizeof owner);
	for (i = 0; i < n && k < ELEMENTSOF(items); i++) {
		struct job *job = jobs[i];
		const struct stage *st;
		struct route *rt;
		const char *corr;

		if (job->synthetic || job->dead_letter || job->route != NULL)
			continue;
		rt = job->route = route_message(job->msg->body, job->msg->body_len, job->msg->message_id);
		st = rt->handler != NULL ? stage_find(rt->handler) : NULL;
		/* Anything unusual takes the worker's path, which knows what to do. */
		if (rt->rejected || rt->idempotency_key == NULL || rt->key_source == IDEM_KEY_RUN ||
		    st == NULL || st->handle == NULL)
			continue;
		if (!claims_reserve(p, rt->idempotency_key, owner,
		    config_usec(job->cfg, "daemon.idempotency_lease")))
			continue;
		corr = route_correlation_id(rt);
		items[k] = (struct idem_claim_item){ .c = {
			.key = rt->idempotency_key, .owner = owner, .detail_type = rt->detail_type,
			.correlation_id = corr, .now_usec = now,
			.lease_usec = config_usec(job->cfg, "daemon.idempotency_lease"),
			.retention_usec = config_usec(job->cfg, "daemon.dedup_window"),
		} };
		who[k++] = job;
	}
	if (k == 0)
		return;
	(void)idem->ops->claim_batch(idem, items, k, &ec);
	for (i = 0; i < k; i++) {
		struct job *job = who[i];

		if (items[i].r == 0 && (items[i].res == IDEM_CLAIMED || items[i].res == IDEM_TAKEN_OVER)) {
			job->preclaimed = true;
			job->preclaim_took_over = items[i].res == IDEM_TAKEN_OVER;
			if (job->preclaim_took_over)
				log_full(LOG_NOTICE, &(struct log_fields){
				    .correlation_id = items[i].c.correlation_id,
				    .event_id = job->route->event != NULL ? job->route->event->event_id : NULL,
				    .duration_ms = -1 }, "took over the expired claim of %s on %s",
				    items[i].holder[0] ? items[i].holder : "an unknown owner", items[i].c.key);
		} else
			/* Busy, done, or an error: the worker asks again its own way. */
			claims_remove(p, items[i].c.key, owner);
	}
}

void
pipeline_abandon(struct pipeline *p, struct job *job)
{
	char owner[OWNER_MAX];

	if (!job->preclaimed)
		return;
	job->preclaimed = false;
	claims_remove(p, job->route->idempotency_key, pipeline_owner(p, owner, sizeof owner));
}

void
pipeline_set_loop_completes(struct pipeline *p, bool on)
{
	p->loop_completes = on;
}

static void corr_release(struct pipeline *p, const char *id);

/* Why on the loop (embedded, issue #13): a completion batch formed by the
 * workers costs each a sleep until it is answered, and a commit for every
 * few messages. The loop finds the finished jobs together anyway; their
 * completions and deletes go in one transaction. The claim and the run's
 * lock are held until then, so the next message of the run still starts
 * only after this one is complete, as before. */
void
pipeline_complete_finished(struct pipeline *p, struct job **jobs, size_t n)
{
	struct idem_store *idem = p->b->idem;
	struct idem_complete_item items[TRANSPORT_MAX_BATCH];
	struct job *who[TRANSPORT_MAX_BATCH];
	char owner[OWNER_MAX];
	size_t i = 0, k, j;

	pipeline_owner(p, owner, sizeof owner);
	while (i < n) {
		struct errctx ec = { 0 };
		int64_t now = time_now_realtime_usec();

		for (k = 0; i < n && k < ELEMENTSOF(items); i++) {
			if (jobs[i]->complete_key == NULL)
				continue;
			items[k] = (struct idem_complete_item){
				.key = jobs[i]->complete_key, .owner = owner, .now_usec = now,
				.receipt = jobs[i]->synthetic ? NULL : jobs[i]->msg->receipt,
			};
			who[k++] = jobs[i];
		}
		if (k == 0)
			break;
		if (idem->ops->complete_batch != NULL)
			(void)idem->ops->complete_batch(idem, items, k, &ec);
		else
			for (j = 0; j < k; j++)
				items[j].r = idem->ops->complete(idem, items[j].key, owner, now, &ec);
		for (j = 0; j < k; j++) {
			struct job *job = who[j];

			/* The effect happened; a redelivery re-runs with the same ids
			 * and is absorbed. */
			if (items[j].r < 0)
				log_full(LOG_WARNING, &(struct log_fields){ .event_id = job->event_id,
				    .handler = job->handler, .correlation_id = job->correlation_id,
				    .duration_ms = -1 },
				    "completing idempotency record %s failed, continuing: %s",
				    job->complete_key, errctx_msg(&ec));
			job->deleted = items[j].deleted;
			claims_remove(p, job->complete_key, owner);
			if (job->complete_corr != NULL)
				corr_release(p, job->complete_corr);
			free(job->complete_key);
			free(job->complete_corr);
			job->complete_key = job->complete_corr = NULL;
		}
	}
}

void
pipeline_set_metrics(struct pipeline *p, struct metrics *m)
{
	p->metrics = m;
}

/* After a TradeExecuted went out: its orders, and the account as the broker
 * now reports it (a blocking call, fine on a worker). */
static void
note_execution(struct pipeline *p, const struct stage_output *out)
{
	struct broker_account acct;
	struct errctx ec = { 0 };
	size_t i;

	for (i = 0; i < out->n_events; i++) {
		const struct domain_event *e = out->events[i];
		json_int_t placed, filled;

		if (e->type != EVENT_TRADE_EXECUTED)
			continue;
		placed = json_integer_value(domain_event_get(e, "orders_placed"));
		filled = json_integer_value(domain_event_get(e, "orders_succeeded"));
		metrics_orders(p->metrics, (uint64_t)placed, (uint64_t)filled,
		    placed > filled ? (uint64_t)(placed - filled) : 0);
		if (p->b->broker != NULL && p->b->broker->ops->get_account(p->b->broker, &acct, &ec) == 0)
			metrics_account(p->metrics, acct.equity, acct.cash);
	}
}

void
pipeline_free(struct pipeline *p)
{
	struct claim_entry *c, *next;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->claims_lock);
	p->stopping = true;
	pthread_cond_signal(&p->claims_wake);
	pthread_mutex_unlock(&p->claims_lock);
	pthread_join(p->renewer, NULL);
	for (c = p->claims; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&p->claims_lock);
	pthread_cond_destroy(&p->claims_wake);
	pthread_mutex_destroy(&p->batch_lock);
	pthread_cond_destroy(&p->batch_cond);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->released);
	free(p);
}

/* Why per process, not per worker: a retry in place may run on another
 * worker, and must find its own claim (after a lost answer) rather than wait
 * out its lease. Within the process the correlation lock already keeps two
 * workers from holding one key at once. */
const char *
pipeline_owner(struct pipeline *p, char *buf, size_t size)
{
	(void)p;
	return owner_self(buf, size);
}

static struct corr_entry *
corr_entry_new(const char *id)
{
	size_t n = strlen(id);
	struct corr_entry *e = xcalloc(1, sizeof *e + n + 1);

	e->id = (char *)(e + 1);
	memcpy(e->id, id, n + 1);
	return e;
}

static bool
corr_is_busy_locked(struct pipeline *p, const char *id)
{
	struct corr_entry *e;

	for (e = p->busy; e != NULL; e = e->next)
		if (strcmp(e->id, id) == 0)
			return true;
	return false;
}

static void
corr_acquire(struct pipeline *p, struct job *job, const char *id)
{
	struct corr_entry *e = corr_entry_new(id);

	pthread_mutex_lock(&p->lock);
	/* Waiting for another message of its run: no batch should wait for it.
	 * (Lock order: p->lock, then batch_lock; never the other way.) */
	if (corr_is_busy_locked(p, id)) {
		heading_leave(p, job, false);
		heading_leave(p, job, true);
	}
	while (corr_is_busy_locked(p, id))
		pthread_cond_wait(&p->released, &p->lock);
	e->next = p->busy;
	p->busy = e;
	pthread_mutex_unlock(&p->lock);
}

/* corr_acquire without the wait: false when another job of the run holds it
 * (the loop thread must never wait for a worker). */
static bool
corr_try_acquire(struct pipeline *p, const char *id)
{
	struct corr_entry *e;

	pthread_mutex_lock(&p->lock);
	if (corr_is_busy_locked(p, id)) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	e = corr_entry_new(id);
	e->next = p->busy;
	p->busy = e;
	pthread_mutex_unlock(&p->lock);
	return true;
}

static void
corr_release(struct pipeline *p, const char *id)
{
	struct corr_entry **pp, *e;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->busy; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->id, id) == 0) {
			*pp = e->next;
			free(e);
			break;
		}
	}
	pthread_cond_broadcast(&p->released);
	pthread_mutex_unlock(&p->lock);
}

/* Register key as claimed by this process unless it already is: one job at
 * a time may hold a key here (a claim taken with a receive must never look
 * like "our own live claim" to another job's claim of the same key). */
static bool
claims_reserve(struct pipeline *p, const char *key, const char *owner, int64_t lease_usec)
{
	size_t kl = strlen(key), ol;
	struct claim_entry *n = xcalloc(1, sizeof *n + kl + 1), *c;

	ol = strnlen(owner, sizeof n->owner - 1);
	n->key = (char *)(n + 1);
	memcpy(n->key, key, kl + 1);
	/* As snprintf "%s" would cut it, without its parsing. */
	memcpy(n->owner, owner, ol);
	n->owner[ol] = '\0';
	n->lease_usec = lease_usec;
	n->renewed_usec = time_now_monotonic_usec();
	pthread_mutex_lock(&p->claims_lock);
	for (c = p->claims; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (c == NULL) {
		n->next = p->claims;
		p->claims = n;
		if (p->renewer_idle)
			pthread_cond_signal(&p->claims_wake);
	}
	pthread_mutex_unlock(&p->claims_lock);
	if (c != NULL)
		free(n);
	return c == NULL;
}

static bool
claims_held(struct pipeline *p, const char *key)
{
	struct claim_entry *c;

	pthread_mutex_lock(&p->claims_lock);
	for (c = p->claims; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	pthread_mutex_unlock(&p->claims_lock);
	return c != NULL;
}

/* The effect of key's handler happened: a stop must not release its claim
 * before the loop completes it (a release would let it run again). */
static void
claims_mark_done(struct pipeline *p, const char *key, const char *owner)
{
	struct claim_entry *c;

	pthread_mutex_lock(&p->claims_lock);
	for (c = p->claims; c != NULL; c = c->next)
		if (strcmp(c->key, key) == 0 && strcmp(c->owner, owner) == 0) {
			c->done = true;
			break;
		}
	pthread_mutex_unlock(&p->claims_lock);
}

static void
claims_remove(struct pipeline *p, const char *key, const char *owner)
{
	struct claim_entry **pp, *c;

	pthread_mutex_lock(&p->claims_lock);
	for (pp = &p->claims; (c = *pp) != NULL; pp = &c->next) {
		if (strcmp(c->key, key) == 0 && strcmp(c->owner, owner) == 0) {
			*pp = c->next;
			free(c);
			break;
		}
	}
	pthread_mutex_unlock(&p->claims_lock);
}

/* Why a thread of its own: a long handler (execution waits for fills) must
 * keep its lease, or another daemon would take the message over; the loop
 * thread cannot make blocking store calls, and the worker is busy. Every
 * second it renews the claims older than a third of their lease. */
static void *
renewer_main(void *arg)
{
	struct pipeline *p = arg;
	struct claim_entry *c;
	struct timespec until;
	struct errctx ec;
	char key[512], owner[128];
	int64_t lease, now;
	bool found;

	pthread_mutex_lock(&p->claims_lock);
	while (!p->stopping) {
		/* An idle daemon sleeps (issue #13): with no claim held the
		 * renewer waits for claims_add, not for the next second. */
		if (p->claims == NULL) {
			p->renewer_idle = true;
			(void)pthread_cond_wait(&p->claims_wake, &p->claims_lock);
			p->renewer_idle = false;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		(void)pthread_cond_timedwait(&p->claims_wake, &p->claims_lock, &until);
		for (;;) {
			now = time_now_monotonic_usec();
			found = false;
			for (c = p->claims; c != NULL && !p->stopping; c = c->next) {
				if (now - c->renewed_usec < c->lease_usec / 3)
					continue;
				c->renewed_usec = now;
				(void)snprintf(key, sizeof key, "%s", c->key);
				(void)snprintf(owner, sizeof owner, "%s", c->owner);
				lease = c->lease_usec;
				found = true;
				break;
			}
			if (!found)
				break;
			/* The store call blocks: never under the lock. */
			pthread_mutex_unlock(&p->claims_lock);
			errctx_clear(&ec);
			if (p->b->idem->ops->renew(p->b->idem, key, owner, time_now_realtime_usec() + lease,
			    &ec) < 0)
				log_warning("renewing the claim on %s failed: %s", key, errctx_msg(&ec));
			pthread_mutex_lock(&p->claims_lock);
		}
	}
	pthread_mutex_unlock(&p->claims_lock);
	return NULL;
}

void
pipeline_release_claims(struct pipeline *p)
{
	struct claim_entry *c;
	struct errctx ec = { 0 };

	pthread_mutex_lock(&p->claims_lock);
	for (c = p->claims; c != NULL; c = c->next)
		if (!c->done && p->b->idem->ops->release(p->b->idem, c->key, c->owner, &ec) < 0)
			log_warning("releasing the claim on %s failed (its lease will expire): %s", c->key,
			    errctx_msg(&ec));
	pthread_mutex_unlock(&p->claims_lock);
}

static void
job_result(struct job *job, enum outcome o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
job_result(struct job *job, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	job->outcome = o;
	va_start(ap, fmt);
	(void)vsnprintf(job->reason, sizeof job->reason, fmt, ap);
	va_end(ap);
}

/* job_result(job, o, "%s", text) without the format parsing (the outcome
 * of every message, issue #13); cut as snprintf would. */
static void
job_result_text(struct job *job, enum outcome o, const char *text)
{
	size_t n = strnlen(text, sizeof job->reason - 1);

	job->outcome = o;
	memcpy(job->reason, text, n);
	job->reason[n] = '\0';
}

/* Publish the handler's events; the circuit breaker drops error events when the
 * input itself was an error notification. */
static int
publish(struct pipeline *p, const struct route *rt, struct stage_output *out, struct errctx *ec)
{
	struct bus_entry entries[STAGE_MAX_OUTPUT];
	char *texts[STAGE_MAX_OUTPUT];
	const char *ids[STAGE_MAX_OUTPUT];
	size_t i, n = 0;
	int r;

	for (i = 0; i < out->n_events; i++) {
		struct domain_event *e = out->events[i];

		if (rt->breaker && e->type == EVENT_ERROR_NOTIFICATION_REQUESTED) {
			log_full(LOG_ERR, &(struct log_fields){ .correlation_id = e->correlation_id,
			    .event_id = e->event_id, .duration_ms = -1 },
			    "circuit breaker: a handler of ErrorNotificationRequested tried to publish "
			    "another one (%s); dropped", e->event_id);
			continue;
		}
		texts[n] = domain_event_encode(e);
		ids[n] = e->event_id;
		entries[n] = (struct bus_entry){
			.source = event_type_source(e->type),
			.detail_type = event_type_name(e->type),
			.detail = texts[n],
		};
		n++;
	}
	r = n > 0 ? p->b->bus->ops->publish(p->b->bus, entries, n, ec) : 0;
	for (i = 0; i < n; i++) {
		if (r == 0) {
			struct log_fields f = {
				.message_id = LOG_MID_PUBLISHED, .detail_type = entries[i].detail_type,
				.source = entries[i].source, .duration_ms = -1,
				.correlation_id = out->events[0]->correlation_id, .event_id = ids[i],
			};

			log_full(LOG_DEBUG, &f, "published %s %s", entries[i].detail_type, ids[i]);
		}
		free(texts[i]);
	}
	return r;
}

static void
run_claimed(struct pipeline *p, struct job *job, const struct route *rt, const struct stage *st,
    const char *owner)
{
	struct stage_output out = { .outcome = OUTCOME_DONE };
	struct errctx ec = { 0 };
	struct stage_ctx ctx = {
		.cfg = job->cfg, .in = rt, .key = rt->idempotency_key, .owner = owner,
		.now_usec = time_now_realtime_usec(), .broker = p->b->broker,
		.marketdata = p->b->marketdata, .mailer = p->b->mailer, .storm = p->b->storm,
		.idem = p->b->idem,
	};
	struct idem_store *idem = p->b->idem;
	struct log_fields run = { .event_id = job->event_id, .handler = job->handler, .duration_ms = -1 };
	int r;

	st->handle(&ctx, &out);
	if (job->correlation_id == NULL && out.correlation_id[0] != '\0')
		job_set_texts(job, job->detail_type, job->source, job->handler, job->event_id,
		    out.correlation_id);
	if (out.outcome == OUTCOME_DONE) {
		r = publish(p, rt, &out, &ec);
		if (r == 0 && p->metrics != NULL)
			note_execution(p, &out);
		if (r < 0) {
			job->infra_failure = true;
			job->dependency = METRICS_DEP_BUS;
			job_result(job, OUTCOME_RETRY, "publishing follow-on events: %s", errctx_msg(&ec));
		}
		else
			job_result_text(job, OUTCOME_DONE, out.reason);
	} else {
		job_result(job, out.outcome, "%s", out.reason);
		job->infra_failure = out.outcome == OUTCOME_RETRY && out.dependency_failure;
		job->dependency = METRICS_DEP_HANDLER;
		if (out.outcome == OUTCOME_RETRY && out.hold_usec > 0) {
			job->deferred = true;
			job->retry_delay_usec = out.hold_usec;
		}
	}
	stage_output_clear(&out);

	run.correlation_id = job->correlation_id;
	errctx_clear(&ec);
	if (job->outcome == OUTCOME_DONE && p->loop_completes) {
		/* The loop completes it with the other finished ones (one commit),
		 * and only then lets the claim and the run's lock go. */
		job->complete_key = xstrdup(rt->idempotency_key);
		claims_mark_done(p, rt->idempotency_key, owner);
		return;
	}
	if (job->outcome == OUTCOME_DONE) {
		r = batched_complete(p, job, rt->idempotency_key, owner, time_now_realtime_usec(), &ec);
		/* The effect happened; a redelivery re-runs with the same ids and is absorbed. */
		if (r < 0)
			log_full(LOG_WARNING, &run, "completing idempotency record %s failed, continuing: %s",
			    rt->idempotency_key, errctx_msg(&ec));
	} else {
		heading_leave(p, job, true);
		r = idem->ops->release(idem, rt->idempotency_key, owner, &ec);
		if (r < 0)
			log_full(LOG_WARNING, &run, "releasing idempotency record %s failed (its lease will "
			    "expire): %s",
			    rt->idempotency_key, errctx_msg(&ec));
	}
	claims_remove(p, rt->idempotency_key, owner);
}

/* The claim is held by someone else: if that holder is a process of this host
 * that no longer exists (or ran in a previous boot), take its claim over now,
 * fenced on it still being the owner, instead of waiting out its lease. */
static int
claim_from_dead(struct pipeline *p, struct idem_claim *c, enum idem_claim_result *claim,
    char *holder, struct errctx *ec)
{
	char dead[OWNER_MAX], why[128] = "";
	int r;

	if (holder[0] == '\0' || !owner_is_dead(holder, why, sizeof why))
		return 0;
	(void)snprintf(dead, sizeof dead, "%s", holder);
	c->dead_owner = dead;
	r = p->b->idem->ops->claim(p->b->idem, c, claim, holder, ec);
	c->dead_owner = NULL;
	if (r == 0 && *claim == IDEM_TAKEN_OVER)
		log_notice("took over the claim of %s on %s at once: %s", dead, c->key, why);
	return r;
}

static void
process_routed(struct pipeline *p, struct job *job, const struct route *rt)
{
	const struct stage *st = stage_find(rt->handler);
	enum idem_claim_result claim;
	struct errctx ec = { 0 };
	char owner[128], holder[128] = "";
	const char *corr;
	bool from_dead = false, pre;
	int r;

	if (st == NULL || st->handle == NULL) {
		job_result(job, OUTCOME_RETRY, "stage '%s' not available in this build", rt->handler);
		return;
	}
	if (rt->idempotency_key == NULL) {
		job_result(job, OUTCOME_REJECT, "no idempotency key could be derived");
		return;
	}
	pipeline_owner(p, owner, sizeof owner);
	corr = job->correlation_id != NULL ? job->correlation_id : rt->idempotency_key;
	/* On the loop, the run's lock was taken without waiting (pipeline_on_loop). */
	if (job->corr_held)
		job->corr_held = false;
	else
		corr_acquire(p, job, corr);
	pre = job->preclaimed;
	job->preclaimed = false;
	if (pre) {
		/* Claimed (and registered) by the loop with the receive. */
		r = 0;
		claim = job->preclaim_took_over ? IDEM_TAKEN_OVER : IDEM_CLAIMED;
		from_dead = true;	/* its takeover was logged then */
	} else if (!claims_reserve(p, rt->idempotency_key, owner,
	    config_usec(job->cfg, "daemon.idempotency_lease"))) {
		/* Another job of this process holds the key (one claimed with
		 * its receive and not run yet): wait for it as for any holder. */
		heading_leave(p, job, false);
		r = 0;
		claim = IDEM_BUSY;
		(void)snprintf(holder, sizeof holder, "another worker of this process");
	} else {
		struct idem_claim c = {
			.key = rt->idempotency_key, .owner = owner, .detail_type = rt->detail_type,
			.correlation_id = job->correlation_id, .now_usec = time_now_realtime_usec(),
			.lease_usec = config_usec(job->cfg, "daemon.idempotency_lease"),
			.retention_usec = config_usec(job->cfg, "daemon.dedup_window"),
		};

		r = batched_claim(p, job, &c, &claim, holder, &ec);
		if (r == 0 && claim == IDEM_BUSY) {
			from_dead = true;
			r = claim_from_dead(p, &c, &claim, holder, &ec);
		}
		/* Registered before the claim, so no claim taken with a receive
		 * can slip in between; dropped when it is not ours. */
		if (r < 0 || (claim != IDEM_CLAIMED && claim != IDEM_TAKEN_OVER))
			claims_remove(p, rt->idempotency_key, owner);
	}
	if (r < 0) {
		/* Fail closed: never run without a claim. */
		job->infra_failure = true;
		job->dependency = METRICS_DEP_IDEMPOTENCY;
		job_result(job, OUTCOME_RETRY, "idempotency store unavailable, not processing: %s",
		    errctx_msg(&ec));
	}
	else if (claim == IDEM_COMPLETED && rt->key_source == IDEM_KEY_RUN) {
		job->outcome = OUTCOME_DUPLICATE;
		run_key_duplicate_reason(rt->idempotency_key, job->reason, sizeof job->reason);
	} else if (claim == IDEM_COMPLETED)
		job_result(job, OUTCOME_DUPLICATE, "already processed (%s)", rt->idempotency_key);
	else if (claim == IDEM_BUSY) {
		/* Waiting for a live holder is not a failure of this message: the
		 * loop holds it in place (no receive count spent) and asks again
		 * until the holder finishes or its lease lapses. */
		job->lease_wait = true;
		job->retry_delay_usec = config_usec(job->cfg, "daemon.idempotency_lease");
		job_result(job, OUTCOME_RETRY, "being processed by %s; retry after its lease",
		    holder[0] ? holder : "another worker");
	}
	else {
		/* (A dead holder's claim was logged by claim_from_dead.) */
		if (claim == IDEM_TAKEN_OVER && !from_dead)
			log_full(LOG_NOTICE, &(struct log_fields){ .correlation_id = job->correlation_id,
			    .event_id = job->event_id, .duration_ms = -1 },
			    "took over the expired claim of %s on %s",
			    holder[0] ? holder : "an unknown owner", rt->idempotency_key);
		run_claimed(p, job, rt, st, owner);
	}
	if (job->complete_key != NULL)
		job->complete_corr = xstrdup(corr);	/* the loop releases it after the completion */
	else
		corr_release(p, corr);
}

/* A trade/signal-only command's key is its run key (stages/run_key.h): it
 * needs the broker's account and the store, so it is decided here, not in
 * the pure router. */
static int
resolve_run_key(struct pipeline *p, struct job *job, struct route *rt)
{
	struct errctx ec = { 0 };
	int r;

	r = run_key_for_command(p->b->idem, p->b->broker, rt->command, job->msg->sent_usec,
	    time_now_realtime_usec(), &rt->idempotency_key, &ec);
	if (r < 0) {
		job->infra_failure = true;
		job_result(job, OUTCOME_RETRY, "deciding the run key: %s", errctx_msg(&ec));
	}
	return r;
}

/* A parked message must not leave its claim IN_PROGRESS behind: free it if
 * it is ours or its holder is provably dead. A live holder keeps it. */
static int
release_for_dead_letter(struct pipeline *p, struct job *job, const struct route *rt,
    enum idem_claim_result *ret)
{
	enum idem_claim_result claim = IDEM_BUSY;
	struct errctx ec = { 0 };
	char owner[OWNER_MAX], holder[128] = "";
	struct idem_claim c = {
		.key = rt->idempotency_key, .owner = pipeline_owner(p, owner, sizeof owner),
		.detail_type = rt->detail_type, .correlation_id = job->correlation_id,
		.now_usec = time_now_realtime_usec(),
		.lease_usec = config_usec(job->cfg, "daemon.idempotency_lease"),
		.retention_usec = config_usec(job->cfg, "daemon.dedup_window"),
	};
	int r;

	/* Another job of this process holds it: that one completes or frees it. */
	if (claims_held(p, rt->idempotency_key)) {
		*ret = IDEM_BUSY;
		return 0;
	}
	r = p->b->idem->ops->claim(p->b->idem, &c, &claim, holder, &ec);
	if (r == 0 && claim == IDEM_BUSY)
		r = claim_from_dead(p, &c, &claim, holder, &ec);
	if (r == 0 && (claim == IDEM_CLAIMED || claim == IDEM_TAKEN_OVER))
		r = p->b->idem->ops->release(p->b->idem, rt->idempotency_key, owner, &ec);
	if (r < 0)
		log_warning("releasing the claim on %s of a dead-lettered message failed (its lease "
		    "will expire): %s", rt->idempotency_key, errctx_msg(&ec));
	*ret = claim;
	return r;
}

/* The run of this message ends in the dead-letter queue (the loop decided:
 * see runtime.c, end_in_dead_letter): end it cleanly. No claim: the ending is
 * idempotent by itself (cancels, deterministic event ids). */
static void
process_dead_letter(struct pipeline *p, struct job *job, const struct route *rt)
{
	enum idem_claim_result claim;
	char why[sizeof job->reason];

	(void)snprintf(why, sizeof why, "%s", job->reason);
	if (rt->idempotency_key == NULL) {
		job_result_text(job, OUTCOME_REJECT, why);
		return;
	}
	(void)release_for_dead_letter(p, job, rt, &claim);
	end_dead_letter_run(p, job, rt, why);
}

/* The clean end itself (stage_deadletter_handle), its claim already released. */
static void
end_dead_letter_run(struct pipeline *p, struct job *job, const struct route *rt, const char *why)
{
	struct stage_output out = { .outcome = OUTCOME_DONE };
	struct errctx ec = { 0 };
	struct stage_ctx ctx = {
		.cfg = job->cfg, .in = rt, .key = rt->idempotency_key, .owner = NULL,
		.now_usec = time_now_realtime_usec(), .broker = p->b->broker,
		.marketdata = p->b->marketdata, .mailer = p->b->mailer, .storm = p->b->storm,
	};

	stage_deadletter_handle(&ctx, &out, rt->handler != NULL ? rt->handler : "router", why);
	if (out.outcome == OUTCOME_REJECT && out.n_events > 0 && publish(p, rt, &out, &ec) < 0) {
		job->infra_failure = true;
		job_result(job, OUTCOME_RETRY, "%s; publishing the run's end failed: %s", why,
		    errctx_msg(&ec));
	} else
		job_result(job, out.outcome == OUTCOME_RETRY ? OUTCOME_RETRY : OUTCOME_REJECT, "%s",
		    out.reason);
	stage_output_clear(&out);
}

void
pipeline_process(struct pipeline *p, struct job *job)
{
	struct route *rt;

	/* A job held in place after a dependency failure comes back here: start clean. */
	job_set_texts(job, NULL, NULL, NULL, NULL, NULL);
	job->retry_delay_usec = 0;
	job->deleted = false;
	job->infra_failure = false;
	job->lease_wait = false;
	job->deferred = false;
	/* Parsed once: a job routed on the loop with its receive keeps it. */
	rt = job->route != NULL ? job->route : route_message(job->msg->body, job->msg->body_len,
	    job->msg->message_id);
	job->route = NULL;
	job_set_texts(job, rt->detail_type, rt->source, rt->handler,
	    rt->event != NULL ? rt->event->event_id : NULL, route_correlation_id(rt));
	if (job->dead_letter)
		process_dead_letter(p, job, rt);
	else if (rt->rejected)
		job_result_text(job, OUTCOME_REJECT, rt->reason);
	else if (rt->key_source == IDEM_KEY_RUN) {
		/* Deciding the run key asks the broker: no batch waits for that. */
		heading_leave(p, job, false);
		if (resolve_run_key(p, job, rt) == 0)
			process_routed(p, job, rt);
	} else
		process_routed(p, job, rt);
	route_free(rt);
	/* From the receive, not this attempt: the in-place retries and their
	 * waits are part of what the message cost. */
	job->duration_ms = (time_now_monotonic_usec() - job->received_usec) / USEC_PER_MSEC;
	/* Whatever way it ended, no batch waits for it any more. */
	pipeline_forget(p, job);
}

/* Why on the loop (issue #13): a handler that is short and pure (stage
 * on_loop) costs less than its hand-off to a worker and back (a mutex, a
 * condition variable and an eventfd, two thread wake-ups). Only a job the
 * loop claimed with its receive (embedded store): its claim is held and
 * registered, so the order is the worker's (run lock, claim, handler,
 * publish, then the loop's completion), and the run's lock is taken without
 * waiting or not at all (the job then goes to a worker, which waits). */
bool
pipeline_loop_eligible(const struct pipeline *p, const struct job *job)
{
	const struct route *rt = job->route;
	const struct stage *st;

	if (!p->loop_completes || !job->preclaimed || rt == NULL || job->dead_letter ||
	    job->synthetic || rt->rejected || rt->idempotency_key == NULL ||
	    rt->key_source == IDEM_KEY_RUN)
		return false;
	st = rt->handler != NULL ? stage_find(rt->handler) : NULL;
	return st != NULL && st->handle != NULL && st->on_loop;
}

bool
pipeline_on_loop(struct pipeline *p, struct job *job)
{
	const struct route *rt = job->route;
	const char *corr;

	if (!pipeline_loop_eligible(p, job))
		return false;
	/* The worker's choice of lock (process_routed): the run, else the key. */
	corr = route_correlation_id(rt);
	if (corr == NULL)
		corr = rt->idempotency_key;
	if (!corr_try_acquire(p, corr))
		return false;
	job->corr_held = true;
	pipeline_process(p, job);
	log_full(LOG_DEBUG, &(struct log_fields){ .event_id = job->event_id,
	    .correlation_id = job->correlation_id, .handler = job->handler, .duration_ms = -1 },
	    "handled on the loop thread (stage %s runs on the loop)", job->handler);
	return true;
}

static void
parked_reason(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
parked_reason(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || size == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* The queue parked msg by itself (runtime/dlq_watch.h): the same clean end as
 * process_dead_letter, but only where one is due. Its stage's claim decides:
 * completed -> the stage finished (only its delete was lost), nothing to end;
 * held by a live holder -> not now; free or a dead holder's -> released and
 * the run ended. Under the run's lock, like any message of it. */
enum pipeline_parked
pipeline_end_parked(struct pipeline *p, struct queue_message *msg, struct config *cfg,
    const char *why, char *reason, size_t size)
{
	struct job *job = job_new(msg, cfg);
	enum idem_claim_result claim;
	enum pipeline_parked res;
	struct route *rt;
	const char *corr;

	rt = route_message(msg->body, msg->body_len, msg->message_id);
	job_set_texts(job, NULL, NULL, rt->handler, NULL, route_correlation_id(rt));
	if (rt->rejected) {
		res = PIPELINE_PARKED_NO_RUN;
		parked_reason(reason, size, "%s; the router rejects it: %s", why, rt->reason);
		goto out;
	}
	if (job->correlation_id == NULL || rt->handler == NULL || rt->idempotency_key == NULL ||
	    strcmp(rt->handler, "errors") == 0 || strcmp(rt->handler, "error-mail") == 0) {
		/* No run to end, or the error path's own message (the circuit breaker). */
		res = PIPELINE_PARKED_NO_RUN;
		parked_reason(reason, size, "%s; no run to end (%s)", why,
		    rt->handler != NULL ? rt->handler : "no handler");
		goto out;
	}
	if (rt->key_source == IDEM_KEY_RUN && resolve_run_key(p, job, rt) < 0) {
		res = PIPELINE_PARKED_RETRY;
		parked_reason(reason, size, "%s", job->reason);
		goto out;
	}
	corr = job->correlation_id;
	corr_acquire(p, job, corr);
	if (release_for_dead_letter(p, job, rt, &claim) < 0) {
		res = PIPELINE_PARKED_RETRY;
		parked_reason(reason, size, "the idempotency store did not answer for %s",
		    rt->idempotency_key);
	} else if (claim == IDEM_COMPLETED) {
		res = PIPELINE_PARKED_COMPLETED;
		parked_reason(reason, size, "%s; its stage (%s) had completed: nothing to end",
		    why, rt->handler);
	} else if (claim == IDEM_BUSY) {
		res = PIPELINE_PARKED_HELD;
		parked_reason(reason, size, "its claim %s is held by a live holder", rt->idempotency_key);
	} else {
		end_dead_letter_run(p, job, rt, why);
		res = job->outcome == OUTCOME_RETRY ? PIPELINE_PARKED_RETRY : PIPELINE_PARKED_ENDED;
		parked_reason(reason, size, "%s", job->reason);
	}
	corr_release(p, corr);
out:
	route_free(rt);
	job_free(job);
	return res;
}
