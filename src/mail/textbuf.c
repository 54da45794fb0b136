#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/textbuf.h"

static void	textbuf_reserve(struct textbuf *b, size_t extra);

/* Grow geometrically so appending a report line by line stays linear. */
static void
textbuf_reserve(struct textbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap = b->cap != 0 ? b->cap : 256;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
textbuf_append_len(struct textbuf *b, const char *s, size_t n)
{
	textbuf_reserve(b, n);
	if (n != 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
textbuf_append(struct textbuf *b, const char *s)
{
	if (s != NULL)
		textbuf_append_len(b, s, strlen(s));
}

void
textbuf_append_char(struct textbuf *b, char c)
{
	textbuf_append_len(b, &c, 1);
}

void
textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	textbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	(void) vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
textbuf_append_html(struct textbuf *b, const char *s)
{
	const char *p, *run;

	if (s == NULL)
		return;
	/* Copy runs of harmless bytes in one go; UTF-8 passes through untouched. */
	for (p = run = s; *p != '\0'; p++) {
		const char *ent;

		switch (*p) {
		case '&':  ent = "&amp;"; break;
		case '<':  ent = "&lt;"; break;
		case '>':  ent = "&gt;"; break;
		case '"':  ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:   continue;
		}
		textbuf_append_len(b, run, (size_t)(p - run));
		textbuf_append(b, ent);
		run = p + 1;
	}
	textbuf_append_len(b, run, (size_t)(p - run));
}

char *
textbuf_take(struct textbuf *b, size_t *ret_len)
{
	char *d;

	if (b->data == NULL)
		textbuf_append_len(b, "", 0);
	d = b->data;
	if (ret_len != NULL)
		*ret_len = b->len;
	*b = (struct textbuf){ 0 };
	return d;
}

void
textbuf_clear(struct textbuf *b)
{
	free(b->data);
	*b = (struct textbuf){ 0 };
}

char *
textbuf_html_escape(const char *s)
{
	struct textbuf b = { 0 };

	textbuf_append_html(&b, s);
	return textbuf_take(&b, NULL);
}
