/* --evaluate: load, fetch from a CSV directory, check freshness, evaluate,
 * print. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/bars_freshness.h"
#include "alchemiser/trading/dsl_cli.h"
#include "alchemiser/trading/strategy_set.h"

static bool	ends_with(const char *s, const char *suffix);
static void	print_json_key(FILE *out, const char *s);
static void	print_weights(FILE *out, const struct dsl_weight *w, size_t n);
static int	newest_day(const struct strategy_set *set, struct marketdata *md, int64_t *ret,
		    struct errctx *ec);

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
print_json_key(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void
print_weights(FILE *out, const struct dsl_weight *w, size_t n)
{
	char num[DSL_NUM_BUF];
	size_t i;

	fputc('{', out);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", out);
		print_json_key(out, w[i].ticker);
		fprintf(out, ": %s", dsl_format_number(w[i].weight, num));
	}
	fputs("}\n", out);
}

/* --as-of omitted: the newest bar of any ticker the set reads. */
static int
newest_day(const struct strategy_set *set, struct marketdata *md, int64_t *ret, struct errctx *ec)
{
	const char *const *t;
	size_t n = strategy_set_tickers(set, &t), i;
	struct md_series *s = xcalloc(n ? n : 1, sizeof(*s));
	int r;

	*ret = 0;
	r = md->ops->daily_bars(md, t, n, INT64_MAX, 1, s, ec);
	for (i = 0; i < n; i++) {
		if (r == 0 && s[i].n > 0 && s[i].bars[s[i].n - 1].day > *ret)
			*ret = s[i].bars[s[i].n - 1].day;
		md_series_clear(&s[i]);
	}
	free(s);
	if (r == 0 && *ret == 0)
		return errctx_set(ec, -ENOENT, "no market data for any ticker of the set");
	return r;
}

int
dsl_cli_evaluate(const char *target, const char *data_dir, const char *as_of, bool trace,
    bool allow_stale, FILE *out, FILE *err)
{
	const struct dsl_cli_args a = { .target = target, .data_dir = data_dir, .as_of = as_of,
		.trace = trace, .allow_stale = allow_stale };

	return dsl_cli_run(&a, out, err);
}

int
dsl_cli_run(const struct dsl_cli_args *a, FILE *out, FILE *err)
{
	const char *target = a->target, *data_dir = a->data_dir, *as_of = a->as_of;
	bool trace = a->trace, allow_stale = a->allow_stale;
	struct strategy_set *set = NULL;
	struct strategy_set_result res;
	struct marketdata *md = NULL;
	struct dsl_options opt = { .trace = trace, .max_steps = a->max_steps };
	struct strategy_set_policy pol = {
		.fresh = { .today_session = bars_freshness_last_completed(time_now_realtime_usec()),
			   .allow_stale = allow_stale },
		.on_failure = STRATEGY_FAILURE_FAIL,
	};
	struct errctx ec;
	int64_t day = 0;
	char d1[11], d2[11], why[320];
	size_t i, j;
	int r, status;

	errctx_clear(&ec);
	memset(&res, 0, sizeof(res));
	if (target == NULL || data_dir == NULL) {
		fprintf(err, "--evaluate needs a strategy file or set and --data DIR\n");
		return 2;
	}
	if (as_of != NULL && dsl_parse_date(as_of, &day, &ec) < 0) {
		fprintf(err, "--as-of: %s\n", errctx_msg(&ec));
		return 2;
	}
	r = ends_with(target, ".json") ? strategy_set_load(target, &set, &ec) :
	    strategy_set_load_file(target, &set, &ec);
	if (r < 0) {
		fprintf(err, "%s\n", errctx_msg(&ec));
		return 2;
	}
	if ((md = marketdata_csv_new(data_dir, &ec)) == NULL) {
		fprintf(err, "--data: %s\n", errctx_msg(&ec));
		strategy_set_free(set);
		return 2;
	}
	if (as_of == NULL && newest_day(set, md, &day, &ec) < 0) {
		fprintf(err, "%s\n", errctx_msg(&ec));
		status = 1;
		goto out;
	}
	r = strategy_set_evaluate(set, md, day, &opt, &pol, &res, &ec);
	for (i = 0; i < res.nfresh; i++)
		if (res.fresh[i].state == BARS_STALE && res.fresh[i].tolerated)
			fprintf(err, "warning: stale data allowed (--allow-stale): %s\n",
			    bars_freshness_describe(&res.fresh[i], why, sizeof(why)));
	for (i = 0; i < res.ns; i++) {
		const struct strategy_outcome *o = &res.s[i];

		if (trace) {
			fprintf(err, "== %s (weight %.6g)\n", o->file, o->weight);
			for (j = 0; j < o->result.ntrace; j++)
				fprintf(err, "  %s\n", o->result.trace[j]);
			if (o->status == 0) {
				fputs("  allocation: ", err);
				print_weights(err, o->result.w, o->result.n);
			}
			if (o->result.steps > 0)
				fprintf(err, "  budget: %llu of %llu steps\n",
				    (unsigned long long)o->result.steps, (unsigned long long)
				    (opt.max_steps > 0 ? opt.max_steps : DSL_DEFAULT_STEPS));
		}
		if (o->status < 0)
			fprintf(err, "error: %s failed: %s\n", o->file, o->error);
	}
	if (res.nfresh > 0)
		fprintf(err, "as of session %s, bars as of %s\n", dsl_format_date(res.session, d1),
		    res.bars_day > 0 ? dsl_format_date(res.bars_day, d2) : "none");
	if (r < 0) {
		fprintf(err, "%s\n", errctx_msg(&ec));
		status = r == -EBADMSG || r == -E2BIG ? 2 : 1;
	} else {
		print_weights(out, res.w, res.n);
		status = 0;
	}
out:
	strategy_set_result_clear(&res);
	marketdata_free(md);
	strategy_set_free(set);
	return status;
}
