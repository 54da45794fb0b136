/*
 * storm: the storm guard of error notifications, so a failure loop cannot
 * flood the trader's inbox, without losing any failed run (issue #17, B2):
 *   - per run first: a run mailed already (its error event id is derived from
 *     the correlation id, so it gets one mail anyway) is not counted again;
 *   - then at most N distinct runs per minute get their own error mail;
 *   - the runs over the limit are listed in one summary mail once their
 *     minute is over: the first suppressed run's handler is held until then
 *     (STORM_BEARER) and sends it (STORM_SUMMARY_DUE).
 * The verdicts live in this process; the errors stage keeps every listed run
 * and the bearer in the idempotency store too (stages/storm_store.h), so a
 * restart still sends the summary, naming every listed run once.
 * Thread: any (mutex inside). Memory: storm_guard_new/free; the summary
 * string belongs to the caller.
 */
#ifndef ALCHEMISER_STAGES_STORM_H
#define ALCHEMISER_STAGES_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct storm_guard;

enum storm_verdict {
	STORM_SEND,		/* first failure of the run, within the limit: mail it */
	STORM_REPEAT,		/* the run was mailed already: the same (deduplicated) mail */
	STORM_LISTED,		/* the run was listed in a summary already: nothing more */
	STORM_SUPPRESSED,	/* over the limit: listed in the minute's summary */
	STORM_BEARER,		/* over the limit and the first: hold until *wait_usec, then ask again */
	STORM_SUMMARY_DUE,	/* the bearer is back after its minute: send the summary now */
	_STORM_VERDICT_MAX
};

struct storm_guard *storm_guard_new(void);
/* One failure of run (its correlation id) at now_usec; line says what failed
 * (kept for the summary). wait_usec is set for STORM_BEARER; minute (the
 * summary's, epoch minutes) for STORM_SUPPRESSED, _BEARER and _SUMMARY_DUE. */
enum storm_verdict storm_guard_run(struct storm_guard *g, const char *run, const char *line,
	    int64_t now_usec, int64_t limit_per_minute, int64_t *wait_usec, int64_t *minute);
/* For STORM_SUMMARY_DUE: the suppressed runs of the bearer's minute, one
 * line each (caller frees), their count and the minute (epoch minutes);
 * forgets them. NULL if there is nothing. */
char	*storm_guard_take_summary(struct storm_guard *g, const char *run, size_t *n_runs,
	    int64_t *minute);
void	storm_guard_free(struct storm_guard *g);

#endif
