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
	char			*key;
	char			*owner;
	char			*run;
	int64_t			 lease_usec;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	bool			 stop;
	pthread_t		 renewer;
};

static void *renewer_main(void *arg);

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
	l->key = xstrdup(key);
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
		pthread_mutex_unlock(&l->lock);
		errctx_clear(&ec);
		if (l->s->ops->lease_renew(l->s, l->key, l->owner, l->run,
		    time_now_realtime_usec() + l->lease_usec, &ec) < 0)
			log_warning("renewing %s for run %s failed: %s", l->key, l->run, errctx_msg(&ec));
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
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
	if (l->s->ops->lease_release(l->s, l->key, l->owner, l->run, &ec) < 0)
		log_warning("releasing %s for run %s failed (it lapses by itself): %s", l->key, l->run,
		    errctx_msg(&ec));
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
	free(l->key);
	free(l->owner);
	free(l->run);
	free(l);
}
