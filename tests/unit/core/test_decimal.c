#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/xalloc.h"
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

#define U(x) INT64_C(x)
#define MAXU INT64_MAX
/* Iterations of each property loop. */
#define PROPERTY_ROUNDS 100000

#define HE DECIMAL_ROUND_HALF_EVEN
#define HU DECIMAL_ROUND_HALF_UP
#define DN DECIMAL_ROUND_DOWN
#define FL DECIMAL_ROUND_FLOOR
#define CE DECIMAL_ROUND_CEIL

static const char *mode_names[] = { "half_even", "half_up", "down", "floor", "ceil" };


/* Any valid value, with magnitudes spread evenly over 1..19 digits. */
static int64_t
rng_units(void)
{
	int digits = (int)(test_rng_next() % 19) + 1;
	uint64_t mod = 1, v;
	int64_t u;

	for (int i = 0; i < digits; i++)
		mod *= 10;
	v = test_rng_next() % mod;
	u = v > (uint64_t)MAXU ? MAXU : (int64_t)v;
	return test_rng_next() & 1 ? -u : u;
}

START_TEST(test_decimal_parse_valid)
{
	static const struct { const char *in; int64_t units; } cases[] = {
		{ "0", 0 }, { "-0", 0 }, { "+0.0", 0 }, { "0.000", 0 }, { "-0.00000000", 0 },
		{ "1", U(100000000) }, { "+1", U(100000000) }, { "-1", -U(100000000) },
		{ ".5", U(50000000) }, { "-.5", -U(50000000) }, { "0.5", U(50000000) },
		{ "1.", U(100000000) }, { "12.345", U(1234500000) },
		{ "0.00000001", 1 }, { "-0.00000001", -1 }, { "+0.00000001", 1 },
		{ "1e5", U(10000000000000) }, { "1E5", U(10000000000000) },
		{ "1e+2", U(10000000000) }, { "1.5E-2", U(1500000) }, { "5e-1", U(50000000) },
		{ "1e-8", 1 }, { "100e-10", 1 }, { "-2.5e0", -U(250000000) },
		{ "0.10000000000000000000", U(10000000) }, { "000123.4500", U(12345000000) },
		{ "92233720368.54775807", MAXU }, { "-92233720368.54775807", -MAXU },
		{ "9223372036854775807e-8", MAXU }, { "0.9223372036854775807e11", MAXU },
		{ "1e10", U(1000000000000000000) },
		{ "0e999999999999999999999", 0 }, { "-0e-99999", 0 },
		{ "0.000000000000000000000000000001e30", U(100000000) },
		{ "1e0000000000000000000000001", U(1000000000) },
		{ "12345678901.2345678e-1", U(123456789012345678) },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errctx ec = { 0 };
		struct decimal d = { 12345 };

		ck_assert_ok(decimal_parse(cases[i].in, &d, &ec), &ec);
		ck_assert_msg(d.units == cases[i].units, "'%s': got %" PRId64 " want %" PRId64,
		    cases[i].in, d.units, cases[i].units);
		/* parse_round agrees on every exact input, in every mode. */
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			ck_assert_ok(decimal_parse_round(cases[i].in, m, &d, &ec), &ec);
			ck_assert_int_eq(d.units, cases[i].units);
		}
	}
}
END_TEST

START_TEST(test_decimal_parse_rejects_garbage)
{
	static const char *bad[] = {
		"", " ", " 1", "1 ", "\t1", "1\n", "1.2.3", "..1", "NaN", "nan", "inf", "-inf",
		"Infinity", "1e", "1e+", "1e-", "e5", ".", "+", "-", "+.", "-.e1", "+-1", "--1",
		"1x", "0x10", "1,5", "1e5.5", "1_000", "1e 5", "1 e5", "1E+-5", "١", "1e5x",
		"0.5.", "$1", "1-", "1+1",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct errctx ec = { 0 };
		struct decimal d = { 42 };

		ck_assert_err(decimal_parse(bad[i], &d, &ec), -EINVAL, &ec);
		ck_assert_msg(strstr(ec.msg, "not a decimal") != NULL, "'%s': %s", bad[i], ec.msg);
		ck_assert_err(decimal_parse_round(bad[i], HE, &d, &ec), -EINVAL, &ec);
		ck_assert_int_eq(d.units, 42);	/* untouched on failure */
	}
	{
		struct errctx ec = { 0 };
		struct decimal d;

		ck_assert_err(decimal_parse(NULL, &d, &ec), -EINVAL, &ec);
		ck_assert_err(decimal_parse_round("1", _DECIMAL_ROUND_MAX, &d, &ec), -EINVAL, &ec);
		ck_assert_err(decimal_parse(NULL, &d, NULL), -EINVAL, NULL);	/* ec may be NULL */
	}
}
END_TEST

START_TEST(test_decimal_parse_range_and_overflow)
{
	struct errctx ec = { 0 };
	struct decimal d;

	ck_assert_err(decimal_parse("0.000000001", &d, &ec), -ERANGE, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "'0.000000001'"));
	ck_assert_err(decimal_parse("1.000000005", &d, &ec), -ERANGE, &ec);
	ck_assert_err(decimal_parse("1e-9", &d, &ec), -ERANGE, &ec);
	ck_assert_err(decimal_parse("1e-999999999999999", &d, &ec), -ERANGE, &ec);
	ck_assert_err(decimal_parse("92233720368.54775808", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "out of range"));
	/* INT64_MIN units is outside the symmetric range. */
	ck_assert_err(decimal_parse("-92233720368.54775808", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse("1e11", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse("-1e11", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse("99999999999", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse("1e999999999999999999999", &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse("18446744073709551616", &d, &ec), -EOVERFLOW, &ec);
	/* Overflow wins over extra digits: the value could never fit. */
	ck_assert_err(decimal_parse("100000000000.000000001", &d, &ec), -EOVERFLOW, &ec);
	/* Rounding up past the maximum is an overflow too. */
	ck_assert_err(decimal_parse_round("92233720368.547758075", HE, &d, &ec), -EOVERFLOW, &ec);
	ck_assert_err(decimal_parse_round("92233720368.547758071", CE, &d, &ec), -EOVERFLOW, &ec);
	ck_assert_ok(decimal_parse_round("92233720368.547758079", DN, &d, &ec), &ec);
	ck_assert_int_eq(d.units, MAXU);
	ck_assert_err(decimal_parse_round("-92233720368.547758079", FL, &d, &ec), -EOVERFLOW, &ec);
	/* Vanishingly small values round like any other dropped part. */
	ck_assert_ok(decimal_parse_round("1e-999999999999999", HE, &d, &ec), &ec);
	ck_assert_int_eq(d.units, 0);
	ck_assert_ok(decimal_parse_round("1e-999999999999999", CE, &d, &ec), &ec);
	ck_assert_int_eq(d.units, 1);
	ck_assert_ok(decimal_parse_round("-1e-99999", FL, &d, &ec), &ec);
	ck_assert_int_eq(d.units, -1);
	ck_assert_ok(decimal_parse_round("-1e-99999", CE, &d, &ec), &ec);
	ck_assert_int_eq(d.units, 0);
}
END_TEST

START_TEST(test_decimal_parse_long_inputs)
{
	struct errctx ec = { 0 };
	struct decimal d;
	size_t n = 100000;
	char *s = xmalloc(n + 8);

	/* A hundred thousand leading zeros, then 1: exact. */
	memset(s, '0', n);
	strcpy(s + n, "1.5");
	ck_assert_ok(decimal_parse(s, &d, &ec), &ec);
	ck_assert_int_eq(d.units, U(150000000));
	/* ...or as many trailing fractional zeros. */
	strcpy(s, "2.");
	memset(s + 2, '0', n);
	s[n + 2] = '\0';
	ck_assert_ok(decimal_parse(s, &d, &ec), &ec);
	ck_assert_int_eq(d.units, U(200000000));
	/* 0.000...0001 is below a unit: inexact, and rounds with the mode. */
	s[n] = '1';
	ck_assert_err(decimal_parse(s, &d, &ec), -ERANGE, &ec);
	ck_assert_ok(decimal_parse_round(s, CE, &d, &ec), &ec);
	ck_assert_int_eq(d.units, U(200000001));
	/* A long run of significant digits overflows, it never wraps. */
	memset(s, '9', n);
	s[n] = '\0';
	ck_assert_err(decimal_parse(s, &d, &ec), -EOVERFLOW, &ec);
	/* Long error inputs are quoted truncated. */
	ck_assert_int_lt((int)strlen(ec.msg), 200);
	free(s);
}
END_TEST

/* Each row: input, then the expected units in HE, HU, DN, FL, CE order. */
static const struct tie_case {
	const char *in;
	int64_t want[_DECIMAL_ROUND_MAX];
} parse_ties[] = {
	{ "0.000000025", { 2, 3, 2, 2, 3 } },
	{ "0.000000035", { 4, 4, 3, 3, 4 } },
	{ "-0.000000025", { -2, -3, -2, -3, -2 } },
	{ "-0.000000035", { -4, -4, -3, -4, -3 } },
	{ "0.0000000250000000001", { 3, 3, 2, 2, 3 } },
	{ "-0.0000000250000000001", { -3, -3, -2, -3, -2 } },
	{ "0.000000024999", { 2, 2, 2, 2, 3 } },
	{ "-0.000000024999", { -2, -2, -2, -3, -2 } },
	{ "0.000000005", { 0, 1, 0, 0, 1 } },
	{ "-0.000000005", { 0, -1, 0, -1, 0 } },
	{ "0.0000000049", { 0, 0, 0, 0, 1 } },
	{ "-0.0000000051", { -1, -1, 0, -1, 0 } },
	{ "2.500000005", { U(250000000), U(250000001), U(250000000), U(250000000), U(250000001) } },
	{ "25e-9", { 2, 3, 2, 2, 3 } },
	{ "15e-9", { 2, 2, 1, 1, 2 } },
};

START_TEST(test_decimal_parse_round_every_mode)
{
	for (size_t i = 0; i < sizeof parse_ties / sizeof parse_ties[0]; i++)
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			struct errctx ec = { 0 };
			struct decimal d;

			ck_assert_ok(decimal_parse_round(parse_ties[i].in, m, &d, &ec), &ec);
			ck_assert_msg(d.units == parse_ties[i].want[m], "'%s' %s: got %" PRId64
			    " want %" PRId64, parse_ties[i].in, mode_names[m], d.units,
			    parse_ties[i].want[m]);
			ck_assert_err(decimal_parse(parse_ties[i].in, &d, &ec), -ERANGE, &ec);
		}
}
END_TEST

START_TEST(test_decimal_format_canonical)
{
	static const struct { int64_t units; const char *out; } cases[] = {
		{ 0, "0" }, { 1, "0.00000001" }, { -1, "-0.00000001" }, { U(100000000), "1" },
		{ -U(100000000), "-1" }, { U(150000000), "1.5" }, { -U(50000000), "-0.5" },
		{ U(1234500000), "12.345" }, { U(1000000000000), "10000" },
		{ U(12345678912345678), "123456789.12345678" }, { U(10000001), "0.10000001" },
		{ MAXU, "92233720368.54775807" }, { -MAXU, "-92233720368.54775807" },
		/* Not a valid value, but formatting it must not trap. */
		{ INT64_MIN, "-92233720368.54775808" },
	};
	char buf[DECIMAL_STRLEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_ptr_eq(decimal_format(decimal_from_units(cases[i].units), buf), buf);
		ck_assert_str_eq(buf, cases[i].out);
		ck_assert_int_lt((int)strlen(buf), DECIMAL_STRLEN);
	}
}
END_TEST

START_TEST(test_decimal_format_fixed)
{
	static const struct { int64_t units; int places; int mode; const char *out; } cases[] = {
		{ U(1230000000), 2, HE, "12.30" }, { 0, 2, HE, "0.00" }, { 0, 0, HE, "0" },
		{ U(1230000000), 0, HE, "12" }, { U(1230000000), 8, HE, "12.30000000" },
		{ -U(100000), 2, HE, "0.00" },		/* -0.001: no "-0.00" */
		{ -U(100000), 2, FL, "-0.01" }, { U(100000), 2, CE, "0.01" },
		{ U(250000000), 0, HE, "2" }, { U(350000000), 0, HE, "4" },
		{ -U(250000000), 0, HE, "-2" }, { -U(250000000), 0, HU, "-3" },
		{ -U(250000000), 0, DN, "-2" }, { -U(250000000), 0, FL, "-3" },
		{ -U(250000000), 0, CE, "-2" }, { U(250000000), 0, CE, "3" },
		{ U(100500000), 2, HE, "1.00" }, { U(100500000), 2, HU, "1.01" },
		{ U(101500000), 2, HE, "1.02" }, { -U(100500000), 2, HU, "-1.01" },
		{ U(199999999), 2, DN, "1.99" }, { U(199999999), 2, HE, "2.00" },
		{ 1, 8, HE, "0.00000001" }, { -1, 8, HE, "-0.00000001" },
		{ MAXU, 0, HU, "92233720369" }, { MAXU, 8, HE, "92233720368.54775807" },
		{ -MAXU, 0, FL, "-92233720369" }, { MAXU, 2, DN, "92233720368.54" },
		/* Out-of-range places are clamped. */
		{ U(123456789), -1, HE, "1" }, { U(123456789), 9, HE, "1.23456789" },
	};
	char buf[DECIMAL_STRLEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		decimal_format_fixed(decimal_from_units(cases[i].units), cases[i].places,
		    cases[i].mode, buf);
		ck_assert_msg(strcmp(buf, cases[i].out) == 0, "%" PRId64 " places %d %s: got '%s' want '%s'",
		    cases[i].units, cases[i].places, mode_names[cases[i].mode], buf, cases[i].out);
	}
}
END_TEST

START_TEST(test_decimal_round_to_every_mode)
{
	/* Units in, places, then HE, HU, DN, FL, CE. */
	static const struct { int64_t in; int places; int64_t want[_DECIMAL_ROUND_MAX]; } cases[] = {
		{ U(250000000), 0, { U(200000000), U(300000000), U(200000000), U(200000000), U(300000000) } },
		{ U(350000000), 0, { U(400000000), U(400000000), U(300000000), U(300000000), U(400000000) } },
		{ -U(250000000), 0, { -U(200000000), -U(300000000), -U(200000000), -U(300000000), -U(200000000) } },
		{ -U(350000000), 0, { -U(400000000), -U(400000000), -U(300000000), -U(400000000), -U(300000000) } },
		{ U(260000000), 0, { U(300000000), U(300000000), U(200000000), U(200000000), U(300000000) } },
		{ -U(240000000), 0, { -U(200000000), -U(200000000), -U(200000000), -U(300000000), -U(200000000) } },
		{ U(1005000), 2, { U(1000000), U(1000000), U(1000000), U(1000000), U(2000000) } },
		{ U(1500000), 2, { U(2000000), U(2000000), U(1000000), U(1000000), U(2000000) } },
		{ -U(500000), 2, { 0, -U(1000000), 0, -U(1000000), 0 } },
		{ U(123456789), 8, { U(123456789), U(123456789), U(123456789), U(123456789), U(123456789) } },
		{ 0, 3, { 0, 0, 0, 0, 0 } },
	};
	struct decimal d;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			ck_assert_int_eq(decimal_round_to(decimal_from_units(cases[i].in),
			    cases[i].places, m, &d), 0);
			ck_assert_msg(d.units == cases[i].want[m], "%" PRId64 " to %d %s: got %" PRId64,
			    cases[i].in, cases[i].places, mode_names[m], d.units);
		}
	ck_assert_int_eq(decimal_round_to(DECIMAL_ZERO, -1, HE, &d), -EINVAL);
	ck_assert_int_eq(decimal_round_to(DECIMAL_ZERO, 9, HE, &d), -EINVAL);
	ck_assert_int_eq(decimal_round_to(DECIMAL_ZERO, 2, _DECIMAL_ROUND_MAX, &d), -EINVAL);
	ck_assert_int_eq(decimal_round_to(decimal_from_units(MAXU), 0, CE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_round_to(decimal_from_units(-MAXU), 0, FL, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_round_to(decimal_from_units(MAXU), 0, DN, &d), 0);
	ck_assert_int_eq(d.units, U(9223372036800000000));
}
END_TEST

START_TEST(test_decimal_add_sub_money)
{
	struct decimal r, one = decimal_from_units(1);

	/* The classic: exact in decimal, never 0.30000000000000004. */
	ck_assert_int_eq(decimal_add(test_dec("0.1"), test_dec("0.2"), &r), 0);
	ck_assert_int_eq(decimal_cmp(r, test_dec("0.3")), 0);
	ck_assert_int_eq(decimal_sub(test_dec("0.3"), test_dec("0.1"), &r), 0);
	ck_assert_int_eq(r.units, test_dec("0.2").units);
	ck_assert_int_eq(decimal_add(test_dec("19.99"), test_dec("0.01"), &r), 0);
	ck_assert_int_eq(r.units, test_dec("20").units);
	ck_assert_int_eq(decimal_sub(test_dec("10"), test_dec("10.00000001"), &r), 0);
	ck_assert_int_eq(r.units, -1);
	/* Ten cents ten times is a dollar. */
	r = DECIMAL_ZERO;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(decimal_add(r, test_dec("0.1"), &r), 0);
	ck_assert_int_eq(r.units, test_dec("1").units);

	ck_assert_int_eq(decimal_add(decimal_from_units(MAXU), DECIMAL_ZERO, &r), 0);
	ck_assert_int_eq(decimal_add(decimal_from_units(MAXU), one, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_add(decimal_from_units(MAXU), decimal_from_units(MAXU), &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_add(decimal_from_units(-MAXU), decimal_neg(one), &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_add(decimal_from_units(MAXU), decimal_neg(one), &r), 0);
	ck_assert_int_eq(r.units, MAXU - 1);
	ck_assert_int_eq(decimal_sub(decimal_from_units(-MAXU), one, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_sub(decimal_from_units(-MAXU), decimal_from_units(MAXU), &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_sub(decimal_from_units(MAXU), decimal_from_units(-1), &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_sub(decimal_from_units(MAXU), decimal_from_units(MAXU), &r), 0);
	ck_assert_int_eq(r.units, 0);
	/* A failed operation leaves *ret alone. */
	r = one;
	ck_assert_int_eq(decimal_add(decimal_from_units(MAXU), one, &r), -EOVERFLOW);
	ck_assert_int_eq(r.units, 1);
}
END_TEST

START_TEST(test_decimal_mul)
{
	static const struct { const char *a, *b; int64_t want[_DECIMAL_ROUND_MAX]; } ties[] = {
		{ "0.00000001", "0.5", { 0, 1, 0, 0, 1 } },
		{ "-0.00000001", "0.5", { 0, -1, 0, -1, 0 } },
		{ "0.00000003", "0.5", { 2, 2, 1, 1, 2 } },
		{ "0.00000003", "-0.5", { -2, -2, -1, -2, -1 } },
		{ "-0.00000005", "-0.5", { 2, 3, 2, 2, 3 } },
		{ "0.00000001", "0.00000001", { 0, 0, 0, 0, 1 } },
		{ "-0.00000001", "0.00000001", { 0, 0, 0, -1, 0 } },
		{ "0.00000001", "0.99999999", { 1, 1, 0, 0, 1 } },
	};
	struct decimal r;
	char buf[DECIMAL_STRLEN];

	for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++)
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			ck_assert_int_eq(decimal_mul(test_dec(ties[i].a), test_dec(ties[i].b), m, &r), 0);
			ck_assert_msg(r.units == ties[i].want[m], "%s * %s %s: got %" PRId64,
			    ties[i].a, ties[i].b, mode_names[m], r.units);
		}
	ck_assert_int_eq(decimal_mul(test_dec("1.5"), test_dec("2"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "3");
	ck_assert_int_eq(decimal_mul(test_dec("0.1"), test_dec("0.1"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "0.01");
	/* price * qty, exact. */
	ck_assert_int_eq(decimal_mul(test_dec("123.45"), test_dec("0.333"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "41.10885");
	ck_assert_int_eq(decimal_mul(test_dec("-123.45"), test_dec("-0.333"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "41.10885");
	ck_assert_int_eq(decimal_mul(test_dec("1234.56789"), test_dec("0"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "0");

	/* Edges: products up to 2^126 in the intermediate never wrap. */
	ck_assert_int_eq(decimal_mul(decimal_from_units(MAXU), test_dec("1"), HE, &r), 0);
	ck_assert_int_eq(r.units, MAXU);
	ck_assert_int_eq(decimal_mul(decimal_from_units(MAXU), test_dec("-1"), HE, &r), 0);
	ck_assert_int_eq(r.units, -MAXU);
	ck_assert_int_eq(decimal_mul(decimal_from_units(MAXU), test_dec("1.00000001"), DN, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_mul(decimal_from_units(MAXU), decimal_from_units(MAXU), HE, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_mul(decimal_from_units(-MAXU), decimal_from_units(MAXU), HE, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_mul(decimal_from_units(-MAXU), decimal_from_units(-MAXU), HE, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_mul(test_dec("1000000"), test_dec("1000000"), HE, &r), -EOVERFLOW);
	/* 303700^2 fits, 303701^2 does not. */
	ck_assert_int_eq(decimal_mul(test_dec("303700"), test_dec("303700"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "92233690000");
	ck_assert_int_eq(decimal_mul(test_dec("303701"), test_dec("303701"), HE, &r), -EOVERFLOW);
	/* Tiny times huge: the intermediate is big, the result is fine. */
	ck_assert_int_eq(decimal_mul(decimal_from_units(MAXU), test_dec("0.00000001"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "922.33720369");
	ck_assert_int_eq(decimal_mul(test_dec("1"), test_dec("1"), _DECIMAL_ROUND_MAX, &r), -EINVAL);
}
END_TEST

START_TEST(test_decimal_div)
{
	static const struct { const char *a, *b; int64_t want[_DECIMAL_ROUND_MAX]; } cases[] = {
		{ "1", "3", { 33333333, 33333333, 33333333, 33333333, 33333334 } },
		{ "2", "3", { 66666667, 66666667, 66666666, 66666666, 66666667 } },
		{ "-2", "3", { -66666667, -66666667, -66666666, -66666667, -66666666 } },
		{ "2", "-3", { -66666667, -66666667, -66666666, -66666667, -66666666 } },
		{ "-2", "-3", { 66666667, 66666667, 66666666, 66666666, 66666667 } },
		{ "0.00000001", "2", { 0, 1, 0, 0, 1 } },
		{ "0.00000003", "2", { 2, 2, 1, 1, 2 } },
		{ "-0.00000001", "2", { 0, -1, 0, -1, 0 } },
		{ "-0.00000005", "2", { -2, -3, -2, -3, -2 } },
		{ "10", "4", { 250000000, 250000000, 250000000, 250000000, 250000000 } },
		{ "0", "-7", { 0, 0, 0, 0, 0 } },
	};
	struct decimal r;
	char buf[DECIMAL_STRLEN];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			ck_assert_int_eq(decimal_div(test_dec(cases[i].a), test_dec(cases[i].b), m, &r), 0);
			ck_assert_msg(r.units == cases[i].want[m], "%s / %s %s: got %" PRId64,
			    cases[i].a, cases[i].b, mode_names[m], r.units);
		}
	/* Splitting a dollar three ways, and the remainder. */
	ck_assert_int_eq(decimal_div(test_dec("100"), test_dec("3"), DN, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "33.33333333");
	ck_assert_int_eq(decimal_div(test_dec("1"), test_dec("0.00000001"), HE, &r), 0);
	ck_assert_str_eq(decimal_format(r, buf), "100000000");
	ck_assert_int_eq(decimal_div(test_dec("1000"), test_dec("0.00000001"), HE, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_div(decimal_from_units(MAXU), test_dec("0.5"), HE, &r), -EOVERFLOW);
	ck_assert_int_eq(decimal_div(decimal_from_units(MAXU), test_dec("1"), HE, &r), 0);
	ck_assert_int_eq(r.units, MAXU);
	ck_assert_int_eq(decimal_div(decimal_from_units(-MAXU), test_dec("-1"), HE, &r), 0);
	ck_assert_int_eq(r.units, MAXU);
	ck_assert_int_eq(decimal_div(decimal_from_units(MAXU), decimal_from_units(MAXU), HE, &r), 0);
	ck_assert_int_eq(r.units, U(100000000));
	ck_assert_int_eq(decimal_div(decimal_from_units(1), decimal_from_units(MAXU), CE, &r), 0);
	ck_assert_int_eq(r.units, 1);
	r = test_dec("7");
	ck_assert_int_eq(decimal_div(test_dec("1"), DECIMAL_ZERO, HE, &r), -EDOM);
	ck_assert_int_eq(decimal_div(DECIMAL_ZERO, DECIMAL_ZERO, HE, &r), -EDOM);
	ck_assert_int_eq(decimal_div(decimal_from_units(MAXU), DECIMAL_ZERO, CE, &r), -EDOM);
	ck_assert_int_eq(r.units, test_dec("7").units);
	ck_assert_int_eq(decimal_div(test_dec("1"), test_dec("1"), -1, &r), -EINVAL);
}
END_TEST

START_TEST(test_decimal_from_to_int)
{
	struct decimal d;

	ck_assert_int_eq(decimal_from_int(7, &d), 0);
	ck_assert_int_eq(d.units, U(700000000));
	ck_assert_int_eq(decimal_from_int(-7, &d), 0);
	ck_assert_int_eq(d.units, -U(700000000));
	ck_assert_int_eq(decimal_from_int(92233720368, &d), 0);
	ck_assert_int_eq(decimal_from_int(-92233720368, &d), 0);
	ck_assert_int_eq(decimal_from_int(92233720369, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_int(-92233720369, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_int(INT64_MAX, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_int(INT64_MIN, &d), -EOVERFLOW);
}
END_TEST

START_TEST(test_decimal_from_to_double)
{
	struct decimal d;
	char buf[DECIMAL_STRLEN];
	/* 1/512 is exactly 195312.5 units: a true tie a double can hold. */
	static const struct { double v; int64_t want[_DECIMAL_ROUND_MAX]; } ties[] = {
		{ 1.0 / 512, { 195312, 195313, 195312, 195312, 195313 } },
		{ -1.0 / 512, { -195312, -195313, -195312, -195313, -195312 } },
		{ 3.0 / 512, { 585938, 585938, 585937, 585937, 585938 } },
		{ -3.0 / 512, { -585938, -585938, -585937, -585938, -585937 } },
		{ 1e-9, { 0, 0, 0, 0, 1 } },
		{ -1e-9, { 0, 0, 0, -1, 0 } },
		{ 1e-300, { 0, 0, 0, 0, 1 } },
		{ 5e-324, { 0, 0, 0, 0, 1 } },
		{ -5e-324, { 0, 0, 0, -1, 0 } },
		{ 0.1, { 10000000, 10000000, 10000000, 10000000, 10000001 } },
		{ -0.0, { 0, 0, 0, 0, 0 } },
	};

	for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++)
		for (int m = 0; m < _DECIMAL_ROUND_MAX; m++) {
			ck_assert_int_eq(decimal_from_double(ties[i].v, m, &d), 0);
			ck_assert_msg(d.units == ties[i].want[m], "%a %s: got %" PRId64, ties[i].v,
			    mode_names[m], d.units);
		}
	ck_assert_int_eq(decimal_from_double(0.25, HE, &d), 0);
	ck_assert_str_eq(decimal_format(d, buf), "0.25");
	ck_assert_int_eq(decimal_from_double(0.1 + 0.2, HE, &d), 0);
	ck_assert_str_eq(decimal_format(d, buf), "0.3");
	ck_assert_int_eq(decimal_from_double(-1234.5678, HE, &d), 0);
	ck_assert_str_eq(decimal_format(d, buf), "-1234.5678");
	ck_assert_int_eq(decimal_from_double(92233720368.0, HE, &d), 0);
	ck_assert_str_eq(decimal_format(d, buf), "92233720368");
	ck_assert_int_eq(decimal_from_double(1e15, HE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_double(92233720369.0, HE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_double(-92233720369.0, HE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_double(1e300, HE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_double(-1e300, HE, &d), -EOVERFLOW);
	ck_assert_int_eq(decimal_from_double(NAN, HE, &d), -EINVAL);
	ck_assert_int_eq(decimal_from_double(INFINITY, HE, &d), -EINVAL);
	ck_assert_int_eq(decimal_from_double(-INFINITY, HE, &d), -EINVAL);
	ck_assert_int_eq(decimal_from_double(1.0, _DECIMAL_ROUND_MAX, &d), -EINVAL);

	ck_assert(decimal_to_double(test_dec("0.1")) == 0.1);
	ck_assert(decimal_to_double(test_dec("-2.5")) == -2.5);
	ck_assert(decimal_to_double(DECIMAL_ZERO) == 0.0);
	ck_assert(decimal_to_double(decimal_from_units(1)) == 1e-8);
	ck_assert(decimal_to_double(decimal_from_units(MAXU)) == 92233720368.54775807);
	ck_assert(decimal_to_double(decimal_from_units(-MAXU)) == -92233720368.54775807);
	ck_assert(decimal_to_double(test_dec("12345678901.23456789")) == 12345678901.23456789);
}
END_TEST

START_TEST(test_decimal_cmp_abs_neg_min_max)
{
	struct decimal a = test_dec("-1.5"), b = test_dec("2");

	ck_assert_int_eq(decimal_cmp(a, b), -1);
	ck_assert_int_eq(decimal_cmp(b, a), 1);
	ck_assert_int_eq(decimal_cmp(a, test_dec("-1.50")), 0);
	ck_assert_int_eq(decimal_abs(a).units, test_dec("1.5").units);
	ck_assert_int_eq(decimal_abs(b).units, b.units);
	ck_assert_int_eq(decimal_neg(a).units, test_dec("1.5").units);
	ck_assert_int_eq(decimal_neg(DECIMAL_ZERO).units, 0);
	ck_assert_int_eq(decimal_neg(decimal_from_units(MAXU)).units, -MAXU);
	ck_assert_int_eq(decimal_abs(decimal_from_units(-MAXU)).units, MAXU);
	/* The one invalid value saturates instead of overflowing. */
	ck_assert_int_eq(decimal_abs(decimal_from_units(INT64_MIN)).units, MAXU);
	ck_assert_int_eq(decimal_neg(decimal_from_units(INT64_MIN)).units, MAXU);
	ck_assert_int_eq(decimal_min(a, b).units, a.units);
	ck_assert_int_eq(decimal_max(a, b).units, b.units);
	ck_assert(decimal_is_negative(a));
	ck_assert(!decimal_is_negative(DECIMAL_ZERO));
	ck_assert(decimal_is_zero(test_dec("-0.000")));
}
END_TEST

/* Property: format then parse is the identity, for every valid value, and the
 * 8-place fixed form parses back too. */
START_TEST(test_decimal_roundtrip_random)
{
	char buf[DECIMAL_STRLEN], fixed[DECIMAL_STRLEN];

	test_rng_seed("test_decimal_roundtrip_random");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		struct errctx ec = { 0 };
		struct decimal d = decimal_from_units(rng_units()), back;

		decimal_format(d, buf);
		fast_assert_msg(decimal_parse(buf, &back, &ec) == 0, "'%s': %s", buf, ec.msg);
		fast_assert_msg(back.units == d.units, "'%s': %" PRId64 " != %" PRId64, buf,
		    back.units, d.units);
		/* Canonical: no trailing zero, no "-0". */
		fast_assert_msg(strchr(buf, '.') == NULL || buf[strlen(buf) - 1] != '0', "%s", buf);
		decimal_format_fixed(d, 8, HE, fixed);
		fast_assert_msg(decimal_parse(fixed, &back, &ec) == 0, "'%s': %s", fixed, ec.msg);
		fast_assert(back.units == d.units);
	}
}
END_TEST

/* Property: the same value written with the point moved, an exponent and
 * padding zeros parses to the same units. */
START_TEST(test_decimal_parse_random_spellings)
{
	test_rng_seed("test_decimal_parse_random_spellings");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		struct errctx ec = { 0 };
		int64_t u = rng_units();
		uint64_t mag = u < 0 ? -(uint64_t)u : (uint64_t)u;
		char digits[24], s[96], *p = s;
		int len = snprintf(digits, sizeof digits, "%" PRIu64, mag);
		int point = (int)(test_rng_next() % (uint64_t)(len + 1));
		int lead = (int)(test_rng_next() % 4), trail = (int)(test_rng_next() % 4);
		struct decimal d;

		if (u < 0)
			*p++ = '-';
		else if (test_rng_next() & 1)
			*p++ = '+';
		for (int j = 0; j < lead; j++)
			*p++ = '0';
		memcpy(p, digits, (size_t)point);
		p += point;
		*p++ = '.';
		memcpy(p, digits + point, (size_t)(len - point));
		p += len - point;
		for (int j = 0; j < trail; j++)
			*p++ = '0';
		/* digits.frac e(len - point - 8) == mag units. */
		snprintf(p, (size_t)(s + sizeof s - p), "%s%d", test_rng_next() & 1 ? "e" : "E",
		    len - point - DECIMAL_FRAC_DIGITS);
		fast_assert_msg(decimal_parse(s, &d, &ec) == 0, "'%s': %s", s, ec.msg);
		fast_assert_msg(d.units == u, "'%s': %" PRId64 " != %" PRId64, s, d.units, u);
	}
}
END_TEST

/* Property: add/sub invert each other, and mul/div results are within one
 * unit of the exact value, on the side each mode promises. */
START_TEST(test_decimal_arith_random)
{
	test_rng_seed("test_decimal_arith_random");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		struct decimal a = decimal_from_units(rng_units()), b = decimal_from_units(rng_units());
		struct decimal s, back, q;
		int m = (int)(test_rng_next() % _DECIMAL_ROUND_MAX);
		__int128 exact_num, err, den;
		int r;

		r = decimal_add(a, b, &s);
		if (r == 0) {
			fast_assert(decimal_sub(s, b, &back) == 0);
			fast_assert(back.units == a.units);
		} else {
			fast_assert(r == -EOVERFLOW);
			fast_assert((__int128)a.units + b.units > INT64_MAX ||
			    (__int128)a.units + b.units < -(__int128)INT64_MAX);
		}
		fast_assert(decimal_mul(a, decimal_from_units(DECIMAL_SCALE), m, &q) == 0);
		fast_assert(q.units == a.units);
		fast_assert(decimal_div(a, decimal_from_units(DECIMAL_SCALE), m, &q) == 0);
		fast_assert(q.units == a.units);

		/* mul: exact = a*b / 1e8; div: exact = a*1e8 / b. Check q*den vs num. */
		for (int op = 0; op < 2; op++) {
			if (op == 0) {
				r = decimal_mul(a, b, m, &q);
				exact_num = (__int128)a.units * b.units;
				den = DECIMAL_SCALE;
			} else {
				if (b.units == 0) {
					fast_assert(decimal_div(a, b, m, &q) == -EDOM);
					continue;
				}
				r = decimal_div(a, b, m, &q);
				exact_num = (__int128)a.units * DECIMAL_SCALE;
				den = b.units;
				if (den < 0) {
					exact_num = -exact_num;
					den = -den;
				}
			}
			if (r == -EOVERFLOW) {
				/* Only when the exact value is itself out of range (within a unit). */
				fast_assert(exact_num / den >= INT64_MAX - 1 ||
				    exact_num / den <= -(__int128)INT64_MAX + 1);
				continue;
			}
			fast_assert(r == 0);
			err = exact_num - (__int128)q.units * den;	/* exact - q, times den */
			fast_assert(err < den && err > -den);
			switch (m) {
			case DECIMAL_ROUND_DOWN:
				fast_assert(q.units == 0 || (err == 0 || (err > 0) == (q.units > 0)));
				break;
			case DECIMAL_ROUND_FLOOR:
				fast_assert(err >= 0);
				break;
			case DECIMAL_ROUND_CEIL:
				fast_assert(err <= 0);
				break;
			default:
				fast_assert(2 * err <= den && 2 * err >= -den);
				break;
			}
		}
	}
}
END_TEST

/* Property: doubles with few significant digits convert exactly both ways. */
START_TEST(test_decimal_double_roundtrip_random)
{
	test_rng_seed("test_decimal_double_roundtrip_random");
	for (int i = 0; i < PROPERTY_ROUNDS; i++) {
		/* |units| < 2^50: a double's half-ulp stays far below half a unit. */
		int64_t u = (int64_t)(test_rng_next() % (UINT64_C(1) << 50)) * (test_rng_next() & 1 ? -1 : 1);
		struct decimal d;

		fast_assert(decimal_from_double(decimal_to_double(decimal_from_units(u)), HE, &d) == 0);
		fast_assert_msg(d.units == u, "%" PRId64 " came back as %" PRId64, u, d.units);
	}
}
END_TEST

static Suite *
suite_decimal(void)
{
	Suite *s = suite_create("decimal");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_decimal_parse_valid);
	tcase_add_test(tc, test_decimal_parse_rejects_garbage);
	tcase_add_test(tc, test_decimal_parse_range_and_overflow);
	tcase_add_test(tc, test_decimal_parse_long_inputs);
	tcase_add_test(tc, test_decimal_parse_round_every_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_decimal_format_canonical);
	tcase_add_test(tc, test_decimal_format_fixed);
	suite_add_tcase(s, tc);

	tc = tcase_create("arithmetic");
	tcase_add_test(tc, test_decimal_round_to_every_mode);
	tcase_add_test(tc, test_decimal_add_sub_money);
	tcase_add_test(tc, test_decimal_mul);
	tcase_add_test(tc, test_decimal_div);
	tcase_add_test(tc, test_decimal_cmp_abs_neg_min_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("conversions");
	tcase_add_test(tc, test_decimal_from_to_int);
	tcase_add_test(tc, test_decimal_from_to_double);
	suite_add_tcase(s, tc);

	tc = tcase_create("properties");
	tcase_add_test(tc, test_decimal_roundtrip_random);
	tcase_add_test(tc, test_decimal_parse_random_spellings);
	tcase_add_test(tc, test_decimal_arith_random);
	tcase_add_test(tc, test_decimal_double_roundtrip_random);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_decimal)
