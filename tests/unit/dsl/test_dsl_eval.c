/* Evaluator: every operator, the worked combination table of
 * dsl-semantics.md §4.2 (H column, or §7's choice where it says D), windows,
 * laziness, comparisons and failures. Indicator values come from a stub
 * (struct sv tables), so these tests pin the combination rules alone. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/dsl.h"
#include "../helpers.h"

struct sv {
	const char	*t;
	double		 v;
};

static const struct sv *stub_tab;
static unsigned stub_calls;
static int stub_last_window;
static enum indicator_kind stub_last_kind;

static int	stub_cb(void *arg, const char *ticker, enum indicator_kind kind, int window,
	    double *ret);
static int	run(const char *text, const struct sv *tab, bool stable, struct dsl_result *res,
	    struct errctx *ec);
static void	expect(const char *text, const struct sv *tab, const char *want);
static void	expect_err(const char *text, const struct sv *tab, int code, const char *what);

static int
stub_cb(void *arg, const char *ticker, enum indicator_kind kind, int window, double *ret)
{
	const struct sv *s;

	(void)arg;
	stub_calls++;
	stub_last_window = window;
	stub_last_kind = kind;
	for (s = stub_tab; s != NULL && s->t != NULL; s++) {
		if (strcmp(s->t, ticker) == 0) {
			*ret = s->v;
			return 0;
		}
	}
	return -ENODATA;
}

static int
run(const char *text, const struct sv *tab, bool stable, struct dsl_result *res, struct errctx *ec)
{
	struct dsl_options opt = { .oracle = stub_cb, .ties_stable = stable, .trace = true };
	struct dsl_program *p;
	struct dsl_bars *b = dsl_bars_new();
	int r;

	stub_tab = tab;
	stub_calls = 0;
	errctx_clear(ec);
	ck_assert_ok(dsl_program_parse("t.clj", text, strlen(text), &p, ec), ec);
	r = dsl_evaluate(p, b, 20000, &opt, res, ec);
	dsl_program_free(p);
	dsl_bars_free(b);
	return r;
}

/* want: "A=0.5 B=0.25 C=1/4" (sorted by ticker; fractions allowed) */
static void
expect(const char *text, const struct sv *tab, const char *want)
{
	struct dsl_result res;
	struct errctx ec;
	char *w = xstrdup(want), *tok, *save = NULL;
	size_t i = 0;

	ck_assert_ok(run(text, tab, false, &res, &ec), &ec);
	for (tok = strtok_r(w, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save), i++) {
		char *eq = strchr(tok, '='), *slash;
		double v;

		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		v = strtod(eq + 1, &slash);
		if (*slash == '/')
			v /= strtod(slash + 1, NULL);
		ck_assert_msg(i < res.n, "%s: missing %s (got %zu entries)", text, tok, res.n);
		ck_assert_msg(strcmp(res.w[i].ticker, tok) == 0, "%s: entry %zu is %s, want %s", text, i,
		    res.w[i].ticker, tok);
		ck_assert_msg(fabs(res.w[i].weight - v) < 1e-12, "%s: %s = %.17g, want %.17g", text, tok,
		    res.w[i].weight, v);
	}
	ck_assert_msg(i == res.n, "%s: %zu entries, want %zu", text, res.n, i);
	dsl_result_clear(&res);
	free(w);
}

static void
expect_err(const char *text, const struct sv *tab, int code, const char *what)
{
	struct dsl_result res;
	struct errctx ec;

	ck_assert_err(run(text, tab, false, &res, &ec), code, &ec);
	ck_assert_msg(strstr(errctx_msg(&ec), what) != NULL, "'%s' not in '%s'", what, errctx_msg(&ec));
	ck_assert_uint_eq(res.n, 0);
	dsl_result_clear(&res);
}

#define WE(x) "(weight-equal [" x "])"
#define GRP(x) "(group \"g\" [" x "])"

START_TEST(test_dsl_eval_table_weights)
{
	/* §4.2 rows 1-14, H column. */
	expect(WE(GRP("(weight-specified 0.75 (asset UVXY) 0.25 (asset BTAL))") " (asset SPY)"), NULL,
	    "BTAL=0.125 SPY=0.5 UVXY=0.375");
	expect("(weight-specified 0.75 (asset UVXY) 0.25 (asset BTAL))", NULL, "BTAL=0.25 UVXY=0.75");
	expect("(weight-specified 0.6 (weight-equal [(asset A) (asset B)]) 0.4 (asset C))", NULL,
	    "A=0.3 B=0.3 C=0.4");
	expect("(weight-specified 0.3 (asset A) 0.2 (asset B))", NULL, "A=0.6 B=0.4");
	expect_err("(group \"g\" [(asset A) (asset B) (weight-specified 0.5 (asset A) 0.5 (asset C))])",
	    NULL, -EINVAL, "list of several");
	expect("(group \"g\" (asset A) (asset B) (weight-specified 0.5 (asset A) 0.5 (asset C)))", NULL,
	    "A=0.5 C=0.5");
	expect(WE("(group \"g\" [(asset A) (asset B) (weight-specified 0.5 (asset A) 0.5 (asset C))])"),
	    NULL, "A=0.5 B=1/3 C=1/6");
	expect(WE(GRP(WE("(asset A) (asset B) (asset C)")) " " GRP("(asset D)")), NULL,
	    "A=1/6 B=1/6 C=1/6 D=0.5");
	expect(WE("(asset A) (asset B) (asset A)"), NULL, "A=2/3 B=1/3");
	expect_err(WE("(if (> 1 2) [(asset X)]) (asset Y)"), NULL, -EINVAL, "no else");
	expect_err("(if (> 1 2) [(asset X)])", NULL, -EINVAL, "no else");
	expect("(defsymphony \"n\" {:rebalance-frequency :daily} \"AAPL\")", NULL, "AAPL=1");
	expect(WE("(asset A) " WE("(asset B) (asset C)")), NULL, "A=0.5 B=0.25 C=0.25");
	expect(WE("[(asset A)] [(asset B) (asset C)]"), NULL, "A=1/3 B=1/3 C=1/3");
	expect(WE("(weight-specified 0.75 (asset A) 0.25 (asset B)) "
	    "(weight-specified 0.75 (asset A) 0.25 (asset C))"), NULL, "A=0.75 B=0.125 C=0.125");
	expect_err("(weight-equal [])", NULL, -EINVAL, "no assets");
}
END_TEST

START_TEST(test_dsl_eval_table_filter)
{
	static const struct sv tie[] = { { "B", 50 }, { "C", 50 }, { NULL, 0 } };
	static const struct sv ab[] = { { "A", 60 }, { "B", 40 }, { NULL, 0 } };
	static const struct sv abc[] = { { "A", 5 }, { "B", -1 }, { "C", 3 }, { NULL, 0 } };
	static const struct sv dd[] = { { "A", 10 }, { "C", 5 }, { NULL, 0 } };
	static const struct sv r22[] = { { "A", 1 }, { "B", 4 }, { "C", 0 }, { NULL, 0 } };
	static const struct sv r23[] = { { "A", 30 }, { "B", 50 }, { "C", 40 }, { NULL, 0 } };
	static const struct sv r24[] = { { "A", 80 }, { "B", 10 }, { "C", 40 }, { NULL, 0 } };
	struct dsl_result res;
	struct errctx ec;

	/* rows 15-16: exact ties are alphabetical (§7 item 10) ... */
	expect(WE("(filter (rsi {:window 10}) (select-top 1) [(asset C) (asset B)])"), tie, "B=1");
	expect(WE("(filter (rsi {:window 10}) (select-bottom 1) [(asset C) (asset B)])"), tie, "B=1");
	/* ... or in candidate order with the switch */
	ck_assert_ok(run(WE("(filter (rsi {:window 10}) (select-top 1) [(asset C) (asset B)])"), tie,
	    true, &res, &ec), &ec);
	ck_assert_str_eq(res.w[0].ticker, "C");
	dsl_result_clear(&res);
	/* row 17: candidates de-duplicated */
	expect(WE("(filter (rsi {:window 10}) (select-top 2) [(asset A) (asset A) (asset B)])"), ab,
	    "A=0.5 B=0.5");
	/* rows 18-19: groups are units (stub: scored by the fallback) */
	expect(WE("(filter (cumulative-return {:window 10}) (select-top 1) ["
	    GRP(WE("(asset A) (asset B)")) " " GRP(WE("(asset C)")) "])"), abc, "C=1");
	expect(WE("(filter (cumulative-return {:window 10}) (select-top 2) ["
	    GRP(WE("(asset A) (asset B)")) " " GRP(WE("(asset C)")) "])"), abc, "A=0.25 B=0.25 C=0.5");
	/* row 20: §7 item 12 (S, not HEAD): no max-drawdown negation, top = largest */
	expect(WE("(filter (max-drawdown {:window 10}) (select-top 1) [" GRP("(asset A)") " "
	    GRP("(asset C)") "])"), dd, "A=1");
	expect(WE("(filter (max-drawdown {:window 10}) (select-bottom 1) [" GRP("(asset A)") " "
	    GRP("(asset C)") "])"), dd, "C=1");
	/* row 21 */
	expect(WE("(filter (max-drawdown {:window 10}) (select-top 1) [(asset A) (asset C)])"), dd, "A=1");
	/* row 22: a group scoring 2 beats A's 1 and is kept whole */
	expect(WE("(filter (cumulative-return {:window 10}) (select-top 1) [(asset A) "
	    GRP(WE("(asset B) (asset C)")) "])"), r22, "B=0.5 C=0.5");
	/* row 23: a filter result is one unit in its parent */
	expect(WE("(filter (rsi {:window 10}) (select-top 2) [(asset A) (asset B) (asset C)]) (asset Z)"),
	    r23, "B=0.25 C=0.25 Z=0.5");
	/* row 24: unnamed fragments are units too */
	expect(WE("(filter (rsi {:window 10}) (select-top 1) [" WE("(asset A) (asset B)") " "
	    WE("(asset C)") "])"), r24, "A=0.5 B=0.5");
	/* row 29: current-price cannot be rewritten: every candidate drops */
	expect_err(WE("(filter (current-price) (select-top 1) [(asset A) (asset B)])"), ab, -EINVAL,
	    "no assets");
	/* no selection keeps everyone; a negative count too; counts truncate */
	expect(WE("(filter (rsi {:window 10}) [(asset A) (asset B)])"), ab, "A=0.5 B=0.5");
	expect(WE("(filter (rsi {:window 10}) (select-top -1) [(asset A) (asset B)])"), ab, "A=0.5 B=0.5");
	expect(WE("(filter (rsi {:window 10}) (select-top 1.9) [(asset A) (asset B)])"), ab, "A=1");
	expect(WE("(filter (rsi {:window 10}) (select-bottom 1) [A B])"), ab, "B=1");
	/* a candidate whose score fails is dropped, not fatal */
	expect(WE("(filter (rsi {:window 10}) (select-top 1) [(asset A) (asset NODATA)])"), ab, "A=1");
	/* a single weight block as the portfolio: its tickers are the candidates */
	expect("(filter (rsi {:window 10}) (select-top 1) (weight-equal [(asset A) (asset B)]))", ab,
	    "A=1");
	/* top level filter result is an allocation (a fragment) */
	expect("(filter (rsi {:window 10}) (select-top 1) [(asset A) (asset B)])", ab, "A=1");
}
END_TEST

START_TEST(test_dsl_eval_table_invvol)
{
	static const struct sv s13[] = { { "A", 1 }, { "B", 3 }, { NULL, 0 } };
	static const struct sv s134[] = { { "A", 1 }, { "B", 3 }, { "C", 4 }, { NULL, 0 } };
	static const struct sv zero[] = { { "A", 0 }, { "B", 2 }, { NULL, 0 } };

	/* row 25 */
	expect("(weight-inverse-volatility 10 [(asset A) (asset B)])", s13, "A=0.75 B=0.25");
	ck_assert_int_eq(stub_last_window, 10);
	ck_assert_int_eq(stub_last_kind, INDICATOR_STDEV_RETURN);
	/* row 26: groups are units (stub: group σ = weighted mean of members, 2 and 4) */
	expect("(weight-inverse-volatility 10 [" GRP(WE("(asset A) (asset B)")) " "
	    GRP(WE("(asset C)")) "])", s134, "A=1/3 B=1/3 C=1/3");
	/* row 27, §7 item 13 (D): a group stays a unit next to a bare asset:
	 * σ(A) = 1, σ(group) = 3.5, shares 1 : 1/3.5 */
	expect("(weight-inverse-volatility 10 [(asset A) " GRP(WE("(asset B) (asset C)")) "])", s134,
	    "A=0.77777777777777779 B=1/9 C=1/9");
	/* row 28: duplicates removed before normalising */
	expect(WE("(weight-inverse-volatility 10 [(asset A) (asset A) (asset B)]) (asset Z)"), s13,
	    "A=0.375 B=0.125 Z=0.5");
	/* σ <= 0 or missing is skipped; nothing left is an error */
	expect("(weight-inverse-volatility 5 [(asset A) (asset B) (asset NODATA)])", zero, "B=1");
	expect_err("(weight-inverse-volatility 5 [(asset NODATA)])", zero, -ENODATA,
	    "no usable volatility");
}
END_TEST

START_TEST(test_dsl_eval_conditions)
{
	static const struct sv s[] = { { "A", 55 }, { "B", 45 }, { NULL, 0 } };

	expect("(if (> (rsi \"A\" {:window 10}) (rsi \"B\" {:window 10})) (asset X) (asset Y))", s, "X=1");
	ck_assert_uint_eq(stub_calls, 2);
	ck_assert_int_eq(stub_last_window, 10);	/* :window honoured (§7 item 2) */
	expect("(if (< (rsi \"A\" {:window 10.7}) 55) (asset X) (asset Y))", s, "Y=1");
	ck_assert_int_eq(stub_last_window, 10);	/* fractional windows truncate */
	expect("(if (>= (rsi \"A\") 55) (asset X) (asset Y))", s, "X=1");
	ck_assert_int_eq(stub_last_window, 14);	/* the default window */
	expect("(if (<= (moving-average-price \"A\" {:window 3}) 54.9) (asset X) (asset Y))", s, "Y=1");
	expect("(if (= 2 2.0) (asset X) (asset Y))", s, "X=1");
	expect("(if (= \"a\" \"a\") (asset X) (asset Y))", s, "X=1");
	expect("(if (= \"2\" 2) (asset X) (asset Y))", s, "Y=1");	/* mixed kinds: false */
	expect("(if true (asset X) (asset Y))", s, "X=1");
	expect("(if false (asset X) (asset Y))", s, "Y=1");
	expect("(if nil (asset X) (asset Y))", s, "Y=1");
	expect("(if 0 (asset X) (asset Y))", s, "Y=1");
	/* lazy branches: the untaken one is never evaluated */
	expect("(if (> 2 1) (asset X) (if (> (rsi \"A\") 1) (asset Y) (asset Z)))", s, "X=1");
	ck_assert_uint_eq(stub_calls, 0);
	/* every indicator operator reaches the source with its own kind */
	expect("(if (> (stdev-price \"A\" {:window 14}) 50) (asset X) (asset Y))", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_STDEV_PRICE);
	ck_assert_int_eq(stub_last_window, 14);
	expect("(if (> (exponential-moving-average-price \"A\" {:window 8}) 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_EMA_PRICE);
	expect("(if (> (moving-average-return \"A\" {:window 4}) 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_MA_RETURN);
	expect("(if (> (cumulative-return \"A\" {:window 4}) 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_CUM_RETURN);
	expect("(if (> (stdev-return \"A\" {:window 4}) 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_STDEV_RETURN);
	expect("(if (> (max-drawdown \"A\" {:window 4}) 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_MAX_DRAWDOWN);
	expect("(if (> (current-price \"A\") 50) X Y)", s, "X=1");
	ck_assert_int_eq(stub_last_kind, INDICATOR_CURRENT_PRICE);
	/* an indicator failing outside a filter fails the file */
	expect_err("(if (> (rsi \"NODATA\") 1) X Y)", s, -ENODATA, "rsi(NODATA,14)");
	expect_err("(if (> (rsi {:window 3}) 1) X Y)", s, -EINVAL, "needs a ticker");
}
END_TEST

START_TEST(test_dsl_eval_final)
{
	/* zero weights are not holdings; upper-casing; negative or empty fail */
	expect("(weight-specified 0 (asset A) 1 (asset b))", NULL, "B=1");
	expect_err("(weight-specified 0 (asset A))", NULL, -EINVAL, "empty allocation");
	expect_err("(defsymphony \"n\" {} 42)", NULL, -EINVAL, "scalar");
	expect_err("(defsymphony \"n\" {} [(asset A) (asset B)])", NULL, -EINVAL, "several");
	expect("(defsymphony \"n\" {} [(asset A)])", NULL, "A=1");
	expect_err("(weight-specified 1 (weight-equal [(filter (current-price) [A])]))", NULL, -EINVAL,
	    "no assets");
}
END_TEST

START_TEST(test_dsl_eval_trace)
{
	static const struct sv s[] = { { "A", 55 }, { "B", 45 }, { NULL, 0 } };
	struct dsl_result res;
	struct errctx ec;
	size_t i;
	bool saw_if = false, saw_filter = false;

	ck_assert_ok(run("(defsymphony \"n\" {}\n (if (> (rsi \"A\" {:window 10}) 50)\n"
	    "  (filter (rsi {:window 5}) (select-top 1) [(asset A) (asset B)]) (asset C)))", s, false,
	    &res, &ec), &ec);
	for (i = 0; i < res.ntrace; i++) {
		if (strstr(res.trace[i], "2:2 if rsi(A,10)=55 > 50 -> then") != NULL)
			saw_if = true;
		if (strstr(res.trace[i], "filter rsi(5) select-top 1: *A=55, B=45") != NULL)
			saw_filter = true;
	}
	ck_assert_msg(saw_if && saw_filter, "trace: %s | %s", res.ntrace ? res.trace[0] : "",
	    res.ntrace > 1 ? res.trace[1] : "");
	dsl_result_clear(&res);
}
END_TEST

START_TEST(test_dsl_eval_deep_nesting)
{
	/* At the parser's depth limit the evaluator's recursion still fits the
	 * stack (dsl.h: about 1 KiB per level). */
	size_t d = DSL_MAX_DEPTH - 2, i, k = 0;
	char *text = xmalloc(2 * d + 64);
	struct dsl_result res;
	struct errctx ec;

	k += (size_t)sprintf(text, "(weight-equal ");
	for (i = 0; i < d; i++)
		text[k++] = '[';
	k += (size_t)sprintf(text + k, "(asset A)");
	for (i = 0; i < d; i++)
		text[k++] = ']';
	text[k++] = ')';
	text[k] = '\0';
	ck_assert_ok(run(text, NULL, false, &res, &ec), &ec);
	ck_assert_uint_eq(res.n, 1);
	dsl_result_clear(&res);
	free(text);
}
END_TEST

static Suite *
dsl_eval_suite(void)
{
	Suite *s = suite_create("dsl_eval");
	TCase *tc;

	tc = tcase_create("combination_table");
	tcase_add_test(tc, test_dsl_eval_table_weights);
	tcase_add_test(tc, test_dsl_eval_table_filter);
	tcase_add_test(tc, test_dsl_eval_table_invvol);
	suite_add_tcase(s, tc);
	tc = tcase_create("operators");
	tcase_add_test(tc, test_dsl_eval_conditions);
	tcase_add_test(tc, test_dsl_eval_final);
	tcase_add_test(tc, test_dsl_eval_trace);
	tcase_add_test(tc, test_dsl_eval_deep_nesting);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(dsl_eval_suite)
