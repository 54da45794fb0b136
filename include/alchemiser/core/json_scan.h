/*
 * json_scan: one pass over a JSON text in the plain subset of
 * json_parse_plain (core/json.h), recording where each value is (a flat
 * token array) instead of building jansson values. The router reads a
 * queue message's envelope and checks its detail on these tokens, and
 * builds the detail's jansson tree only when a handler asks for it
 * (issue #13: the trees were ~24k of the ~165k instructions a message).
 * It accepts exactly what json_parse_plain accepts, minus objects of more
 * than JSON_SCAN_MAX_MEMBERS members (the duplicate-key check compares each
 * key with the earlier ones of its object), so whatever it accepts
 * json_parse_plain parses to jansson's tree; on anything else it declines,
 * which says nothing about validity (the caller parses with jansson).
 * Thread:  any; a scan is used by one thread.
 * Memory:  a json_scan holds a few tokens inline and allocates beyond that;
 *          release with json_scan_release(). It borrows the text it scanned
 *          and must not be copied or moved (tok may point into it).
 */
#ifndef ALCHEMISER_CORE_JSON_SCAN_H
#define ALCHEMISER_CORE_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_SCAN_INLINE	48
#define JSON_SCAN_MAX_MEMBERS	64

enum json_tok_type {
	JSON_TOK_OBJECT,
	JSON_TOK_ARRAY,
	JSON_TOK_STRING,
	JSON_TOK_INTEGER,	/* -?(0|[1-9][0-9]*), at most 18 digits */
	JSON_TOK_TRUE,
	JSON_TOK_FALSE,
	JSON_TOK_NULL,
	_JSON_TOK_TYPE_MAX
};

/* One value, or one key (a JSON_TOK_STRING). An object's tokens follow it
 * as key, value, key, value...; an array's as its elements; next skips a
 * value with everything inside it. */
struct json_tok {
	uint32_t	off;	/* string: first byte after the quote; else first byte */
	uint32_t	len;	/* string: bytes between the quotes (nothing to decode);
				 * object/array: bracket to bracket; else the token's bytes */
	uint32_t	next;	/* index of the first token after this value */
	uint8_t		type;	/* enum json_tok_type */
};

struct json_scan {
	const char	*text;
	struct json_tok	*tok;
	size_t		 n, cap;
	struct json_tok	 inline_tok[JSON_SCAN_INLINE];
};

/* Scan text (len bytes, not NUL-terminated) with nesting within max_depth
 * and JSON_MAX_DEPTH: 0 with s->tok[0] the whole value, or -1 when it
 * declines (s is released either way by json_scan_release). */
int	json_scan(struct json_scan *s, const char *text, size_t len, size_t max_depth);
void	json_scan_release(struct json_scan *s);

/* The index of obj's member key (a NUL-terminated name), of the member's
 * value; -1 when absent or obj is not an object. Works on any token array
 * laid out as json_scan lays it out (text is what the offsets index). */
long	json_tok_member(const struct json_tok *tok, const char *text, long obj, const char *key);
/* tok is a string whose bytes equal the NUL-terminated s. */
bool	json_tok_str_eq(const struct json_tok *tok, const char *text, const char *s);
/* The value of an integer token (its digits are already checked). */
int64_t	json_tok_integer(const struct json_tok *tok, const char *text);

#endif
