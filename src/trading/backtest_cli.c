/*
 * backtest_cli: `alchemiserd --backtest` (see backtest.h and alchemiserd(8)).
 * The set is loaded as --evaluate loads it; the planner rules come from the
 * configuration the daemon trades with; progress goes to stderr only when it
 * is a terminal (a redirected run stays quiet and its output diffable).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/backtest.h"
#include "alchemiser/trading/strategy_set.h"

struct progress {
	FILE	*err;
	size_t	 last_pct;
};

static void	progress_cb(void *arg, size_t done, size_t total, int64_t day);
static int	parse_number(const char *opt, const char *s, double lo, double hi, double *ret,
		    FILE *err);

static void
progress_cb(void *arg, size_t done, size_t total, int64_t day)
{
	struct progress *p = arg;
	size_t pct = done * 100 / total;
	char d[11];

	if (pct == p->last_pct && done != total)
		return;
	p->last_pct = pct;
	fprintf(p->err, "\rbacktest: %3zu%% %zu/%zu sessions, %s", pct, done, total,
	    dsl_format_date(day, d));
	if (done == total)
		fputc('\n', p->err);
	fflush(p->err);
}

static int
parse_number(const char *opt, const char *s, double lo, double hi, double *ret, FILE *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi) {
		fprintf(err, "%s: '%s' is not a number in %g..%g\n", opt, s, lo, hi);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int
backtest_cli_run(const struct backtest_cli *a, const struct config *cfg, FILE *out, FILE *err)
{
	struct backtest_options o = {
		.fill = BACKTEST_FILL_OPEN,
		.capital = decimal_to_double(config_decimal(cfg, "trading.starting_cash")),
		.cost_bps = (double)config_int(cfg, "trading.slippage_bps"),
		.whole_shares = a->whole_shares,
		.cash_reserve = config_decimal(cfg, "trading.cash_reserve"),
		.min_trade = config_decimal(cfg, "trading.min_trade"),
		.min_notional = config_decimal(cfg, "trading.min_notional"),
		.keep_small_positions = config_bool(cfg, "trading.keep_small_positions"),
		.benchmark = a->benchmark != NULL ? a->benchmark : "SPY",
		.max_steps = a->max_steps > 0 ? a->max_steps :
		    (uint64_t)config_int(cfg, "trading.eval_budget"),
	};
	struct progress prog = { .err = err, .last_pct = SIZE_MAX };
	struct strategy_set *set = NULL;
	struct marketdata *md = NULL;
	struct backtest_result *res = NULL;
	struct errctx ec = { 0 };
	size_t len = strlen(a->target != NULL ? a->target : "");
	json_t *summary;
	char *text;
	int r, status = 2;

	if (a->target == NULL || a->data_dir == NULL || a->from == NULL || a->to == NULL) {
		fprintf(err, "--backtest needs a strategy file or set, --data DIR, --from and --to\n");
		return 2;
	}
	if (dsl_parse_date(a->from, &o.from_day, &ec) < 0 || dsl_parse_date(a->to, &o.to_day, &ec) < 0) {
		fprintf(err, "--from/--to: %s\n", errctx_msg(&ec));
		return 2;
	}
	if (a->fill != NULL) {
		if (strcmp(a->fill, "open") == 0)
			o.fill = BACKTEST_FILL_OPEN;
		else if (strcmp(a->fill, "close") == 0)
			o.fill = BACKTEST_FILL_CLOSE;
		else {
			fprintf(err, "--fill: '%s' is not open or close\n", a->fill);
			return 2;
		}
	}
	if ((a->cost_bps != NULL && parse_number("--cost-bps", a->cost_bps, 0, 1000, &o.cost_bps, err) < 0) ||
	    (a->capital != NULL && parse_number("--capital", a->capital, 0.01, 1e11, &o.capital, err) < 0))
		return 2;
	o.policy.fresh.max_lag = (unsigned)config_int(cfg, "trading.bars_max_lag");
	if (strategy_failure_policy_from_string(config_str(cfg, "trading.on_strategy_failure"),
	    &o.policy.on_failure) < 0) {
		fprintf(err, "trading.on_strategy_failure: unknown value\n");
		return 2;
	}
	if (isatty(fileno(err))) {
		o.progress = progress_cb;
		o.progress_arg = &prog;
	}

	r = len > 5 && strcmp(a->target + len - 5, ".json") == 0 ?
	    strategy_set_load(a->target, &set, &ec) : strategy_set_load_file(a->target, &set, &ec);
	if (r < 0) {
		fprintf(err, "%s\n", errctx_msg(&ec));
		return 2;
	}
	if ((md = marketdata_csv_new(a->data_dir, &ec)) == NULL) {
		fprintf(err, "--data: %s\n", errctx_msg(&ec));
		goto out;
	}
	r = backtest_run(set, a->target, md, &o, &res, &ec);
	if (r < 0) {
		fprintf(err, "backtest: %s\n", errctx_msg(&ec));
		status = r == -EINVAL || r == -ENOENT ? 2 : 1;
		goto out;
	}
	/* Failing files are reported per session in the outputs; one line each here. */
	for (size_t f = 0; f < res->nfiles; f++)
		if (res->file_failed[f] > 0)
			fprintf(err, "warning: %s failed on %zu of %zu sessions (see failures)\n",
			    res->files[f], res->file_failed[f], res->ndays);
	if (res->sessions_held > 0)
		fprintf(err, "warning: %zu sessions had no allocation (trading.on_strategy_failure = %s): "
		    "positions held\n", res->sessions_held,
		    strategy_failure_policy_to_string(o.policy.on_failure));
	if (a->out_dir != NULL && backtest_write_outputs(res, a->out_dir, &ec) < 0) {
		fprintf(err, "%s\n", errctx_msg(&ec));
		status = 1;
		goto out;
	}
	summary = backtest_summary_json(res);
	text = json_dumps_shortest(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(summary);
	status = 0;
out:
	backtest_result_free(res);
	marketdata_free(md);
	strategy_set_free(set);
	return status;
}
