/* calendar: NYSE trading days against the exchange's published calendars. */
#include <check.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/calendar.h"
#include "helpers.h"

#define D(y, m, d) calendar_days_from_civil((y), (m), (d))

struct ymd {
	int y;
	unsigned m, d;
};

/* Every full-day closure NYSE published for the year (one-off closures such as
 * 2025-01-09 excluded: not computable). */
static const struct {
	int year;
	struct ymd hol[10];
	size_t n_hol;
	struct ymd early[3];
	size_t n_early;
} years[] = {
	{ 2021, { {2021,1,1}, {2021,1,18}, {2021,2,15}, {2021,4,2}, {2021,5,31}, {2021,7,5},
	    {2021,9,6}, {2021,11,25}, {2021,12,24} }, 9, { {2021,11,26} }, 1 },
	{ 2022, { {2022,1,17}, {2022,2,21}, {2022,4,15}, {2022,5,30}, {2022,6,20}, {2022,7,4},
	    {2022,9,5}, {2022,11,24}, {2022,12,26} }, 9, { {2022,11,25} }, 1 },
	{ 2023, { {2023,1,2}, {2023,1,16}, {2023,2,20}, {2023,4,7}, {2023,5,29}, {2023,6,19},
	    {2023,7,4}, {2023,9,4}, {2023,11,23}, {2023,12,25} }, 10,
	    { {2023,7,3}, {2023,11,24} }, 2 },
	{ 2024, { {2024,1,1}, {2024,1,15}, {2024,2,19}, {2024,3,29}, {2024,5,27}, {2024,6,19},
	    {2024,7,4}, {2024,9,2}, {2024,11,28}, {2024,12,25} }, 10,
	    { {2024,7,3}, {2024,11,29}, {2024,12,24} }, 3 },
	{ 2025, { {2025,1,1}, {2025,1,20}, {2025,2,17}, {2025,4,18}, {2025,5,26}, {2025,6,19},
	    {2025,7,4}, {2025,9,1}, {2025,11,27}, {2025,12,25} }, 10,
	    { {2025,7,3}, {2025,11,28}, {2025,12,24} }, 3 },
	{ 2026, { {2026,1,1}, {2026,1,19}, {2026,2,16}, {2026,4,3}, {2026,5,25}, {2026,6,19},
	    {2026,7,3}, {2026,9,7}, {2026,11,26}, {2026,12,25} }, 10,
	    { {2026,11,27}, {2026,12,24} }, 2 },
	{ 2027, { {2027,1,1}, {2027,1,18}, {2027,2,15}, {2027,3,26}, {2027,5,31}, {2027,6,18},
	    {2027,7,5}, {2027,9,6}, {2027,11,25}, {2027,12,24} }, 10, { {2027,11,26} }, 1 },
};

static bool
in_list(const struct ymd *l, size_t n, int64_t days)
{
	for (size_t i = 0; i < n; i++)
		if (D(l[i].y, l[i].m, l[i].d) == days)
			return true;
	return false;
}

START_TEST(test_calendar_civil_roundtrip)
{
	int y;
	unsigned m, d;

	ck_assert_int_eq(D(1970, 1, 1), 0);
	ck_assert_int_eq(D(2000, 3, 1), 11017);
	ck_assert_uint_eq(calendar_weekday(D(2026, 11, 23)), 1);	/* Monday */
	for (int64_t days = -800000; days < 800000; days += 997) {
		calendar_civil_from_days(days, &y, &m, &d);
		ck_assert_int_eq(D(y, m, d), days);
	}
}
END_TEST

START_TEST(test_calendar_easter)
{
	static const struct ymd easter[] = {
		{1961,4,2}, {2000,4,23}, {2008,3,23}, {2011,4,24}, {2019,4,21}, {2024,3,31},
		{2025,4,20}, {2026,4,5}, {2038,4,25}, {2285,3,22},
	};

	for (size_t i = 0; i < ELEMENTSOF(easter); i++)
		ck_assert_int_eq(calendar_easter(easter[i].y), D(easter[i].y, easter[i].m, easter[i].d));
}
END_TEST

START_TEST(test_calendar_published_years)
{
	struct calendar_day cd;
	int n_hol, n_early;

	for (size_t i = 0; i < ELEMENTSOF(years); i++) {
		n_hol = n_early = 0;
		for (int64_t d = D(years[i].year, 1, 1); d <= D(years[i].year, 12, 31); d++) {
			calendar_day_info(d, &cd);
			bool want_hol = in_list(years[i].hol, years[i].n_hol, d);
			bool want_early = in_list(years[i].early, years[i].n_early, d);
			unsigned wd = calendar_weekday(d);

			if (want_hol) {
				ck_assert_msg(cd.kind == CALENDAR_HOLIDAY, "%d day %lld: kind %d",
				    years[i].year, (long long)d, cd.kind);
				ck_assert_ptr_nonnull(cd.name);
				n_hol++;
			} else if (wd == 0 || wd == 6) {
				ck_assert_int_eq(cd.kind, CALENDAR_WEEKEND);
			} else if (want_early) {
				ck_assert_int_eq(cd.kind, CALENDAR_EARLY_CLOSE);
				ck_assert_int_eq(cd.close_minute, 780);
				n_early++;
			} else {
				ck_assert_msg(cd.kind == CALENDAR_TRADING, "%d: day %lld kind %d (%s)",
				    years[i].year, (long long)d, cd.kind, cd.name ? cd.name : "");
				ck_assert_int_eq(cd.open_minute, 570);
				ck_assert_int_eq(cd.close_minute, 960);
			}
		}
		ck_assert_int_eq(n_hol, (int)years[i].n_hol);
		ck_assert_int_eq(n_early, (int)years[i].n_early);
	}
}
END_TEST

START_TEST(test_calendar_new_year_saturday_not_observed)
{
	/* 2022-01-01 was a Saturday: 2021-12-31 (Friday) traded normally. */
	ck_assert(calendar_is_trading_day(D(2021, 12, 31)));
	ck_assert(!calendar_is_trading_day(D(2022, 1, 1)));
	ck_assert(calendar_is_trading_day(D(2022, 1, 3)));
	/* 2033-01-01 is a Saturday too. */
	ck_assert(calendar_is_trading_day(D(2032, 12, 31)));
}
END_TEST

START_TEST(test_calendar_next_prev)
{
	/* Thursday before Good Friday 2026 -> Monday after Easter. */
	ck_assert_int_eq(calendar_next_trading_day(D(2026, 4, 2)), D(2026, 4, 6));
	ck_assert_int_eq(calendar_prev_trading_day(D(2026, 4, 6)), D(2026, 4, 2));
	ck_assert_int_eq(calendar_next_trading_day(D(2026, 12, 24)), D(2026, 12, 28));
}
END_TEST

START_TEST(test_calendar_market_state)
{
	bool open;
	int64_t no, nc;
	/* 2026-11-23 (Monday, EST) 15:00 UTC = 10:00 New York: open. */
	int64_t t = (D(2026, 11, 23) * 86400 + 15 * 3600) * INT64_C(1000000);

	ck_assert_int_eq(calendar_new_york_offset_sec(t), -18000);
	calendar_market_state(t, &open, &no, &nc);
	ck_assert(open);
	ck_assert_int_eq(nc, (D(2026, 11, 23) * 86400 + 21 * 3600) * INT64_C(1000000));
	ck_assert_int_eq(no, (D(2026, 11, 24) * 86400 + 14 * 3600 + 1800) * INT64_C(1000000));
	/* 2026-07-02 (EDT) 21:00 UTC = 17:00: closed; next open Monday 6 July (3 July holiday). */
	t = (D(2026, 7, 2) * 86400 + 21 * 3600) * INT64_C(1000000);
	ck_assert_int_eq(calendar_new_york_offset_sec(t), -14400);
	calendar_market_state(t, &open, &no, &nc);
	ck_assert(!open);
	ck_assert_int_eq(no, (D(2026, 7, 6) * 86400 + 13 * 3600 + 1800) * INT64_C(1000000));
	/* Day after Thanksgiving 2026, 13:30 New York: closed early. */
	t = (D(2026, 11, 27) * 86400 + 18 * 3600 + 1800) * INT64_C(1000000);
	calendar_market_state(t, &open, &no, &nc);
	ck_assert(!open);
	/* DST edges 2026: 8 March 07:00 UTC and 1 November 06:00 UTC. */
	ck_assert_int_eq(calendar_new_york_offset_sec((D(2026, 3, 8) * 86400 + 7 * 3600 - 1) *
	    INT64_C(1000000)), -18000);
	ck_assert_int_eq(calendar_new_york_offset_sec((D(2026, 3, 8) * 86400 + 7 * 3600) *
	    INT64_C(1000000)), -14400);
	ck_assert_int_eq(calendar_new_york_offset_sec((D(2026, 11, 1) * 86400 + 6 * 3600) *
	    INT64_C(1000000)), -18000);
}
END_TEST

static Suite *
calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("dates");

	tcase_add_test(tc, test_calendar_civil_roundtrip);
	tcase_add_test(tc, test_calendar_easter);
	suite_add_tcase(s, tc);
	tc = tcase_create("nyse");
	tcase_add_test(tc, test_calendar_published_years);
	tcase_add_test(tc, test_calendar_new_year_saturday_not_observed);
	tcase_add_test(tc, test_calendar_next_prev);
	tcase_add_test(tc, test_calendar_market_state);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(calendar_suite)
