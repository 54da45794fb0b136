#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/json.h"
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

static Suite *
suite_json(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_json_parses_object);
	tcase_add_test(tc, test_json_rejects_malformed_with_position);
	tcase_add_test(tc, test_json_rejects_duplicate_keys);
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
