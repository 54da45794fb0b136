/* String -> index hash (see strindex.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "strindex.h"

static size_t	str_hash(const char *s);
static struct strindex_ent *slot(const struct strindex *x, const char *key);

static size_t
str_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

/* The slot holding key, or the empty slot it would take (cap > 0, never full). */
static struct strindex_ent *
slot(const struct strindex *x, const char *key)
{
	size_t i, mask = x->cap - 1;

	for (i = str_hash(key) & mask; x->e[i].key != NULL; i = (i + 1) & mask)
		if (strcmp(x->e[i].key, key) == 0)
			break;
	return &x->e[i];
}

bool
strindex_get(const struct strindex *x, const char *key, size_t *val)
{
	const struct strindex_ent *e;

	if (x->cap == 0)
		return false;
	e = slot(x, key);
	if (e->key == NULL)
		return false;
	*val = e->val;
	return true;
}

void
strindex_put(struct strindex *x, const char *key, size_t val)
{
	struct strindex_ent *e;

	/* Keep the load under one half so probes stay short. */
	if (2 * (x->n + 1) > x->cap) {
		struct strindex old = *x;
		size_t i;

		x->cap = old.cap ? 2 * old.cap : 64;
		x->e = xcalloc(x->cap, sizeof(*x->e));
		for (i = 0; i < old.cap; i++)
			if (old.e[i].key != NULL)
				*slot(x, old.e[i].key) = old.e[i];
		free(old.e);
	}
	e = slot(x, key);
	if (e->key == NULL)
		x->n++;
	e->key = key;
	e->val = val;
}

void
strindex_fini(struct strindex *x)
{
	free(x->e);
	memset(x, 0, sizeof(*x));
}
