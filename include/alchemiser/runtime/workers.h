/*
 * workers: the worker pool. Jobs go loop -> workers through a bounded FIFO
 * (mutex + condvar); finished jobs come back through a mutex-protected list
 * and an eventfd that one persistent libevent event watches, so the loop
 * learns about outcomes without polling (memcached's notify_worker).
 * Thread:  workers_submit/take_unstarted/drain_finished on the loop thread;
 *          the workers themselves run pipeline_process.
 * Memory:  a submitted job belongs to the pool until it is handed back by
 *          workers_drain_finished() or workers_take_unstarted().
 */
#ifndef ALCHEMISER_RUNTIME_WORKERS_H
#define ALCHEMISER_RUNTIME_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct job;
struct pipeline;
struct workers;

typedef void (*workers_finished_cb)(void *arg);

/* Start n workers; finished_cb runs on the loop thread when jobs finish. All
 * signals are blocked in the workers so they reach the loop thread. */
struct workers *workers_new(struct event_base *base, struct pipeline *p, unsigned n,
    workers_finished_cb finished_cb, void *arg);
/* Queue a job (never blocks: the loop only receives what the pool can take). */
void	workers_submit(struct workers *w, struct job *job);
/* Idle workers minus queued jobs: how many messages the loop may receive. */
unsigned workers_free_slots(struct workers *w);
/* Jobs submitted that no worker has taken yet. */
unsigned workers_queued(struct workers *w);
/* How many workers the pool has. */
unsigned workers_size(const struct workers *w);
/* Jobs queued or running. */
unsigned workers_in_flight(struct workers *w);
/* Finished jobs, oldest first, linked through job->next. */
struct job *workers_drain_finished(struct workers *w);
/* Remove and return queued jobs no worker has started (shutdown releases them). */
struct job *workers_take_unstarted(struct workers *w);
/* Jobs a worker is running right now, for a forced stop (borrowed, linked through a copy array). */
size_t	workers_running(struct workers *w, struct job **out, size_t max);
/* Stop the workers. wait=false leaves threads stuck in a handler running (the
 * process is about to exit); returns true if every thread was joined. */
bool	workers_stop(struct workers *w, bool wait);
void	workers_free(struct workers *w);

#endif
