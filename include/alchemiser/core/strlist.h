/*
 * strlist: membership in a '|'-separated list of words ("trade|bot"), as the
 * config table's enum choices and the command schema write them.
 * Thread: pure, any thread. Memory: nothing allocated.
 */
#ifndef ALCHEMISER_CORE_STRLIST_H
#define ALCHEMISER_CORE_STRLIST_H

#include <stdbool.h>

/* True when v is one of the words of list (exact, case-sensitive). */
bool	strlist_has(const char *list, const char *v);

#endif
