/* Lexer and parser: the grammar of the corpus, error positions, limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/dsl.h"
#include "../helpers.h"

static int	parse(const char *text, struct errctx *ec);
static void	assert_fails(const char *text, int code, const char *pos, const char *what);
static size_t	ntickers(const char *text, const char *const **t, struct dsl_program **p);

static int
parse(const char *text, struct errctx *ec)
{
	struct dsl_program *p = NULL;
	int r = dsl_program_parse("t.clj", text, strlen(text), &p, ec);

	dsl_program_free(p);
	return r;
}

static void
assert_fails(const char *text, int code, const char *pos, const char *what)
{
	struct errctx ec;
	int r;

	errctx_clear(&ec);
	r = parse(text, &ec);
	ck_assert_err(r, code, &ec);
	ck_assert_msg(strstr(errctx_msg(&ec), pos) != NULL, "'%s': no position %s in '%s'", text,
	    pos, errctx_msg(&ec));
	ck_assert_msg(strstr(errctx_msg(&ec), what) != NULL, "'%s': no '%s' in '%s'", text, what,
	    errctx_msg(&ec));
}

static size_t
ntickers(const char *text, const char *const **t, struct dsl_program **p)
{
	struct errctx ec;

	ck_assert_ok(dsl_program_parse("t.clj", text, strlen(text), p, &ec), &ec);
	return dsl_program_tickers(*p, t);
}

START_TEST(test_dsl_parse_tokens)
{
	struct errctx ec;

	/* numbers in every accepted spelling, commas, comments, keywords */
	ck_assert_ok(parse("; comment\n(defsymphony \"n\" {:a 1, :b -2.5, :c .5, :d 1e5, :e +3,"
	    " :f 1.5e-3 :g :daily :h nil :i true :j false} (asset \"SPY\")) ; tail", &ec), &ec);
	/* strings with escapes (7-Phoenix.clj has \" inside a group name) */
	ck_assert_ok(parse("(defsymphony \"a \\\"q\\\" \\\\ \\n b\" {} (group \"x\\\"y\" [(asset SPY)]))",
	    &ec), &ec);
	/* tickers with / and . (BRK/B), vectors of bare symbols */
	ck_assert_ok(parse("(defsymphony \"n\" {} (weight-equal [BRK/B BF.B (asset \"brk/a\")]))",
	    &ec), &ec);
	/* a top-level atom is a whole program */
	ck_assert_ok(parse("\"AAPL\"", &ec), &ec);
	ck_assert_ok(parse("  \n\t(weight-equal [(asset A)])\n\n", &ec), &ec);
}
END_TEST

START_TEST(test_dsl_parse_tickers)
{
	const char *const *t;
	struct dsl_program *p;
	size_t n;

	/* Tickers are upper-cased and unique; names and descriptions are not tickers. */
	n = ntickers("(defsymphony \"Name\" {:x \"Y\"} (weight-equal [(asset \"spy\" \"S&P\")"
	    " (asset SPY nil) (group \"G\" [(if (> (rsi \"qqq\" {:window 10}) 50) [TLT] [\"bil\"])])"
	    " (filter (rsi {:window 5}) (select-top 1) [XLK XLP])]))", &t, &p);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(t[0], "SPY");
	ck_assert_str_eq(t[1], "QQQ");
	ck_assert_str_eq(t[2], "TLT");
	ck_assert_str_eq(t[3], "BIL");
	ck_assert_str_eq(t[4], "XLK");
	ck_assert_str_eq(t[5], "XLP");
	/* rsi of 10 bars warms up over 10 windows */
	ck_assert_uint_ge(dsl_program_lookback(p), 110);
	ck_assert_str_eq(dsl_program_name(p), "t.clj");
	dsl_program_free(p);
}
END_TEST

START_TEST(test_dsl_parse_errors)
{
	assert_fails("", -EBADMSG, "t.clj:1:1", "empty input");
	assert_fails("  ; only a comment\n", -EBADMSG, "t.clj:2:1", "empty input");
	assert_fails("(asset \"SPY)", -EBADMSG, "t.clj:1:8", "unterminated string");
	assert_fails("(weight-equal [(asset A)]", -EBADMSG, "t.clj:1:1", "unclosed '('");
	assert_fails("(weight-equal\n  [(asset A)))", -EBADMSG, "t.clj:2:13", "unexpected ')'");
	assert_fails("(weight-equal [(asset A)]) (asset B)", -EBADMSG, "t.clj:1:28",
	    "after the expression");
	assert_fails("(weight-equal #{A})", -EBADMSG, "t.clj:1:15", "unexpected character '#'");
	assert_fails("(weight-equal [(asset A)] @x)", -EBADMSG, "t.clj:1:27", "unexpected character '@'");
	assert_fails("(rsi \"A\" {:window 5 :x})", -EBADMSG, "t.clj:1:10", "no value");
	assert_fails("(rsi \"A\" {:window 12abc})", -EBADMSG, "t.clj:1:19", "malformed number");
	assert_fails("(a \"x\" :)", -EBADMSG, "t.clj:1:8", "empty keyword");
	assert_fails("(defsymphony \"n\" {}\n  (and (asset A)))", -EINVAL, "t.clj:2:4",
	    "unknown DSL function 'and'");
	assert_fails("(weight-equal [(SPY QQQ)])", -EINVAL, "t.clj:1:17", "unknown DSL function 'SPY'");
	assert_fails("(if (> 1 2 3) A B)", -EINVAL, "t.clj:1:5", "exactly 2");
	assert_fails("(weight-specified 0.5 A 0.5)", -EINVAL, "t.clj:1:1", "pairs");
	assert_fails("(filter (rsi) (select-top 1) [A] B)", -EINVAL, "t.clj:1:1", "2 or 3");
	assert_fails("(filter (> 1 2) (select-top 1) [A B])", -EINVAL, "t.clj:1:9", "indicator");
	assert_fails("(filter (rsi {:window 0}) (select-top 1) [A B])", -EINVAL, "t.clj:1:23",
	    "out of range");
	assert_fails("(weight-inverse-volatility X [A B])", -EINVAL, "t.clj:1:28", "window");
	assert_fails("(asset (rsi \"A\"))", -EINVAL, "t.clj:1:1", "ticker");
	assert_fails("(weight-equal)", -EINVAL, "t.clj:1:1", "at least one");
	/* the excerpt shows where */
	assert_fails("(weight-equal [(asset A)] ^meta)", -EBADMSG, "1:27", "near '^meta)'");
}
END_TEST

START_TEST(test_dsl_parse_hostile_tickers)
{
	const char *const *t;
	struct dsl_program *p;
	char text[200], long_t[80];

	/* refused with the position, never truncated or mapped */
	memset(long_t, 'A', 64);
	long_t[64] = '\0';
	snprintf(text, sizeof(text), "(asset \"%s\")", long_t);
	assert_fails(text, -EINVAL, "t.clj:1:8", "is 64 characters long (at most 24)");
	long_t[DSL_TICKER_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "(weight-equal [%s])", long_t);
	assert_fails(text, -EINVAL, "t.clj:1:16", "is 25 characters long");
	assert_fails("(asset \"../etc/passwd\")", -EINVAL, "t.clj:1:8", "bad ticker '../etc/passwd'");
	assert_fails("(weight-equal [(asset \"A/../B\")])", -EINVAL, "t.clj:1:23", "bad ticker 'A/../B'");
	assert_fails("(weight-equal [(asset \"A..B\")])", -EINVAL, "t.clj:1:23", "bad ticker");
	assert_fails("(weight-equal [SPY \"QQQ/\"])", -EINVAL, "t.clj:1:20", "bad ticker 'QQQ/'");
	assert_fails("(asset \".hidden\")", -EINVAL, "t.clj:1:8", "bad ticker");
	assert_fails("(asset \"A B\")", -EINVAL, "t.clj:1:8", "bad ticker 'A B'");
	assert_fails("(asset \"A\\nB\")", -EINVAL, "t.clj:1:8", "bad ticker 'A?B'");
	assert_fails("(rsi \"S$Y\" {:window 5})", -EINVAL, "t.clj:1:6", "bad ticker 'S$Y'");
	assert_fails("(filter (rsi {:window 5}) (select-top 1) [XLK \"X;Y\"])", -EINVAL, "t.clj:1:47",
	    "bad ticker");
	/* the shapes real tickers have */
	memset(long_t, 'B', DSL_TICKER_MAX);
	long_t[DSL_TICKER_MAX] = '\0';
	snprintf(text, sizeof(text), "(weight-equal [BRK/B BF.B \"^VIX\" BTC-USD X:Y %s])", long_t);
	ck_assert_uint_eq(ntickers(text, &t, &p), 6);
	ck_assert_str_eq(t[0], "BRK/B");
	ck_assert_str_eq(t[2], "^VIX");
	ck_assert_str_eq(t[5], long_t);
	dsl_program_free(p);
}
END_TEST

START_TEST(test_dsl_parse_map_keys)
{
	/* a typo is not silently the default window */
	assert_fails("(rsi \"A\" {:windw 10})", -EINVAL, "t.clj:1:11",
	    "unknown key ':windw' in an indicator map (did you mean :window?)");
	assert_fails("(filter (rsi {:Window 10}) (select-top 1) [A B])", -EINVAL, "t.clj:1:15",
	    "did you mean :window?");
	assert_fails("(moving-average-return \"A\" {:window 5 :wndow 10})", -EINVAL, "t.clj:1:39",
	    "did you mean :window?");
	assert_fails("(rsi \"A\" {:period 10})", -EINVAL, "t.clj:1:11", "(only :window)");
}
END_TEST

START_TEST(test_dsl_parse_depth)
{
	struct errctx ec;
	size_t d, i;
	char *text;

	/* The explicit stack takes any depth up to the limit without recursion... */
	for (d = DSL_MAX_DEPTH - 1; d <= DSL_MAX_DEPTH + 1; d++) {
		text = xmalloc(2 * d + 16);
		for (i = 0; i < d; i++)
			text[i] = '[';
		text[d] = 'A';
		for (i = 0; i < d; i++)
			text[d + 1 + i] = ']';
		text[2 * d + 1] = '\0';
		errctx_clear(&ec);
		if (d <= DSL_MAX_DEPTH)
			ck_assert_ok(parse(text, &ec), &ec);
		else
			ck_assert_err(parse(text, &ec), -E2BIG, &ec);	/* ...and refuses beyond it */
		free(text);
	}
}
END_TEST

START_TEST(test_dsl_parse_size_limit)
{
	struct dsl_program *p = NULL;
	struct errctx ec;

	ck_assert_err(dsl_program_parse("big.clj", "(", (size_t)DSL_MAX_FILE + 1, &p, &ec), -E2BIG,
	    &ec);
	ck_assert_ptr_null(p);
	ck_assert_err(dsl_program_load("/nonexistent/x.clj", &p, &ec), -ENOENT, &ec);
}
END_TEST

/* The program's memory bound (dsl.h): 1 MiB of "1 " (half a million
 * expressions, ~50 MiB) is refused with its position; the same size of
 * ordinary strategy text parses within 24 times its size + 1 MiB. */
START_TEST(test_dsl_parse_memory_bound)
{
	static const char unit[] = "(if (> (rsi \"SPY\" {:window 10}) 50) "
	    "(weight-equal [(asset SPY) (asset QQQ)]) (asset TLT))\n";
	size_t n = 1u << 20, i, len;
	char *text = xmalloc(n + 256);
	struct dsl_program *p = NULL;
	struct errctx ec;

	len = (size_t)sprintf(text, "(defsymphony \"d\" {} [");
	while (len + 3 < n) {
		text[len++] = '1';
		text[len++] = ' ';
	}
	text[len++] = ']';
	text[len++] = ')';
	ck_assert_err(dsl_program_parse("dense.clj", text, len, &p, &ec), -E2BIG, &ec);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(errctx_msg(&ec), "dense.clj:1:") == errctx_msg(&ec) &&
	    strstr(errctx_msg(&ec), "the program needs more than 25 MiB (24 times its") != NULL,
	    "%s", errctx_msg(&ec));
	len = (size_t)sprintf(text, "(defsymphony \"ok\" {} (weight-equal [");
	for (i = 0; len + sizeof(unit) + 4 < n; i++)
		len += (size_t)sprintf(text + len, "%s", unit);
	len += (size_t)sprintf(text + len, "]))");
	ck_assert_ok(dsl_program_parse("ok.clj", text, len, &p, &ec), &ec);
	ck_assert_uint_eq(dsl_program_source_bytes(p), len);
	ck_assert_uint_le(dsl_program_memory(p), DSL_MEM_PROGRAM * len + DSL_MEM_PROGRAM_SLACK);
	ck_assert_uint_gt(dsl_program_memory(p), 4 * len);	/* it is that dense */
	dsl_program_free(p);
	free(text);
}
END_TEST

START_TEST(test_dsl_parse_corpus)
{
	static const char *files[] = { "1-KMLM.clj", "2-Nuclear.clj", "3-Starburst.clj",
	    "4-What.clj", "5-Coin.clj", "6-TQQQ-FLT.clj", "7-Phoenix.clj", "TECL.clj", "Ult.clj",
	    "test.clj" };
	static const size_t want_tickers[] = { 20, 20, 91, 46, 23, 10, 60, 10, 60, 1 };
	size_t i;

	for (i = 0; i < ELEMENTSOF(files); i++) {
		char *rel = xasprintf("strategies/%s", files[i]), *path = test_shared_path(rel);
		struct dsl_program *p;
		const char *const *t;
		struct errctx ec;

		free(rel);
		if (path == NULL)
			return;	/* shared/ absent outside CI: skipped (helpers.h) */
		ck_assert_ok(dsl_program_load(path, &p, &ec), &ec);
		/* Ticker counts of seed-trading-spec §6. */
		ck_assert_uint_eq(dsl_program_tickers(p, &t), want_tickers[i]);
		ck_assert_uint_gt(dsl_program_nodes(p), 3);
		/* well within the memory bound (the largest, 3-Starburst, takes 1.4 n) */
		ck_assert_uint_le(dsl_program_memory(p), 8 * dsl_program_source_bytes(p) + (1u << 20));
		dsl_program_free(p);
		free(path);
	}
}
END_TEST

static Suite *
dsl_parse_suite(void)
{
	Suite *s = suite_create("dsl_parse");
	TCase *tc;

	tc = tcase_create("grammar");
	tcase_add_test(tc, test_dsl_parse_tokens);
	tcase_add_test(tc, test_dsl_parse_tickers);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_dsl_parse_errors);
	tcase_add_test(tc, test_dsl_parse_depth);
	tcase_add_test(tc, test_dsl_parse_hostile_tickers);
	tcase_add_test(tc, test_dsl_parse_map_keys);
	tcase_add_test(tc, test_dsl_parse_size_limit);
	tcase_add_test(tc, test_dsl_parse_memory_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("corpus");
	tcase_add_test(tc, test_dsl_parse_corpus);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(dsl_parse_suite)
