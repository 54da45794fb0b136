/*
 * pattern: the EventBridge event-pattern language (the rules of the embedded
 * bus). A pattern is compiled once from JSON into an immutable matcher, then
 * matched against any number of events.
 *
 * Semantics (shared/reference/aws-eventbridge.md §5, aws/event-ruler):
 *   - every field named in the pattern must match (AND); a leaf is an array of
 *     conditions of which any may match (OR); fields not named are ignored;
 *   - an event array matches when any element matches; an array of objects is
 *     matched element by element, so fields of one sub-pattern must all match
 *     in the same array element (event-ruler's "array consistency");
 *   - plain values match exactly and by JSON type ("5" is not 5; 5 equals 5.0;
 *     null matches null; "" matches the empty string);
 *   - operators: prefix, suffix (both also {"equals-ignore-case": s}),
 *     equals-ignore-case, wildcard (* any run, \* and \\ escapes, no **),
 *     anything-but (value, list of strings or of numbers, or {prefix|suffix|
 *     equals-ignore-case|wildcard}), numeric ranges (=, <, <=, >, >=; JSON
 *     numbers only), cidr (IPv4 and IPv6), exists (leaf values only: an
 *     object or an empty array counts as absent), "$or" (array of >= 2
 *     patterns, at any level);
 *   - string operators apply to string values only; anything-but matches any
 *     present value that its inner condition does not match (so a number
 *     passes {"anything-but": {"prefix": "x"}}), never an absent field;
 *   - ignore-case comparisons fold Unicode simple case (towlower in C.UTF-8),
 *     ASCII only if that locale is missing.
 * Invalid patterns fail to compile with -EINVAL and the path of the problem:
 * "pattern 'detail.qty[0]': numeric: expected a number after '>'".
 *
 * Thread:  a compiled pattern is immutable: any thread may match with it
 *          concurrently. Compile and free from one thread.
 * Memory:  pattern_compile() returns a matcher owned by the caller (free with
 *          pattern_free); the JSON arguments are only borrowed.
 */
#ifndef ALCHEMISER_LOCAL_PATTERN_H
#define ALCHEMISER_LOCAL_PATTERN_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

struct errctx;
struct pattern;

/* Compile a pattern (a JSON object). */
int	pattern_compile(const json_t *pattern, struct pattern **ret, struct errctx *ec);
/* Compile from JSON text. */
int	pattern_compile_text(const char *text, struct pattern **ret, struct errctx *ec);
/* True when event (normally an envelope object) matches. */
bool	pattern_match(const struct pattern *p, const json_t *event);
void	pattern_free(struct pattern *p);

/* The TestEventPattern of the embedded bus, for a CLI hook: prints "true" or
 * "false" (or "error: <reason>") on out. Returns 0 on a match, 1 on no match,
 * 2 when the pattern or the event is invalid. */
int	pattern_cli_test(const char *pattern_json, const char *event_json, FILE *out);

#endif
