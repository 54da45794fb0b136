#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"

/* Valid values are symmetric, [-DECIMAL_UNITS_MAX, DECIMAL_UNITS_MAX]: INT64_MIN
 * has no positive counterpart, so no operation ever produces it and neg/abs stay
 * defined on every result. */
#define DECIMAL_UNITS_MAX INT64_MAX

/* Longest input quoted back in an error message. */
#define QUOTE_MAX 64

typedef __int128 i128;

static const int64_t pow10_tab[] = {
	INT64_C(1), INT64_C(10), INT64_C(100), INT64_C(1000), INT64_C(10000),
	INT64_C(100000), INT64_C(1000000), INT64_C(10000000), INT64_C(100000000),
	INT64_C(1000000000), INT64_C(10000000000), INT64_C(100000000000),
	INT64_C(1000000000000), INT64_C(10000000000000), INT64_C(100000000000000),
	INT64_C(1000000000000000), INT64_C(10000000000000000),
	INT64_C(100000000000000000), INT64_C(1000000000000000000),
};

static bool	mode_valid(enum decimal_round mode);
static i128	round_div(i128 num, i128 den, enum decimal_round mode);
static bool	round_away(bool negative, bool odd, int half_cmp, bool inexact,
		    enum decimal_round mode);
static int	to_units(i128 v, struct decimal *ret);
static int	parse(const char *s, bool exact, enum decimal_round mode, struct decimal *ret,
		    struct errctx *ec);

static bool
mode_valid(enum decimal_round mode)
{
	return (unsigned)mode < _DECIMAL_ROUND_MAX;
}

/* Why: every rounding in this file is "drop a remainder, maybe step one unit
 * away from zero"; one decision table keeps the five modes consistent.
 * half_cmp compares the dropped part with one half (-1, 0, 1); inexact says
 * whether anything non-zero was dropped. */
static bool
round_away(bool negative, bool odd, int half_cmp, bool inexact, enum decimal_round mode)
{
	if (!inexact)
		return false;
	switch (mode) {
	case DECIMAL_ROUND_HALF_EVEN:
		return half_cmp > 0 || (half_cmp == 0 && odd);
	case DECIMAL_ROUND_HALF_UP:
		return half_cmp >= 0;
	case DECIMAL_ROUND_DOWN:
		return false;
	case DECIMAL_ROUND_FLOOR:
		return negative;
	case DECIMAL_ROUND_CEIL:
		return !negative;
	default:
		assert(!"invalid rounding mode");
		return false;
	}
}

/* num / den rounded with mode; 0 < den <= 2^120 (the largest caller), so
 * 2 * remainder cannot overflow. */
static i128
round_div(i128 num, i128 den, enum decimal_round mode)
{
	i128 q = num / den, r = num % den, twice;
	bool negative = num < 0;
	int half_cmp;

	assert(den > 0);
	if (r < 0)
		r = -r;
	twice = 2 * r;
	half_cmp = twice < den ? -1 : twice > den ? 1 : 0;
	if (round_away(negative, (q & 1) != 0, half_cmp, r != 0, mode))
		q += negative ? -1 : 1;
	return q;
}

static int
to_units(i128 v, struct decimal *ret)
{
	if (v > DECIMAL_UNITS_MAX || v < -(i128)DECIMAL_UNITS_MAX)
		return -EOVERFLOW;
	ret->units = (int64_t)v;
	return 0;
}

/*
 * Why two passes: the input may carry any number of digits and an exponent, so
 * the first pass only validates and locates the significant digits (first and
 * last non-zero) and their scale; the second pass reads at most 19 of them into
 * an integer and reduces the rest to a rounding digit and a sticky bit. No
 * arbitrary precision is needed and no length makes it overflow.
 */
static int
parse(const char *s, bool exact, enum decimal_round mode, struct decimal *ret,
    struct errctx *ec)
{
	const char *p = s, *mant, *mant_end, *dot = NULL, *first = NULL, *last = NULL;
	bool negative = false, exp_negative = false, sticky = false;
	int64_t exp = 0, n = 0, place, k, intdigits, i;
	unsigned round_digit = 0;
	uint64_t acc = 0;
	i128 v;

	if (s == NULL)
		return errctx_set(ec, -EINVAL, "missing decimal number");
	if (!mode_valid(mode))
		return errctx_set(ec, -EINVAL, "invalid rounding mode %d", (int)mode);
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	mant = p;
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.') {
			if (dot != NULL)
				goto invalid;
			dot = p;
		} else if (*p != '0') {
			if (first == NULL)
				first = p;
			last = p;
		}
	}
	mant_end = p;
	/* At least one digit in the mantissa: rejects "", "+", ".", "e5". */
	if (mant_end - mant - (dot != NULL) < 1)
		goto invalid;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			exp_negative = *p++ == '-';
		if (!(*p >= '0' && *p <= '9'))
			goto invalid;
		/* Saturate: beyond 10^12 every non-zero value overflows or vanishes anyway. */
		for (; *p >= '0' && *p <= '9'; p++)
			if (exp < INT64_C(1000000000000))
				exp = exp * 10 + (*p - '0');
		if (exp_negative)
			exp = -exp;
	}
	if (*p != '\0')
		goto invalid;
	if (dot == NULL)
		dot = mant_end;
	if (first == NULL) {
		/* All zeros, whatever the exponent or sign: canonical 0. */
		ret->units = 0;
		return 0;
	}

	/* Value = D * 10^k units, D = digits first..last (no leading or trailing zeros). */
	n = (last - first + 1) - (first < dot && dot < last);
	place = last < dot ? (int64_t)(dot - last - 1) : -(int64_t)(last - dot);
	k = place + exp + DECIMAL_FRAC_DIGITS;
	intdigits = n + k;	/* digits of D left of the units point */
	if (intdigits > 19)
		goto overflow;	/* >= 10^19 units > INT64_MAX */
	if (k < 0 && exact)
		return errctx_set(ec, -ERANGE, "'%.*s' has more than %d fractional digits",
		    QUOTE_MAX, s, DECIMAL_FRAC_DIGITS);
	if (intdigits < 0) {
		/* Below a tenth of a unit: rounds from 0 with a dropped part under half. */
		sticky = true;
	}
	i = 0;
	for (p = first; p <= last; p++) {
		if (*p == '.')
			continue;
		if (i < intdigits)
			acc = acc * 10 + (uint64_t)(*p - '0');
		else if (i == intdigits)
			round_digit = (unsigned)(*p - '0');
		else if (*p != '0')
			sticky = true;
		i++;
	}
	v = acc;
	if (k > 0)
		v *= pow10_tab[k];	/* k <= 19 - n <= 18 */
	if (k < 0) {
		int half_cmp = round_digit < 5 ? -1 : round_digit > 5 ? 1 : sticky ? 1 : 0;

		if (round_away(negative, (acc & 1) != 0, half_cmp, true, mode))
			v += 1;
	}
	if (negative)
		v = -v;
	if (to_units(v, ret) < 0)
		goto overflow;
	return 0;

invalid:
	return errctx_set(ec, -EINVAL, "'%.*s' is not a decimal number", QUOTE_MAX, s);
overflow:
	return errctx_set(ec, -EOVERFLOW, "'%.*s' is out of range (at most 92233720368.54775807)",
	    QUOTE_MAX, s);
}

int
decimal_parse(const char *s, struct decimal *ret, struct errctx *ec)
{
	return parse(s, true, DECIMAL_ROUND_HALF_EVEN, ret, ec);
}

int
decimal_parse_round(const char *s, enum decimal_round mode, struct decimal *ret,
    struct errctx *ec)
{
	return parse(s, false, mode, ret, ec);
}

/* Why unsigned magnitude: formatting must not trap even on INT64_MIN. */
char *
decimal_format(struct decimal d, char *buf)
{
	uint64_t mag = d.units < 0 ? -(uint64_t)d.units : (uint64_t)d.units;
	uint64_t ip = mag / (uint64_t)DECIMAL_SCALE, fp = mag % (uint64_t)DECIMAL_SCALE;
	char frac[DECIMAL_FRAC_DIGITS + 1];
	int len = DECIMAL_FRAC_DIGITS;

	if (fp == 0) {
		snprintf(buf, DECIMAL_STRLEN, "%s%llu", d.units < 0 ? "-" : "",
		    (unsigned long long)ip);
		return buf;
	}
	snprintf(frac, sizeof frac, "%08llu", (unsigned long long)fp);
	while (frac[len - 1] == '0')
		len--;
	snprintf(buf, DECIMAL_STRLEN, "%s%llu.%.*s", d.units < 0 ? "-" : "",
	    (unsigned long long)ip, len, frac);
	return buf;
}

/* Why 128 bits: rounding 92233720368.99999999 up to 0 places exceeds int64,
 * and a formatter has no error path. */
char *
decimal_format_fixed(struct decimal d, int places, enum decimal_round mode, char *buf)
{
	i128 q;
	unsigned __int128 mag, scale;
	unsigned long long ip, fp;

	if (places < 0)
		places = 0;
	if (places > DECIMAL_FRAC_DIGITS)
		places = DECIMAL_FRAC_DIGITS;
	if (!mode_valid(mode))
		mode = DECIMAL_ROUND_HALF_EVEN;
	q = round_div(d.units, pow10_tab[DECIMAL_FRAC_DIGITS - places], mode);
	mag = q < 0 ? (unsigned __int128)-q : (unsigned __int128)q;
	scale = (unsigned __int128)pow10_tab[places];
	ip = (unsigned long long)(mag / scale);
	fp = (unsigned long long)(mag % scale);
	/* A value that rounds to zero prints without a sign: no "-0.00". */
	if (places == 0)
		snprintf(buf, DECIMAL_STRLEN, "%s%llu", q < 0 ? "-" : "", ip);
	else
		snprintf(buf, DECIMAL_STRLEN, "%s%llu.%0*llu", q < 0 ? "-" : "", ip, places, fp);
	return buf;
}

int
decimal_from_int(int64_t i, struct decimal *ret)
{
	return to_units((i128)i * DECIMAL_SCALE, ret);
}

/*
 * Why exact: v * 1e8 in double rounds once and the conversion rounds again, so
 * 0.125000005 and friends could land on the wrong side of a tie. A finite
 * double is m * 2^e with a 53-bit m, so v * 10^8 = m * 10^8 * 2^e is an exact
 * integer ratio that round_div() rounds once.
 */
int
decimal_from_double(double v, enum decimal_round mode, struct decimal *ret)
{
	int e;
	double frac;
	int64_t m;
	i128 num;

	if (!isfinite(v) || !mode_valid(mode))
		return -EINVAL;
	if (v == 0) {
		ret->units = 0;
		return 0;
	}
	frac = frexp(v, &e);			/* v = frac * 2^e, 0.5 <= |frac| < 1 */
	m = (int64_t)ldexp(frac, 53);		/* exact: 53 significant bits */
	e -= 53;
	if (e > 40)
		return -EOVERFLOW;		/* |v| >= 2^92: far beyond the range */
	num = (i128)m * DECIMAL_SCALE;		/* |num| < 2^80 */
	if (e >= 0)
		return to_units(num * ((i128)1 << e), ret);	/* < 2^120 */
	/* Beyond 2^-120 the value is under half a unit; clamping keeps it so. */
	if (e < -120)
		e = -120;
	return to_units(round_div(num, (i128)1 << -e, mode), ret);
}

/* Why two paths: below 2^53 units both operands are exact doubles and IEEE
 * division rounds once, correctly; above, strtod of the exact text does. */
double
decimal_to_double(struct decimal d)
{
	char buf[DECIMAL_STRLEN];

	if (d.units <= (INT64_C(1) << 53) && d.units >= -(INT64_C(1) << 53))
		return (double)d.units / (double)DECIMAL_SCALE;
	return strtod(decimal_format(d, buf), NULL);
}

int
decimal_add(struct decimal a, struct decimal b, struct decimal *ret)
{
	return to_units((i128)a.units + b.units, ret);
}

int
decimal_sub(struct decimal a, struct decimal b, struct decimal *ret)
{
	return to_units((i128)a.units - b.units, ret);
}

int
decimal_mul(struct decimal a, struct decimal b, enum decimal_round mode, struct decimal *ret)
{
	i128 p;

	if (!mode_valid(mode))
		return -EINVAL;
	p = (i128)a.units * b.units;	/* |p| < 2^126: always fits */
	return to_units(round_div(p, DECIMAL_SCALE, mode), ret);
}

int
decimal_div(struct decimal a, struct decimal b, enum decimal_round mode, struct decimal *ret)
{
	i128 num = (i128)a.units * DECIMAL_SCALE, den = b.units;

	if (!mode_valid(mode))
		return -EINVAL;
	if (den == 0)
		return -EDOM;
	if (den < 0) {
		num = -num;
		den = -den;
	}
	return to_units(round_div(num, den, mode), ret);
}

int
decimal_round_to(struct decimal d, int places, enum decimal_round mode, struct decimal *ret)
{
	int64_t step;

	if (places < 0 || places > DECIMAL_FRAC_DIGITS || !mode_valid(mode))
		return -EINVAL;
	step = pow10_tab[DECIMAL_FRAC_DIGITS - places];
	return to_units(round_div(d.units, step, mode) * step, ret);
}

int
decimal_cmp(struct decimal a, struct decimal b)
{
	return a.units < b.units ? -1 : a.units > b.units ? 1 : 0;
}

/* INT64_MIN is never produced here; saturating keeps abs/neg free of UB if a
 * caller builds one with decimal_from_units(). */
struct decimal
decimal_abs(struct decimal d)
{
	if (d.units == INT64_MIN)
		return decimal_from_units(INT64_MAX);
	return decimal_from_units(d.units < 0 ? -d.units : d.units);
}

struct decimal
decimal_neg(struct decimal d)
{
	if (d.units == INT64_MIN)
		return decimal_from_units(INT64_MAX);
	return decimal_from_units(-d.units);
}
