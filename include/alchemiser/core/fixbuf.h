#ifndef ALCHEMISER_CORE_FIXBUF_H
#define ALCHEMISER_CORE_FIXBUF_H

/*
 * fixbuf: text appended into a caller's fixed buffer, cut at its end (the
 * NUL always kept), with no format string. Why: on the path every message
 * takes (its outcome reason and log line), snprintf's format parsing cost
 * more than the text it wrote (issue #13). Anything with widths, precision
 * or floats stays with snprintf. (mail/textbuf.h is the growable kind.)
 * Thread:  any; a fixbuf is its caller's.
 * Memory:  none allocated: the caller owns buf.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fixbuf {
	char	*buf;
	size_t	 size;	/* of buf, > 0 */
	size_t	 len;	/* strlen(buf) */
	bool	 cut;	/* an append did not fit */
};

/* buf (size bytes, at least 1) becomes the empty text. */
void	fixbuf_init(struct fixbuf *tb, char *buf, size_t size);
/* Append s (NULL appends nothing), or n bytes of it. */
void	fixbuf_cat(struct fixbuf *tb, const char *s);
void	fixbuf_catn(struct fixbuf *tb, const char *s, size_t n);
/* Append v in decimal, as "%lld" / "%llu" would. */
void	fixbuf_i64(struct fixbuf *tb, int64_t v);
void	fixbuf_u64(struct fixbuf *tb, uint64_t v);

#endif
