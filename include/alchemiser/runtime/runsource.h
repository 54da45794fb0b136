/*
 * runsource: the dashboard's source of run records and dead letters for the
 * backend that runs (dashboard.h's struct dashboard_source):
 *   local  the shared state file: local/sqlite_runs.h, the embedded DLQ;
 *   aws    with aws.runs_table set, aws/dynamodb_runs.h: runsource_new wraps
 *          the backends' bus so every published event is also recorded
 *          there (a failed record is a warning, never a failed step); the
 *          dead letters are the SQS DLQ's counts (GetQueueAttributes, which
 *          moves nothing) and the parkings the daemons recorded.
 * Thread:  new/free on the main thread before the workers start and after
 *          they stopped; the source's functions from any thread (page threads).
 * Memory:  owned by the caller (runsource_free); borrows the backends, which
 *          must outlive it.
 */
#ifndef ALCHEMISER_RUNTIME_RUNSOURCE_H
#define ALCHEMISER_RUNTIME_RUNSOURCE_H

struct backends;
struct config;
struct dashboard_source;
struct errctx;
struct runsource;

int	runsource_new(const struct config *cfg, struct backends *b, struct runsource **ret,
	    struct errctx *ec);
const struct dashboard_source *runsource_get(const struct runsource *rs);
/* The daemon parked a message (loop thread): recorded for the page where the
 * queue itself cannot be read without receiving (SQS). Queued for a page
 * thread's turn by the caller; here it blocks. */
void	runsource_parked(struct runsource *rs, const char *message_id, const char *reason,
	    unsigned receive_count, const char *body);
void	runsource_free(struct runsource *rs);

#endif
