/*
 * bus: the event bus seam (EventBridge PutEvents in production, the SQLite bus
 * with the same event-pattern rules in the embedded default).
 * Thread:  publish may be called from any worker thread concurrently; an
 *          implementation keeps its own per-thread connections or locks.
 * Memory:  entries belong to the caller; the bus fills in the result fields.
 */
#ifndef ALCHEMISER_SEAMS_BUS_H
#define ALCHEMISER_SEAMS_BUS_H

#include <stddef.h>

struct errctx;
struct bus;

#define BUS_MAX_BATCH 10
#define BUS_MAX_BATCH_BYTES (256 * 1024)

struct bus_entry {
	/* in */
	const char	*source;	/* "alchemiser.strategy" */
	const char	*detail_type;	/* "SignalGenerated" */
	const char	*detail;	/* the event as JSON text (object) */
	/* out */
	int		 result;	/* 0 published, negative errno failed */
	char		 error[160];	/* error code and message when failed */
};

struct bus_ops {
	const char *name;
	/* Publish n entries (any n: the bus splits batches). Returns 0 when every
	 * entry was accepted, -EAGAIN when some failed transiently (their result says
	 * which), another negative errno for a permanent failure. Only failed
	 * retryable entries are retried inside, with the retry policy. */
	int	(*publish)(struct bus *b, struct bus_entry *entries, size_t n, struct errctx *ec);
	int	(*preflight)(struct bus *b, struct errctx *ec);
	void	(*free)(struct bus *b);
};

struct bus {
	const struct bus_ops *ops;
};

#endif
