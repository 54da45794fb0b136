/* AWS JSON request bodies written directly: see include/alchemiser/aws/reqbuf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/reqbuf.h"
#include "alchemiser/core/xalloc.h"

static void
reserve(struct reqbuf *b, size_t more)
{
	size_t cap;

	if (b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 512;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->buf = xreallocarray(b->buf, cap, 1);
	b->cap = cap;
}

static void
put(struct reqbuf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
reqbuf_raw(struct reqbuf *b, const char *text)
{
	put(b, text, strlen(text));
}

void
reqbuf_str(struct reqbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	const unsigned char *run = p;

	put(b, "\"", 1);
	for (; *p != '\0'; p++) {
		char esc[7];
		size_t n;

		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		/* Copy the plain run before it in one go. */
		put(b, (const char *)run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '"':	memcpy(esc, "\\\"", 2); n = 2; break;
		case '\\':	memcpy(esc, "\\\\", 2); n = 2; break;
		case '\n':	memcpy(esc, "\\n", 2); n = 2; break;
		case '\r':	memcpy(esc, "\\r", 2); n = 2; break;
		case '\t':	memcpy(esc, "\\t", 2); n = 2; break;
		case '\b':	memcpy(esc, "\\b", 2); n = 2; break;
		case '\f':	memcpy(esc, "\\f", 2); n = 2; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
			break;
		}
		put(b, esc, n);
	}
	put(b, (const char *)run, (size_t)(p - run));
	put(b, "\"", 1);
}

void
reqbuf_int(struct reqbuf *b, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%lld", (long long)v);

	put(b, num, (size_t)n);
}

char *
reqbuf_take(struct reqbuf *b, size_t *len)
{
	char *out;

	reserve(b, 0);
	b->buf[b->len] = '\0';
	out = b->buf;
	if (len != NULL)
		*len = b->len;
	b->buf = NULL;
	b->len = b->cap = 0;
	return out;
}

void
reqbuf_free(struct reqbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}
