/* Strategy sets (load/validate, consolidation per seed §5.2, the failure
 * policies), freshness of the bars (stale, missing, future, before the data
 * starts), the CSV market-data seam and --evaluate's exit codes, all on files
 * this test writes into a temporary directory. */
#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/bars_freshness.h"
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
		{
			/* dumped with the shortest round-trip reals, as --evaluate prints them */
			char *text = json_dumps_shortest(j, JSON_COMPACT);

			ck_assert_msg(strstr(text, "\"weight\":0.3,") != NULL, "%s", text);
			ck_assert_msg(strstr(text, "\"allocation\":{\"SOXL\":1.0}") != NULL, "%s", text);
			if (weight_of(&r, "SOXL") == 0.6 && weight_of(&r, "CONL") == 0.4)
				ck_assert_msg(strstr(text, "\"target_weights\":{\"CONL\":0.4,"
				    "\"SOXL\":0.6}") != NULL, "%s", text);
			ck_assert_msg(strstr(text, "99999") == NULL && strstr(text, "00000") == NULL,
			    "%s", text);
			free(text);
		}
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
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,1,1\n2026-01-02,1,2,1,1,1\n", "ascending");
	/* every price column: finite and > 0; volume finite and >= 0 */
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,0,1\n", "line 2: close must be a finite number > 0");
	BAD("date,open,high,low,close,volume\n2026-01-02,1,2,1,1,1\n2026-01-03,1,+inf,1,1,1\n",
	    "line 3: high must be a finite number > 0, got inf");
	BAD("date,open,high,low,close,volume\n2026-01-03,NaN,2,1,1,1\n", "line 2: open must be a finite number > 0");
	BAD("date,open,high,low,close,volume\n2026-01-03,nan,2,1,1,1\n", "line 2: open");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,-1,1,1\n", "line 2: low must be a finite number > 0, got -1");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,0,1,1\n", "line 2: low must be");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,-inf,1\n", "line 2: close must be");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,1,inf\n", "line 2: volume must be a finite number >= 0");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,1,-5\n", "line 2: volume must be");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,0,1,1x\n", "line 2");
	/* the purpose-built reader keeps the old syntax: exactly six fields,
	 * a whole number in each, a date of at most 10 of [0-9-] */
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,1,1,\n", "line 2: expected date,");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1,,1\n", "line 2: expected date,");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1.2.3,1,1\n", "line 2: expected");
	BAD("date,open,high,low,close,volume\n2026-01-03,1,2,1 ,1,1\n", "line 2: expected");
	BAD("date,open,high,low,close,volume\n2026-01-033,1,2,1,1,1\n", "line 2: expected");
	BAD("date,open,high,low,close,volume\n2026/01/03,1,2,1,1,1\n", "line 2: expected");
	BAD("date,open,high,low,close,volume\n,1,2,1,1,1\n", "line 2: expected");
	BAD("date,open,high,low,close,volume\n2026-1-3,1,2,1,1,1\n", "line 2: bad date '2026-1-3'");
	{
		/* every number reads as strtod reads it, fast path or not */
		static const char *const num[] = { "14.9735", "724531", "0.1", "3.", ".5", "0001.2500",
		    "123456789012345", "1234567890123456", "98765.4321098765", "1e2", "2.5E-3", " 7.25",
		    "+3.5", "0.30000000000000004", "0x1p3", "100000000000000000000000" };
		size_t i;

		for (i = 0; i < ELEMENTSOF(num); i++) {
			char *line = xasprintf("date,open,high,low,close,volume\n2026-01-02,%s,%s,%s,%s,%s\n",
			    num[i], num[i], num[i], num[i], num[i]);
			double want = strtod(num[i], NULL);

			ck_assert_ok(marketdata_csv_parse(line, strlen(line), INT64_MAX, &bars, &n, &ec), &ec);
			ck_assert_uint_eq(n, 1);
			ck_assert_msg(bars[0].open == want && bars[0].close == want && bars[0].volume == want,
			    "%s read as %.17g, strtod says %.17g", num[i], bars[0].open, want);
			free(bars);
			free(line);
		}
		/* random plain decimals of 1 to 17 digits, the dot anywhere or
		 * nowhere (four digits at a time in the fast path), as strtod */
		srand(14);
		for (i = 0; i < 3000; i++) {
			char dec[24], *line;
			size_t nd = 1 + (size_t)rand() % 17, dot = (size_t)rand() % (nd + 2), k, o = 0;
			double want;

			for (k = 0; k < nd; k++) {
				if (k == dot && k > 0)
					dec[o++] = '.';
				dec[o++] = (char)('0' + (k == 0 ? 1 + rand() % 9 : rand() % 10));
			}
			dec[o] = '\0';
			want = strtod(dec, NULL);
			line = xasprintf("date,open,high,low,close,volume\n2026-01-02,%s,%s,%s,%s,%s\n",
			    dec, dec, dec, dec, dec);
			ck_assert_ok(marketdata_csv_parse(line, strlen(line), INT64_MAX, &bars, &n, &ec), &ec);
			ck_assert_msg(n == 1 && bars[0].open == want && bars[0].volume == want,
			    "%s read as %.17g, strtod says %.17g", dec, bars[0].open, want);
			free(bars);
			free(line);
		}
	}

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
	/* through the seam: the file and the line */
	put("INF.csv", "date,open,high,low,close,volume\n2026-01-02,1,2,1,1,1\n2026-01-05,1,1,1,inf,1\n");
	syms[1] = "INF";
	ck_assert_err(md->ops->daily_bars(md, syms, 2, INT64_MAX, 10, ser, &ec), -EBADMSG, &ec);
	ck_assert_msg(strstr(errctx_msg(&ec), "INF.csv") != NULL &&
	    strstr(errctx_msg(&ec), "line 3: close must be a finite number > 0") != NULL, "%s",
	    errctx_msg(&ec));
	marketdata_free(md);
}
END_TEST

START_TEST(test_strategy_set_cli)
{
	char *outp = at("out.txt"), *errp = at("err.txt"), *set = at("set.json"), *broken = at("broken.clj");
	char *soxl = at("soxl.clj"), *set2 = at("set2.json"), *text;
	FILE *out, *err;
	int64_t end;
	struct errctx ec;

	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);
	put("set.json", "{\"files\": [\"soxl.clj\", \"sqqq.clj\"]}");
	put("set2.json", "{\"files\": [\"soxl.clj\", \"broken.clj\", \"sqqq.clj\"]}");
	ck_assert_ok(dsl_sample_write_csv(dir, "SOXL", 1, end, 30, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SQQQ", 2, end, 30, &ec), &ec);
	out = fopen(outp, "w+");
	err = fopen(errp, "w+");
	ck_assert_int_eq(dsl_cli_evaluate(set, dir, "2026-11-20", false, false, out, err), 0);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, dir, NULL, false, false, out, err), 0);
	ck_assert_int_eq(dsl_cli_evaluate(broken, dir, "2026-11-20", false, false, out, err), 1);
	/* one failing file fails the set, like the daemon's default: nothing printed */
	ck_assert_int_eq(dsl_cli_evaluate(set2, dir, "2026-11-20", false, false, out, err), 1);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, dir, "2026-13-01", false, false, out, err), 2);
	ck_assert_int_eq(dsl_cli_evaluate(soxl, "/nonexistent", "2026-11-20", false, false, out, err), 2);
	ck_assert_int_eq(dsl_cli_evaluate("/nonexistent.clj", dir, "2026-11-20", false, false, out, err), 2);
	fclose(out);
	fclose(err);
	text = test_read_file(outp, NULL);
	/* SOXL: 1/2 (soxl.clj) + 1/2 * 1/2 (sqqq.clj); SQQQ 1/4 */
	ck_assert_str_eq(text, "{\"SOXL\": 0.75, \"SQQQ\": 0.25}\n{\"SOXL\": 1}\n");
	free(text);
	text = test_read_file(errp, NULL);
	ck_assert_ptr_nonnull(strstr(text, "error: broken.clj failed: NOBARS: no market data at all"));
	ck_assert_ptr_nonnull(strstr(text, "1 of 3 strategy files failed: broken.clj: NOBARS"));
	ck_assert_ptr_nonnull(strstr(text, "as of session 2026-11-20, bars as of 2026-11-20"));
	ck_assert_ptr_nonnull(strstr(text, "--as-of"));
	free(text);
	free(outp);
	free(errp);
	free(set);
	free(set2);
	free(broken);
	free(soxl);
}
END_TEST

/* Weights print as the shortest decimal that reads back exactly (0.06, not
 * 0.059999999999999998), on stdout and in the trace's allocation line. */
START_TEST(test_strategy_set_cli_shortest_weights)
{
	char *outp = at("out.txt"), *errp = at("err.txt"), *p = at("w.clj"), *text, num[DSL_NUM_BUF];
	FILE *out, *err;
	int64_t end;
	struct errctx ec;

	ck_assert_str_eq(dsl_format_number(0.06, num), "0.06");
	ck_assert_str_eq(dsl_format_number(0.1 + 0.2, num), "0.30000000000000004");
	ck_assert_str_eq(dsl_format_number(1.0 / 3.0, num), "0.3333333333333333");
	ck_assert_str_eq(dsl_format_number(1.0, num), "1");
	ck_assert_str_eq(dsl_format_number(0.5, num), "0.5");
	ck_assert_str_eq(dsl_format_number(1e-7, num), "1e-07");
	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);
	put("w.clj", "(defsymphony \"w\" {} (weight-specified 0.06 (asset SOXL) 0.94 (asset SQQQ)))");
	ck_assert_ok(dsl_sample_write_csv(dir, "SOXL", 1, end, 30, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SQQQ", 2, end, 30, &ec), &ec);
	out = fopen(outp, "w+");
	err = fopen(errp, "w+");
	ck_assert_int_eq(dsl_cli_evaluate(p, dir, "2026-11-20", true, false, out, err), 0);
	fclose(out);
	fclose(err);
	text = test_read_file(outp, NULL);
	ck_assert_str_eq(text, "{\"SOXL\": 0.06, \"SQQQ\": 0.94}\n");
	free(text);
	text = test_read_file(errp, NULL);
	ck_assert_msg(strstr(text, "allocation: {\"SOXL\": 0.06, \"SQQQ\": 0.94}") != NULL, "%s", text);
	free(text);
	free(outp);
	free(errp);
	free(p);
}
END_TEST

/* Run --evaluate on TARGET as of AS_OF; the exit status, stderr in *errtext. */
static int
evaluate_cli(const char *target, const char *as_of, bool allow_stale, char **errtext)
{
	char *outp = at("out.txt"), *errp = at("err.txt"), *p = at(target);
	FILE *out = fopen(outp, "w+"), *err = fopen(errp, "w+");
	int status;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	status = dsl_cli_evaluate(p, dir, as_of, false, allow_stale, out, err);
	fclose(out);
	fclose(err);
	*errtext = test_read_file(errp, NULL);
	free(outp);
	free(errp);
	free(p);
	return status;
}

#define CLI_FAILS(target, as_of, allow, what) do { \
		char *e_; \
		ck_assert_int_eq(evaluate_cli(target, as_of, allow, &e_), 1); \
		ck_assert_msg(strstr(e_, what) != NULL, "'%s' not in '%s'", what, e_); \
		free(e_); \
	} while (0)

START_TEST(test_strategy_set_cli_freshness)
{
	int64_t end;
	struct errctx ec;
	char *e;

	/* SOXL ends on Thursday 2026-11-19: one session short of Friday the 20th */
	ck_assert_ok(dsl_parse_date("2026-11-19", &end, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SOXL", 1, end, 30, &ec), &ec);
	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SQQQ", 2, end, 30, &ec), &ec);
	put("nope.clj", "(defsymphony \"n\" {} (weight-equal [(asset SQQQ) (asset NOPE)]))");
	put("sq.clj", "(defsymphony \"q\" {} (asset SQQQ))");

	/* fresh: the as-of session's bar is there; a weekend asks for Friday */
	ck_assert_int_eq(evaluate_cli("sq.clj", "2026-11-20", false, &e), 0);
	free(e);
	ck_assert_int_eq(evaluate_cli("sq.clj", "2026-11-22", false, &e), 0);
	ck_assert_ptr_nonnull(strstr(e, "as of session 2026-11-20, bars as of 2026-11-20"));
	free(e);
	/* one session early */
	CLI_FAILS("soxl.clj", "2026-11-20", false, "soxl.clj failed: SOXL: last bar "
	    "2026-11-19 is 1 session before the as-of session 2026-11-20");
	CLI_FAILS("sqqq.clj", "2026-11-20", false, "tolerance 0 sessions");
	/* weeks stale, named with the dates */
	CLI_FAILS("sq.clj", "2026-12-04", false, "SQQQ: last bar 2026-11-20 is 9 sessions before "
	    "the as-of session 2026-12-04");
	/* missing: allocating to a ticker without data is refused */
	CLI_FAILS("nope.clj", "2026-11-20", false, "NOPE: no market data at all");
	/* future: after the last completed session by the clock, even for research */
	CLI_FAILS("sq.clj", "2031-01-02", false, "the as-of date 2031-01-02 is in the future");
	CLI_FAILS("sq.clj", "2031-01-02", true, "is in the future");
	/* before the data starts: said so, not "no market data" */
	CLI_FAILS("sq.clj", "2020-01-02", false, "SQQQ: the as-of date 2020-01-02 is before its "
	    "data starts (first bar 2026-10-");
	/* research switch: stale data evaluates, with a warning */
	ck_assert_int_eq(evaluate_cli("soxl.clj", "2026-11-20", true, &e), 0);
	ck_assert_ptr_nonnull(strstr(e, "warning: stale data allowed (--allow-stale): SOXL: last "
	    "bar 2026-11-19 is 1 session before"));
	ck_assert_ptr_nonnull(strstr(e, "bars as of 2026-11-19"));
	free(e);
	/* ...but never missing data */
	CLI_FAILS("nope.clj", "2026-11-20", true, "NOPE: no market data at all");
}
END_TEST

/* The engine path the signals stage takes: CSV bars, freshness, policies. */
static int
evaluate_policy(const char *setjson, const char *as_of, const struct strategy_set_policy *pol,
    struct strategy_set_result *r, struct errctx *ec)
{
	struct strategy_set *s;
	struct marketdata *md;
	char *p = at("pset.json");
	int64_t day;
	int rc;

	put("pset.json", setjson);
	ck_assert_ok(strategy_set_load(p, &s, ec), ec);
	ck_assert_ok(dsl_parse_date(as_of, &day, ec), ec);
	md = marketdata_csv_new(dir, ec);
	ck_assert_ptr_nonnull(md);
	rc = strategy_set_evaluate(s, md, day, NULL, pol, r, ec);
	marketdata_free(md);
	/* the outcomes borrow file names from the set: copy what the test reads */
	strategy_set_free(s);
	free(p);
	return rc;
}

static const char *const PSET = "{\"files\": [\"soxl.clj\", \"sq.clj\"],"
    " \"allocations\": {\"soxl.clj\": 0.6, \"sq.clj\": 0.4}}";

START_TEST(test_strategy_set_policies)
{
	struct strategy_set_policy pol = { .fresh = { .today_session = 0 } };
	struct strategy_set_result r;
	struct errctx ec;
	int64_t d19, d20;

	ck_assert_ok(dsl_parse_date("2026-11-19", &d19, &ec), &ec);
	ck_assert_ok(dsl_parse_date("2026-11-20", &d20, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SOXL", 1, d19, 30, &ec), &ec);
	ck_assert_ok(dsl_sample_write_csv(dir, "SQQQ", 2, d20, 30, &ec), &ec);
	put("sq.clj", "(defsymphony \"q\" {} (asset SQQQ))");
	pol.fresh.today_session = d20 + 14;

	/* fail (default): one stale file fails the evaluation, reasons kept */
	pol.on_failure = STRATEGY_FAILURE_FAIL;
	ck_assert_err(evaluate_policy(PSET, "2026-11-20", &pol, &r, &ec), -ENODATA, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "1 of 2 strategy files failed: soxl.clj: "
	    "SOXL: last bar 2026-11-19 is 1 session before the as-of session 2026-11-20"));
	ck_assert_uint_eq(r.nfailed, 1);
	ck_assert_int_eq(r.s[0].status, -ENODATA);
	ck_assert_int_eq(r.s[1].status, 0);
	ck_assert_int_eq(r.session, d20);
	ck_assert_int_eq(r.bars_day, d19);
	ck_assert_int_eq(r.s[0].bars_day, d19);
	ck_assert_int_eq(r.s[1].bars_day, d20);
	strategy_set_result_clear(&r);
	/* NULL policy: the same strict checks */
	ck_assert_err(evaluate_policy(PSET, "2026-11-20", NULL, &r, &ec), -ENODATA, &ec);
	strategy_set_result_clear(&r);

	/* cash: the stale file's 60 % stays in cash */
	pol.on_failure = STRATEGY_FAILURE_CASH;
	ck_assert_ok(evaluate_policy(PSET, "2026-11-20", &pol, &r, &ec), &ec);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.w[0].ticker, "SQQQ");
	ck_assert_double_eq_tol(r.w[0].weight, 0.4, 1e-12);
	ck_assert_double_eq_tol(r.cash_weight, 0.6, 1e-12);
	ck_assert_ptr_nonnull(strstr(r.s[0].error, "SOXL: last bar 2026-11-19"));
	strategy_set_result_clear(&r);

	/* renormalise: the survivor takes the whole set */
	pol.on_failure = STRATEGY_FAILURE_RENORMALISE;
	ck_assert_ok(evaluate_policy(PSET, "2026-11-20", &pol, &r, &ec), &ec);
	ck_assert_double_eq_tol(r.w[0].weight, 1.0, 1e-12);
	ck_assert_double_eq_tol(r.cash_weight, 0.0, 1e-12);
	strategy_set_result_clear(&r);

	/* a tolerance of one session lets the lagging vendor through */
	pol.on_failure = STRATEGY_FAILURE_FAIL;
	pol.fresh.max_lag = 1;
	ck_assert_ok(evaluate_policy(PSET, "2026-11-20", &pol, &r, &ec), &ec);
	ck_assert_uint_eq(r.nfailed, 0);
	ck_assert_double_eq_tol(weight_of(&r, "SOXL"), 0.6, 1e-12);
	ck_assert_int_eq(r.fresh[0].state, BARS_STALE);
	ck_assert(r.fresh[0].tolerated);
	ck_assert_int_eq(r.bars_day, d19);
	strategy_set_result_clear(&r);
	/* ...but not two */
	ck_assert_err(evaluate_policy(PSET, "2026-11-23", &pol, &r, &ec), -ENODATA, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "1 of 2 strategy files failed: soxl.clj: "
	    "SOXL: last bar 2026-11-19 is 2 sessions before the as-of session 2026-11-23 (bars "
	    "from 2026-10-09; tolerance 1 session)"));
	strategy_set_result_clear(&r);
	pol.fresh.max_lag = 0;

	/* future: an as-of after the clock's last completed session fails every file */
	pol.fresh.today_session = d19;
	pol.on_failure = STRATEGY_FAILURE_CASH;
	ck_assert_err(evaluate_policy(PSET, "2026-11-20", &pol, &r, &ec), -ENODATA, &ec);
	ck_assert_uint_eq(r.nfailed, 2);
	ck_assert_ptr_nonnull(strstr(r.s[1].error, "SQQQ: the as-of date 2026-11-20 is in the "
	    "future: the last completed NYSE session is 2026-11-19"));
	strategy_set_result_clear(&r);
	pol.fresh.today_session = d20;

	/* missing and before-start */
	put("nope.clj", "(defsymphony \"n\" {} (weight-equal [(asset SQQQ) (asset NOPE)]))");
	ck_assert_ok(evaluate_policy("{\"files\": [\"nope.clj\", \"sq.clj\"]}", "2026-11-20", &pol,
	    &r, &ec), &ec);
	ck_assert_double_eq_tol(r.cash_weight, 0.5, 1e-12);
	strategy_set_result_clear(&r);
	pol.on_failure = STRATEGY_FAILURE_FAIL;
	ck_assert_err(evaluate_policy("{\"files\": [\"nope.clj\", \"sq.clj\"]}", "2026-11-20", &pol,
	    &r, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(r.s[0].error, "NOPE: no market data at all"));
	strategy_set_result_clear(&r);
	ck_assert_err(evaluate_policy(PSET, "2024-01-02", &pol, &r, &ec), -ENODATA, &ec);
	ck_assert_ptr_nonnull(strstr(r.s[1].error, "SQQQ: the as-of date 2024-01-02 is before its "
	    "data starts (first bar 2026-"));
	strategy_set_result_clear(&r);
}
END_TEST

static int64_t
day_of(const char *s)
{
	int64_t d;
	struct errctx ec;

	ck_assert_ok(dsl_parse_date(s, &d, &ec), &ec);
	return d;
}

/* New York 16:00 (EST) is 21:00 UTC in winter. */
START_TEST(test_bars_freshness_calendar)
{
	struct bars_freshness_policy pol = { .today_session = 0 };
	struct md_bar bars[2] = { { .day = 0 }, { .day = 0 } };
	struct md_series s = { .symbol = (char *)"SPY", .bars = bars, .n = 2 };
	struct bars_freshness f;
	char buf[320];
	int64_t t;

	/* sessions: weekends and Thanksgiving (2026-11-26) are no sessions */
	ck_assert_int_eq(bars_freshness_session(day_of("2026-11-22")), day_of("2026-11-20"));
	ck_assert_int_eq(bars_freshness_session(day_of("2026-11-26")), day_of("2026-11-25"));
	ck_assert_int_eq(bars_freshness_session(day_of("2026-11-27")), day_of("2026-11-27"));
	ck_assert_uint_eq(bars_freshness_sessions_between(day_of("2026-11-25"), day_of("2026-11-27")), 1);
	ck_assert_uint_eq(bars_freshness_sessions_between(day_of("2026-11-20"), day_of("2026-12-04")), 9);
	ck_assert_uint_eq(bars_freshness_sessions_between(day_of("2026-11-20"), day_of("2026-11-20")), 0);
	/* last completed session: 16:15 New York, early-close days too */
	t = day_of("2026-12-04") * 86400LL * 1000000 + (21LL * 3600 + 14 * 60) * 1000000;
	ck_assert_int_eq(bars_freshness_last_completed(t), day_of("2026-12-03"));
	t += 2 * 60 * 1000000LL;
	ck_assert_int_eq(bars_freshness_last_completed(t), day_of("2026-12-04"));
	t = day_of("2026-12-06") * 86400LL * 1000000;	/* Sunday */
	ck_assert_int_eq(bars_freshness_last_completed(t), day_of("2026-12-04"));
	t = day_of("2026-11-27") * 86400LL * 1000000 + (18LL * 3600 + 20 * 60) * 1000000;
	ck_assert_int_eq(bars_freshness_last_completed(t), day_of("2026-11-25"));	/* 13:20 */
	t += 3 * 3600 * 1000000LL;
	ck_assert_int_eq(bars_freshness_last_completed(t), day_of("2026-11-27"));	/* 16:20 */

	/* a Friday's bar is fresh for the weekend and for a holiday Monday's eve */
	bars[0].day = day_of("2026-11-19");
	bars[1].day = day_of("2026-11-20");
	bars_freshness_check(&s, day_of("2026-11-22"), &pol, &f);
	ck_assert_int_eq(f.state, BARS_FRESH);
	ck_assert(bars_freshness_ok(&f));
	ck_assert_str_eq(bars_freshness_describe(&f, buf, sizeof(buf)), "");
	/* Monday asks for Monday's bar */
	bars_freshness_check(&s, day_of("2026-11-23"), &pol, &f);
	ck_assert_int_eq(f.state, BARS_STALE);
	ck_assert_uint_eq(f.behind, 1);
	ck_assert(!bars_freshness_ok(&f));
	ck_assert_str_eq(bars_freshness_describe(&f, buf, sizeof(buf)), "SPY: last bar 2026-11-20 "
	    "is 1 session before the as-of session 2026-11-23 (bars from 2026-11-19; tolerance 0 "
	    "sessions)");
	pol.max_lag = 1;
	bars_freshness_check(&s, day_of("2026-11-23"), &pol, &f);
	ck_assert(bars_freshness_ok(&f));
	pol.max_lag = 0;
	pol.allow_stale = true;
	bars_freshness_check(&s, day_of("2026-12-04"), &pol, &f);
	ck_assert(bars_freshness_ok(&f));
	ck_assert_ptr_nonnull(strstr(bars_freshness_describe(&f, buf, sizeof(buf)), "9 sessions"));
	/* future, missing and before-start are never allowed */
	pol.today_session = day_of("2026-12-04");
	bars_freshness_check(&s, day_of("2026-12-07"), &pol, &f);
	ck_assert_int_eq(f.state, BARS_FUTURE);
	ck_assert(!bars_freshness_ok(&f));
	s.n = 0;
	bars_freshness_check(&s, day_of("2026-11-20"), &pol, &f);
	ck_assert_int_eq(f.state, BARS_MISSING);
	ck_assert(!bars_freshness_ok(&f));
	s.later_day = day_of("2026-11-19");
	bars_freshness_check(&s, day_of("2025-11-20"), &pol, &f);
	ck_assert_int_eq(f.state, BARS_BEFORE_START);
	ck_assert_str_eq(bars_freshness_describe(&f, buf, sizeof(buf)), "SPY: the as-of date "
	    "2025-11-20 is before its data starts (first bar 2026-11-19)");
	ck_assert_str_eq(bars_freshness_state_to_string(BARS_BEFORE_START), "before-start");
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
	ck_assert_int_eq(dsl_cli_evaluate(setp, data, "2026-11-20", true, false, null, null), 0);
	ck_assert_int_eq(dsl_cli_evaluate(setp, data, "2026-01-15", false, false, null, null), 0);
	for (i = 0; i < strategy_set_count(set); i++)
		ck_assert_int_eq(dsl_cli_evaluate(strategy_set_entry(set, i)->path, data, "2026-06-01",
		    false, false, null, null), 0);
	fclose(null);
	strategy_set_free(set);
	free(all);
	free(setp);
	free(data);
}
END_TEST

/* 100k distinct tickers (issue 14): the set's ticker union, the freshness
 * lookup, the evaluation and the consolidation are hashed, so this completes
 * (bench/bench_dsl times it; no timing asserted here). A second file shares
 * one ticker (consolidation sums it), a third reads a stale ticker beside one
 * of the big file's and is the only one to fail (freshness per file). */
START_TEST(test_strategy_set_many_tickers)
{
	enum { N = 100000, BARS = 3 };
	static const struct strategy_set_policy pol = { .on_failure = STRATEGY_FAILURE_RENORMALISE };
	struct strategy_set *s;
	struct strategy_set_result r;
	struct md_series *series;
	const char *const *t;
	struct dsl_bars *b = dsl_bars_new();
	struct errctx ec;
	char *p = at("big.clj"), name[32];
	int64_t end;
	size_t i, k, n;
	double sum = 0;
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs("(defsymphony \"big\" {} (weight-equal [", f);
	for (i = 0; i < N; i++)
		fprintf(f, "(asset T%05zu) ", i);
	fputs("]))\n", f);
	fclose(f);
	free(p);
	put("one.clj", "(defsymphony \"one\" {} (asset T04321))");
	put("stale.clj", "(defsymphony \"stale\" {} (weight-equal [(asset T00007) (asset OLD)]))");
	put("set.json", "{\"files\": [\"big.clj\", \"one.clj\", \"stale.clj\"]}");
	p = at("set.json");
	ck_assert_ok(strategy_set_load(p, &s, &ec), &ec);
	n = strategy_set_tickers(s, &t);
	ck_assert_uint_eq(n, N + 1);
	ck_assert_str_eq(t[N], "OLD");
	ck_assert_ok(dsl_parse_date("2026-11-20", &end, &ec), &ec);	/* a Friday */
	series = xcalloc(n, sizeof(*series));
	for (i = 0; i < n; i++) {
		bool old = strcmp(t[i], "OLD") == 0;

		series[i].symbol = xstrdup(t[i]);
		series[i].bars = xcalloc(BARS, sizeof(*series[i].bars));
		series[i].n = BARS;
		for (k = 0; k < BARS; k++) {
			struct md_bar *bar = &series[i].bars[k];

			bar->day = end - (old ? 30 : 0) - (int64_t)(BARS - 1 - k);
			bar->open = bar->high = bar->low = bar->close = 10 + (double)(i % 7);
			bar->volume = 100;
		}
	}
	dsl_bars_add_md(b, series, n);
	ck_assert_ok(strategy_set_evaluate_series(s, b, series, end, NULL, &pol, &r, &ec), &ec);
	ck_assert_uint_eq(r.nfresh, N + 1);
	ck_assert_int_eq(r.fresh[N].state, BARS_STALE);
	ck_assert_int_eq(r.fresh[7].state, BARS_FRESH);
	ck_assert_uint_eq(r.nfailed, 1);
	ck_assert_int_lt(r.s[2].status, 0);
	ck_assert_msg(strstr(r.s[2].error, "OLD: last bar") != NULL, "%s", r.s[2].error);
	ck_assert_uint_eq(r.s[0].result.n, N);
	ck_assert_uint_eq(r.n, N);
	for (i = 0; i < r.n; i++) {
		snprintf(name, sizeof(name), "T%05zu", i);
		ck_assert_str_eq(r.w[i].ticker, name);	/* sorted */
		ck_assert_double_eq_tol(r.w[i].weight, (i == 4321 ? 0.5 + 0.5 / N : 0.5 / N), 1e-9);
		sum += r.w[i].weight;
	}
	ck_assert_double_eq_tol(sum, 1.0, 1e-9);
	strategy_set_result_clear(&r);
	for (i = 0; i < n; i++)
		md_series_clear(&series[i]);
	free(series);
	strategy_set_free(s);
	dsl_bars_free(b);
	free(p);
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
	tc = tcase_create("freshness");
	tcase_add_test(tc, test_bars_freshness_calendar);
	suite_add_tcase(s, tc);
	tc = tcase_create("marketdata_cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_strategy_set_csv_marketdata);
	tcase_add_test(tc, test_strategy_set_cli);
	tcase_add_test(tc, test_strategy_set_cli_shortest_weights);
	tcase_add_test(tc, test_strategy_set_cli_freshness);
	tcase_add_test(tc, test_strategy_set_policies);
	tcase_add_test(tc, test_strategy_set_example);
	tcase_add_test(tc, test_strategy_set_many_tickers);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(strategy_set_suite)
