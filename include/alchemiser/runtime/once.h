/*
 * once: what a --once process waits for, and its exit code. It follows the
 * runs (correlation ids) whose messages this process handled and learns from
 * each outcome whether the run ended: with its trading email sent (success),
 * with its error email sent (failed), or with a message parked (rejected).
 * A message retried without a known run is followed by its body until a later
 * delivery of that body ends it. Ending steps (notify, error-mail, completed,
 * pnl) handled alone do not make this process wait for a run it never moved.
 * Thread:  loop thread only.
 * Memory:  the tracker owns copies of everything it keeps; free with
 *          once_tracker_free() (NULL-safe).
 */
#ifndef ALCHEMISER_RUNTIME_ONCE_H
#define ALCHEMISER_RUNTIME_ONCE_H

#include <stdbool.h>
#include <stddef.h>

#include "alchemiser/router/outcome.h"

/* Exit codes of --once (documented in alchemiserd(8), EXIT STATUS). */
#define ONCE_EXIT_OK		0
#define ONCE_EXIT_RUN_FAILED	3	/* a run ended with WorkflowFailed (error email sent) */
#define ONCE_EXIT_REJECTED	4	/* a message was parked in the dead-letter queue */
#define ONCE_EXIT_TIMEOUT	5	/* a run did not end within daemon.once_timeout (or a stop) */

struct once_tracker;

struct once_observation {
	enum outcome	 outcome;
	const char	*handler;		/* stage name; NULL when the message did not route */
	const char	*correlation_id;	/* NULL when unknown */
	const char	*body;			/* the message body, for a retry without a run */
	size_t		 body_len;
};

struct once_tracker *once_tracker_new(void);
void	once_tracker_free(struct once_tracker *t);
/* One acted-on outcome (not a retry held in place). */
void	once_observe(struct once_tracker *t, const struct once_observation *o);
/* Runs (and run-less retried messages) that have not ended yet. */
size_t	once_unfinished(const struct once_tracker *t);
/* Up to max of their ids, ", "-separated, for the log (caller frees). */
char	*once_unfinished_list(const struct once_tracker *t, size_t max);
/* Counters for the final log line. */
void	once_counts(const struct once_tracker *t, size_t *succeeded, size_t *failed, size_t *rejected);
/* The exit code: TIMEOUT if anything is unfinished, else RUN_FAILED if a run
 * failed, else REJECTED if a message was parked, else OK. */
int	once_exit_code(const struct once_tracker *t);

#endif
