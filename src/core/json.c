#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"

/* The plain parser's cursor (json_parse_plain). */
struct plain {
	const char	*p, *end;
	size_t		 depth, max_depth;
};

static size_t utf8_invalid_at(const unsigned char *s, size_t len);
static int depth_exceeds(const char *text, size_t len, size_t max_depth);
static void field_path(char *buf, size_t size, const char *prefix, const char *key);
static json_t *plain_value(struct plain *pl);

/* Why: strict RFC 3629 check (no overlongs, no surrogates, nothing above
 * U+10FFFF, no raw NUL) so the reason says "invalid UTF-8" instead of a
 * generic parse error. Returns len when valid, else the offending offset. */
static size_t
utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return i;
		if (n >= len - i)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

/* Why: jansson's own depth limit is 2048 and compiled in; we refuse deeper than
 * max_depth before parsing so hostile input never recurses deeply. */
static int
depth_exceeds(const char *text, size_t len, size_t max_depth)
{
	size_t depth = 0, i;
	int in_string = 0;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"')
			in_string = 1;
		else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return 1;
		} else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return 0;
}

/*
 * The plain subset (json_parse_plain). Why a parser of our own beside jansson:
 * jansson's lexer reads through a callback per byte and a growing buffer per
 * token, about 160 instructions a byte: 55k of the ~260k instructions the
 * daemon spent on each 350-byte queue message (issue #13, callgrind). Queue
 * bodies are nearly always plain: ASCII strings without escapes, integers,
 * true/false/null, objects and arrays. This takes exactly that subset and
 * builds the values jansson would build (same types, bytes, key order);
 * on anything else (an escape, a control or non-ASCII byte, a number with a
 * fraction or exponent or more than 18 digits, a duplicate key, nesting past
 * the limit, any syntax error) it declines and json_parse_bounded parses the
 * text with jansson as before. So every error message, every unusual value
 * and every limit is still jansson's and ours; the plain parser can only
 * ever accept, and what it accepts equals jansson's tree. That equality is
 * checked differentially by tests/unit/core/test_json.c and the router fuzz
 * target (tests/fuzz/fuzz_router.c) on every input.
 */
static void
plain_ws(struct plain *pl)
{
	while (pl->p < pl->end && (*pl->p == ' ' || *pl->p == '\n' || *pl->p == '\t' ||
	    *pl->p == '\r'))
		pl->p++;
}

/* The bytes a plain string holds as they are: printable ASCII and DEL, but
 * the quote and the backslash (a table: one load a byte). */
static const bool plain_byte[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7f] = true,
};

/* At the opening quote: the bytes of a string with nothing to decode. */
static bool
plain_string(struct plain *pl, const char **s, size_t *n)
{
	const char *q = pl->p + 1;

	while (q < pl->end && plain_byte[(unsigned char)*q])
		q++;
	if (q == pl->end || *q != '"')
		return false;
	*s = pl->p + 1;
	*n = (size_t)(q - (pl->p + 1));
	pl->p = q + 1;
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*) of at most 18 digits (no overflow), not followed by a
 * fraction, an exponent or a digit (jansson refuses a leading zero). */
static json_t *
plain_integer(struct plain *pl)
{
	const char *q = pl->p;
	bool neg = false;
	json_int_t v = 0;
	int digits = 0;

	if (*q == '-') {
		neg = true;
		q++;
	}
	if (q == pl->end || !is_digit(*q))
		return NULL;
	if (*q == '0')
		q++;
	else
		for (; q < pl->end && is_digit(*q); q++) {
			if (++digits > 18)
				return NULL;
			v = v * 10 + (*q - '0');
		}
	if (q < pl->end && (*q == '.' || *q == 'e' || *q == 'E' || is_digit(*q)))
		return NULL;
	pl->p = q;
	return json_integer(neg ? -v : v);
}

static json_t *
plain_literal(struct plain *pl, const char *word, size_t n, json_t *v)
{
	if ((size_t)(pl->end - pl->p) < n || memcmp(pl->p, word, n) != 0)
		return NULL;
	pl->p += n;
	return v;
}

/* After a member or element: 1 at a ',' (skipped, with the blanks after
 * it), 0 at the closing bracket (skipped), -1 at anything else. */
static int
plain_next(struct plain *pl, char close)
{
	plain_ws(pl);
	if (pl->p < pl->end && (*pl->p == ',' || *pl->p == close)) {
		bool more = *pl->p++ == ',';

		if (more)
			plain_ws(pl);
		return more ? 1 : 0;
	}
	return -1;
}

static json_t *
plain_object(struct plain *pl)
{
	json_t *o = json_object();
	int r;

	pl->p++;
	plain_ws(pl);
	if (pl->p < pl->end && *pl->p == '}') {
		pl->p++;
		return o;
	}
	for (;;) {
		const char *k;
		size_t kn, before;
		json_t *v;

		if (pl->p == pl->end || *pl->p != '"' || !plain_string(pl, &k, &kn))
			break;
		plain_ws(pl);
		if (pl->p == pl->end || *pl->p != ':')
			break;
		pl->p++;
		plain_ws(pl);
		if ((v = plain_value(pl)) == NULL)
			break;
		/* A duplicate leaves the size as it was: jansson refuses those. */
		before = json_object_size(o);
		if (json_object_setn_new_nocheck(o, k, kn, v) < 0 || json_object_size(o) == before)
			break;
		r = plain_next(pl, '}');
		if (r > 0)
			continue;
		if (r == 0)
			return o;
		break;
	}
	json_decref(o);
	return NULL;
}

static json_t *
plain_array(struct plain *pl)
{
	json_t *a = json_array(), *v;
	int r;

	pl->p++;
	plain_ws(pl);
	if (pl->p < pl->end && *pl->p == ']') {
		pl->p++;
		return a;
	}
	for (;;) {
		if ((v = plain_value(pl)) == NULL || json_array_append_new(a, v) < 0)
			break;
		r = plain_next(pl, ']');
		if (r > 0)
			continue;
		if (r == 0)
			return a;
		break;
	}
	json_decref(a);
	return NULL;
}

static json_t *
plain_value(struct plain *pl)
{
	const char *s;
	json_t *v;
	size_t n;

	if (pl->p == pl->end)
		return NULL;
	switch (*pl->p) {
	case '{':
	case '[':
		/* Bounded recursion: the caller's limit, and never past ours. */
		if (++pl->depth > pl->max_depth)
			return NULL;
		v = *pl->p == '{' ? plain_object(pl) : plain_array(pl);
		pl->depth--;
		return v;
	case '"':
		return plain_string(pl, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
	case 't':
		return plain_literal(pl, "true", 4, json_true());
	case 'f':
		return plain_literal(pl, "false", 5, json_false());
	case 'n':
		return plain_literal(pl, "null", 4, json_null());
	default:
		return plain_integer(pl);
	}
}

json_t *
json_parse_plain(const char *text, size_t len, size_t max_depth)
{
	struct plain pl = { .p = text, .end = text + len,
	    .max_depth = max_depth < JSON_MAX_DEPTH ? max_depth : JSON_MAX_DEPTH };
	json_t *v;

	plain_ws(&pl);
	if ((v = plain_value(&pl)) == NULL)
		return NULL;
	plain_ws(&pl);
	if (pl.p != pl.end) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int
json_parse_bounded(const char *text, size_t len, size_t max_len, size_t max_depth,
    json_t **ret, struct errctx *ec)
{
	json_error_t jerr;
	json_t *v;
	size_t bad;

	/* The common case first; everything it declines gets jansson's answer. */
	if (len <= max_len && (v = json_parse_plain(text, len, max_depth)) != NULL) {
		*ret = v;
		return 0;
	}
	if (len > max_len)
		return errctx_set(ec, -E2BIG, "body is %zu bytes, over the %zu-byte limit", len,
		    max_len);
	bad = utf8_invalid_at((const unsigned char *)text, len);
	if (bad != len)
		return errctx_set(ec, -EBADMSG, "body is not valid UTF-8 (byte %zu)", bad);
	if (depth_exceeds(text, len, max_depth))
		return errctx_set(ec, -E2BIG, "JSON nested deeper than %zu levels", max_depth);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		return errctx_set(ec, -EBADMSG, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
	*ret = v;
	return 0;
}

/* Reals in their shortest round-trip form (json_format_real), as the
 * backtest summary and --evaluate print them: 0.06, not 0.059999999999999998.
 * Why that is safe for events (domain_event_encode): a reader gets the same
 * doubles (the shortest form reads back exactly), the form is still one per
 * value (encode(decode(x)) stays byte-stable), and no id or key is derived
 * from this text: event ids are UUIDv5 of cause/type/index (events/ids.c),
 * idempotency keys come from ids and run keys, and the --once body key
 * hashes the stored text of one message, which is never re-encoded. */
char *
json_dump_canonical(const json_t *v)
{
	char *s = json_dumps_shortest(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (s == NULL)
		s = xstrdup("null");
	return s;
}

char *
json_format_real(double v, char *buf)
{
	int prec;
	const char *e;

	/* 17 significant digits always round-trip a double; fewer often do. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, JSON_NUM_BUF, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, JSON_NUM_BUF, "%.17g", v);
	/* %g writes 100 as 1e+02 when fewer digits suffice: an integer below
	 * 10^16 (exact in a double) reads better whole. */
	if ((e = strchr(buf, 'e')) != NULL && e[1] == '+' && atoi(e + 2) <= 15)
		snprintf(buf, JSON_NUM_BUF, "%.0f", v);
	return buf;
}

/* jansson prints reals with a fixed precision: dump at 17 digits (exact),
 * then rewrite each real token outside strings in its shortest form. */
char *
json_dumps_shortest(const json_t *v, size_t flags)
{
	char *text = json_dumps(v, (flags & ~(size_t)JSON_REAL_PRECISION(31)) |
	    JSON_REAL_PRECISION(17)), *out, num[JSON_NUM_BUF];
	size_t i = 0, o = 0, len;
	bool in_str = false;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	/* A real token (3+ bytes) may grow by ".0" at most: twice is plenty. */
	out = xmalloc(2 * len + 8);
	while (i < len) {
		char ch = text[i];
		size_t j = i, k;
		bool real = false;

		if (in_str || !(ch == '-' || (ch >= '0' && ch <= '9'))) {
			if (in_str && ch == '\\' && i + 1 < len) {
				out[o++] = text[i++];
			} else if (ch == '"') {
				in_str = !in_str;
			}
			out[o++] = text[i++];
			continue;
		}
		while (j < len && strchr("+-.eE0123456789", text[j]) != NULL) {
			real |= text[j] == '.' || text[j] == 'e' || text[j] == 'E';
			j++;
		}
		if (!real) {
			memcpy(out + o, text + i, j - i);
			o += j - i;
			i = j;
			continue;
		}
		json_format_real(strtod(text + i, NULL), num);
		k = strlen(num);
		if (strpbrk(num, ".e") == NULL)
			num[k++] = '.', num[k++] = '0', num[k] = '\0';
		memcpy(out + o, num, k);
		o += k;
		i = j;
	}
	out[o] = '\0';
	free(text);
	return out;
}

const char *
json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "object";
	case JSON_ARRAY:	return "array";
	case JSON_STRING:	return "string";
	case JSON_INTEGER:	return "integer";
	case JSON_REAL:		return "number";
	case JSON_TRUE:
	case JSON_FALSE:	return "boolean";
	case JSON_NULL:		return "null";
	default:		return "unknown";
	}
}

static void
field_path(char *buf, size_t size, const char *prefix, const char *key)
{
	if (prefix != NULL && *prefix != '\0')
		(void)snprintf(buf, size, "%s.%s", prefix, key);
	else
		(void)snprintf(buf, size, "%s", key);
}

/* Shared shape of every getter: absent/null handling and the type message. */
static int
get_member(const json_t *obj, const char *key, const char *prefix, bool required,
    const char *want, json_t **ret, struct errctx *ec)
{
	char path[256];
	json_t *v = json_object_get(obj, key);

	field_path(path, sizeof path, prefix, key);
	if (v == NULL || json_is_null(v)) {
		*ret = NULL;
		if (required)
			return errctx_set(ec, -EBADMSG, "field '%s': required %s is missing", path,
			    want);
		return 0;
	}
	*ret = v;
	return 1;
}

static int
type_error(const char *prefix, const char *key, const char *want, const json_t *got,
    struct errctx *ec)
{
	char path[256];

	field_path(path, sizeof path, prefix, key);
	return errctx_set(ec, -EBADMSG, "field '%s': expected %s, got %s", path, want,
	    json_type_name(got));
}

static int
get_str(const json_t *obj, const char *key, const char *prefix, bool required,
    const char **ret, struct errctx *ec)
{
	json_t *v;
	int r = get_member(obj, key, prefix, required, "string", &v, ec);

	if (r <= 0)
		return r;
	if (!json_is_string(v))
		return type_error(prefix, key, "string", v, ec);
	*ret = json_string_value(v);
	return 0;
}

int
json_req_str(const json_t *obj, const char *key, const char *prefix, const char **ret,
    struct errctx *ec)
{
	return get_str(obj, key, prefix, true, ret, ec);
}

int
json_opt_str(const json_t *obj, const char *key, const char *prefix, const char **ret,
    struct errctx *ec)
{
	return get_str(obj, key, prefix, false, ret, ec);
}

static int
get_bool(const json_t *obj, const char *key, const char *prefix, bool required, bool *ret,
    struct errctx *ec)
{
	json_t *v;
	int r = get_member(obj, key, prefix, required, "boolean", &v, ec);

	if (r <= 0)
		return r;
	if (!json_is_boolean(v))
		return type_error(prefix, key, "boolean", v, ec);
	*ret = json_is_true(v);
	return 0;
}

int
json_req_bool(const json_t *obj, const char *key, const char *prefix, bool *ret,
    struct errctx *ec)
{
	return get_bool(obj, key, prefix, true, ret, ec);
}

int
json_opt_bool(const json_t *obj, const char *key, const char *prefix, bool *ret,
    struct errctx *ec)
{
	return get_bool(obj, key, prefix, false, ret, ec);
}

int
json_req_int(const json_t *obj, const char *key, const char *prefix, int64_t *ret,
    struct errctx *ec)
{
	json_t *v;
	int r = get_member(obj, key, prefix, true, "integer", &v, ec);

	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return type_error(prefix, key, "integer", v, ec);
	*ret = json_integer_value(v);
	return 0;
}

int
json_req_decimal(const json_t *obj, const char *key, const char *prefix, struct decimal *ret,
    struct errctx *ec)
{
	char path[256];
	json_t *v;
	int r = get_member(obj, key, prefix, true, "decimal", &v, ec);

	if (r < 0)
		return r;
	field_path(path, sizeof path, prefix, key);
	if (json_is_string(v))
		r = decimal_parse_round(json_string_value(v), DECIMAL_ROUND_HALF_EVEN, ret, ec);
	else if (json_is_integer(v))
		r = decimal_from_int(json_integer_value(v), ret);
	else if (json_is_real(v))
		r = decimal_from_double(json_real_value(v), DECIMAL_ROUND_HALF_EVEN, ret);
	else
		return type_error(prefix, key, "decimal string or number", v, ec);
	if (r < 0)
		return errctx_set(ec, r, "field '%s': not a valid decimal", path);
	return 0;
}

void
json_set_decimal(json_t *obj, const char *key, struct decimal d)
{
	char buf[DECIMAL_STRLEN];

	json_object_set_new(obj, key, json_string(decimal_format(d, buf)));
}
