/* textbuf: appends, cuts at the buffer's end, decimals as printf writes them. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/fixbuf.h"
#include "helpers.h"

START_TEST(test_fixbuf_appends)
{
	char buf[64];
	struct fixbuf tb;

	fixbuf_init(&tb, buf, sizeof buf);
	ck_assert_str_eq(buf, "");
	fixbuf_cat(&tb, "done ");
	fixbuf_cat(&tb, NULL);
	fixbuf_catn(&tb, "completed: xyz", 10);
	fixbuf_cat(&tb, " in ");
	fixbuf_i64(&tb, 42);
	fixbuf_cat(&tb, " ms");
	ck_assert_str_eq(buf, "done completed: in 42 ms");
	ck_assert_uint_eq(tb.len, strlen(buf));
	ck_assert(!tb.cut);
}
END_TEST

START_TEST(test_fixbuf_decimals_match_printf)
{
	static const int64_t values[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345, -987654321,
	    INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000000000LL };
	char buf[32], want[32];
	struct fixbuf tb;
	size_t i;

	for (i = 0; i < sizeof values / sizeof values[0]; i++) {
		fixbuf_init(&tb, buf, sizeof buf);
		fixbuf_i64(&tb, values[i]);
		(void)snprintf(want, sizeof want, "%" PRId64, values[i]);
		ck_assert_str_eq(buf, want);
	}
	fixbuf_init(&tb, buf, sizeof buf);
	fixbuf_u64(&tb, UINT64_MAX);
	ck_assert_str_eq(buf, "18446744073709551615");
}
END_TEST

START_TEST(test_fixbuf_cuts_at_the_end)
{
	char buf[8];
	struct fixbuf tb;

	fixbuf_init(&tb, buf, sizeof buf);
	fixbuf_cat(&tb, "abcd");
	fixbuf_cat(&tb, "efgh");
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert(tb.cut);
	fixbuf_i64(&tb, 5);
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert_uint_eq(tb.len, 7);

	/* A number that does not fit is cut like text, never overruns. */
	fixbuf_init(&tb, buf, 4);
	fixbuf_i64(&tb, -123456);
	ck_assert_str_eq(buf, "-12");
	ck_assert(tb.cut);

	fixbuf_init(&tb, buf, 1);
	fixbuf_cat(&tb, "x");
	ck_assert_str_eq(buf, "");
	ck_assert(tb.cut);
}
END_TEST

static Suite *
suite_fixbuf(void)
{
	Suite *s = suite_create("fixbuf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fixbuf_appends);
	tcase_add_test(tc, test_fixbuf_decimals_match_printf);
	tcase_add_test(tc, test_fixbuf_cuts_at_the_end);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_fixbuf)
