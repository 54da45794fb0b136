#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alchemiser/core/timeutil.h"
#include "helpers.h"

/* Why not ck_assert in hot loops: each passing check writes a mark point to
 * the runner's pipe, which makes a 100k-round property loop slow. */
#define fast_assert(expr) do { \
	if (!(expr)) \
		ck_abort_msg("%s:%d: assertion '%s' failed", __FILE__, __LINE__, #expr); \
} while (0)
#define fast_assert_msg(expr, ...) do { \
	if (!(expr)) \
		ck_abort_msg(__VA_ARGS__); \
} while (0)

#define S(x) (INT64_C(x) * USEC_PER_SEC)
/* Iterations of each property loop. */
#define PROPERTY_ROUNDS 100000
/* 0001-01-01 and 9999-12-31 in days since the epoch. */
#define DAYS_MIN INT64_C(-719162)
#define DAYS_MAX INT64_C(2932896)


static int64_t
rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(test_rng_next() % (uint64_t)(hi - lo + 1));
}

static int64_t
parse_ok(const char *s)
{
	struct errctx ec = { 0 };
	int64_t usec = 0;

	ck_assert_ok(time_parse_rfc3339(s, &usec, &ec), &ec);
	return usec;
}

START_TEST(test_timeutil_clocks)
{
	int64_t a = time_now_monotonic_usec(), b = time_now_monotonic_usec();

	/* Ordering only, never a duration. */
	ck_assert_int_ge(b, a);
	ck_assert_int_gt(time_now_realtime_usec(), S(1577836800));	/* after 2020-01-01 */
}
END_TEST

START_TEST(test_timeutil_parse_known_instants)
{
	static const struct { const char *in; int64_t usec; } cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T00:00:00.000001Z", 1 },
		{ "1969-12-31T23:59:59Z", -S(1) },
		{ "1969-12-31T23:59:59.5Z", -500000 },
		{ "1969-07-20T20:17:40Z", S(-14182940) },
		{ "2000-01-01T00:00:00Z", S(946684800) },
		{ "2026-11-23T12:34:56Z", S(1795437296) },
		{ "2026-11-23T12:34:56.123456Z", S(1795437296) + 123456 },
		{ "2026-11-23T12:34:56.123456+00:00", S(1795437296) + 123456 },
		{ "2026-11-23T12:34:56-00:00", S(1795437296) },
		{ "2026-11-23T07:34:56-05:00", S(1795437296) },
		{ "2026-11-23T18:04:56+05:30", S(1795437296) },
		{ "2026-11-24T12:33:56+23:59", S(1795437296) },
		{ "2026-11-23 12:34:56", S(1795437296) },		/* space, naive = UTC */
		{ "2026-11-23T12:34:56", S(1795437296) },
		{ "2026-11-23t12:34:56z", S(1795437296) },
		{ "2026-11-23T12:34:56.1Z", S(1795437296) + 100000 },
		{ "2026-11-23T12:34:56.000001Z", S(1795437296) + 1 },
		{ "2026-11-23T12:34:56.9999999Z", S(1795437296) + 999999 },	/* truncated */
		{ "2026-11-23T12:34:56.123456789Z", S(1795437296) + 123456 },
		{ "2026-11-23T12:34:56.123456789-05:00", S(1795455296) + 123456 },
		{ "2038-01-19T03:14:08Z", S(2147483648) },
		{ "1900-01-01T00:00:00Z", S(-2208988800) },
		{ "0001-01-01T00:00:00Z", S(-62135596800) },
		{ "9999-12-31T23:59:59.999999Z", S(253402300799) + 999999 },
		{ "2024-02-29T00:00:00Z", S(1709164800) },
		{ "2000-02-29T12:00:00Z", S(951825600) },
		{ "2400-02-29T00:00:00Z", S(13574563200) },
		{ "1970-01-01T00:00:00+01:00", -S(3600) },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = parse_ok(cases[i].in);

		ck_assert_msg(got == cases[i].usec, "'%s': got %" PRId64 " want %" PRId64,
		    cases[i].in, got, cases[i].usec);
	}
}
END_TEST

START_TEST(test_timeutil_parse_rejects)
{
	static const char *bad[] = {
		"", "2026", "2026-11-23", "2026-11-23T", "2026-11-23T12:34", "2026-11-23T12:34Z",
		"2026-11-23T12:34:56Zjunk", "2026-11-23T12:34:56ZZ", " 2026-11-23T12:34:56Z",
		"2026-11-23T12:34:56Z ", "2026-11-23T12:34:56 ", "2026/11/23T12:34:56Z",
		"2026-11-23X12:34:56Z", "2026-11-23T12.34.56Z", "2026-1-23T12:34:56Z",
		"2026-11-23T1:34:56Z", "+2026-11-23T12:34:56Z", "-2026-11-23T12:34:56Z",
		"2026-11-23T12:34:56.Z", "2026-11-23T12:34:56.", "2026-11-23T12:34:56.1234567890Z",
		"2026-11-23T12:34:56.12a", "2026-11-23T12:34:56+0500", "2026-11-23T12:34:56+05",
		"2026-11-23T12:34:56+05:", "2026-11-23T12:34:56+5:00", "2026-11-23T12:34:56+05:00Z",
		"2026-11-23T12:34:56UTC", "2026-11-23T-1:34:56Z", "2026-11-23T12:34:5Z",
		"2026-11-23TT12:34:56Z", "abcd-ef-ghTij:kl:mnZ", "2026-11-23T12:34:56,5Z",
		/* Ranges. */
		"2026-00-23T12:34:56Z", "2026-13-23T12:34:56Z", "2026-11-00T12:34:56Z",
		"2026-11-31T12:34:56Z", "2026-04-31T00:00:00Z", "2026-01-32T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T12:60:00Z", "2026-11-23T12:34:60Z",
		"2026-11-23T12:34:56+24:00", "2026-11-23T12:34:56+05:60",
		/* Feb 29 only on leap years: not 1900, 2100, 2023; 2000 and 2024 are fine. */
		"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2024-02-30T00:00:00Z",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct errctx ec = { 0 };
		int64_t usec = 42;

		ck_assert_err(time_parse_rfc3339(bad[i], &usec, &ec), -EINVAL, &ec);
		ck_assert_msg(strstr(ec.msg, "RFC 3339") != NULL, "'%s': %s", bad[i], ec.msg);
		ck_assert_int_eq(usec, 42);
	}
	{
		struct errctx ec = { 0 };
		int64_t usec;

		ck_assert_err(time_parse_rfc3339(NULL, &usec, &ec), -EINVAL, &ec);
		ck_assert_err(time_parse_rfc3339("2026-13-01T00:00:00Z", &usec, &ec), -EINVAL, &ec);
		ck_assert_ptr_nonnull(strstr(ec.msg, "bad date"));
		ck_assert_err(time_parse_rfc3339("2026-11-23T12:34:56+05", &usec, &ec), -EINVAL, &ec);
		ck_assert_ptr_nonnull(strstr(ec.msg, "offset"));
		ck_assert_err(time_parse_rfc3339("2026-11-23T12:34:56Z!", &usec, &ec), -EINVAL, &ec);
		ck_assert_ptr_nonnull(strstr(ec.msg, "trailing"));
	}
}
END_TEST

START_TEST(test_timeutil_format)
{
	static const struct { int64_t usec; const char *out; } cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1, "1970-01-01T00:00:00.000001Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -S(1), "1969-12-31T23:59:59Z" },
		{ -500000, "1969-12-31T23:59:59.500000Z" },
		{ S(1795437296) + 123456, "2026-11-23T12:34:56.123456Z" },
		{ S(1795437296) + 120000, "2026-11-23T12:34:56.120000Z" },	/* always 6 */
		{ S(1795437296), "2026-11-23T12:34:56Z" },
		{ S(951782400), "2000-02-29T00:00:00Z" },
		{ S(-62135596800), "0001-01-01T00:00:00Z" },
		{ S(253402300799) + 999999, "9999-12-31T23:59:59.999999Z" },
	};
	char buf[RFC3339_STRLEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_ptr_eq(time_format_rfc3339(cases[i].usec, buf), buf);
		ck_assert_str_eq(buf, cases[i].out);
	}
	/* The extremes of int64 must fit the buffer and not trap. */
	time_format_rfc3339(INT64_MAX, buf);
	ck_assert_str_eq(buf, "294247-01-10T04:00:54.775807Z");
	time_format_rfc3339(INT64_MIN, buf);
	ck_assert_str_eq(buf, "-290308-12-21T19:59:05.224192Z");
}
END_TEST

/* Property: format then parse is the identity over years 0001..9999, and the
 * civil fields agree with libc's gmtime_r. */
START_TEST(test_timeutil_roundtrip_random)
{
	char buf[RFC3339_STRLEN];

	test_rng_seed("test_timeutil_roundtrip_random");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		int64_t usec = rng_range(DAYS_MIN * USEC_PER_DAY, (DAYS_MAX + 1) * USEC_PER_DAY - 1);
		int64_t back = 0;
		time_t t;
		struct tm tm;
		char want[RFC3339_STRLEN];

		if (test_rng_next() & 1)
			usec -= usec % USEC_PER_SEC;	/* exercise the seconds-only form too */
		t = (time_t)(usec >= 0 ? usec / USEC_PER_SEC : -((-usec + USEC_PER_SEC - 1) / USEC_PER_SEC));
		time_format_rfc3339(usec, buf);
		fast_assert_msg(time_parse_rfc3339(buf, &back, NULL) == 0 && back == usec,
		    "%" PRId64 " -> '%s' -> %" PRId64, usec, buf, back);
		fast_assert(gmtime_r(&t, &tm) != NULL);
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		fast_assert_msg(strncmp(buf, want, 19) == 0, "%s vs gmtime %s", buf, want);
	}
}
END_TEST

START_TEST(test_timeutil_civil_known_days)
{
	static const struct { int y; unsigned m, d; int64_t days; unsigned wday; } cases[] = {
		{ 1970, 1, 1, 0, 4 },		/* Thursday */
		{ 1969, 12, 31, -1, 3 },
		{ 1970, 1, 2, 1, 5 },
		{ 2000, 1, 1, 10957, 6 },	/* Saturday */
		{ 2000, 2, 29, 11016, 2 },
		{ 2000, 3, 1, 11017, 3 },
		{ 2026, 11, 23, 20780, 1 },	/* Monday */
		{ 2100, 2, 28, 47540, 0 },
		{ 2100, 3, 1, 47541, 1 },	/* 2100 is not leap: Feb 28 -> Mar 1 */
		{ 1900, 3, 1, -25508, 4 },
		{ 1900, 2, 28, -25509, 3 },
		{ 1600, 2, 29, -135081, 2 },
		{ 1, 1, 1, -719162, 1 },
		{ 0, 1, 1, -719528, 6 },
		{ 0, 2, 29, -719469, 2 },	/* year 0 is leap (divisible by 400) */
		{ -1, 12, 31, -719529, 5 },
		{ 9999, 12, 31, 2932896, 5 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int y;
		unsigned m, d;

		ck_assert_msg(time_days_from_civil(cases[i].y, cases[i].m, cases[i].d) == cases[i].days,
		    "%d-%u-%u: %" PRId64, cases[i].y, cases[i].m, cases[i].d,
		    time_days_from_civil(cases[i].y, cases[i].m, cases[i].d));
		time_civil_from_days(cases[i].days, &y, &m, &d);
		ck_assert_int_eq(y, cases[i].y);
		ck_assert_uint_eq(m, cases[i].m);
		ck_assert_uint_eq(d, cases[i].d);
		ck_assert_uint_eq(time_weekday_from_days(cases[i].days), cases[i].wday);
	}
}
END_TEST

/* Exhaustive over 4,800 years: consecutive day numbers are consecutive dates,
 * month lengths follow the leap rules, and weekdays cycle. */
START_TEST(test_timeutil_civil_every_day)
{
	int y, py;
	unsigned m, d, pm, pd;
	int64_t first = time_days_from_civil(-400, 1, 1), last = time_days_from_civil(4400, 12, 31);

	time_civil_from_days(first, &py, &pm, &pd);
	fast_assert(py == -400);
	for (int64_t days = first + 1; days <= last; days++) {
		time_civil_from_days(days, &y, &m, &d);
		if (d == pd + 1) {
			fast_assert(y == py && m == pm);
		} else {
			bool leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
			unsigned len = pm == 2 ? (leap ? 29 : 28) :
			    (pm == 4 || pm == 6 || pm == 9 || pm == 11) ? 30 : 31;

			fast_assert_msg(d == 1 && pd == len, "%" PRId64 ": %d-%u-%u after %d-%u-%u", days,
			    y, m, d, py, pm, pd);
			fast_assert(pm == 12 ? (m == 1 && y == py + 1) : (m == pm + 1 && y == py));
		}
		fast_assert(time_days_from_civil(y, m, d) == days);
		fast_assert(time_weekday_from_days(days) == (time_weekday_from_days(days - 1) + 1) % 7);
		py = y;
		pm = m;
		pd = d;
	}
}
END_TEST

START_TEST(test_timeutil_date_parse_format)
{
	struct errctx ec = { 0 };
	int64_t days = 42;
	char buf[11];
	static const char *bad[] = {
		"", "2026-11-2", "2026-11-233", "2026-11-23T", "2026-11-23 ", " 2026-11-23",
		"2026/11/23", "20261123", "2026-13-01", "2026-00-01", "2026-02-30", "2023-02-29",
		"1900-02-29", "2100-02-29", "2026-04-31", "2026-11-00", "+026-11-23", "2026-1a-23",
	};

	ck_assert_ok(time_parse_date("2026-11-23", &days, &ec), &ec);
	ck_assert_int_eq(days, 20780);
	ck_assert_ok(time_parse_date("1969-12-31", &days, &ec), &ec);
	ck_assert_int_eq(days, -1);
	ck_assert_ok(time_parse_date("2000-02-29", &days, &ec), &ec);
	ck_assert_int_eq(days, 11016);
	ck_assert_ok(time_parse_date("2024-02-29", &days, &ec), &ec);
	ck_assert_str_eq(time_format_date(days, buf), "2024-02-29");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		days = 42;
		ck_assert_err(time_parse_date(bad[i], &days, &ec), -EINVAL, &ec);
		ck_assert_ptr_nonnull(strstr(ec.msg, "YYYY-MM-DD"));
		ck_assert_int_eq(days, 42);
	}
	ck_assert_err(time_parse_date(NULL, &days, &ec), -EINVAL, &ec);

	ck_assert_str_eq(time_format_date(0, buf), "1970-01-01");
	ck_assert_str_eq(time_format_date(-1, buf), "1969-12-31");
	ck_assert_str_eq(time_format_date(DAYS_MIN, buf), "0001-01-01");
	ck_assert_str_eq(time_format_date(DAYS_MAX, buf), "9999-12-31");
	/* Out of four-digit years: cut to the promised 11 bytes, never overrun. */
	ck_assert_str_eq(time_format_date(DAYS_MAX + 1, buf), "10000-01-0");
	for (int64_t d = DAYS_MIN; d <= DAYS_MAX; d += 997) {
		int64_t back;

		ck_assert_ok(time_parse_date(time_format_date(d, buf), &back, &ec), &ec);
		ck_assert_int_eq(back, d);
	}
}
END_TEST

static int64_t
utc(const char *s)
{
	return parse_ok(s);
}

START_TEST(test_timeutil_new_york_dst_edges)
{
	static const struct { const char *at; int off; } cases[] = {
		{ "2026-01-15T12:00:00Z", -18000 }, { "2026-07-04T12:00:00Z", -14400 },
		/* 2026: second Sunday of March is the 8th, first Sunday of November the 1st. */
		{ "2026-03-08T06:59:59Z", -18000 }, { "2026-03-08T07:00:00Z", -14400 },
		{ "2026-11-01T05:59:59Z", -14400 }, { "2026-11-01T06:00:00Z", -18000 },
		/* 2007, the first year of the current rules: March 11, November 4. */
		{ "2007-03-11T06:59:59Z", -18000 }, { "2007-03-11T07:00:00Z", -14400 },
		{ "2007-11-04T05:59:59Z", -14400 }, { "2007-11-04T06:00:00Z", -18000 },
		/* 2024 (leap): March 10, November 3. */
		{ "2024-03-10T06:59:59Z", -18000 }, { "2024-03-10T07:00:00Z", -14400 },
		{ "2024-11-03T05:59:59Z", -14400 }, { "2024-11-03T06:00:00Z", -18000 },
		/* 2021: latest possible dates, March 14 and November 7. */
		{ "2021-03-14T06:59:59Z", -18000 }, { "2021-03-14T07:00:00Z", -14400 },
		{ "2021-11-07T05:59:59Z", -14400 }, { "2021-11-07T06:00:00Z", -18000 },
		/* 2025: March 9, November 2. */
		{ "2025-03-09T06:59:59.999999Z", -18000 }, { "2025-03-09T07:00:00Z", -14400 },
		{ "2025-11-02T05:59:59.999999Z", -14400 }, { "2025-11-02T06:00:00Z", -18000 },
		/* The Sunday before and after is unaffected. */
		{ "2025-03-02T12:00:00Z", -18000 }, { "2025-11-09T12:00:00Z", -18000 },
		{ "2025-10-26T12:00:00Z", -14400 },
		/* New Year in New York happens at 05:00 UTC: both sides are EST. */
		{ "2026-01-01T04:59:59Z", -18000 }, { "2025-12-31T23:00:00Z", -18000 },
		/* Local offsets written with the instant agree. */
		{ "2026-03-08T01:59:59-05:00", -18000 }, { "2026-03-08T03:00:00-04:00", -14400 },
		{ "2026-11-01T01:59:59-04:00", -14400 }, { "2026-11-01T01:00:00-05:00", -18000 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(time_new_york_offset_sec(utc(cases[i].at)) == cases[i].off,
		    "%s: got %d want %d", cases[i].at, time_new_york_offset_sec(utc(cases[i].at)),
		    cases[i].off);
}
END_TEST

/* Property: agrees with the system tz database for 2007..2037, when present. */
START_TEST(test_timeutil_new_york_matches_tzdata)
{
	if (access("/usr/share/zoneinfo/America/New_York", R_OK) != 0) {
		fprintf(stderr, "no tzdata: skipping the tzdata comparison\n");
		return;
	}
	setenv("TZ", "America/New_York", 1);
	tzset();
	test_rng_seed("test_timeutil_new_york_matches_tzdata");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		int64_t usec = rng_range(utc("2007-01-01T00:00:00Z"), utc("2037-12-31T23:59:59Z"));
		time_t t = (time_t)(usec / USEC_PER_SEC);
		struct tm tm;

		fast_assert(localtime_r(&t, &tm) != NULL);
		fast_assert_msg(time_new_york_offset_sec(usec) == tm.tm_gmtoff, "%" PRId64 ": %d vs %ld",
		    usec, time_new_york_offset_sec(usec), tm.tm_gmtoff);
	}
}
END_TEST


/* A lock poller's pause: the first call starts the clock, each call sleeps
 * a short step, and it gives up once the timeout has passed. */
START_TEST(test_timeutil_lock_wait_steps_then_gives_up)
{
	int64_t since = 0, t0 = time_now_monotonic_usec();
	int count = 0;

	while (time_lock_wait(count, &since, 20000))
		count++;
	ck_assert_int_ge(since, t0);
	ck_assert_int_ge(time_now_monotonic_usec() - t0, 20000);
	/* Steps of 50, 100, 200, 400, 800 us, then 1 ms: each call sleeps at
	 * least its step (never a spin), so at most 5 + 19 + 1 tries fit in 20 ms.
	 * How many do fit is the machine's load (a loaded one saw 4 where an idle
	 * one sees 20): a timing, not asserted here. */
	ck_assert_int_ge(count, 1);
	ck_assert_int_le(count, 25);
	ck_assert(!time_lock_wait(count, &since, 20000));
	/* A new wait (count 0) starts a new clock. */
	ck_assert(time_lock_wait(0, &since, 20000));
}
END_TEST

static Suite *
suite_timeutil(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc;

	tc = tcase_create("clocks");
	tcase_add_test(tc, test_timeutil_clocks);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc3339");
	tcase_add_test(tc, test_timeutil_parse_known_instants);
	tcase_add_test(tc, test_timeutil_parse_rejects);
	tcase_add_test(tc, test_timeutil_format);
	tcase_add_test(tc, test_timeutil_roundtrip_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("civil");
	tcase_add_test(tc, test_timeutil_civil_known_days);
	tcase_add_test(tc, test_timeutil_civil_every_day);
	tcase_add_test(tc, test_timeutil_date_parse_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("new_york");
	tcase_add_test(tc, test_timeutil_new_york_dst_edges);
	tcase_add_test(tc, test_timeutil_new_york_matches_tzdata);
	tcase_add_test(tc, test_timeutil_lock_wait_steps_then_gives_up);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_timeutil)
