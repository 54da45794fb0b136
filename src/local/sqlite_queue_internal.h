/*
 * sqlite_queue_internal: the synchronous SQL of the SQLite queue
 * (sqlite_queue_sql.c) for the transport ops of sqlite_queue.c.
 * Thread:  any; each call locks the state.
 * Memory:  claimed messages belong to the caller (queue_message_free).
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_QUEUE_INTERNAL_H
#define ALCHEMISER_LOCAL_SQLITE_QUEUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct queue_message;
struct sqlite_state;

struct sqlite_queue_conf {
	char		*queue;
	char		*dlq;
	unsigned	 max_receive_count;
};

enum queue_apply {
	QUEUE_APPLY_DELETE,
	QUEUE_APPLY_VISIBILITY,
	QUEUE_APPLY_PARK,
	QUEUE_APPLY_WAIT,	/* held in place, waiting (transport mark_waiting) */
	QUEUE_APPLY_RUN,	/* running again */
	_QUEUE_APPLY_MAX
};

/* Receive up to max messages into msgs (room for max), hiding them for
 * visibility_usec; parks the exhausted ones first. locked_check: look under
 * the write lock even when a plain read sees nothing (after a doorbell: the
 * writer's COMMIT may not be visible before its lock is released). */
int	sqlite_queue_claim(struct sqlite_state *st, const struct sqlite_queue_conf *c,
	    unsigned max, int64_t visibility_usec, bool locked_check, struct queue_message **msgs,
	    size_t *n, struct errctx *ec);
/* When the earliest message of queue (in flight or delayed) becomes visible
 * (state clock, usec); 0 when the queue is empty. */
int	sqlite_queue_next_visible(struct sqlite_state *st, const char *queue, int64_t *ret,
	    struct errctx *ec);
/* Make visible now the messages this queue's receivers hold whose receiver
 * (the owner in their receipt, core/owner.h) is provably dead, giving back
 * the receive the dead one spent (at most 2 x max_receive_count times per
 * message: attribute alchemiser.crash_refunds; without limit when it was
 * waiting, alchemiser.waiting); returns how many, or < 0. */
int	sqlite_queue_recover_dead(struct sqlite_state *st, const struct sqlite_queue_conf *c,
	    struct errctx *ec);
/* Delete, change visibility (timeouts[i]; 0 also gives back the receive of
 * a waiting message), mark waiting or running, or park (reason) by receipt;
 * results[i] = 0, -ENOENT (stale or unknown receipt) or -EINVAL. */
int	sqlite_queue_apply(struct sqlite_state *st, const struct sqlite_queue_conf *c,
	    enum queue_apply op, const char *const *receipts, const int64_t *timeouts, size_t n,
	    const char *reason, int *results, struct errctx *ec);

#endif
