/*
 * json: helpers over jansson that every layer shares: bounded parsing, typed
 * field access that says which field is wrong, canonical (byte-stable) output.
 * Thread:  any (jansson values are not shared between threads unless frozen).
 * Memory:  json_t references follow jansson's rules; "borrowed" means valid
 *          while the parent lives. Returned char * are owned by the caller.
 */
#ifndef ALCHEMISER_CORE_JSON_H
#define ALCHEMISER_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct errctx;
struct decimal;

#define JSON_MAX_BODY   (1024 * 1024)	/* bytes */
#define JSON_MAX_DEPTH  64

/* Parse text of len bytes. Refuses (with the reason) text over max_len bytes
 * (-E2BIG), invalid UTF-8 (-EBADMSG), nesting deeper than max_depth (-E2BIG)
 * and malformed JSON (-EBADMSG, with line:column). */
int	json_parse_bounded(const char *text, size_t len, size_t max_len, size_t max_depth,
	    json_t **ret, struct errctx *ec);

/* The fast path of json_parse_bounded (see json.c for why): the value of
 * text when it is "plain" (ASCII strings without escapes, integers of at
 * most 18 digits, true/false/null, objects without duplicate keys, arrays,
 * nesting within max_depth and JSON_MAX_DEPTH), equal to jansson's; NULL
 * when it declines, which says nothing about validity (ask
 * json_parse_bounded). Exported for its differential tests. */
json_t	*json_parse_plain(const char *text, size_t len, size_t max_depth);

/* Canonical compact text with sorted keys; identical input gives identical bytes. */
char	*json_dump_canonical(const json_t *v);

/* The shortest "%.Ng" form of the double v that reads back as exactly v
 * (0.06, not 0.059999999999999998); buf holds JSON_NUM_BUF bytes. */
#define JSON_NUM_BUF 32
char	*json_format_real(double v, char *buf);
/* json_dumps(v, flags) with every real written by json_format_real (a real
 * stays a real: 1.0, not 1); NULL as json_dumps. Caller frees. */
char	*json_dumps_shortest(const json_t *v, size_t flags);

/* Borrowed string member, NULL if absent or not a string. */
const char *json_get_str(const json_t *obj, const char *key);

/* Typed required/optional getters. "Optional" accepts absence and null
 * (leaving *ret untouched and returning 0). Errors name the field:
 * "field 'x': expected string, got number". prefix (may be NULL) is prepended
 * to the field path, e.g. "detail". */
int	json_req_str(const json_t *obj, const char *key, const char *prefix,
	    const char **ret, struct errctx *ec);
int	json_opt_str(const json_t *obj, const char *key, const char *prefix,
	    const char **ret, struct errctx *ec);
int	json_req_bool(const json_t *obj, const char *key, const char *prefix,
	    bool *ret, struct errctx *ec);
int	json_opt_bool(const json_t *obj, const char *key, const char *prefix,
	    bool *ret, struct errctx *ec);
int	json_req_int(const json_t *obj, const char *key, const char *prefix,
	    int64_t *ret, struct errctx *ec);
/* Decimal from a string ("12.50") or a JSON number. */
int	json_req_decimal(const json_t *obj, const char *key, const char *prefix,
	    struct decimal *ret, struct errctx *ec);
/* Set obj[key] to the canonical decimal string. */
void	json_set_decimal(json_t *obj, const char *key, struct decimal d);

/* Name of a JSON type for messages: "object", "array", "string", "number", ... */
const char *json_type_name(const json_t *v);

#endif
