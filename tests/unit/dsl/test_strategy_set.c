/* Strategy sets (load/validate, consolidation per seed §5.2, failures
 * skipped and renormalised), the CSV market-data seam and --evaluate's exit
 * codes, all on files this test writes into a temporary directory. */
#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/dsl_cli.h"
#include "alchemiser/trading/dsl_sample.h"
#include "alchemiser/trading/strategy_set.h"
#include "../helpers.h"

static char *dir;

static void	setup(void);
static void	teardown(void);
static void	put(const char *name, const char *text);
static char	*at(const char *name);
static double	weight_of(const struct strategy_set_result *r, const char *t);
static void	load_fails(const char *json, int code, const char *what);

static void
put(const char *name, const char *text)
{
	char *p = at(name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static char *
at(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
setup(void)
{
	dir = test_tmpdir();
	put("soxl.clj", "(defsymphony \"a\" {} (weight-equal [(asset \"SOXL\")]))");
	put("nuclear.clj", "(defsymphony \"b\" {} (weight-equal [(asset LEU) (asset NLR) (asset SMR)]))");
	put("coin.clj", "(defsymphony \"c\" {} (asset CONL))");
	put("sqqq.clj", "(defsymphony \"d\" {} (weight-equal [(asset SQQQ) (asset SOXL)]))");
	put("broken.clj", "(defsymphony \"e\" {} (if (> (rsi \"NOBARS\") 50) (asset A) (asset B)))");
	put("bad.clj", "(defsymphony \"f\" {} (weight-equal [(asset A)])");
}

static void
teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = at(e->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static double
weight_of(const struct strategy_set_result *r, const char *t)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->w[i].ticker, t) == 0)
			return r->w[i].weight;
	return -1;
}

static void
load_fails(const char *json, int code, const char *what)
{
	struct strategy_set *s = NULL;
	struct errctx ec;
	char *p = at("set.json");

	put("set.json", json);
	ck_assert_err(strategy_set_load(p, &s, &ec), code, &ec);
	ck_assert_msg(strstr(errctx_msg(&ec), what) != NULL, "'%s' not in '%s'", what, errctx_msg(&ec));
	ck_assert_ptr_null(s);
	free(p);
}

START_TEST(test_strategy_set_consolidate)
{
	struct strategy_set *s;
	struct strategy_set_result r;
	struct dsl_bars *b = dsl_bars_new();
	struct errctx ec;
	char *p = at("set.json");

	/* seed §5.2 worked example (prod weights), plus SOXL twice: sums add up */
	put("set.json", "{\"files\": [\"soxl.clj\", \"nuclear.clj\", \"coin.clj\", \"sqqq.clj\"],"
	    " \"allocations\": {\"soxl.clj\": 0.4, \"nuclear.clj\": 0.25, \"coin.clj\": 0.1,"
	    " \"sqqq.clj\": 0.25}}");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	ck_assert_uint_eq(strategy_set_count(s), 4);
	ck_assert_double_eq_tol(strategy_set_entry(s, 1)->weight, 0.25, 1e-15);
	ck_assert_ok(strategy_set_evaluate_bars(s, b, 20000, NULL, &r, &ec), &ec);
	ck_assert_uint_eq(r.nfailed, 0);
	ck_assert_uint_eq(r.n, 6);
	ck_assert_double_eq_tol(weight_of(&r, "SOXL"), 0.4 + 0.125, 1e-12);
	ck_assert_double_eq_tol(weight_of(&r, "LEU"), 0.25 / 3, 1e-12);
	ck_assert_double_eq_tol(weight_of(&r, "CONL"), 0.1, 1e-12);
	ck_assert_double_eq_tol(weight_of(&r, "SQQQ"), 0.125, 1e-12);
	ck_assert_str_eq(r.w[0].ticker, "CONL");	/* sorted by ticker */
	ck_assert_str_eq(r.s[2].file, "coin.clj");
	ck_assert_uint_eq(r.s[2].result.n, 1);
	strategy_set_result_clear(&r);
	strategy_set_free(s);
	dsl_bars_free(b);
	free(p);
}
END_TEST

START_TEST(test_strategy_set_failure_skipped)
{
	struct strategy_set *s;
	struct strategy_set_result r;
	struct dsl_bars *b = dsl_bars_new();
	struct errctx ec;
	char *p = at("set.json");

	/* broken.clj (weight 0.5) fails: the rest renormalise over 0.5 */
	put("set.json", "{\"files\": [\"soxl.clj\", \"broken.clj\", \"coin.clj\"],"
	    " \"allocations\": {\"soxl.clj\": 0.3, \"broken.clj\": 0.5, \"coin.clj\": 0.2}}");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	ck_assert_ok(strategy_set_evaluate_bars(s, b, 20000, NULL, &r, &ec), &ec);
	ck_assert_uint_eq(r.nfailed, 1);
	ck_assert_int_eq(r.s[1].status, -ENOENT);
	ck_assert_ptr_nonnull(strstr(r.s[1].error, "NOBARS"));
	ck_assert_ptr_nonnull(strstr(r.s[1].error, "broken.clj"));
	ck_assert_double_eq_tol(weight_of(&r, "SOXL"), 0.6, 1e-12);
	ck_assert_double_eq_tol(weight_of(&r, "CONL"), 0.4, 1e-12);
	{
		/* the JSON the signals stage sends on */
		json_t *j = strategy_set_result_json(&r, 10), *s1;

		ck_assert_int_eq(json_integer_value(json_object_get(j, "failed")), 1);
		ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(j,
		    "target_weights"), "SOXL")), 0.6, 1e-12);
		s1 = json_array_get(json_object_get(j, "strategies"), 1);
		ck_assert_str_eq(json_string_value(json_object_get(s1, "status")), "failed");
		ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(s1, "error")), "NOBARS"));
		ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(j,
		    "strategies"), 2), "file")), "coin.clj");
		json_decref(j);
	}
	strategy_set_result_clear(&r);
	strategy_set_free(s);
	/* every file failing is an error, each failure still reported */
	put("set.json", "{\"files\": [\"broken.clj\"]}");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	ck_assert_err(strategy_set_evaluate_bars(s, b, 20000, NULL, &r, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "every strategy failed"));
	ck_assert_uint_eq(r.nfailed, 1);
	ck_assert_uint_eq(r.n, 0);
	strategy_set_result_clear(&r);
	strategy_set_free(s);
	dsl_bars_free(b);
	free(p);
}
END_TEST

START_TEST(test_strategy_set_validation)
{
	struct strategy_set *s;
	struct errctx ec;
	char *p = at("set.json");

	load_fails("{\"files\": [\"soxl.clj\"], \"allocations\": {\"soxl.clj\": -1}}", -EINVAL, ">= 0");
	load_fails("{\"files\": [\"soxl.clj\"], \"allocations\": {\"soxl.clj\": 0}}", -EINVAL, "sum");
	load_fails("{\"files\": [\"soxl.clj\"], \"allocations\": {}}", -EINVAL, "'soxl.clj' is missing");
	load_fails("{\"files\": [\"soxl.clj\"], \"allocations\": {\"soxl.clj\": 1, \"x.clj\": 1}}",
	    -EINVAL, "'x.clj' is not in files");
	load_fails("{\"files\": [\"soxl.clj\", \"soxl.clj\"]}", -EINVAL, "listed twice");
	load_fails("{\"files\": [\"nope.clj\"]}", -ENOENT, "nope.clj");
	load_fails("{\"files\": [\"bad.clj\"]}", -EBADMSG, "bad.clj:1:");
	load_fails("{\"files\": [1]}", -EINVAL, "files[0]");
	load_fails("{\"files\": []}", -EINVAL, "no strategy files");
	load_fails("[1, 2]", -EINVAL, "expected");
	load_fails("{\"files\": [", -EBADMSG, "set.json:1:");
	load_fails("{\"files\": [\"soxl.clj\"], \"allocations\": {\"soxl.clj\": \"0.5\"}}", -EINVAL,
	    "must be a number");
	/* files only: equal weights; allocations only: its keys */
	put("set.json", "{\"files\": [\"soxl.clj\", \"coin.clj\"]}");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	ck_assert_double_eq_tol(strategy_set_entry(s, 1)->weight, 0.5, 1e-15);
	strategy_set_free(s);
	put("set.json", "{\"allocations\": {\"coin.clj\": 3, \"soxl.clj\": 1}}");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	ck_assert_uint_eq(strategy_set_count(s), 2);
	ck_assert_double_eq_tol(strategy_set_entry(s, 0)->weight, 0.75, 1e-15);
	strategy_set_free(s);
	free(p);
}
END_TEST

START_TEST(test_strategy_set_csv_marketdata)
{
	static const char good[] = "date,open,high,low,close,volume\r\n"
	    "2026-01-02,1,2,0.5,1.5,100\r\n\r\n2026-01-05,1.5,2,1,1.75,200\n2026-01-06,1,1,1,1.25,1\n";
	struct md_bar *bars;
	struct md_series ser[2];
	struct md_quote q;
	struct marketdata *md;
	struct errctx ec;
	const char *syms[] = { "AAA", "ZZZ" };
	int64_t d;
	size_t n;

	ck_assert_ok(marketdata_csv_parse(good, sizeof(good) - 1, INT64_MAX, &bars, &n, &ec), &ec);
	ck_assert_uint_eq(n, 3);
	ck_assert_double_eq(bars[2].close, 1.25);
	free(bars);
	ck_assert_ok(dsl_parse_date("2026-01-05", &d, &ec), &ec);
	ck_assert_ok(marketdata_csv_parse(good, sizeof(good) - 1, d, &bars, &n, &ec), &ec);
	ck_assert_uint_eq(n, 2);	/* bars after the as-of day are cut */
	ck_assert_int_eq(bars[1].day, d);
	free(bars);
#define BAD(text, what) do { \
		ck_assert_err(marketdata_csv_parse(text, strlen(text), INT64_MAX, &bars, &n, &ec), \
		    -EBADMSG, &ec); \
		ck_assert_msg(strstr(errctx_msg(&ec), what) != NULL, "%s", errctx_msg(&ec)); \
	} while (0)
	BAD("", "empty");
	BAD("Date,Close\n", "header");
	BAD("date,open,high,low,close,volume\n2026-01-02,1,2,3\n", "line 2");
	BAD("date,open,high,low,close,volume\n2026-02-30,1,2,0,1,1\n", "bad date");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,0,1,1\n2026-01-02,1,2,0,1,1\n", "ascending");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,0,0,1\n", "close must be > 0");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,0,1,1x\n", "line 2");

	ck_assert_ptr_null(marketdata_csv_new("/nonexistent/dir", &ec));
	put("AAA.csv", good);
	md = marketdata_csv_new(dir, &ec);
	ck_assert_ptr_nonnull(md);
	ck_assert_ok(md->ops->daily_bars(md, syms, 2, INT64_MAX, 10, ser, &ec), &ec);
	ck_assert_uint_eq(ser[0].n, 3);
	ck_assert_uint_eq(ser[1].n, 0);	/* unknown ticker: no bars, not an error */
	md_series_clear(&ser[0]);
	md_series_clear(&ser[1]);
	ck_assert_ok(md->ops->latest_quote(md, "AAA", &q, &ec), &ec);
	ck_assert_double_eq(q.price, 1.25);
	ck_assert_err(md->ops->latest_quote(md, "ZZZ", &q, &ec), -ENOENT, &ec);
	put("BAD.csv", "nonsense\n");
	syms[1] = "BAD";
	ck_assert_err(md->ops->daily_bars(md, syms, 2, INT64_MAX, 10, ser, &ec), -EBADMSG, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "BAD.csv"));
	marketdata_free(md);
}
END_TEST

START_TEST(test_strategy_set_cli)
{
	char *outp = at("out.txt"), *errp = at("err.txt"), *set = at("set.json"), *broken = at("broken.clj");
	char *soxl = at("soxl.clj"), *text;
	FILE *out, *err;
	int64_t end;
	struct errctx ec;

	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);
	put("set.json", "{\"files\": [\"soxl.clj\", \"broken.clj\", \"sqqq.clj\"]}");
	ck_assert_ok(dsl_sample_write_csv(dir, "SOXL", 1, end, 30, &ec), &ec);
	out = fopen(outp, "w+");
	err = fopen(errp, "w+");
	ck_assert_int_eq(dsl_cli_evaluate(set, dir, "2026-11-20", false, out, err), 0);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, dir, NULL, false, out, err), 0);
	ck_assert_int_eq(dsl_cli_evaluate(broken, dir, "2026-11-20", false, out, err), 1);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, dir, "2026-13-01", false, out, err), 2);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, "/nonexistent", "2026-11-20", false, out, err), 2);
	ck_assert_int_eq(dsl_cli_evaluate("/nonexistent.clj", dir, "2026-11-20", false, out, err), 2);
	fclose(out);
	fclose(err);
	text = test_read_file(outp, NULL);
	/* SOXL: 1/2 (soxl.clj) + 1/2 * 1/2 (sqqq.clj); SQQQ 1/4 */
	ck_assert_str_eq(text, "{\"SOXL\": 0.75, \"SQQQ\": 0.25}\n{\"SOXL\": 1}\n");
	free(text);
	text = test_read_file(errp, NULL);
	ck_assert_ptr_nonnull(strstr(text, "warning: broken.clj failed and was skipped"));
	ck_assert_ptr_nonnull(strstr(text, "--as-of"));
	free(text);
	free(outp);
	free(errp);
	free(set);
	free(broken);
	free(soxl);
}
END_TEST

START_TEST(test_strategy_set_example)
{
	static const char *const ops[] = { "(defsymphony", "(if", "(asset", "(weight-equal",
	    "(weight-specified", "(weight-inverse-volatility", "(group", "(filter", "(select-top",
	    "(select-bottom", "(> ", "(< ", "(>= ", "(<= ", "(= ", "(rsi", "(current-price",
	    "(moving-average-price", "(exponential-moving-average-price", "(moving-average-return",
	    "(cumulative-return", "(stdev-return", "(max-drawdown", "(stdev-price" };
	const char *top = getenv("top_srcdir");
	char *setp = xasprintf("%s/etc/strategies/strategy.json", top ? top : ".");
	char *data = xasprintf("%s/etc/sample-data", top ? top : "."), *all = xstrdup("");
	struct strategy_set *set;
	const char *const *t;
	struct errctx ec;
	int64_t end;
	size_t n, i;
	FILE *null = fopen("/dev/null", "w");

	/* The example set uses every operator and indicator... */
	ck_assert_ok(strategy_set_load(setp, &set, &ec), &ec);
	for (i = 0; i < strategy_set_count(set); i++) {
		char *text = test_read_file(strategy_set_entry(set, i)->path, NULL), *cat;

		cat = xasprintf("%s%s", all, text);
		free(all);
		free(text);
		all = cat;
	}
	for (i = 0; i < ELEMENTSOF(ops); i++)
		ck_assert_msg(strstr(all, ops[i]) != NULL, "example set never uses %s", ops[i]);
	/* ...its sample data are exactly what the generator writes... */
	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);
	n = strategy_set_tickers(set, &t);
	for (i = 0; i < n; i++) {
		char *name = xasprintf("%s.csv", t[i]), *mine = at(name);
		char *theirs = xasprintf("%s/%s", data, name), *a, *b;

		ck_assert_ok(dsl_sample_write_csv(dir, t[i], 1, end, 600, &ec), &ec);
		a = test_read_file(mine, NULL);
		b = test_read_file(theirs, NULL);
		ck_assert_msg(strcmp(a, b) == 0, "%s differs from the generator's output", theirs);
		free(a);
		free(b);
		free(theirs);
		free(mine);
		free(name);
	}
	/* ...and it evaluates, as a set and file by file, on several days. */
	ck_assert_int_eq(dsl_cli_evaluate(setp, data, "2026-11-20", true, null, null), 0);
	ck_assert_int_eq(dsl_cli_evaluate(setp, data, "2026-01-15", false, null, null), 0);
	for (i = 0; i < strategy_set_count(set); i++)
		ck_assert_int_eq(dsl_cli_evaluate(strategy_set_entry(set, i)->path, data, "2026-06-01",
		    false, null, null), 0);
	fclose(null);
	strategy_set_free(set);
	free(all);
	free(setp);
	free(data);
}
END_TEST

static Suite *
strategy_set_suite(void)
{
	Suite *s = suite_create("strategy_set");
	TCase *tc;

	tc = tcase_create("sets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_strategy_set_consolidate);
	tcase_add_test(tc, test_strategy_set_failure_skipped);
	tcase_add_test(tc, test_strategy_set_validation);
	suite_add_tcase(s, tc);
	tc = tcase_create("marketdata_cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_strategy_set_csv_marketdata);
	tcase_add_test(tc, test_strategy_set_cli);
	tcase_add_test(tc, test_strategy_set_example);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(strategy_set_suite)
