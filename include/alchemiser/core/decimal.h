/*
 * decimal: fixed-point decimal numbers for money and quantities.
 * A value is an int64 count of 10^-8 units (DECIMAL_SCALE), so the range is
 * about +/-92 billion with 8 fractional digits; products and quotients use
 * 128-bit intermediates. Every operation that can leave the range returns
 * -EOVERFLOW instead of wrapping. The valid range is symmetric,
 * +/-92233720368.54775807 (INT64_MIN units is never produced). Never format
 * money with %f: use decimal_format().
 * Thread:  pure functions, any thread.
 * Memory:  values are plain structs; no allocation.
 */
#ifndef ALCHEMISER_CORE_DECIMAL_H
#define ALCHEMISER_CORE_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>

struct errctx;

#define DECIMAL_FRAC_DIGITS 8
#define DECIMAL_SCALE INT64_C(100000000)
/* Longest decimal_format() output incl. sign, point and NUL. */
#define DECIMAL_STRLEN 32

struct decimal {
	int64_t units;		/* value * 10^8 */
};

enum decimal_round {
	DECIMAL_ROUND_HALF_EVEN,	/* banker's rounding */
	DECIMAL_ROUND_HALF_UP,		/* ties away from zero */
	DECIMAL_ROUND_DOWN,		/* toward zero (truncate) */
	DECIMAL_ROUND_FLOOR,		/* toward -infinity */
	DECIMAL_ROUND_CEIL,		/* toward +infinity */
	_DECIMAL_ROUND_MAX
};

#define DECIMAL_ZERO ((struct decimal){ 0 })

static inline struct decimal decimal_from_units(int64_t u) { return (struct decimal){ u }; }

/* Parse "-12.345", "+1", "0.5", ".5", "1.", "1e3", "1.5E-2". Exact: a value needing
 * more than 8 fractional digits is -ERANGE (use decimal_parse_round), a value
 * out of range is -EOVERFLOW, anything else malformed (empty, whitespace,
 * "NaN", "1.2.3", trailing characters) is -EINVAL. "-0" is 0. */
int	decimal_parse(const char *s, struct decimal *ret, struct errctx *ec);
/* As decimal_parse(), rounding extra fractional digits with mode. */
int	decimal_parse_round(const char *s, enum decimal_round mode, struct decimal *ret,
	    struct errctx *ec);
/* Canonical text: no exponent, no trailing fractional zeros, no "-0", "0" for
 * zero, at least one digit before the point ("0.5"). buf >= DECIMAL_STRLEN. */
char	*decimal_format(struct decimal d, char *buf);
/* Fixed number of fractional digits (0..8, clamped), rounded with mode: "12.30".
 * Never fails (rounding past the range still prints); no "-0.00". */
char	*decimal_format_fixed(struct decimal d, int places, enum decimal_round mode, char *buf);

int	decimal_from_int(int64_t i, struct decimal *ret);
/* Nearest representable value of a double, rounded with mode; -EINVAL for
 * NaN/inf, -EOVERFLOW out of range. */
int	decimal_from_double(double v, enum decimal_round mode, struct decimal *ret);
double	decimal_to_double(struct decimal d);

int	decimal_add(struct decimal a, struct decimal b, struct decimal *ret);
int	decimal_sub(struct decimal a, struct decimal b, struct decimal *ret);
/* a * b rounded to 8 places with mode. */
int	decimal_mul(struct decimal a, struct decimal b, enum decimal_round mode, struct decimal *ret);
/* a / b rounded to 8 places with mode; -EDOM when b is zero. */
int	decimal_div(struct decimal a, struct decimal b, enum decimal_round mode, struct decimal *ret);
/* Round to places (0..8) fractional digits. */
int	decimal_round_to(struct decimal d, int places, enum decimal_round mode, struct decimal *ret);

int	decimal_cmp(struct decimal a, struct decimal b);	/* -1, 0, 1 */
static inline bool decimal_is_zero(struct decimal d) { return d.units == 0; }
static inline bool decimal_is_negative(struct decimal d) { return d.units < 0; }
/* INT64_MIN is not a valid value: abs/neg saturate it to the maximum. */
struct decimal decimal_abs(struct decimal d);
struct decimal decimal_neg(struct decimal d);
static inline struct decimal decimal_min(struct decimal a, struct decimal b) { return a.units <= b.units ? a : b; }
static inline struct decimal decimal_max(struct decimal a, struct decimal b) { return a.units >= b.units ? a : b; }

#endif
