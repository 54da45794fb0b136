/*
 * textbuf: a growable UTF-8 text buffer for building messages and reports, with
 * the HTML escaping every report uses wherever data goes into markup.
 * Thread:  any; a buffer belongs to one thread at a time.
 * Memory:  the buffer owns data until textbuf_take() hands it to the caller
 *          (free() it) or textbuf_clear() releases it. A zeroed struct is an
 *          empty buffer. Allocation cannot fail (xalloc).
 */
#ifndef ALCHEMISER_MAIL_TEXTBUF_H
#define ALCHEMISER_MAIL_TEXTBUF_H

#include <stddef.h>

struct textbuf {
	char	*data;		/* NUL-terminated once anything was appended */
	size_t	 len;
	size_t	 cap;
};

void	textbuf_append_len(struct textbuf *b, const char *s, size_t n);
/* s may be NULL (appends nothing). */
void	textbuf_append(struct textbuf *b, const char *s);
void	textbuf_append_char(struct textbuf *b, char c);
void	textbuf_printf(struct textbuf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s with & < > " ' replaced by entities (NULL appends nothing). */
void	textbuf_append_html(struct textbuf *b, const char *s);
/* The contents ("" when empty), owned by the caller; the buffer is left empty. */
char	*textbuf_take(struct textbuf *b, size_t *ret_len);
void	textbuf_clear(struct textbuf *b);

/* A new escaped copy of s (caller frees); "" for NULL. */
char	*textbuf_html_escape(const char *s);

#endif
