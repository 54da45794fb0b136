/*
 * metrics: the daemon's counters and gauges, rendered in the Prometheus text
 * exposition format (version 0.0.4) for GET /metrics. Names follow the
 * Prometheus conventions: prefix alchemiserd_, base units (_seconds), _total
 * on counters. Cardinality is bounded by the code, never by message content:
 * handler labels are the router's stage names (at most METRICS_HANDLERS, the
 * rest count as "other"), outcomes and dependencies are fixed lists.
 * Updated at the few outcome points of the loop and the pipeline.
 * Thread:  every function on any thread (one mutex; updates are per message).
 * Memory:  metrics_new() returns an object the caller frees with metrics_free();
 *          metrics_render() returns text the caller frees.
 */
#ifndef ALCHEMISER_RUNTIME_METRICS_H
#define ALCHEMISER_RUNTIME_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/router/outcome.h"

#define METRICS_HANDLERS 24

/* What a retry in place waited for. */
enum metrics_dependency {
	METRICS_DEP_QUEUE,		/* receive from SQS / the embedded queue */
	METRICS_DEP_IDEMPOTENCY,	/* claim in DynamoDB / the state file */
	METRICS_DEP_BUS,		/* publish to EventBridge / the embedded bus */
	METRICS_DEP_HANDLER,		/* the stage's broker, market data or mail server */
	_METRICS_DEP_MAX
};

struct metrics;

struct metrics *metrics_new(void);
void	metrics_free(struct metrics *m);

void	metrics_received(struct metrics *m, size_t n);
/* One outcome acted on (handler NULL = not routed); duration_ms < 0 = unknown. */
void	metrics_outcome(struct metrics *m, const char *handler, enum outcome o, int64_t duration_ms);
/* A dependency failed (counted; down from now) or worked (up again). */
void	metrics_dependency(struct metrics *m, enum metrics_dependency d, bool ok, int64_t now_usec);
/* A trading run ended: WorkflowCompleted (success) or WorkflowFailed handled. */
/* A run ended (its last stage done); correlation_id NULL = unknown. */
void	metrics_run_finished(struct metrics *m, const char *correlation_id, bool success,
	    int64_t now_usec);
/* Orders of one run, from its TradeExecuted event. */
void	metrics_orders(struct metrics *m, uint64_t placed, uint64_t filled, uint64_t refused);
/* The broker account after a run. */
void	metrics_account(struct metrics *m, struct decimal equity, struct decimal cash);

/* The exposition text; in_flight is the loop's count right now. */
char	*metrics_render(struct metrics *m, unsigned in_flight, size_t *ret_len);

/* For the dashboard's status page. */
struct metrics_summary {
	uint64_t	received;
	uint64_t	outcomes[_OUTCOME_MAX];
	bool		dependency_up[_METRICS_DEP_MAX];
	int64_t		down_since_usec[_METRICS_DEP_MAX];	/* 0 when up */
	int64_t		last_success_usec, last_failure_usec;	/* 0 = none yet */
	char		last_run[128];		/* the run that ended last, "" = none yet */
	bool		last_run_success;
	bool		have_account;
	double		equity, cash;
};
void	metrics_summary(struct metrics *m, struct metrics_summary *ret);
const char *metrics_dependency_to_string(enum metrics_dependency d);

#endif
