/*
 * dynamodb_runs: the dashboard's run records and parked-message records on
 * AWS, in a DynamoDB table shaped like the idempotency table (partition key
 * event_id S, TTL on expires_at N), which may be that very table: the keys
 * below never collide with an event id (docs/architecture.md, "Run records").
 *   run#CORR          one run: correlation_id, started_usec (first event),
 *                     last_usec, finished_usec and outcome ("success" |
 *                     "failure", from WorkflowCompleted / WorkflowFailed),
 *                     steps [{t, type, id}] and events [{t, type, id,
 *                     detail}] (list_append: concurrent writers of one run
 *                     never overwrite each other; a read keeps each event
 *                     id once, as a retried publish appends it again).
 *   runs#day#DATE     the string set of correlation ids that published an
 *                     event that UTC day (ADD: atomic, idempotent).
 *   dead#MSGID        a message a daemon parked: reason, receive_count,
 *                     parked_usec, body (at most 16 KiB kept).
 *   dead#day#DATE     the string set of message ids parked that UTC day.
 * Every item gets expires_at = now + retention. Reads look back 31 days.
 *   record   UpdateItem run#, UpdateItem runs#day#.
 *   list     BatchGetItem of the day items (newest first, until max runs),
 *            then of the runs; the shape of sqlite_runs_list (a step is the
 *            time from the previous event to this one).
 *   events   GetItem run# (consistent): the shape of sqlite_runs_events.
 *   park / parked / unpark   the dead# records (unpark NULL: all of them).
 * Thread:  any, concurrently (blocking calls on one aws_client).
 * Memory:  options copied; creds borrowed; returned JSON is the caller's.
 */
#ifndef ALCHEMISER_AWS_DYNAMODB_RUNS_H
#define ALCHEMISER_AWS_DYNAMODB_RUNS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct aws_credentials;
struct dynamodb_runs;
struct errctx;

#define DYNAMODB_RUNS_LOOKBACK_DAYS	31
#define DYNAMODB_RUNS_BODY_MAX		16384

struct dynamodb_runs_options {
	const char	*region;		/* required */
	const char	*endpoint;		/* NULL = the regional endpoint */
	const char	*table_name;		/* required */
	int64_t		 connect_timeout_usec;
	int64_t		 timeout_usec;
	unsigned	 max_attempts;
	const char	*ca_file;
	int64_t		 retention_usec;	/* 0 = 90 days */
};

int	dynamodb_runs_new(const struct dynamodb_runs_options *o, struct aws_credentials *creds,
	    struct dynamodb_runs **ret, struct errctx *ec);
void	dynamodb_runs_free(struct dynamodb_runs *r);

/* One published event (detail: JSON text). 0 without a correlation_id
 * (nothing to record). */
int	dynamodb_runs_record(struct dynamodb_runs *r, const char *detail_type, const char *detail,
	    int64_t time_usec, struct errctx *ec);
int	dynamodb_runs_list(struct dynamodb_runs *r, int64_t now_usec, size_t max, json_t **ret,
	    struct errctx *ec);
int	dynamodb_runs_events(struct dynamodb_runs *r, const char *correlation_id, json_t **ret,
	    struct errctx *ec);

int	dynamodb_runs_park(struct dynamodb_runs *r, const char *message_id, const char *reason,
	    unsigned receive_count, const char *body, int64_t time_usec, struct errctx *ec);
/* Oldest first: [{message_id, receive_count, parked_usec, reason, body}]. */
int	dynamodb_runs_parked(struct dynamodb_runs *r, int64_t now_usec, size_t max, json_t **ret,
	    struct errctx *ec);
/* Forget the record of message_id (NULL: every record); *removed may be NULL. */
int	dynamodb_runs_unpark(struct dynamodb_runs *r, const char *message_id, int64_t now_usec,
	    size_t *removed, struct errctx *ec);

#endif
