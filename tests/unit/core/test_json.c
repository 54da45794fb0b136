#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/json_scan.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

static json_t *
parse_ok(const char *text)
{
	struct errctx ec = { 0 };
	json_t *v = NULL;

	ck_assert_ok(json_parse_bounded(text, strlen(text), JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), &ec);
	return v;
}

START_TEST(test_json_parses_object)
{
	json_t *v = parse_ok("{\"a\": 1, \"b\": \"x\"}");

	ck_assert(json_is_object(v));
	ck_assert_str_eq(json_get_str(v, "b"), "x");
	ck_assert_ptr_null(json_get_str(v, "a"));
	json_decref(v);
}
END_TEST

START_TEST(test_json_rejects_malformed_with_position)
{
	struct errctx ec = { 0 };
	json_t *v = NULL;
	const char *t = "{\"a\": }";

	ck_assert_err(json_parse_bounded(t, strlen(t), JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), -EBADMSG, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "line 1 column"));
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_json_rejects_oversized_body)
{
	struct errctx ec = { 0 };
	json_t *v = NULL;
	size_t n = JSON_MAX_BODY + 1;
	char *big = xmalloc(n);

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	ck_assert_err(json_parse_bounded(big, n, JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), -E2BIG, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "limit"));
	free(big);
}
END_TEST

START_TEST(test_json_rejects_invalid_utf8)
{
	static const char *bad[] = {
		"{\"a\":\"\xff\"}",		/* never valid */
		"{\"a\":\"\xc0\xaf\"}",		/* overlong '/' */
		"{\"a\":\"\xed\xa0\x80\"}",	/* UTF-16 surrogate */
		"{\"a\":\"\xe2\x82\"}",		/* truncated sequence */
		"{\"a\":\"\xf4\x90\x80\x80\"}",	/* above U+10FFFF */
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		struct errctx ec = { 0 };
		json_t *v = NULL;

		ck_assert_err(json_parse_bounded(bad[i], strlen(bad[i]), JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec),
		    -EBADMSG, &ec);
		ck_assert_msg(strstr(ec.msg, "UTF-8") != NULL, "case %zu: %s", i, ec.msg);
	}
}
END_TEST

START_TEST(test_json_accepts_multibyte_utf8)
{
	json_t *v = parse_ok("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\"}");

	ck_assert_str_eq(json_get_str(v, "s"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");
	json_decref(v);
}
END_TEST

START_TEST(test_json_depth_limit)
{
	struct errctx ec = { 0 };
	char buf[512];
	json_t *v = NULL;
	size_t i, n = 0;

	/* Exactly 64 levels pass, 65 are refused. */
	for (i = 0; i < 64; i++)
		buf[n++] = '[';
	for (i = 0; i < 64; i++)
		buf[n++] = ']';
	ck_assert_ok(json_parse_bounded(buf, n, JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), &ec);
	json_decref(v);
	n = 0;
	for (i = 0; i < 65; i++)
		buf[n++] = '[';
	for (i = 0; i < 65; i++)
		buf[n++] = ']';
	ck_assert_err(json_parse_bounded(buf, n, JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), -E2BIG, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "nested deeper than 64"));
}
END_TEST

START_TEST(test_json_depth_ignores_brackets_in_strings)
{
	json_t *v = parse_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[\"}");

	ck_assert(json_is_object(v));
	json_decref(v);
}
END_TEST

START_TEST(test_json_rejects_duplicate_keys)
{
	struct errctx ec = { 0 };
	json_t *v = NULL;
	const char *t = "{\"a\":1,\"a\":2}";

	ck_assert_err(json_parse_bounded(t, strlen(t), JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec), -EBADMSG, &ec);
}
END_TEST

START_TEST(test_json_canonical_is_sorted_and_stable)
{
	json_t *a = parse_ok("{\"b\": [1, 2], \"a\": {\"y\": null, \"x\": true}}");
	json_t *b = parse_ok("{\"a\":{\"x\":true,\"y\":null},\"b\":[1,2]}");
	char *sa = json_dump_canonical(a), *sb = json_dump_canonical(b);

	ck_assert_str_eq(sa, "{\"a\":{\"x\":true,\"y\":null},\"b\":[1,2]}");
	ck_assert_str_eq(sa, sb);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
	/* reals shortest, a real staying a real, strings untouched */
	a = json_pack("{s:f, s:f, s:s, s:f, s:i}", "w", 0.06, "one", 1.0, "s", "0.059999999999999998",
	    "third", 1.0 / 3, "n", (json_int_t)7);
	sa = json_dump_canonical(a);
	ck_assert_str_eq(sa, "{\"n\":7,\"one\":1.0,\"s\":\"0.059999999999999998\","
	    "\"third\":0.3333333333333333,\"w\":0.06}");
	b = parse_ok(sa);
	sb = json_dump_canonical(b);
	ck_assert_str_eq(sa, sb);
	ck_assert(json_equal(a, b));
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(test_json_typed_getters_name_the_field)
{
	struct errctx ec = { 0 };
	json_t *v = parse_ok("{\"s\":\"x\",\"n\":3,\"b\":true,\"z\":null}");
	const char *s = "unset";
	bool b = false;
	int64_t i = 0;

	ck_assert_ok(json_req_str(v, "s", NULL, &s, &ec), &ec);
	ck_assert_str_eq(s, "x");
	ck_assert_err(json_req_str(v, "n", "detail", &s, &ec), -EBADMSG, &ec);
	ck_assert_str_eq(ec.msg, "field 'detail.n': expected string, got integer");
	ck_assert_err(json_req_str(v, "missing", NULL, &s, &ec), -EBADMSG, &ec);
	ck_assert_str_eq(ec.msg, "field 'missing': required string is missing");
	s = "kept";
	ck_assert_ok(json_opt_str(v, "z", NULL, &s, &ec), &ec);
	ck_assert_str_eq(s, "kept");
	ck_assert_ok(json_req_bool(v, "b", NULL, &b, &ec), &ec);
	ck_assert(b);
	ck_assert_err(json_opt_bool(v, "s", NULL, &b, &ec), -EBADMSG, &ec);
	ck_assert_ok(json_req_int(v, "n", NULL, &i, &ec), &ec);
	ck_assert_int_eq(i, 3);
	json_decref(v);
}
END_TEST

START_TEST(test_json_decimal_from_string_and_number)
{
	struct errctx ec = { 0 };
	json_t *v = parse_ok("{\"s\":\"1234.5678\",\"i\":7,\"r\":0.25,\"bad\":\"1.2.3\",\"t\":true}");
	struct decimal d;
	char buf[DECIMAL_STRLEN];

	ck_assert_ok(json_req_decimal(v, "s", NULL, &d, &ec), &ec);
	ck_assert_str_eq(decimal_format(d, buf), "1234.5678");
	ck_assert_ok(json_req_decimal(v, "i", NULL, &d, &ec), &ec);
	ck_assert_str_eq(decimal_format(d, buf), "7");
	ck_assert_ok(json_req_decimal(v, "r", NULL, &d, &ec), &ec);
	ck_assert_str_eq(decimal_format(d, buf), "0.25");
	ck_assert_int_lt(json_req_decimal(v, "bad", NULL, &d, &ec), 0);
	ck_assert_ptr_nonnull(strstr(ec.msg, "'bad'"));
	ck_assert_err(json_req_decimal(v, "t", NULL, &d, &ec), -EBADMSG, &ec);
	json_set_decimal(v, "out", d);
	ck_assert_str_eq(json_get_str(v, "out"), "0.25");
	json_decref(v);
}
END_TEST

/* Reals in their shortest round-trip form (issue 14), strings untouched,
 * integers left alone, a real staying a real. */
START_TEST(test_json_dumps_shortest_reals)
{
	json_t *v = json_pack("{s:f, s:f, s:s, s:[f, i, f, f, f], s:f}", "a", 0.06, "b", 1.0,
	    "c", "0.059999999999999998 -1.5e3", "d", 1e-7, (json_int_t)12, -2.5e300, 0.1,
	    1.0 / 3, "e", 1e21);
	char *text = json_dumps_shortest(v, JSON_COMPACT | JSON_SORT_KEYS), num[JSON_NUM_BUF];
	json_t *back;
	json_error_t jerr;

	ck_assert_str_eq(text, "{\"a\":0.06,\"b\":1.0,\"c\":\"0.059999999999999998 -1.5e3\","
	    "\"d\":[1e-07,12,-2.5e+300,0.1,0.3333333333333333],\"e\":1e+21}");
	back = json_loads(text, 0, &jerr);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(v, back));	/* every value read back exactly, types kept */
	ck_assert_str_eq(json_format_real(0.1 + 0.2, num), "0.30000000000000004");
	ck_assert_str_eq(json_format_real(100, num), "100");
	ck_assert_str_eq(json_format_real(-1.5e10, num), "-15000000000");
	ck_assert_str_eq(json_format_real(1e16, num), "1e+16");
	ck_assert_str_eq(json_format_real(2.5e-5, num), "2.5e-05");
	json_decref(back);
	json_decref(v);
	free(text);
}
END_TEST

/* What jansson makes of text with the flags json_parse_bounded gives it. */
static json_t *
jansson_parse(const char *text, size_t len)
{
	return json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
}

/* Whether the tokens from *i on describe v exactly: the same types, key
 * names and order, string bytes and integers; *i moves past them. */
static bool
tokens_match(const struct json_scan *s, size_t *i, json_t *v)
{
	const struct json_tok *t = &s->tok[*i];
	size_t at = (*i)++, k;
	const char *key;
	json_t *m;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (t->type != JSON_TOK_OBJECT)
			return false;
		json_object_foreach(v, key, m) {
			if (!json_tok_str_eq(&s->tok[*i], s->text, key))
				return false;
			(*i)++;
			if (!tokens_match(s, i, m))
				return false;
		}
		break;
	case JSON_ARRAY:
		if (t->type != JSON_TOK_ARRAY)
			return false;
		json_array_foreach(v, k, m)
			if (!tokens_match(s, i, m))
				return false;
		break;
	case JSON_STRING:
		return t->type == JSON_TOK_STRING && t->len == json_string_length(v) &&
		    memcmp(s->text + t->off, json_string_value(v), t->len) == 0;
	case JSON_INTEGER:
		return t->type == JSON_TOK_INTEGER &&
		    json_tok_integer(t, s->text) == json_integer_value(v);
	case JSON_TRUE:
		return t->type == JSON_TOK_TRUE;
	case JSON_FALSE:
		return t->type == JSON_TOK_FALSE;
	case JSON_NULL:
		return t->type == JSON_TOK_NULL;
	default:
		return false;
	}
	/* A container's next skips exactly its own tokens. */
	return s->tok[at].next == *i;
}

/* The scan (core/json_scan.h) against the plain parser on one input: it
 * accepts exactly what json_parse_plain accepts (none of these inputs has
 * an object past JSON_SCAN_MAX_MEMBERS), and its tokens are that tree. */
static void
scan_agrees(const char *text, size_t len, json_t *plain)
{
	struct json_scan s;
	size_t i = 0;
	int r = json_scan(&s, text, len, JSON_MAX_DEPTH);

	ck_assert_msg((r == 0) == (plain != NULL), "scan %s what plain %s: %.*s",
	    r == 0 ? "accepts" : "declines", plain != NULL ? "accepts" : "declines", (int)len, text);
	if (r == 0) {
		ck_assert_msg(tokens_match(&s, &i, plain) && i == s.n, "tokens differ: %.*s", (int)len,
		    text);
		/* The first token spans the value without the blanks around it. */
		ck_assert(s.tok[0].type == JSON_TOK_STRING ||
		    (s.tok[0].off + s.tok[0].len <= len && strchr(" \t\n\r", text[s.tok[0].off]) == NULL));
	}
	json_scan_release(&s);
}

/* The plain parser against jansson on one input: whatever it accepts,
 * jansson accepts as an equal value with the same key order. Returns
 * whether the plain parser accepted. The scan is held to the same. */
static bool
plain_agrees(const char *text, size_t len)
{
	json_t *fast = json_parse_plain(text, len, JSON_MAX_DEPTH), *slow;
	char *a, *b;

	scan_agrees(text, len, fast);
	if (fast == NULL)
		return false;
	slow = jansson_parse(text, len);
	ck_assert_msg(slow != NULL, "plain accepted what jansson refuses: %.*s", (int)len, text);
	ck_assert_msg(json_equal(fast, slow), "plain and jansson differ: %.*s", (int)len, text);
	a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(slow, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(fast);
	json_decref(slow);
	return true;
}

#define WC_BODY "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\",\"detail\":" \
	"{\"event_id\":\"d-1\",\"correlation_id\":\"d-1-run\",\"causation_id\":\"bench\"," \
	"\"event_type\":\"WorkflowCompleted\",\"timestamp\":\"2025-10-14T12:00:00Z\"," \
	"\"source_module\":\"bench\",\"workflow_type\":\"trading\",\"workflow_duration_ms\":1,\"success\":true}}"

START_TEST(test_json_plain_takes_the_common_forms)
{
	static const char *plain[] = {
		WC_BODY, "{}", "[]", " { } ", "\t[\n1 ,\r-2,0,-0 ]\n", "\"\"", "\"x\"", "true", "false", "null",
		"123456789012345678", "-123456789012345678", "{\"a\":{\"b\":[{},[],{\"c\":null}]}}",
		"{\"\":\"\",\"a b\":\"~\x7f\"}", "[[[[[[[[1]]]]]]]]",
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(plain); i++)
		ck_assert_msg(plain_agrees(plain[i], strlen(plain[i])), "declined: %s", plain[i]);
}
END_TEST

/* Anything outside the subset goes to jansson: these are declined, and
 * json_parse_bounded still gives jansson's value or error for them. */
START_TEST(test_json_plain_declines_the_rest)
{
	static const char *other[] = {
		"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "\"a\\nb\"",
		"\"\\u0041\"", "\"caf\xc3\xa9\"", "\"a\tb\"", "1.5", "1e3", "-1E3", "01", "-", "-01", "--1",
		"1234567890123456789", "99999999999999999999", "tru", "True", "nul", "truex", "{\"a\":1}x",
		"{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}", "[1]]", "\"open", "{\"a\"", "{\"a\":",
		"[-]", "NaN", "Infinity", "\xef\xbb\xbf{}",
	};
	size_t i;

	char deep[2 * (JSON_MAX_DEPTH + 1)];
	json_t *v;

	for (i = 0; i < ELEMENTSOF(other); i++)
		ck_assert_msg(!plain_agrees(other[i], strlen(other[i])), "accepted: %s", other[i]);
	/* A NUL inside the length (not a terminator). */
	ck_assert(!plain_agrees("{\"a\":1}\0", 8));
	ck_assert(!plain_agrees("\"a\0b\"", 5));
	/* Nesting: the caller's limit, and never deeper than JSON_MAX_DEPTH. */
	ck_assert_ptr_null(json_parse_plain("[[1]]", 5, 1));
	v = json_parse_plain("[[1]]", 5, 2);
	ck_assert_ptr_nonnull(v);
	json_decref(v);
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	ck_assert_ptr_null(json_parse_plain(deep, sizeof deep, SIZE_MAX));
	ck_assert(plain_agrees(deep + 1, sizeof deep - 2));
}
END_TEST

/* Every one-byte change and every cut of a real body: the plain parser and
 * jansson agree wherever the plain parser answers, and json_parse_bounded
 * answers exactly as jansson (value or error text) wherever it does not. */
START_TEST(test_json_plain_agrees_under_mutation)
{
	static const char subst[] = "{}[]\",:\\0123-.eEtfnulx \t\n\x01\x1f\x7f\x80\xc3";
	const char *body = WC_BODY;
	size_t len = strlen(body), i, k, accepted = 0;
	char buf[sizeof WC_BODY];

	for (i = 0; i <= len; i++) {
		accepted += plain_agrees(body, i);
		for (k = 0; i < len && k < sizeof subst - 1; k++) {
			struct errctx ec = { 0 };
			json_error_t jerr;
			json_t *v = NULL, *slow;
			char want[256];
			int r;

			memcpy(buf, body, len);
			buf[i] = subst[k];
			if (plain_agrees(buf, len)) {
				accepted++;
				continue;
			}
			r = json_parse_bounded(buf, len, JSON_MAX_BODY, JSON_MAX_DEPTH, &v, &ec);
			slow = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
			if (r == 0) {
				ck_assert(slow != NULL && json_equal(v, slow));
				json_decref(v);
			} else if (r == -EBADMSG && slow == NULL && strstr(ec.msg, "UTF-8") == NULL) {
				snprintf(want, sizeof want, "malformed JSON at line %d column %d: %s", jerr.line,
				    jerr.column, jerr.text);
				ck_assert_str_eq(ec.msg, want);
			}
			json_decref(slow);
		}
	}
	/* The full body, and the changes that keep it plain (a digit for a digit, ...). */
	ck_assert_uint_gt(accepted, 100);
}
END_TEST

/* What the scan adds to the plain parser's rules: at most
 * JSON_SCAN_MAX_MEMBERS members an object (the duplicate check is
 * quadratic), tokens beyond the inline ones, member lookups. */
START_TEST(test_json_scan_limits_and_lookups)
{
	char text[4096];
	struct json_scan s;
	size_t n, i;
	json_t *v;

	for (n = JSON_SCAN_MAX_MEMBERS; n <= JSON_SCAN_MAX_MEMBERS + 1; n++) {
		size_t o = 0;

		text[o++] = '{';
		for (i = 0; i < n; i++)
			o += (size_t)snprintf(text + o, sizeof text - o, "%s\"k%zu\":%zu", i ? "," : "", i, i);
		text[o++] = '}';
		v = json_parse_plain(text, o, JSON_MAX_DEPTH);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(json_scan(&s, text, o, JSON_MAX_DEPTH), n <= JSON_SCAN_MAX_MEMBERS ? 0 : -1);
		if (n <= JSON_SCAN_MAX_MEMBERS) {
			/* Past the inline tokens: the array grew on the heap. */
			ck_assert_uint_eq(s.n, 1 + 2 * n);
			ck_assert_ptr_ne(s.tok, s.inline_tok);
			ck_assert_int_eq(json_tok_integer(&s.tok[json_tok_member(s.tok, s.text, 0, "k63")],
			    s.text), 63);
			ck_assert_int_eq(json_tok_member(s.tok, s.text, 0, "k64"), -1);
			ck_assert_int_eq(json_tok_member(s.tok, s.text, 0, "k"), -1);
			/* Not an object: nothing to look up. */
			ck_assert_int_eq(json_tok_member(s.tok, s.text, 2, "k0"), -1);
			ck_assert_int_eq(json_tok_member(s.tok, s.text, -1, "k0"), -1);
		}
		json_scan_release(&s);
		json_decref(v);
	}
	/* The caller's depth limit, as json_parse_plain's. */
	ck_assert_int_eq(json_scan(&s, "[[1]]", 5, 1), -1);
	json_scan_release(&s);
	ck_assert_int_eq(json_scan(&s, "[[1]]", 5, 2), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.tok[0].next, 3);
	ck_assert_uint_eq(s.tok[1].off, 1);
	ck_assert_uint_eq(s.tok[1].len, 3);
	json_scan_release(&s);
	ck_assert_int_eq(json_scan(&s, " -120 ", 6, 2), 0);
	ck_assert_int_eq(json_tok_integer(&s.tok[0], s.text), -120);
	json_scan_release(&s);
}
END_TEST

static Suite *
suite_json(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_json_parses_object);
	tcase_add_test(tc, test_json_rejects_malformed_with_position);
	tcase_add_test(tc, test_json_rejects_duplicate_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("plain");
	tcase_add_test(tc, test_json_plain_takes_the_common_forms);
	tcase_add_test(tc, test_json_plain_declines_the_rest);
	tcase_add_test(tc, test_json_plain_agrees_under_mutation);
	tcase_add_test(tc, test_json_scan_limits_and_lookups);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_json_rejects_oversized_body);
	tcase_add_test(tc, test_json_rejects_invalid_utf8);
	tcase_add_test(tc, test_json_accepts_multibyte_utf8);
	tcase_add_test(tc, test_json_depth_limit);
	tcase_add_test(tc, test_json_depth_ignores_brackets_in_strings);
	suite_add_tcase(s, tc);
	tc = tcase_create("access");
	tcase_add_test(tc, test_json_canonical_is_sorted_and_stable);
	tcase_add_test(tc, test_json_typed_getters_name_the_field);
	tcase_add_test(tc, test_json_decimal_from_string_and_number);
	tcase_add_test(tc, test_json_dumps_shortest_reals);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_json)
