/* reqbuf: what it writes is JSON that decodes to exactly what went in. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/reqbuf.h"
#include "../helpers.h"

/* Write s as a string value, parse it back with jansson, compare. */
static void
roundtrip(const char *s)
{
	struct reqbuf b = { 0 };
	json_error_t jerr;
	json_t *v;
	char *text;
	size_t len;

	reqbuf_str(&b, s);
	text = reqbuf_take(&b, &len);
	ck_assert_uint_eq(len, strlen(text));
	v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "%s does not parse: %s", text, jerr.text);
	ck_assert_str_eq(json_string_value(v), s != NULL ? s : "");
	json_decref(v);
	free(text);
}

START_TEST(test_reqbuf_strings)
{
	char ctl[33];
	int i;

	roundtrip("");
	roundtrip(NULL);
	roundtrip("plain receipt handle AQEB+/=");
	roundtrip("quote \" backslash \\ slash /");
	roundtrip("line\nfeed\ttab\rreturn\bback\fform");
	roundtrip("caf\xc3\xa9 \xf0\x9f\x93\x88 \xe2\x82\xac");	/* UTF-8 stays as it is */
	for (i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = '\0';
	roundtrip(ctl);
	roundtrip("\x7f del");
}
END_TEST

START_TEST(test_reqbuf_document)
{
	struct reqbuf b = { 0 };
	json_t *v, *want;
	char *text;
	size_t len;
	int i;

	reqbuf_raw(&b, "{\"QueueUrl\":");
	reqbuf_str(&b, "http://127.0.0.1:1/123456789012/q");
	reqbuf_raw(&b, ",\"Max\":");
	reqbuf_int(&b, 10);
	reqbuf_raw(&b, ",\"Min\":");
	reqbuf_int(&b, INT64_MIN);
	reqbuf_raw(&b, ",\"Entries\":[");
	/* Enough to grow the buffer several times. */
	for (i = 0; i < 200; i++) {
		reqbuf_raw(&b, i ? ",{\"Id\":\"m" : "{\"Id\":\"m");
		reqbuf_int(&b, i);
		reqbuf_raw(&b, "\"}");
	}
	reqbuf_raw(&b, "]}");
	text = reqbuf_take(&b, &len);
	ck_assert_ptr_null(b.buf);
	v = json_loadb(text, len, 0, NULL);
	ck_assert_ptr_nonnull(v);
	want = json_pack("{s:s, s:I, s:I}", "QueueUrl", "http://127.0.0.1:1/123456789012/q", "Max",
	    (json_int_t)10, "Min", (json_int_t)INT64_MIN);
	ck_assert(json_equal(json_object_get(v, "QueueUrl"), json_object_get(want, "QueueUrl")));
	ck_assert(json_equal(json_object_get(v, "Max"), json_object_get(want, "Max")));
	ck_assert(json_equal(json_object_get(v, "Min"), json_object_get(want, "Min")));
	ck_assert_uint_eq(json_array_size(json_object_get(v, "Entries")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(v, "Entries"),
	    199), "Id")), "m199");
	json_decref(v);
	json_decref(want);
	free(text);
	/* An empty buffer gives "" (never NULL); free is idempotent. */
	text = reqbuf_take(&b, &len);
	ck_assert_str_eq(text, "");
	ck_assert_uint_eq(len, 0);
	free(text);
	reqbuf_raw(&b, "x");
	reqbuf_free(&b);
	reqbuf_free(&b);
}
END_TEST

static Suite *
reqbuf_suite(void)
{
	Suite *s = suite_create("reqbuf");
	TCase *tc = tcase_create("reqbuf");

	tcase_add_test(tc, test_reqbuf_strings);
	tcase_add_test(tc, test_reqbuf_document);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(reqbuf_suite)
