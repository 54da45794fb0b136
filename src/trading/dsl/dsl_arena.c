/* Bump allocator for AST nodes and evaluation values: one free for a whole
 * program or evaluation, and mark/reset so a simulated day's temporaries
 * vanish as soon as its holdings are copied out. */
#include <stdalign.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

#define CHUNK_MIN (64u * 1024)

/* dsl_arena_alloc (dsl_internal.h) when the newest chunk is full: a new
 * chunk for size bytes (already rounded). */
void *
dsl_arena_alloc_slow(struct dsl_arena *a, size_t size)
{
	size_t cs = size > CHUNK_MIN ? size : CHUNK_MIN;
	struct dsl_chunk *c = xmalloc(sizeof(*c) + cs);

	c->size = cs;
	c->used = size;
	c->next = a->head;
	a->head = c;
	a->total += cs;
	return c->data;
}

char *
dsl_arena_strndup(struct dsl_arena *a, const char *s, size_t n)
{
	char *d = dsl_arena_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
dsl_arena_mark(struct dsl_arena *a, struct dsl_arena_mark *m)
{
	m->chunk = a->head;
	m->used = a->head != NULL ? a->head->used : 0;
}

void
dsl_arena_reset(struct dsl_arena *a, const struct dsl_arena_mark *m)
{
	while (a->head != NULL && a->head != m->chunk) {
		struct dsl_chunk *c = a->head;

		a->head = c->next;
		a->total -= c->size;
		free(c);
	}
	if (a->head != NULL)
		a->head->used = m->used;
}

void
dsl_arena_free(struct dsl_arena *a)
{
	struct dsl_arena_mark m = { NULL, 0 };

	dsl_arena_reset(a, &m);
	a->total = 0;
}
