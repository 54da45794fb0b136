/*
 * sqlite_runs: the run records of the embedded backend, for the dashboard.
 * Where they live: every alchemiser.* event the bus publishes is also put on
 * the archive queue SQLITE_RUNS_QUEUE (rule SQLITE_RUNS_RULE), which no daemon
 * receives from; the idempotency records give each step's claim and
 * completion times. Both are in the shared state file, so every daemon using
 * it sees the same runs whichever one handled them.
 *   sqlite_runs_list    the most recent runs (by first claim), newest first:
 *                       [{correlation_id, started_usec, finished_usec,
 *                         outcome: "success"|"failure"|"running",
 *                         steps: [{detail_type, claimed_usec, completed_usec|null}]}]
 *   sqlite_runs_events  one run's archived events, oldest first:
 *                       [{detail_type, time_usec, detail: {...}}]
 *   sqlite_runs_prune   forget archived events older than a cutoff and all
 *                       but the newest keep_max (the archive queue is never
 *                       received from, so nothing else removes them).
 * Thread:  any (the state's mutex); list/events are read-only queries.
 * Memory:  the returned JSON is the caller's (json_decref).
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_RUNS_H
#define ALCHEMISER_LOCAL_SQLITE_RUNS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "alchemiser/local/sqlite_state.h"

struct errctx;

#define SQLITE_RUNS_QUEUE "alchemiser-runs"
#define SQLITE_RUNS_RULE "alchemiser-run-archive"

int	sqlite_runs_list(struct sqlite_state *st, size_t max, json_t **ret, struct errctx *ec);
int	sqlite_runs_events(struct sqlite_state *st, const char *correlation_id, json_t **ret,
	    struct errctx *ec);

/* Delete archived events sent before before_usec, then the oldest beyond
 * keep_max; *removed (may be NULL) how many went. */
int	sqlite_runs_prune(struct sqlite_state *st, int64_t before_usec, uint64_t keep_max,
	    uint64_t *removed, struct errctx *ec);

#endif
