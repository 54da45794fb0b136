/*
 * pagework: see include/alchemiser/runtime/pagework.h. Tasks go to the
 * threads through a FIFO under a mutex and condvar; finished ones come back
 * through a second list and an event made active from the thread
 * (event_active is thread-safe once evthread_use_pthreads() ran, which
 * runtime_run does before creating the base).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/runtime/pagework.h"

#define PAGEWORK_MAX_THREADS 8

struct task {
	struct task		*next;
	pagework_fn		 fn;
	pagework_done_cb	 done;
	void			*arg;
};

struct pagework {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct task		*queue, **queue_tail;	/* waiting for a thread */
	unsigned		 n_queued;
	struct task		*finished;		/* back to the loop (any order) */
	bool			 stopping;
	pthread_t		 threads[PAGEWORK_MAX_THREADS];
	unsigned		 n_threads;
	struct event		*ev_done;
};

static void *
thread_main(void *arg)
{
	struct pagework *w = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct task *t;

		while (w->queue == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stopping)
			break;
		t = w->queue;
		w->queue = t->next;
		if (w->queue == NULL)
			w->queue_tail = &w->queue;
		w->n_queued--;
		pthread_mutex_unlock(&w->mu);
		t->fn(t->arg);
		pthread_mutex_lock(&w->mu);
		t->next = w->finished;
		w->finished = t;
		event_active(w->ev_done, EV_READ, 0);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
pagework_done_event_cb(int fd, short what, void *arg)
{
	struct pagework *w = arg;
	struct task *t, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->mu);
	t = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; t != NULL; t = next) {
		next = t->next;
		t->done(t->arg, false);
		free(t);
	}
}

int
pagework_new(struct event_base *base, unsigned threads, struct pagework **ret, struct errctx *ec)
{
	struct pagework *w = xcalloc(1, sizeof *w);
	unsigned i;
	int r;

	if (threads == 0 || threads > PAGEWORK_MAX_THREADS)
		threads = 2;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->queue_tail = &w->queue;
	w->ev_done = event_new(base, -1, 0, pagework_done_event_cb, w);
	for (i = 0; i < threads; i++) {
		r = pthread_create(&w->threads[i], NULL, thread_main, w);
		if (r != 0) {
			pagework_free(w);
			return errctx_set(ec, -r, "page threads: %s", strerror(r));
		}
		w->n_threads++;
	}
	*ret = w;
	return 0;
}

int
pagework_submit(struct pagework *w, pagework_fn fn, pagework_done_cb done, void *arg)
{
	struct task *t;

	pthread_mutex_lock(&w->mu);
	if (w->n_queued >= PAGEWORK_MAX_QUEUED || w->stopping) {
		pthread_mutex_unlock(&w->mu);
		return -EAGAIN;
	}
	t = xcalloc(1, sizeof *t);
	*t = (struct task){ .fn = fn, .done = done, .arg = arg };
	*w->queue_tail = t;
	w->queue_tail = &t->next;
	w->n_queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void
cancel_list(struct task *t)
{
	struct task *next;

	for (; t != NULL; t = next) {
		next = t->next;
		t->done(t->arg, true);
		free(t);
	}
}

void
pagework_free(struct pagework *w)
{
	unsigned i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	/* A thread finishes the page it is rendering (bounded by the broker's
	 * and the AWS client's request timeouts). */
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	cancel_list(w->queue);
	cancel_list(w->finished);
	if (w->ev_done != NULL)
		event_free(w->ev_done);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
