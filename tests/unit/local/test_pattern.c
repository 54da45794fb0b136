/*
 * test_pattern: the EventBridge pattern language against the conformance
 * table tests/data/local/patterns.json (documented examples and edge cases).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/pattern.h"
#include "../helpers.h"

static json_t *
load_table(void)
{
	char *path = test_data_path("local/patterns.json");
	json_error_t jerr;
	json_t *t = json_load_file(path, 0, &jerr);

	ck_assert_msg(t != NULL, "%s: %s", path, jerr.text);
	free(path);
	return t;
}

/* Runs outside a test (when building the suite): no ck_assert here. */
static size_t
table_len(const char *section)
{
	char *path = test_data_path("local/patterns.json");
	json_t *t = json_load_file(path, 0, NULL);
	size_t n = json_array_size(json_object_get(t, section));

	if (t == NULL)
		fprintf(stderr, "%s: cannot load the pattern table\n", path);
	free(path);

	json_decref(t);
	return n;
}

START_TEST(test_pattern_table_cases)
{
	json_t *t = load_table();
	json_t *c = json_array_get(json_object_get(t, "cases"), (size_t)_i);
	json_t *ev = json_object_get(c, "event");
	const char *name = json_string_value(json_object_get(c, "name"));
	struct pattern *p = NULL;
	struct errctx ec;
	bool want = json_is_true(json_object_get(c, "match"));

	if (json_is_string(ev))
		ev = json_object_get(json_object_get(t, "events"), json_string_value(ev));
	ck_assert_msg(json_is_object(ev), "case '%s': no event", name);
	errctx_clear(&ec);
	ck_assert_ok(pattern_compile(json_object_get(c, "pattern"), &p, &ec), &ec);
	ck_assert_msg(pattern_match(p, ev) == want, "case '%s': expected %s", name,
	    want ? "a match" : "no match");
	pattern_free(p);
	json_decref(t);
}
END_TEST

START_TEST(test_pattern_table_invalid)
{
	json_t *t = load_table();
	json_t *c = json_array_get(json_object_get(t, "invalid"), (size_t)_i);
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *want = json_string_value(json_object_get(c, "error"));
	struct pattern *p = NULL;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_err(pattern_compile(json_object_get(c, "pattern"), &p, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(errctx_msg(&ec), want) != NULL, "case '%s': error '%s' lacks '%s'",
	    name, errctx_msg(&ec), want);
	json_decref(t);
}
END_TEST

START_TEST(test_pattern_compile_text_reports_json_errors)
{
	struct pattern *p = NULL;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_err(pattern_compile_text("{\"source\": [", &p, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "invalid JSON"));
	ck_assert_err(pattern_compile_text("{\"a\": [1], \"a\": [2]}", &p, &ec), -EINVAL, &ec);
	ck_assert_ok(pattern_compile_text("{\"source\": [{\"prefix\": \"alchemiser.\"}]}", &p, &ec), &ec);
	pattern_free(p);
	pattern_free(NULL);
}
END_TEST

static int
cli(const char *pat, const char *ev, char *out, size_t outlen)
{
	FILE *f = fmemopen(out, outlen, "w");
	int r;

	ck_assert_ptr_nonnull(f);
	r = pattern_cli_test(pat, ev, f);
	fclose(f);
	return r;
}

START_TEST(test_pattern_cli_test_prints_result)
{
	char out[600];

	ck_assert_int_eq(cli("{\"source\": [\"a\"]}", "{\"source\": \"a\"}", out, sizeof out), 0);
	ck_assert_str_eq(out, "true\n");
	ck_assert_int_eq(cli("{\"source\": [\"a\"]}", "{\"source\": \"b\"}", out, sizeof out), 1);
	ck_assert_str_eq(out, "false\n");
	ck_assert_int_eq(cli("{\"source\": \"a\"}", "{}", out, sizeof out), 2);
	ck_assert_ptr_nonnull(strstr(out, "error: pattern 'source'"));
	ck_assert_int_eq(cli("{\"source\": [\"a\"]}", "[1]", out, sizeof out), 2);
	ck_assert_ptr_nonnull(strstr(out, "error: event"));
}
END_TEST

START_TEST(test_pattern_match_rejects_non_objects)
{
	struct pattern *p = NULL;
	struct errctx ec;
	json_t *arr = json_pack("[s]", "a");

	ck_assert_ok(pattern_compile_text("{\"source\": [{\"exists\": false}]}", &p, &ec), &ec);
	ck_assert(!pattern_match(p, arr));
	ck_assert(!pattern_match(p, NULL));
	ck_assert(!pattern_match(NULL, arr));
	json_decref(arr);
	pattern_free(p);
}
END_TEST

static Suite *
suite_pattern(void)
{
	Suite *s = suite_create("pattern");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_loop_test(tc, test_pattern_table_cases, 0, (int)table_len("cases"));
	tcase_add_loop_test(tc, test_pattern_table_invalid, 0, (int)table_len("invalid"));
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, test_pattern_compile_text_reports_json_errors);
	tcase_add_test(tc, test_pattern_cli_test_prints_result);
	tcase_add_test(tc, test_pattern_match_rejects_non_objects);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_pattern)
