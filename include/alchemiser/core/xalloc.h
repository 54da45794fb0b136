/*
 * xalloc: allocation that cannot fail. On out-of-memory it writes one line to
 * stderr and aborts: messages are at-least-once and claims are idempotent, so a
 * crash loses nothing and the supervisor restarts us, while every call site stays
 * free of branches that cannot happen. Sizes that come from input must be
 * bounded by the caller before they get here.
 * Thread:  any.
 * Memory:  the caller owns every returned pointer and frees it with free().
 */
#ifndef ALCHEMISER_CORE_XALLOC_H
#define ALCHEMISER_CORE_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* xstrdup() that passes NULL through. */
char	*xstrdup_or_null(const char *s);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Scope-bound cleanup for locals; never let ownership cross a callback this way. */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)
/* Hand a cleanup-owned pointer out of scope. */
#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
