/*
 * storm_store: the storm guard's pending summaries, kept in the idempotency
 * store so a restart (kill -9 included) does not lose the runs a summary mail
 * must name (issue #17). Only the idem_store seam's existing claim, complete
 * and lookup are used, so it works the same on SQLite and DynamoDB:
 *   storm-listed:<minute>:<n>  n = 1, 2, ...: one suppressed run of the
 *                              summary of <minute> (epoch minutes); its
 *                              correlation_id field holds "<run> <line>"
 *                              (cut to the field's 127 bytes). The slots
 *                              are taken in order by conditional claims, so
 *                              they have no gaps and are read until the
 *                              first absent one.
 *   storm-run:<run>            the run is listed: its correlation_id field
 *                              holds "<minute> bearer" (its handler sends the
 *                              summary of <minute>) or "<minute> listed".
 * Records are completed at once and kept for the dedup window.
 * Thread:  any worker thread (the store is thread-safe).
 * Memory:  arguments borrowed; storm_store_list() output is the caller's.
 */
#ifndef ALCHEMISER_STAGES_STORM_STORE_H
#define ALCHEMISER_STAGES_STORM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct idem_store;

/* Record that run (one line "(step: reason)") is listed in the summary of
 * minute; bearer: its handler sends that summary. The slot first, then the
 * run's mark: a crash between the two lists the run twice at worst (the
 * summary drops the copy), never not at all. */
int	storm_store_note(struct idem_store *s, int64_t minute, const char *run, const char *line,
	    bool bearer, const char *owner, int64_t now_usec, int64_t retention_usec,
	    struct errctx *ec);
/* Whether run was listed: 0 with *minute and *bearer, -ENOENT if not. */
int	storm_store_find(struct idem_store *s, const char *run, int64_t now_usec, int64_t *minute,
	    bool *bearer, struct errctx *ec);
/* The lines "<run> <line>" listed for minute, in slot order: *lines is an
 * array of *n strings (free each and the array; NULL when *n is 0). */
int	storm_store_list(struct idem_store *s, int64_t minute, int64_t now_usec, char ***lines,
	    size_t *n, struct errctx *ec);

#endif
