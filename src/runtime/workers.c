#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "alchemiser/core/log.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/runtime/pipeline.h"
#include "alchemiser/runtime/workers.h"

struct worker {
	struct workers	*pool;
	pthread_t	 thread;
	struct job	*current;	/* under pool->lock */
};

struct workers {
	struct pipeline		*pipeline;
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;
	struct job		*queue_head, *queue_tail;
	unsigned		 queued;
	unsigned		 busy;
	struct job		*done_head, *done_tail;
	unsigned		 done;		/* jobs in the done list */
	bool			 stopping;
	unsigned		 n;
	struct worker		*threads;
	int			 efd;
	struct event		*ev;
	workers_finished_cb	 finished_cb;
	void			*arg;
};

/* Take the first queued job (pool lock held). It heads for its claim from
 * now on: a claim batch forming waits for it (pipeline.c), which matters for
 * the jobs of a receive beyond the free workers (prefetched). Not a job
 * sent back only to end its run: it claims nothing through a batch. */
static struct job *
take_locked(struct worker *self)
{
	struct workers *w = self->pool;
	struct job *job = w->queue_head;

	w->queue_head = job->next;
	if (w->queue_head == NULL)
		w->queue_tail = NULL;
	job->next = NULL;
	w->queued--;
	w->busy++;
	self->current = job;
	if (!job->dead_letter)
		pipeline_expect(w->pipeline, job);
	return job;
}

/* job is done (pool lock held): count its slot free, hand it to the loop,
 * and take the next queued job in the same breath, counted for its claim
 * before this one counts as returned, so a claim batch forming sees this
 * worker coming (issue #13: prefetched jobs flow from worker to worker
 * without a trip through the loop). *wake: the loop must be woken. */
static struct job *
return_locked(struct worker *self, struct job *job, bool *wake)
{
	struct workers *w = self->pool;
	struct job *next;

	self->current = NULL;
	w->busy--;
	next = w->queue_head != NULL && !w->stopping ? take_locked(self) : NULL;
	/* With the slot counted free and before the loop may take the job:
	 * a receive waiting for a batch's workers sees them all free once
	 * none is finishing. (Lock order: pool, then the pipeline's.) */
	pipeline_job_returned(w->pipeline, job);
	/* One wake-up of the loop per batch of finished jobs: it drains the
	 * whole list after reading the eventfd, so a job added to a list that
	 * is not empty is seen without another write. */
	*wake = w->done_head == NULL;
	w->done++;
	if (w->done_tail != NULL)
		w->done_tail->next = job;
	else
		w->done_head = job;
	w->done_tail = job;
	return next;
}

static void *
worker_main(void *arg)
{
	struct worker *self = arg;
	struct workers *w = self->pool;
	struct job *job;
	uint64_t one = 1;
	bool wake;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->queue_head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		if (w->queue_head == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		job = take_locked(self);
		while (job != NULL) {
			pthread_mutex_unlock(&w->lock);
			pipeline_process(w->pipeline, job);
			pthread_mutex_lock(&w->lock);
			job = return_locked(self, job, &wake);
			if (wake) {
				pthread_mutex_unlock(&w->lock);
				/* A failed write only delays the loop to its next event. */
				(void)!write(w->efd, &one, sizeof one);
				pthread_mutex_lock(&w->lock);
			}
		}
	}
}

static void
workers_eventfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct workers *w = arg;
	uint64_t n;

	(void)what;
	(void)!read(fd, &n, sizeof n);
	w->finished_cb(w->arg);
}

struct workers *
workers_new(struct event_base *base, struct pipeline *p, unsigned n,
    workers_finished_cb finished_cb, void *arg)
{
	struct workers *w = xcalloc(1, sizeof *w);
	sigset_t all, old;
	unsigned i;

	w->pipeline = p;
	w->n = n;
	w->finished_cb = finished_cb;
	w->arg = arg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		log_error("eventfd: %s", strerror(errno));
		abort();
	}
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, workers_eventfd_cb, w);
	event_add(w->ev, NULL);
	w->threads = xcalloc(n, sizeof *w->threads);
	/* Signals belong to the loop thread: block them in every worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		w->threads[i].pool = w;
		if (pthread_create(&w->threads[i].thread, NULL, worker_main, &w->threads[i]) != 0) {
			log_error("cannot start worker thread %u", i);
			abort();
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return w;
}

void
workers_submit(struct workers *w, struct job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->queue_tail != NULL)
		w->queue_tail->next = job;
	else
		w->queue_head = job;
	w->queue_tail = job;
	w->queued++;
	pthread_mutex_unlock(&w->lock);
	/* After the unlock: a worker woken under it would only block on the
	 * lock we still hold (a futex round trip per job; issue #13). */
	pthread_cond_signal(&w->work);
}

unsigned
workers_free_slots(struct workers *w)
{
	unsigned used;

	pthread_mutex_lock(&w->lock);
	/* A finished job the loop has not taken back still holds its claim
	 * and its run's lock (the loop completes it): its slot is not free. */
	used = w->queued + w->busy + w->done;
	pthread_mutex_unlock(&w->lock);
	return used >= w->n ? 0 : w->n - used;
}

unsigned
workers_queued(struct workers *w)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = w->queued;
	pthread_mutex_unlock(&w->lock);
	return n;
}

unsigned
workers_size(const struct workers *w)
{
	return w->n;
}

unsigned
workers_in_flight(struct workers *w)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = w->queued + w->busy;
	pthread_mutex_unlock(&w->lock);
	return n;
}

struct job *
workers_drain_finished(struct workers *w)
{
	struct job *head;

	pthread_mutex_lock(&w->lock);
	head = w->done_head;
	w->done_head = w->done_tail = NULL;
	w->done = 0;
	pthread_mutex_unlock(&w->lock);
	return head;
}

struct job *
workers_take_unstarted(struct workers *w)
{
	struct job *head;

	pthread_mutex_lock(&w->lock);
	head = w->queue_head;
	w->queue_head = w->queue_tail = NULL;
	w->queued = 0;
	pthread_mutex_unlock(&w->lock);
	return head;
}

size_t
workers_running(struct workers *w, struct job **out, size_t max)
{
	size_t n = 0;
	unsigned i;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->n && n < max; i++)
		if (w->threads[i].current != NULL)
			out[n++] = w->threads[i].current;
	pthread_mutex_unlock(&w->lock);
	return n;
}

bool
workers_stop(struct workers *w, bool wait)
{
	unsigned i;

	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	if (!wait)
		return false;
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i].thread, NULL);
	return true;
}

void
workers_free(struct workers *w)
{
	if (w == NULL)
		return;
	event_free(w->ev);
	close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	free(w->threads);
	free(w);
}
