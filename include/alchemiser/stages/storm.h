/*
 * storm: the storm guard of error notifications: at most N per minute per
 * process, so a failure loop cannot flood the trader's inbox.
 * Thread: any (mutex inside). Memory: storm_guard_new/free.
 */
#ifndef ALCHEMISER_STAGES_STORM_H
#define ALCHEMISER_STAGES_STORM_H

#include <stdbool.h>
#include <stdint.h>

struct storm_guard;

struct storm_guard *storm_guard_new(void);
/* True if one more is allowed in the minute of now_usec (and counts it). */
bool	storm_guard_allow(struct storm_guard *g, int64_t now_usec, int64_t limit_per_minute);
void	storm_guard_free(struct storm_guard *g);

#endif
