/* sqs_rx_scan: what it accepts it reads exactly as jansson does (every
 * accepted text is checked against json_loadb field by field), and it
 * declines what it does not read (the caller then parses with jansson). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/sqs_receive.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"

#define MAX 10

static void
same_str(const char *got, const json_t *want, const char *what)
{
	if (want == NULL) {
		ck_assert_msg(got == NULL, "%s: scanner has '%s', jansson none", what, got);
		return;
	}
	ck_assert_msg(got != NULL, "%s: scanner has none", what);
	ck_assert_uint_eq(strlen(got), json_string_length(want));
	ck_assert_mem_eq(got, json_string_value(want), json_string_length(want));
}

/* Scan text; when accepted, compare with jansson; returns accepted. */
static bool
scan_check(const char *text, size_t *n_out)
{
	struct sqs_rx_message rx[MAX];
	size_t n = 99, i;
	bool ok = sqs_rx_scan(text, strlen(text), MAX, rx, &n);

	if (!ok) {
		ck_assert_uint_eq(n, 0);
		for (i = 0; i < MAX; i++)
			ck_assert_ptr_null(rx[i].body);
	} else if (text[0] != '\0') {
		json_error_t jerr;
		json_t *j = json_loads(text, 0, &jerr);
		json_t *arr;
		size_t want;

		ck_assert_msg(j != NULL && json_is_object(j), "accepted, jansson: %s", jerr.text);
		arr = json_object_get(j, "Messages");
		want = json_array_size(arr);
		ck_assert_uint_eq(n, want < MAX ? want : MAX);
		for (i = 0; i < n; i++) {
			json_t *m = json_array_get(arr, i), *a = json_object_get(m, "Attributes");

			same_str(rx[i].message_id, json_object_get(m, "MessageId"), "MessageId");
			same_str(rx[i].receipt, json_object_get(m, "ReceiptHandle"), "ReceiptHandle");
			same_str(rx[i].body, json_object_get(m, "Body"), "Body");
			ck_assert_uint_eq(rx[i].body_len, json_string_length(json_object_get(m, "Body")));
			same_str(rx[i].md5, json_object_get(m, "MD5OfBody"), "MD5OfBody");
			same_str(rx[i].receive_count, json_object_get(a, "ApproximateReceiveCount"), "count");
			same_str(rx[i].sent, json_object_get(a, "SentTimestamp"), "sent");
			same_str(rx[i].first_receive, json_object_get(a, "ApproximateFirstReceiveTimestamp"),
			    "first");
		}
		json_decref(j);
	} else {
		ck_assert_uint_eq(n, 0);
	}
	for (i = 0; i < MAX; i++)
		sqs_rx_clear(&rx[i]);
	if (n_out != NULL)
		*n_out = n;
	return ok;
}

#define MSG(id, body) "{\"MessageId\":\"" id "\",\"ReceiptHandle\":\"rh-" id "\",\"MD5OfBody\":" \
	"\"0123\",\"Body\":\"" body "\",\"Attributes\":{\"SenderId\":\"AIDA\",\"SentTimestamp\":" \
	"\"1760443200000\",\"ApproximateReceiveCount\":\"2\",\"ApproximateFirstReceiveTimestamp\":" \
	"\"1760443201000\"}}"

START_TEST(test_rx_moto_shape)
{
	size_t n;

	/* A WorkflowCompleted body as moto escapes it, and every escape. */
	ck_assert(scan_check("{\"Messages\": [" MSG("a", "{\\\"detail-type\\\":\\\"WorkflowCompleted\\\","
	    "\\\"detail\\\":{\\\"event_id\\\":\\\"e-1\\\"}}") ", " MSG("b",
	    "caf\\u00e9 \\ud83d\\udcc8 \\u20ac \\/ \\\\ \\b\\f\\n\\r\\t \\u001f") "]}", &n));
	ck_assert_uint_eq(n, 2);
	/* White space everywhere JSON allows it; other keys skipped. */
	ck_assert(scan_check(" \r\n\t{ \"Other\" : [ true , false , null , { \"x\" : [ ] } , \"s\" ] ,"
	    " \"Messages\" : [ { \"MessageId\" : \"m\" , \"ReceiptHandle\" : \"r\" , \"Body\" : \"\" ,"
	    " \"MessageAttributes\" : { } , \"Attributes\" : { } , \"Extra\" : { \"a\" : \"b\" } } ] } ",
	    &n));
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_rx_empty)
{
	size_t n;

	ck_assert(scan_check("", &n));	/* local-aws-sqs */
	ck_assert_uint_eq(n, 0);
	ck_assert(scan_check("{}", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert(scan_check("{\"Messages\":[]}", &n));
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_rx_cap)
{
	char text[8192];
	size_t n, off;
	int i;

	off = (size_t)snprintf(text, sizeof text, "{\"Messages\":[");
	for (i = 0; i < 12; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "%s" MSG("x", "b"), i ? "," : "");
	(void)snprintf(text + off, sizeof text - off, "]}");
	ck_assert(scan_check(text, &n));
	ck_assert_uint_eq(n, MAX);
	/* Messages past the cap are still checked. */
	text[off - 3] = '!';
	ck_assert(!scan_check(text, NULL));
}
END_TEST

START_TEST(test_rx_declines)
{
	static const char *const bad[] = {
		"{\"Messages\":[" MSG("a", "caf\xc3\xa9") "]}",	/* raw UTF-8: jansson's */
		"{\"Messages\":[" MSG("a", "nul \\u0000") "]}",
		"{\"Messages\":[" MSG("a", "lone \\ud83d") "]}",
		"{\"Messages\":[" MSG("a", "lone \\udcc8") "]}",
		"{\"Messages\":[" MSG("a", "pair \\ud83d\\u0041") "]}",
		"{\"Messages\":[" MSG("a", "bad \\x") "]}",
		"{\"Messages\":[" MSG("a", "short \\u12") "]}",
		"{\"Messages\":[" MSG("a", "hex \\u12g4") "]}",
		"{\"Messages\":[" MSG("a", "ctl \x01") "]}",
		"{\"Messages\":[{\"MessageId\":\"a\",\"MessageId\":\"b\",\"ReceiptHandle\":\"r\",\"Body\":\"\"}]}",
		"{\"Messages\":[{\"MessageId\":\"a\",\"Body\":\"\"}]}",
		"{\"Messages\":[{\"MessageId\":1,\"ReceiptHandle\":\"r\",\"Body\":\"\"}]}",
		"{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"\","
		    "\"MessageAttributes\":{\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}]}",
		"{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"\",\"Attributes\":[]}]}",
		"{\"Messages\":[{}]}",
		"{\"Messages\":[\"a\"]}",
		"{\"Messages\":{}}",
		"{\"Messages\":[],\"Messages\":[]}",
		"{\"N\":1}",
		"{\"k\\u0041\":\"v\"}",
		"{\"Messages\":[]} x",
		"{\"Messages\":[]",
		"{\"Messages\":[],}",
		"[]",
		"null",
		" ",
		"{\"a\":tru}",
	};
	char deep[256];
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(!scan_check(bad[i], NULL), "accepted: %s", bad[i]);
	memset(deep, '[', sizeof deep);
	memcpy(deep, "{\"a\":", 5);
	deep[sizeof deep - 1] = '\0';
	ck_assert(!scan_check(deep, NULL));
}
END_TEST

/* Every prefix of a valid response declines or reads as jansson does. */
START_TEST(test_rx_prefixes)
{
	const char *full = "{\"Messages\":[" MSG("a", "x \\u00e9\\ud83d\\udcc8 \\\"q\\\"") "]}";
	char buf[1024];
	size_t len = strlen(full), i;

	for (i = 0; i <= len; i++) {
		memcpy(buf, full, i);
		buf[i] = '\0';
		(void)scan_check(buf, NULL);
	}
}
END_TEST

static Suite *
sqs_receive_suite(void)
{
	Suite *s = suite_create("sqs_receive");
	TCase *tc = tcase_create("scan");

	tcase_add_test(tc, test_rx_moto_shape);
	tcase_add_test(tc, test_rx_empty);
	tcase_add_test(tc, test_rx_cap);
	tcase_add_test(tc, test_rx_declines);
	tcase_add_test(tc, test_rx_prefixes);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(sqs_receive_suite)
