/*
 * account_lease: see include/alchemiser/stages/account_lease.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/owner.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/stages/account_lease.h"

#define POLL_USEC (INT64_C(500) * 1000)

struct account_lease {
	struct idem_store	*s;
	char			*account;
	char			*key;
	char			*owner;
	char			*run;
	int64_t			 lease_usec;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	bool			 stop;
	pthread_t		 renewer;
	/* Fencing (under lock): once lost, never held again by this object. */
	bool			 lost;
	char			 lost_why[256];
	int64_t			 held_until_mono;	/* the last confirmed lease's end */
};

static void *renewer_main(void *arg);
static int renew_now(struct account_lease *l, struct errctx *ec);

static bool
holder_dead(struct idem_store *s, const char *key, struct idem_lease *req)
{
	struct idem_record rec;
	struct errctx ec = { 0 };
	char why[128];

	if (s->ops->lookup(s, key, req->now_usec, &rec, &ec) < 0 || rec.owner[0] == '\0' ||
	    !owner_is_dead(rec.owner, why, sizeof why))
		return false;
	if (rec.lease_expires_usec + 1000000 > req->now_usec)
		req->now_usec = rec.lease_expires_usec + 1000000;
	return true;
}

static void
pause_usec(int64_t usec)
{
	struct timespec ts = { (time_t)(usec / 1000000), (long)(usec % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
account_lease_acquire(struct idem_store *s, const char *account, const char *owner,
    const char *run, int64_t lease_usec, int64_t wait_usec, struct account_lease **ret,
    char *holder, size_t holder_size, struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("account-lease:%s", account);
	int64_t until = time_now_monotonic_usec() + wait_usec;
	enum idem_lease_result res;
	struct account_lease *l;
	char who[128] = "";
	sigset_t all, old;
	int r;

	for (;;) {
		struct idem_lease req = { key, owner, run, time_now_realtime_usec(), lease_usec };

		r = s->ops->lease_acquire(s, &req, &res, who, ec);
		if (r < 0)
			return r;
		if (res == IDEM_LEASE_BUSY && holder_dead(s, key, &req)) {
			/* A holder proven dead (a process of this host that is gone)
			 * counts as lapsed: ask as of just after its lease. */
			r = s->ops->lease_acquire(s, &req, &res, who, ec);
			if (r < 0)
				return r;
		}
		if (res != IDEM_LEASE_BUSY)
			break;
		if (time_now_monotonic_usec() >= until) {
			(void)snprintf(holder, holder_size, "%s", who);
			return errctx_set(ec, -EBUSY, "account %s is executing %s", account, who);
		}
		pause_usec(POLL_USEC);
	}
	if (res == IDEM_LEASE_TAKEN_OVER)
		log_notice("took over the lapsed account lease of %s (%s)", account, who);
	l = xcalloc(1, sizeof *l);
	l->s = s;
	l->account = xstrdup(account);
	l->key = xstrdup(key);
	l->held_until_mono = time_now_monotonic_usec() + lease_usec;
	l->owner = xstrdup(owner);
	l->run = xstrdup(run);
	l->lease_usec = lease_usec;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	/* Signals belong to the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&l->renewer, NULL, renewer_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		log_error("cannot start the account lease renewer");
		abort();
	}
	*ret = l;
	return 0;
}

/* Why a thread: execution blocks in the executor for minutes (fills); the
 * lease must outlive it while the process lives, and only then. */
static void *
renewer_main(void *arg)
{
	struct account_lease *l = arg;
	struct timespec at;
	struct errctx ec;

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += (time_t)(l->lease_usec / 3 / 1000000);
		at.tv_nsec += (long)(l->lease_usec / 3 % 1000000) * 1000;
		if (at.tv_nsec >= 1000000000) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000;
		}
		(void)pthread_cond_timedwait(&l->wake, &l->lock, &at);
		if (l->stop)
			break;
		if (l->lost)
			break;	/* fenced: the run stops placing orders */
		pthread_mutex_unlock(&l->lock);
		errctx_clear(&ec);
		if (renew_now(l, &ec) < 0)
			log_warning("renewing %s for run %s failed: %s", l->key, l->run, errctx_msg(&ec));
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Renew once; a lease found not ours (-EEXIST), or one whose renewals failed
 * until it lapsed, is lost for good: the run must stop (fencing). */
static int
renew_now(struct account_lease *l, struct errctx *ec)
{
	int64_t start = time_now_monotonic_usec();
	struct idem_record rec;
	struct errctx lec = { 0 };
	int r;

	pthread_mutex_lock(&l->lock);
	if (l->lost) {
		r = errctx_set(ec, -ENOLCK, "%s", l->lost_why);
		pthread_mutex_unlock(&l->lock);
		return r;
	}
	pthread_mutex_unlock(&l->lock);
	r = l->s->ops->lease_renew(l->s, l->key, l->owner, l->run,
	    time_now_realtime_usec() + l->lease_usec, ec);
	pthread_mutex_lock(&l->lock);
	if (r == 0) {
		if (!l->lost)
			l->held_until_mono = start + l->lease_usec;
	} else if (!l->lost && (r == -EEXIST || time_now_monotonic_usec() >= l->held_until_mono)) {
		l->lost = true;
		if (r == -EEXIST && l->s->ops->lookup(l->s, l->key, time_now_realtime_usec(), &rec,
		    &lec) == 0)
			(void)snprintf(l->lost_why, sizeof l->lost_why, "the account lease of %s is held "
			    "by another run (%s)", l->account, rec.owner);
		else
			(void)snprintf(l->lost_why, sizeof l->lost_why, "the account lease of %s %s: %s",
			    l->account, r == -EEXIST ? "is no longer this run's" :
			    "lapsed while its renewals failed", errctx_msg(ec));
		log_warning("run %s places no more orders: %s", l->run, l->lost_why);
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

bool
account_lease_held(struct account_lease *l, char *why, size_t why_size)
{
	struct errctx ec = { 0 };

	if (renew_now(l, &ec) == 0)
		return true;
	pthread_mutex_lock(&l->lock);
	if (l->lost)
		(void)snprintf(why, why_size, "%s", l->lost_why);
	else
		(void)snprintf(why, why_size, "the account lease of %s could not be confirmed: %s",
		    l->account, errctx_msg(&ec));
	pthread_mutex_unlock(&l->lock);
	return false;
}

int
account_lease_last_done(struct idem_store *s, const char *account, int64_t now_usec, char *run,
    size_t run_size, int64_t *plan_usec, struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("account-done:%s", account);

	if (s->ops->done_get == NULL)
		return errctx_set(ec, -ENOENT, "the store keeps no account record");
	return s->ops->done_get(s, key, now_usec, run, run_size, plan_usec, ec);
}

int
account_lease_mark_done(struct account_lease *l, int64_t plan_usec, int64_t retention_usec,
    struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("account-done:%s", l->account);

	if (l->s->ops->done_put == NULL)
		return 0;
	return l->s->ops->done_put(l->s, key, l->run, plan_usec, time_now_realtime_usec(),
	    retention_usec, ec);
}

void
account_lease_release(struct account_lease *l)
{
	struct errctx ec = { 0 };

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->renewer, NULL);
	/* A lost lease is another run's now: nothing of ours to release. */
	if (!l->lost && l->s->ops->lease_release(l->s, l->key, l->owner, l->run, &ec) < 0)
		log_warning("releasing %s for run %s failed (it lapses by itself): %s", l->key, l->run,
		    errctx_msg(&ec));
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
	free(l->account);
	free(l->key);
	free(l->owner);
	free(l->run);
	free(l);
}

int
account_lease_release_ended(struct idem_store *s, const char *account, const char *run,
    char *holder, size_t holder_size, struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("account-lease:%s", account);
	struct idem_record rec;
	char why[128];
	int r;

	if (s->ops->lease_release == NULL)
		return 0;
	r = s->ops->lookup(s, key, time_now_realtime_usec(), &rec, ec);
	if (r == -ENOENT) {
		errctx_clear(ec);
		return 0;
	}
	if (r < 0)
		return errctx_prefix(ec, "%s", key);
	if (strcmp(rec.status, "IN_PROGRESS") != 0 || (strcmp(rec.correlation_id, run) != 0 &&
	    !owner_is_dead(rec.owner, why, sizeof why)))
		return 0;
	r = s->ops->lease_release(s, key, rec.owner, rec.correlation_id, ec);
	if (r == -EEXIST) {
		errctx_clear(ec);
		return 0;	/* taken (or released) meanwhile: no longer that holder's */
	}
	if (r < 0)
		return errctx_prefix(ec, "%s", key);
	(void)snprintf(holder, holder_size, "%s (run %s)", rec.owner, rec.correlation_id);
	return 1;
}
