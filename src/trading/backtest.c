/*
 * backtest: the session loop (see include/alchemiser/trading/backtest.h).
 * One price table (open and close per symbol per session, forward filled),
 * one bar store for the DSL filled by the same fetch the signals stage uses,
 * and accounts: the combined one and one per file. Money is double inside an
 * account; the planner gets decimals as the portfolio stage gives it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/backtest.h"
#include "alchemiser/trading/calendar.h"
#include "alchemiser/trading/planner.h"
#include "alchemiser/trading/strategy_set.h"

/* Fetch size: every bar the source has up to the last session. */
#define BACKTEST_LOOKBACK	100000
/* Longest range (calendar days): a century of sessions. */
#define BACKTEST_DAYS_MAX	36525

struct account {
	double		 cash;
	struct decimal	*qty;		/* per symbol */
};

struct prices {
	size_t		 nsym, ndays;
	double		*open;		/* ndays x nsym; NAN: no price yet */
	double		*close;
};

struct sim {
	const struct backtest_options *o;
	struct backtest_result	*r;
	struct prices		 px;
	struct md_series	*series;	/* every symbol's bars, r->symbols order */
	size_t			 cap_fills, cap_failures;
};

static int	load_prices(struct sim *S, struct marketdata *md, struct errctx *ec);
static long	sym_index(const struct backtest_result *r, const char *symbol);
static void	add_failure(struct sim *S, int64_t day, const char *file, const char *error, bool held);
static void	add_fill(struct sim *S, const struct backtest_fill_rec *f);
static double	account_value(const struct sim *S, const struct account *a, size_t d, bool at_open);
static void	rebalance(struct sim *S, struct account *a, const struct dsl_weight *w, size_t n,
		    size_t d, bool record, const char *who);
static void	copy_weights(struct backtest_day *day, const struct dsl_weight *w, size_t n);

static long
sym_index(const struct backtest_result *r, const char *symbol)
{
	for (size_t i = 0; i < r->nsymbols; i++)
		if (strcmp(r->symbols[i], symbol) == 0)
			return (long)i;
	return -1;
}

static int
load_prices(struct sim *S, struct marketdata *md, struct errctx *ec)
{
	struct backtest_result *r = S->r;
	struct md_series *series = S->series = xcalloc(r->nsymbols, sizeof(*series));
	int ret;

	/* One fetch of the whole history for the set's tickers and the
	 * benchmark: the signals' bars and the fill prices come from it. */
	ret = md->ops->daily_bars(md, (const char *const *)r->symbols, r->nsymbols,
	    r->days[r->ndays - 1].day, BACKTEST_LOOKBACK, series, ec);
	if (ret < 0) {
		errctx_prefix(ec, "market data (%s)", md->ops->name);
		return ret;
	}
	S->px.nsym = r->nsymbols;
	S->px.ndays = r->ndays;
	S->px.open = xcalloc(r->ndays * r->nsymbols, sizeof(double));
	S->px.close = xcalloc(r->ndays * r->nsymbols, sizeof(double));
	for (size_t s = 0; s < r->nsymbols; s++) {
		const struct md_series *m = &series[s];
		double last = NAN;
		size_t b = 0;

		for (size_t d = 0; d < r->ndays; d++) {
			int64_t day = r->days[d].day;
			double open = NAN;

			while (b < m->n && m->bars[b].day < day)
				last = m->bars[b++].close;
			if (b < m->n && m->bars[b].day == day) {
				open = m->bars[b].open > 0 ? m->bars[b].open : m->bars[b].close;
				last = m->bars[b++].close;
			} else
				open = last;	/* no bar: the last close, for both */
			S->px.open[d * r->nsymbols + s] = open > 0 ? open : NAN;
			S->px.close[d * r->nsymbols + s] = last > 0 ? last : NAN;
		}
	}
	return 0;
}

static void
add_failure(struct sim *S, int64_t day, const char *file, const char *error, bool held)
{
	struct backtest_result *r = S->r;

	if (r->nfailures == S->cap_failures) {
		S->cap_failures = S->cap_failures ? 2 * S->cap_failures : 64;
		r->failures = xreallocarray(r->failures, S->cap_failures, sizeof(*r->failures));
	}
	r->failures[r->nfailures++] = (struct backtest_failure){
		.day = day, .file = file, .error = xstrdup(error), .held = held,
	};
}

static void
add_fill(struct sim *S, const struct backtest_fill_rec *f)
{
	struct backtest_result *r = S->r;

	if (r->nfills == S->cap_fills) {
		S->cap_fills = S->cap_fills ? 2 * S->cap_fills : 256;
		r->fills = xreallocarray(r->fills, S->cap_fills, sizeof(*r->fills));
	}
	r->fills[r->nfills++] = *f;
}

/* Cash plus positions at the session's open or close (unpriced positions
 * count as zero; they cannot exist: nothing is bought without a price). */
static double
account_value(const struct sim *S, const struct account *a, size_t d, bool at_open)
{
	const double *p = (at_open ? S->px.open : S->px.close) + d * S->px.nsym;
	double v = a->cash;

	for (size_t s = 0; s < S->px.nsym; s++)
		if (!decimal_is_zero(a->qty[s]) && isfinite(p[s]))
			v += decimal_to_double(a->qty[s]) * p[s];
	return v;
}

/* Plan with the portfolio stage's planner and fill every BUY and SELL at the
 * session's fill price. record: the combined account (fills and failures are
 * kept); who names the account in failures. */
static void
rebalance(struct sim *S, struct account *a, const struct dsl_weight *w, size_t n, size_t d,
    bool record, const char *who)
{
	const struct backtest_options *o = S->o;
	struct backtest_result *r = S->r;
	bool at_open = o->fill == BACKTEST_FILL_OPEN;
	const double *p = (at_open ? S->px.open : S->px.close) + d * S->px.nsym;
	struct planner_target *t = xcalloc(n ? n : 1, sizeof(*t));
	struct planner_position *pos = xcalloc(S->px.nsym, sizeof(*pos));
	struct planner_input in = { 0 };
	struct planner_plan *plan = NULL;
	struct errctx ec = { 0 };
	double c = o->cost_bps / 10000.0;
	size_t nt = 0, np = 0;
	char msg[ERRCTX_MSG_MAX + 64];

	for (size_t i = 0; i < n; i++) {
		long s = sym_index(r, w[i].ticker);

		if (s < 0 || !isfinite(p[s])) {
			/* The executor could not price it either: not bought, said so. */
			if (record) {
				snprintf(msg, sizeof msg, "%s: no price for %s on the session, not bought",
				    who, w[i].ticker);
				add_failure(S, r->days[d].day, NULL, msg, false);
			}
			continue;
		}
		t[nt].symbol = w[i].ticker;
		t[nt++].weight = w[i].weight;
	}
	for (size_t s = 0; s < S->px.nsym; s++) {
		if (decimal_is_zero(a->qty[s]))
			continue;
		pos[np].symbol = r->symbols[s];
		pos[np].qty = a->qty[s];
		(void)decimal_from_double(p[s], DECIMAL_ROUND_HALF_EVEN, &pos[np].price);
		np++;
	}
	in.targets = t;
	in.n_targets = nt;
	in.positions = pos;
	in.n_positions = np;
	(void)decimal_from_double(account_value(S, a, d, at_open), DECIMAL_ROUND_HALF_EVEN,
	    &in.portfolio_value);
	(void)decimal_from_double(a->cash, DECIMAL_ROUND_HALF_EVEN, &in.cash);
	in.cash_reserve = o->cash_reserve;
	in.min_trade = o->min_trade;
	in.seed_suppress_small_exits = o->keep_small_positions;
	if (nt + np == 0 || planner_build(&in, &plan, &ec) < 0) {
		if (record && nt + np > 0) {
			snprintf(msg, sizeof msg, "%s: plan: %s", who, errctx_msg(&ec));
			add_failure(S, r->days[d].day, NULL, msg, false);
		}
		goto out;
	}
	/* The plan is in execution order: sells first, so their cash pays the buys. */
	for (size_t i = 0; i < plan->n_items; i++) {
		const struct planner_item *it = &plan->items[i];
		long s = sym_index(r, it->symbol);
		bool buy = it->action == PLANNER_BUY, full_exit = true;
		struct decimal price, q;
		double qd, fp;

		if (it->action == PLANNER_HOLD || s < 0)
			continue;
		for (size_t k = 0; k < nt && full_exit; k++)
			full_exit = strcmp(t[k].symbol, it->symbol) != 0 || !(t[k].weight > 0);
		if (buy && !o->whole_shares &&
		    decimal_cmp(decimal_abs(it->trade_amount), o->min_notional) < 0)
			continue;	/* the executor skips these too */
		(void)decimal_from_double(p[s], DECIMAL_ROUND_HALF_EVEN, &price);
		if (planner_order_qty(it->action, it->trade_amount, price, a->qty[s],
		    !buy && full_exit, !o->whole_shares, &q, &ec) < 0)
			continue;	/* rounds to zero shares */
		qd = decimal_to_double(q);
		fp = buy ? p[s] * (1 + c) : p[s] * (1 - c);
		if (buy && qd * fp > a->cash) {
			/* Not enough cash (costs, rounding): buy what the cash buys. */
			double afford = a->cash / fp;

			afford = o->whole_shares ? floor(afford) : floor(afford * 1e6) / 1e6;
			if (!(afford > 0) || decimal_from_double(afford, DECIMAL_ROUND_DOWN, &q) < 0)
				continue;
			qd = decimal_to_double(q);
			if (!(qd > 0))
				continue;
		}
		if (buy) {
			a->cash -= qd * fp;
			(void)decimal_add(a->qty[s], q, &a->qty[s]);
		} else {
			a->cash += qd * fp;
			(void)decimal_sub(a->qty[s], q, &a->qty[s]);
		}
		if (record) {
			struct backtest_fill_rec f = {
				.day = r->days[d].day, .sym = (uint32_t)s, .buy = buy, .qty = qd,
				.price = p[s], .fill_price = fp, .notional = qd * p[s],
				.cost = qd * fabs(fp - p[s]),
			};

			add_fill(S, &f);
			r->days[d].traded += f.notional;
			r->days[d].costs += f.cost;
		}
	}
out:
	planner_plan_free(plan);
	free(pos);
	free(t);
}

static void
copy_weights(struct backtest_day *day, const struct dsl_weight *w, size_t n)
{
	day->target = xcalloc(n ? n : 1, sizeof(*day->target));
	day->ntarget = n;
	for (size_t i = 0; i < n; i++) {
		day->target[i].ticker = xstrdup(w[i].ticker);
		day->target[i].weight = w[i].weight;
	}
}

int
backtest_run(const struct strategy_set *set, const char *strategy, struct marketdata *md,
    const struct backtest_options *o, struct backtest_result **ret, struct errctx *ec)
{
	struct sim S = { .o = o };
	struct backtest_result *r;
	struct dsl_bars *bars = NULL;
	struct account comb = { 0 }, *acct = NULL;
	struct dsl_options opt = { .max_steps = o->max_steps };
	const char *const *tickers;
	size_t nt, nf, ns;
	double bench_entry = NAN;
	long bench;
	int rc;

	*ret = NULL;
	if (o->from_day > o->to_day)
		return errctx_set(ec, -EINVAL, "backtest: --from is after --to");
	if (o->to_day - o->from_day > BACKTEST_DAYS_MAX)
		return errctx_set(ec, -EINVAL, "backtest: a range over %d years", BACKTEST_DAYS_MAX / 365);
	if (!(o->capital > 0) || !isfinite(o->capital))
		return errctx_set(ec, -EINVAL, "backtest: capital must be > 0");
	if (!(o->cost_bps >= 0 && o->cost_bps <= 1000))
		return errctx_set(ec, -EINVAL, "backtest: cost must be 0..1000 bps");
	if ((unsigned)o->fill >= _BACKTEST_FILL_MAX)
		return errctx_set(ec, -EINVAL, "backtest: unknown fill model");
	if (o->benchmark == NULL || o->benchmark[0] == '\0' || strlen(o->benchmark) >= PLANNER_SYMBOL_MAX)
		return errctx_set(ec, -EINVAL, "backtest: a benchmark ticker is needed");

	r = S.r = xcalloc(1, sizeof(*r));
	r->strategy = xstrdup(strategy != NULL ? strategy : "");
	r->fill = o->fill;
	r->capital = o->capital;
	r->cost_bps = o->cost_bps;
	r->whole_shares = o->whole_shares;
	r->cash_reserve = o->cash_reserve;
	r->min_trade = o->min_trade;
	r->policy = o->policy;
	r->benchmark = xstrdup(o->benchmark);
	for (char *p = r->benchmark; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');

	/* Sessions. */
	for (int64_t day = o->from_day; day <= o->to_day; day++) {
		if (!calendar_is_trading_day(day))
			continue;
		if (r->ndays % 256 == 0)
			r->days = xreallocarray(r->days, r->ndays + 256, sizeof(*r->days));
		memset(&r->days[r->ndays], 0, sizeof(*r->days));
		r->days[r->ndays].day = day;
		r->days[r->ndays++].as_of = o->fill == BACKTEST_FILL_OPEN ?
		    calendar_prev_trading_day(day) : day;
	}
	if (r->ndays == 0) {
		backtest_result_free(r);
		return errctx_set(ec, -EINVAL, "backtest: no NYSE session in the range");
	}

	/* Symbols: the set's tickers, then the benchmark. */
	nt = strategy_set_tickers(set, &tickers);
	r->symbols = xcalloc(nt + 1, sizeof(*r->symbols));
	for (size_t i = 0; i < nt; i++)
		r->symbols[r->nsymbols++] = xstrdup(tickers[i]);
	if ((bench = sym_index(r, r->benchmark)) < 0) {
		bench = (long)r->nsymbols;
		r->symbols[r->nsymbols++] = xstrdup(r->benchmark);
	}
	ns = r->nsymbols;
	nf = r->nfiles = strategy_set_count(set);
	r->files = xcalloc(nf, sizeof(*r->files));
	r->file_weight = xcalloc(nf, sizeof(*r->file_weight));
	r->file_failed = xcalloc(nf, sizeof(*r->file_failed));
	r->file_equity = xcalloc(r->ndays * nf, sizeof(*r->file_equity));
	r->held = xcalloc(r->ndays * ns, sizeof(*r->held));
	for (size_t f = 0; f < nf; f++) {
		r->files[f] = strategy_set_entry(set, f)->file;
		r->file_weight[f] = strategy_set_entry(set, f)->weight;
	}

	if ((rc = load_prices(&S, md, ec)) < 0)
		goto fail;
	bench_entry = (o->fill == BACKTEST_FILL_OPEN ? S.px.open : S.px.close)[(size_t)bench];
	if (isnan(bench_entry)) {
		rc = errctx_set(ec, -ENOENT, "benchmark %s: no price on the first session %s",
		    r->benchmark, dsl_format_date(r->days[0].day, (char[11]){ 0 }));
		goto fail;
	}
	/* The set's tickers come first in r->symbols, in the set's order: the
	 * bar store holds exactly what the signals stage's fetch would (bars
	 * after a signal's as-of day are in it but never read for it). */
	bars = dsl_bars_new();
	dsl_bars_add_md(bars, S.series, nt);
	dsl_bars_keep_histories(bars, !o->fresh_histories);

	comb.cash = o->capital;
	comb.qty = xcalloc(ns, sizeof(*comb.qty));
	acct = xcalloc(nf, sizeof(*acct));
	for (size_t f = 0; f < nf; f++) {
		acct[f].cash = o->capital * r->file_weight[f];
		acct[f].qty = xcalloc(ns, sizeof(*acct[f].qty));
	}

	for (size_t d = 0; d < r->ndays; d++) {
		struct backtest_day *day = &r->days[d];
		struct strategy_set_result res;
		struct errctx eec = { 0 };
		double eq;

		/* The signals stage's evaluation: freshness checks on the bars a
		 * fetch as of that day returns, then the failure policy. */
		rc = strategy_set_evaluate_series(set, bars, S.series, day->as_of, &opt, &o->policy,
		    &res, &eec);
		for (size_t f = 0; f < res.ns; f++) {
			const struct strategy_outcome *so = &res.s[f];

			if (so->status < 0) {
				r->file_failed[f]++;
				add_failure(&S, day->day, r->files[f], so->error != NULL ? so->error : "failed",
				    rc < 0);
			} else
				rebalance(&S, &acct[f], so->result.w, so->result.n, d, false, r->files[f]);
		}
		if (rc < 0) {
			/* The live run would end with WorkflowFailed: nothing trades. */
			day->held = true;
			r->sessions_held++;
			if (res.ns == 0)
				add_failure(&S, day->day, NULL, errctx_msg(&eec), true);
			copy_weights(day, NULL, 0);
		} else {
			copy_weights(day, res.w, res.n);
			rebalance(&S, &comb, res.w, res.n, d, true, "combined");
		}
		strategy_set_result_clear(&res);

		eq = account_value(&S, &comb, d, false);
		day->equity = eq;
		day->cash = comb.cash;
		day->benchmark = o->capital * S.px.close[d * ns + (size_t)bench] / bench_entry;
		for (size_t s = 0; s < ns; s++) {
			double p = S.px.close[d * ns + s];

			if (!decimal_is_zero(comb.qty[s]) && isfinite(p) && eq > 0)
				r->held[d * ns + s] = decimal_to_double(comb.qty[s]) * p / eq;
		}
		for (size_t f = 0; f < nf; f++)
			r->file_equity[d * nf + f] = account_value(&S, &acct[f], d, false);
		if (o->progress != NULL)
			o->progress(o->progress_arg, d + 1, r->ndays, day->day);
	}
	rc = 0;
	*ret = r;
	r = NULL;
fail:
	for (size_t f = 0; acct != NULL && f < nf; f++)
		free(acct[f].qty);
	free(acct);
	free(comb.qty);
	free(S.px.open);
	free(S.px.close);
	for (size_t i = 0; S.series != NULL && i < S.r->nsymbols; i++)
		md_series_clear(&S.series[i]);
	free(S.series);
	dsl_bars_free(bars);
	backtest_result_free(r);
	return rc;
}

void
backtest_result_free(struct backtest_result *r)
{
	if (r == NULL)
		return;
	for (size_t d = 0; d < r->ndays; d++) {
		for (size_t i = 0; i < r->days[d].ntarget; i++)
			free(r->days[d].target[i].ticker);
		free(r->days[d].target);
	}
	free(r->days);
	for (size_t s = 0; s < r->nsymbols; s++)
		free(r->symbols[s]);
	free(r->symbols);
	for (size_t i = 0; i < r->nfailures; i++)
		free(r->failures[i].error);
	free(r->failures);
	free(r->fills);
	free(r->held);
	free(r->files);
	free(r->file_weight);
	free(r->file_equity);
	free(r->file_failed);
	free(r->benchmark);
	free(r->strategy);
	free(r);
}
