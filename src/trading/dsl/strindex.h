/*
 * strindex: a string -> index hash (open addressing, FNV-1a) so the set's
 * ticker union, its freshness lookup and consolidation are linear in the
 * number of tickers, not quadratic (100k tickers). Not installed.
 * Memory:  keys are borrowed (they must outlive the index); strindex_fini
 *          frees the table only.
 * Thread:  one owner.
 */
#ifndef ALCHEMISER_TRADING_DSL_STRINDEX_H
#define ALCHEMISER_TRADING_DSL_STRINDEX_H

#include <stdbool.h>
#include <stddef.h>

struct strindex_ent {
	const char	*key;		/* NULL: empty slot */
	size_t		 val;
};

struct strindex {
	struct strindex_ent *e;
	size_t		 n, cap;	/* cap: 0 or a power of two */
};

/* The value stored for key (true), or false. */
bool	strindex_get(const struct strindex *x, const char *key, size_t *val);
/* Store val for key (replacing a previous value). */
void	strindex_put(struct strindex *x, const char *key, size_t val);
void	strindex_fini(struct strindex *x);

#endif
