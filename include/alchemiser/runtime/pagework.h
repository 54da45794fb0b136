/*
 * pagework: a few threads that render the dashboard's pages off the loop
 * thread, because a page may wait on the broker (an HTTPS call to Alpaca, the
 * paper broker's SQLite lock) or on DynamoDB (run records on AWS); the loop
 * must go on receiving, heartbeating and serving /metrics meanwhile.
 *   pagework_submit   queue fn(arg) for a thread; done(arg, false) then runs
 *                     on the loop thread. -EAGAIN when PAGEWORK_MAX_QUEUED
 *                     tasks already wait (the caller answers 503).
 *   pagework_free     stops the threads after the task each is running;
 *                     every task not yet done gets done(arg, true) (cancelled:
 *                     fn may or may not have run), so its owner can free it.
 * Signals are blocked in the threads (they belong to the loop thread).
 * Thread:  new/submit/free on the loop thread.
 * Memory:  arg is the caller's; the pool only hands it back through done.
 */
#ifndef ALCHEMISER_RUNTIME_PAGEWORK_H
#define ALCHEMISER_RUNTIME_PAGEWORK_H

#include <stdbool.h>

struct errctx;
struct event_base;
struct pagework;

#define PAGEWORK_MAX_QUEUED 16

typedef void (*pagework_fn)(void *arg);
typedef void (*pagework_done_cb)(void *arg, bool cancelled);

int	pagework_new(struct event_base *base, unsigned threads, struct pagework **ret,
	    struct errctx *ec);
int	pagework_submit(struct pagework *w, pagework_fn fn, pagework_done_cb done, void *arg);
void	pagework_free(struct pagework *w);

#endif
