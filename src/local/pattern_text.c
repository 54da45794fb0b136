/*
 * pattern_text: the string side of event patterns: Unicode case folding for
 * equals-ignore-case, wildcard globs and CIDR prefixes.
 */
#include <arpa/inet.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "alchemiser/core/xalloc.h"
#include "pattern_internal.h"

struct wildcard {
	char	**segs;		/* literal runs between stars, unescaped */
	size_t	 *lens;
	size_t	  n_segs;	/* number of stars + 1 */
};

static pthread_once_t fold_once = PTHREAD_ONCE_INIT;
static locale_t fold_locale;

static void
fold_load(void)
{
	/* The daemon never calls setlocale(); a private locale object keeps the
	 * folding independent of the process locale. */
	fold_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

void
pattern_fold_init(void)
{
	(void)pthread_once(&fold_once, fold_load);
}

static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t c = s[*i];
	size_t need, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
	/* A stray or truncated sequence stands for itself (jansson gives valid UTF-8). */
	if (need == 0 || *i + need >= len) {
		(*i)++;
		return c;
	}
	c &= 0x3f >> need;
	for (k = 1; k <= need; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return s[*i - 1];
		}
		c = (c << 6) | (s[*i + k] & 0x3f);
	}
	*i += need + 1;
	return c;
}

void
pattern_fold(const char *s, size_t len, struct folded *ret)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	uint32_t c;

	ret->cp = xreallocarray(NULL, len + 1, sizeof *ret->cp);
	ret->n = 0;
	while (i < len) {
		c = utf8_next(u, len, &i);
		if (c < 0x80)
			c = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
		else if (fold_locale != (locale_t)0)
			c = (uint32_t)towlower_l((wint_t)c, fold_locale);
		ret->cp[ret->n++] = c;
	}
}

struct wildcard *
pattern_wildcard_compile(const char *s, size_t len, char *why, size_t why_len)
{
	struct wildcard *w = xcalloc(1, sizeof *w);
	char *cur = xmalloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '*') {
			if (i < len && i + 1 < len && s[i + 1] == '*') {
				(void)snprintf(why, why_len, "consecutive '*' at offset %zu", i);
				goto fail;
			}
			w->segs = xreallocarray(w->segs, w->n_segs + 1, sizeof *w->segs);
			w->lens = xreallocarray(w->lens, w->n_segs + 1, sizeof *w->lens);
			w->segs[w->n_segs] = xstrndup(cur, n);
			w->lens[w->n_segs++] = n;
			n = 0;
			continue;
		}
		if (s[i] == '\\') {
			if (i + 1 >= len || (s[i + 1] != '*' && s[i + 1] != '\\')) {
				(void)snprintf(why, why_len,
				    "'\\' at offset %zu must escape '*' or '\\'", i);
				goto fail;
			}
			i++;
		}
		cur[n++] = s[i];
	}
	free(cur);
	return w;
fail:
	free(cur);
	pattern_wildcard_free(w);
	return NULL;
}

/* With only '*' as a metacharacter, matching the first run as a prefix, the
 * last as a suffix and each middle run at its leftmost place is exact. */
bool
pattern_wildcard_match(const struct wildcard *w, const char *s, size_t len)
{
	size_t pos, end, k, last = w->n_segs - 1;
	const char *hit;

	if (w->n_segs == 1)
		return len == w->lens[0] && memcmp(s, w->segs[0], len) == 0;
	if (len < w->lens[0] || memcmp(s, w->segs[0], w->lens[0]) != 0)
		return false;
	pos = w->lens[0];
	if (len - pos < w->lens[last] || memcmp(s + len - w->lens[last], w->segs[last], w->lens[last]) != 0)
		return false;
	end = len - w->lens[last];
	for (k = 1; k < last; k++) {
		if (w->lens[k] == 0)
			continue;
		hit = end > pos ? memmem(s + pos, end - pos, w->segs[k], w->lens[k]) : NULL;
		if (hit == NULL)
			return false;
		pos = (size_t)(hit - s) + w->lens[k];
	}
	return true;
}

void
pattern_wildcard_free(struct wildcard *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n_segs; i++)
		free(w->segs[i]);
	free(w->segs);
	free(w->lens);
	free(w);
}

int
pattern_cidr_parse(const char *s, struct cidr *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	char *endp;
	unsigned long bits;
	unsigned max;

	memset(ret, 0, sizeof *ret);
	if (alen == 0 || alen >= sizeof buf)
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		return -1;
	max = ret->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		ret->bits = max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -1;
	bits = strtoul(slash + 1, &endp, 10);
	if (*endp != '\0' || bits > max)
		return -1;
	ret->bits = (unsigned)bits;
	return 0;
}

bool
pattern_cidr_match(const struct cidr *c, const char *ip)
{
	uint8_t a[16];
	unsigned full = c->bits / 8, rest = c->bits % 8;
	uint8_t mask;

	if (inet_pton(c->family, ip, a) != 1)
		return false;
	if (memcmp(a, c->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (c->addr[full] & mask);
}
