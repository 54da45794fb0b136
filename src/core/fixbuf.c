#include <string.h>

#include "alchemiser/core/fixbuf.h"

void
fixbuf_init(struct fixbuf *tb, char *buf, size_t size)
{
	tb->buf = buf;
	tb->size = size;
	tb->len = 0;
	tb->cut = false;
	buf[0] = '\0';
}

void
fixbuf_catn(struct fixbuf *tb, const char *s, size_t n)
{
	size_t room = tb->size - 1 - tb->len;

	if (n > room) {
		n = room;
		tb->cut = true;
	}
	memcpy(tb->buf + tb->len, s, n);
	tb->len += n;
	tb->buf[tb->len] = '\0';
}

void
fixbuf_cat(struct fixbuf *tb, const char *s)
{
	if (s != NULL)
		fixbuf_catn(tb, s, strlen(s));
}

void
fixbuf_u64(struct fixbuf *tb, uint64_t v)
{
	char digits[20];
	size_t n = sizeof digits;

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	fixbuf_catn(tb, digits + n, sizeof digits - n);
}

void
fixbuf_i64(struct fixbuf *tb, int64_t v)
{
	if (v < 0) {
		fixbuf_catn(tb, "-", 1);
		/* -(v + 1) + 1: INT64_MIN has no positive int64_t. */
		fixbuf_u64(tb, (uint64_t)-(v + 1) + 1);
	} else
		fixbuf_u64(tb, (uint64_t)v);
}
