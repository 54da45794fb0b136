/* retry: classification, quota arithmetic, backoff bounds, clock skew. */
#include <string.h>

#include "alchemiser/aws/retry.h"
#include "../helpers.h"

START_TEST(test_retry_classify)
{
	ck_assert_int_eq(retry_classify(-ETIMEDOUT, 0, NULL), RETRY_CLASS_TIMEOUT);
	ck_assert_int_eq(retry_classify(-ECONNRESET, 0, NULL), RETRY_CLASS_TRANSIENT);
	ck_assert_int_eq(retry_classify(-EACCES, 0, NULL), RETRY_CLASS_NONE);
	ck_assert_int_eq(retry_classify(0, 200, NULL), RETRY_CLASS_NONE);
	ck_assert_int_eq(retry_classify(0, 400, "ThrottlingException"), RETRY_CLASS_THROTTLE);
	ck_assert_int_eq(retry_classify(0, 400, "ProvisionedThroughputExceededException"), RETRY_CLASS_THROTTLE);
	ck_assert_int_eq(retry_classify(0, 403, "RequestThrottled"), RETRY_CLASS_THROTTLE);
	ck_assert_int_eq(retry_classify(0, 429, "Whatever"), RETRY_CLASS_THROTTLE);
	ck_assert_int_eq(retry_classify(0, 503, NULL), RETRY_CLASS_TRANSIENT);
	ck_assert_int_eq(retry_classify(0, 500, "InternalFailure"), RETRY_CLASS_TRANSIENT);
	ck_assert_int_eq(retry_classify(0, 400, "RequestTimeout"), RETRY_CLASS_TRANSIENT);
	ck_assert_int_eq(retry_classify(0, 403, "SignatureDoesNotMatch"), RETRY_CLASS_CLOCK_SKEW);
	ck_assert_int_eq(retry_classify(0, 400, "ExpiredTokenException"), RETRY_CLASS_EXPIRED_TOKEN);
	ck_assert_int_eq(retry_classify(0, 400, "ConditionalCheckFailedException"), RETRY_CLASS_NONE);
	ck_assert_int_eq(retry_classify(0, 400, "ValidationException"), RETRY_CLASS_NONE);
	ck_assert_int_eq(retry_classify(0, 403, "OverLimit"), RETRY_CLASS_NONE);
}
END_TEST

START_TEST(test_retry_attempts_and_quota)
{
	struct retry_quota q;
	struct retry_state st;
	int64_t d;
	int i;

	retry_quota_init(&q);
	retry_state_init(&st, 0);
	ck_assert_uint_eq(st.max_attempts, 3);
	d = retry_next(&q, &st, RETRY_CLASS_THROTTLE);
	ck_assert(d >= 0 && d < 1000000);	/* U(0, 1 s) */
	ck_assert_int_eq(retry_quota_tokens(&q), 495);
	d = retry_next(&q, &st, RETRY_CLASS_TIMEOUT);
	ck_assert(d >= 0 && d < 2000000);	/* U(0, 2 s) */
	ck_assert_int_eq(retry_quota_tokens(&q), 485);
	ck_assert_int_eq(retry_next(&q, &st, RETRY_CLASS_TRANSIENT), -1);	/* 3 attempts used */
	retry_success(&q, &st);	/* the last retry's cost comes back */
	ck_assert_int_eq(retry_quota_tokens(&q), 495);
	retry_state_init(&st, 3);
	retry_success(&q, &st);	/* clean success: +1 */
	ck_assert_int_eq(retry_quota_tokens(&q), 496);
	retry_success(&q, &st);
	retry_success(&q, &st);
	retry_success(&q, &st);
	retry_success(&q, &st);
	ck_assert_int_eq(retry_quota_tokens(&q), 500);	/* capped */

	/* Never-retried classes. */
	retry_state_init(&st, 3);
	ck_assert_int_eq(retry_next(&q, &st, RETRY_CLASS_NONE), -1);
	/* One free retry on an expired token, not two. */
	ck_assert_int_eq(retry_next(&q, &st, RETRY_CLASS_EXPIRED_TOKEN), 0);
	ck_assert_int_eq(retry_next(&q, &st, RETRY_CLASS_EXPIRED_TOKEN), -1);
	ck_assert_int_eq(retry_quota_tokens(&q), 500);

	/* An empty bucket stops retries. */
	for (i = 0; i < 100; i++) {
		retry_state_init(&st, 3);
		(void)retry_next(&q, &st, RETRY_CLASS_TRANSIENT);
	}
	ck_assert_int_eq(retry_quota_tokens(&q), 0);
	retry_state_init(&st, 3);
	ck_assert_int_eq(retry_next(&q, &st, RETRY_CLASS_THROTTLE), -1);
	retry_quota_destroy(&q);
}
END_TEST

START_TEST(test_retry_backoff_bounds)
{
	unsigned n;
	int i;

	for (n = 1; n <= 10; n++) {
		int64_t cap = n >= 6 ? 20000000 : (INT64_C(1000000) << (n - 1));

		for (i = 0; i < 200; i++) {
			int64_t d = retry_backoff_usec(n);

			ck_assert(d >= 0 && d < cap);
		}
	}
}
END_TEST

START_TEST(test_retry_clock_skew)
{
	struct clock_skew s = { 0 };
	/* Fri, 02 Jan 2026 03:04:05 GMT */
	int64_t server = INT64_C(1767323045) * 1000000;

	/* Within 5 minutes: no change. */
	ck_assert(!clock_skew_update(&s, "Fri, 02 Jan 2026 03:04:05 GMT", server - 60 * 1000000));
	ck_assert_int_eq(s.offset_usec, 0);
	/* An hour behind: the offset follows the server. */
	ck_assert(clock_skew_update(&s, "Fri, 02 Jan 2026 03:04:05 GMT", server - INT64_C(3600) * 1000000));
	ck_assert_int_eq(s.offset_usec, INT64_C(3600) * 1000000);
	ck_assert(!clock_skew_update(&s, "Fri, 02 Jan 2026 03:04:05 GMT", server - INT64_C(3600) * 1000000));
	ck_assert(!clock_skew_update(&s, "garbage", 0));
	ck_assert(!clock_skew_update(&s, NULL, 0));
}
END_TEST

static Suite *
retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("standard");

	tcase_add_test(tc, test_retry_classify);
	tcase_add_test(tc, test_retry_attempts_and_quota);
	tcase_add_test(tc, test_retry_backoff_bounds);
	tcase_add_test(tc, test_retry_clock_skew);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(retry_suite)
