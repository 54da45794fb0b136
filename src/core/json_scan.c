/*
 * The grammar here is json_parse_plain's (core/json.c), step for step, so
 * that the two accept the same texts: the router relies on "scanned" to
 * mean "json_parse_plain gives jansson's tree of it". The differential
 * tests (tests/unit/core/test_json.c, tests/fuzz/fuzz_router.c) hold the
 * two to that.
 */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/xalloc.h"

/* The cursor of one scan. */
struct cursor {
	struct json_scan	*s;
	const char		*p, *end;
	size_t			 depth, max_depth;
};

static bool scan_value(struct cursor *c);

static void
scan_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

/* The same table as json.c's plain_byte: printable ASCII and DEL but the
 * quote and the backslash. */
static const bool scan_byte[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7f] = true,
};

/* A new token at the cursor; its index. */
static size_t
push(struct cursor *c, enum json_tok_type type, const char *at, size_t len)
{
	struct json_scan *s = c->s;
	struct json_tok *t;

	if (s->n == s->cap) {
		size_t cap = s->cap * 2;

		if (s->tok == s->inline_tok) {
			s->tok = xreallocarray(NULL, cap, sizeof *s->tok);
			memcpy(s->tok, s->inline_tok, s->n * sizeof *s->tok);
		} else
			s->tok = xreallocarray(s->tok, cap, sizeof *s->tok);
		s->cap = cap;
	}
	t = &s->tok[s->n];
	t->off = (uint32_t)(at - s->text);
	t->len = (uint32_t)len;
	t->type = (uint8_t)type;
	t->next = (uint32_t)(s->n + 1);
	return s->n++;
}

/* At the opening quote. */
static bool
scan_string(struct cursor *c)
{
	const char *q = c->p + 1;

	while (q < c->end && scan_byte[(unsigned char)*q])
		q++;
	if (q == c->end || *q != '"')
		return false;
	push(c, JSON_TOK_STRING, c->p + 1, (size_t)(q - (c->p + 1)));
	c->p = q + 1;
	return true;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
scan_integer(struct cursor *c)
{
	const char *q = c->p;
	int digits = 0;

	if (*q == '-')
		q++;
	if (q == c->end || !is_digit(*q))
		return false;
	if (*q == '0')
		q++;
	else
		for (; q < c->end && is_digit(*q); q++)
			if (++digits > 18)
				return false;
	if (q < c->end && (*q == '.' || *q == 'e' || *q == 'E' || is_digit(*q)))
		return false;
	push(c, JSON_TOK_INTEGER, c->p, (size_t)(q - c->p));
	c->p = q;
	return true;
}

static bool
scan_literal(struct cursor *c, const char *word, size_t n, enum json_tok_type type)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return false;
	push(c, type, c->p, n);
	c->p += n;
	return true;
}

/* After a member or element: 1 at a ',' (and the blanks after it), 0 at
 * the closing bracket, -1 at anything else (json.c's plain_next). */
static int
scan_next(struct cursor *c, char close)
{
	scan_ws(c);
	if (c->p < c->end && (*c->p == ',' || *c->p == close)) {
		bool more = *c->p++ == ',';

		if (more)
			scan_ws(c);
		return more ? 1 : 0;
	}
	return -1;
}

/* Whether the key token k equals an earlier key of the object at obj
 * (jansson refuses duplicates: the plain parser declines them). */
static bool
duplicate_key(const struct json_scan *s, size_t obj, size_t k)
{
	const struct json_tok *nk = &s->tok[k];
	size_t i;

	for (i = obj + 1; i < k; i = s->tok[i + 1].next)
		if (s->tok[i].len == nk->len &&
		    memcmp(s->text + s->tok[i].off, s->text + nk->off, nk->len) == 0)
			return true;
	return false;
}

static bool
scan_object(struct cursor *c, size_t obj)
{
	size_t members = 0, k;
	int r;

	c->p++;
	scan_ws(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return true;
	}
	for (;;) {
		if (c->p == c->end || *c->p != '"')
			return false;
		k = c->s->n;
		if (!scan_string(c))
			return false;
		if (++members > JSON_SCAN_MAX_MEMBERS || duplicate_key(c->s, obj, k))
			return false;
		scan_ws(c);
		if (c->p == c->end || *c->p != ':')
			return false;
		c->p++;
		scan_ws(c);
		if (!scan_value(c))
			return false;
		r = scan_next(c, '}');
		if (r < 0)
			return false;
		if (r == 0)
			return true;
	}
}

static bool
scan_array(struct cursor *c)
{
	int r;

	c->p++;
	scan_ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(c))
			return false;
		r = scan_next(c, ']');
		if (r < 0)
			return false;
		if (r == 0)
			return true;
	}
}

static bool
scan_value(struct cursor *c)
{
	const char *start = c->p;
	size_t i;
	bool ok;

	if (c->p == c->end)
		return false;
	switch (*c->p) {
	case '{':
	case '[':
		/* Bounded recursion: the caller's limit, and never past ours. */
		if (++c->depth > c->max_depth)
			return false;
		i = push(c, *c->p == '{' ? JSON_TOK_OBJECT : JSON_TOK_ARRAY, start, 0);
		ok = *c->p == '{' ? scan_object(c, i) : scan_array(c);
		c->depth--;
		if (!ok)
			return false;
		c->s->tok[i].len = (uint32_t)(c->p - start);
		c->s->tok[i].next = (uint32_t)c->s->n;
		return true;
	case '"':
		return scan_string(c);
	case 't':
		return scan_literal(c, "true", 4, JSON_TOK_TRUE);
	case 'f':
		return scan_literal(c, "false", 5, JSON_TOK_FALSE);
	case 'n':
		return scan_literal(c, "null", 4, JSON_TOK_NULL);
	default:
		return scan_integer(c);
	}
}

int
json_scan(struct json_scan *s, const char *text, size_t len, size_t max_depth)
{
	struct cursor c = { .s = s, .p = text, .end = text + len,
	    .max_depth = max_depth < JSON_MAX_DEPTH ? max_depth : JSON_MAX_DEPTH };

	s->text = text;
	s->tok = s->inline_tok;
	s->n = 0;
	s->cap = JSON_SCAN_INLINE;
	/* Offsets are 32-bit; bodies are far smaller (JSON_MAX_BODY). */
	if (len >= UINT32_MAX)
		return -1;
	scan_ws(&c);
	if (!scan_value(&c))
		return -1;
	scan_ws(&c);
	return c.p == c.end ? 0 : -1;
}

void
json_scan_release(struct json_scan *s)
{
	if (s->tok != s->inline_tok)
		free(s->tok);
	s->tok = s->inline_tok;
	s->n = 0;
}

long
json_tok_member(const struct json_tok *tok, const char *text, long obj, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (obj < 0 || tok[obj].type != JSON_TOK_OBJECT)
		return -1;
	for (i = (uint32_t)obj + 1; i < tok[obj].next; i = tok[i + 1].next)
		if (tok[i].len == klen && memcmp(text + tok[i].off, key, klen) == 0)
			return (long)i + 1;
	return -1;
}

bool
json_tok_str_eq(const struct json_tok *tok, const char *text, const char *s)
{
	size_t n = strlen(s);

	return tok->type == JSON_TOK_STRING && tok->len == n && memcmp(text + tok->off, s, n) == 0;
}

int64_t
json_tok_integer(const struct json_tok *tok, const char *text)
{
	const char *p = text + tok->off, *end = p + tok->len;
	bool neg = *p == '-';
	int64_t v = 0;

	for (p += neg; p < end; p++)
		v = v * 10 + (*p - '0');
	return neg ? -v : v;
}
