/*
 * runsource: the dashboard's source of run records and dead letters for the
 * backend that runs (dashboard.h's struct dashboard_source):
 *   local  the shared state file: local/sqlite_runs.h, the embedded DLQ;
 *          runsource_new wraps the bus so that, after a run's last event
 *          (WorkflowCompleted/WorkflowFailed), the archive queue is pruned
 *          (local.run_archive_age, local.run_archive_max; at most hourly);
 *   aws    with aws.runs_table set, aws/dynamodb_runs.h: runsource_new wraps
 *          the backends' bus so every published event is also recorded
 *          there (a failed record is a warning, never a failed step); the
 *          dead letters are the SQS DLQ's counts (GetQueueAttributes, which
 *          moves nothing) and the parkings the daemons recorded: SQS cannot
 *          show a message without receiving it, and a receive (even with
 *          visibility 0) adds to its receive count, so a page never does.
 * Thread:  new/free/parked on the loop thread, free after the workers stopped;
 *          the source's functions from any thread (page threads).
 * Memory:  owned by the caller (runsource_free); borrows the backends, which
 *          must outlive it.
 */
#ifndef ALCHEMISER_RUNTIME_RUNSOURCE_H
#define ALCHEMISER_RUNTIME_RUNSOURCE_H

#include <stddef.h>

#include <jansson.h>

struct backends;
struct config;
struct event_base;
struct dashboard_source;
struct errctx;
struct runsource;

/* base: the loop the park records are handed back to (their thread's done). */
int	runsource_new(const struct config *cfg, struct backends *b, struct event_base *base,
	    struct runsource **ret, struct errctx *ec);
const struct dashboard_source *runsource_get(const struct runsource *rs);
/* The daemon parked a message (loop thread): on AWS with aws.runs_table,
 * recorded by a background thread (never blocking the loop), for the page;
 * lost (a warning) when 16 records already wait or the daemon stops first. */
void	runsource_parked(struct runsource *rs, const char *message_id, const char *reason,
	    unsigned receive_count, const char *body);
/* The same, written now by the calling thread (blocking; any thread but the
 * loop's: the DLQ watcher's). 0 when there is nowhere to record it. */
int	runsource_park_now(struct runsource *rs, const char *message_id, const char *reason,
	    unsigned receive_count, const char *body, struct errctx *ec);
void	runsource_free(struct runsource *rs);
/* --dead-letters redrive moved message_id (NULL: all) back: forget the park
 * records (AWS with aws.runs_table; 0 and *removed 0 otherwise). Main thread. */
int	runsource_forget_parked(const struct config *cfg, struct backends *b,
	    const char *message_id, size_t *removed, struct errctx *ec);

/* --dead-letters: the park records (AWS with aws.runs_table), in
 * dynamodb_runs_parked's shape; *ret NULL and 0 otherwise. Main thread. */
int	runsource_list_parked(const struct config *cfg, struct backends *b, json_t **ret,
	    struct errctx *ec);

#endif
