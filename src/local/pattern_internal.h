/*
 * pattern_internal: string helpers of the pattern matcher (pattern_text.c),
 * private to src/local.
 * Thread:  pure functions once pattern_fold_init() ran; any thread.
 * Memory:  folded code points and wildcards are owned by the caller.
 */
#ifndef ALCHEMISER_LOCAL_PATTERN_INTERNAL_H
#define ALCHEMISER_LOCAL_PATTERN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct folded {
	uint32_t	*cp;	/* lower-cased code points (free()) */
	size_t		 n;
};

struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	unsigned	 bits;
};

struct wildcard;

/* Load the C.UTF-8 locale used for case folding (idempotent, thread-safe). */
void	pattern_fold_init(void);
/* Decode UTF-8 (invalid bytes pass through as themselves) and lower-case it. */
void	pattern_fold(const char *s, size_t len, struct folded *ret);

/* NULL with a reason in why when the wildcard is invalid (**, bad escape). */
struct wildcard *pattern_wildcard_compile(const char *s, size_t len, char *why, size_t why_len);
bool	pattern_wildcard_match(const struct wildcard *w, const char *s, size_t len);
void	pattern_wildcard_free(struct wildcard *w);

/* "10.0.0.0/24", "2001:db8::/32" or a bare address (a full-length prefix). */
int	pattern_cidr_parse(const char *s, struct cidr *ret);
bool	pattern_cidr_match(const struct cidr *c, const char *ip);

#endif
