/* dsl_evaluate: set up an evaluation context over a bar store, evaluate the
 * program as of a day, turn the top-level value into a validated allocation
 * (§7 item 25), and the helpers the evaluator shares (indicator reads,
 * trace, dates). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

/* Allocation checks of the Python engine (seed §2.3). */
#define TOTAL_MIN 0.99
#define TOTAL_MAX 1.01

static int	cmp_weight(const void *a, const void *b);
static int	finalise(struct dsl_ctx *c, const struct dsl_val *v, struct dsl_result *ret,
	    struct errctx *ec);

const char *
dsl_tname(const struct dsl_ctx *c, int32_t tix)
{
	return tix >= 0 && (size_t)tix < c->p->ntickers ? c->p->tickers[tix] : "?";
}

double
dsl_ctx_close(struct dsl_ctx *c, int32_t tix, int64_t ci)
{
	const struct dsl_tk *tk = &c->tk[tix];
	size_t n;
	const double *cl;
	int32_t bi;

	if (tk->s == NULL || ci < 0 || (size_t)ci >= c->cal->n)
		return NAN;
	bi = tk->calmap[ci];
	if (bi < 0)
		return NAN;
	cl = dsl_series_closes(tk->s, &n);
	return cl[bi];
}

int
dsl_ctx_indicator(struct dsl_ctx *c, int32_t tix, enum indicator_kind kind, int window,
    double *ret, struct errctx *ec)
{
	const char *name = dsl_tname(c, tix);
	const struct dsl_tk *tk;
	const double *series;
	size_t need;
	int32_t bi;
	int r;

	c->indicator_calls++;
	if (c->opt->oracle != NULL) {
		if ((r = c->opt->oracle(c->opt->oracle_arg, name, kind, window, ret)) < 0)
			return errctx_set(ec, r, "%s(%s,%d): no value", indicator_name(kind), name,
			    window);
		return 0;
	}
	tk = &c->tk[tix];
	if (tk->s == NULL)
		return errctx_set(ec, -ENOENT, "no market data for %s", name);
	if (c->day < 0 || (bi = tk->calmap[c->day]) < 0)
		return errctx_set(ec, -ENODATA, "%s(%s,%d): no bars on or before the as-of day",
		    indicator_name(kind), name, window);
	/* §7 item 18: short history is 0.0 for these, marked in the trace. */
	if (indicator_short_is_zero(kind, window, (size_t)bi + 1)) {
		dsl_ctx_trace(c, "%s(%s,%d)=0 on short data (%d bars; §7 item 18)",
		    indicator_name(kind), name, window, bi + 1);
		*ret = 0.0;
		return 0;
	}
	need = indicator_min_history(kind, window);
	if ((size_t)bi + 1 < need)
		return errctx_set(ec, -ENODATA, "%s(%s,%d): needs %zu bars of history, has %d",
		    indicator_name(kind), name, window, need, bi + 1);
	series = dsl_series_indicator(c->bars, tk->s, kind, window, c->ind_flags);
	*ret = series[bi];
	if (!isfinite(*ret))
		return errctx_set(ec, -ENODATA, "%s(%s,%d): no value", indicator_name(kind), name,
		    window);
	return 0;
}

void
dsl_ctx_trace(struct dsl_ctx *c, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->ntrace == c->tracecap) {
		c->tracecap = c->tracecap ? 2 * c->tracecap : 32;
		c->trace = xreallocarray(c->trace, c->tracecap, sizeof(*c->trace));
	}
	c->trace[c->ntrace++] = xstrdup(buf);
}

static int
cmp_weight(const void *a, const void *b)
{
	return strcmp(((const struct dsl_weight *)a)->ticker, ((const struct dsl_weight *)b)->ticker);
}

static int
finalise(struct dsl_ctx *c, const struct dsl_val *v0, struct dsl_result *ret, struct errctx *ec)
{
	struct dsl_val v = *v0;
	struct dsl_frag *f;
	double sum, total = 0.0;
	uint32_t i;
	size_t k = 0;

	while (v.kind == DSL_V_LIST && v.u.list->n == 1)
		v = v.u.list->v[0];
	if (v.kind == DSL_V_STR && v.tix >= 0) {
		f = dsl_frag_new(&c->scratch, 1);
		dsl_frag_add(&c->scratch, f, v.tix, 1.0);
	} else if (v.kind == DSL_V_FRAG) {
		f = v.u.frag;
	} else {
		return errctx_set(ec, -EINVAL, "the strategy produced %s, not an allocation",
		    v.kind == DSL_V_LIST ? "a list of several values" : v.kind == DSL_V_NONE ?
		    "nothing" : "a scalar");
	}
	sum = dsl_frag_sum(f);
	if (f->n == 0 || !(sum > 1e-9))
		return errctx_set(ec, -EINVAL, "the strategy produced an empty allocation");
	ret->w = xcalloc(f->n, sizeof(*ret->w));
	for (i = 0; i < f->n; i++) {
		double w = f->w[i] / sum;

		if (w < -1e-12 || w > 1.0 + 1e-12) {
			dsl_result_clear(ret);
			return errctx_set(ec, -EINVAL, "weight %.17g of %s outside [0, 1]", w,
			    dsl_tname(c, f->tix[i]));
		}
		if (!(w > 0))
			continue;	/* zero weights (weight-specified 0) are not holdings */
		ret->w[k].ticker = xstrdup(dsl_tname(c, f->tix[i]));
		ret->w[k].weight = w;
		total += w;
		k++;
	}
	ret->n = k;
	if (k == 0 || total < TOTAL_MIN || total > TOTAL_MAX) {
		dsl_result_clear(ret);
		return errctx_set(ec, -EINVAL, "allocation total %.17g outside [%g, %g]", total,
		    TOTAL_MIN, TOTAL_MAX);
	}
	qsort(ret->w, k, sizeof(*ret->w), cmp_weight);
	return 0;
}

int
dsl_ctx_spend_slow(struct dsl_ctx *c, struct errctx *ec)
{
	size_t mem = dsl_ctx_memory(c);

	if (c->steps > c->max_steps)
		c->over_budget = true;
	if (mem > c->peak_mem)
		c->peak_mem = mem;
	if (!c->over_memory && mem > c->max_mem)
		c->over_memory = c->over_budget = true;
	if (!c->over_budget)
		return 0;
	if (c->over_memory)
		return errctx_set(ec, -E2BIG, "evaluation needs more than %zu KiB (the bound of "
		    "%d times the file's %zu bytes + 32 MiB, or dsl_options.max_memory)",
		    (c->max_mem + 1023) >> 10, DSL_MEM_EVAL, c->p->src_len);
	return errctx_set(ec, -E2BIG, "evaluation budget exceeded: more than %llu steps "
	    "(nested block histories; raise trading.eval_budget or --eval-budget)",
	    (unsigned long long)c->max_steps);
}

int
dsl_evaluate(const struct dsl_program *p, struct dsl_bars *b, int64_t as_of_day,
    const struct dsl_options *opt, struct dsl_result *ret, struct errctx *ec)
{
	static const struct dsl_options defaults;
	const int32_t *const *calmaps;
	struct dsl_hist *hist;
	struct dsl_ctx c;
	struct dsl_val v;
	size_t i, lo, hi;
	int r;

	memset(ret, 0, sizeof(*ret));
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.bars = b;
	c.opt = opt != NULL ? opt : &defaults;
	c.ind_flags = c.opt->stdev_sample ? INDICATOR_F_SAMPLE : 0;
	c.max_steps = c.opt->max_steps > 0 ? c.opt->max_steps : DSL_DEFAULT_STEPS;
	/* The file's own calendar: its result never depends on other files. */
	c.cal = dsl_bars_scope(b, (const char *const *)p->tickers, p->ntickers, &calmaps);
	/* The as-of day is the last calendar day on or before as_of_day. */
	lo = 0;
	hi = c.cal->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c.cal->day[mid] <= as_of_day)
			lo = mid + 1;
		else
			hi = mid;
	}
	c.day = (int64_t)lo - 1;
	c.tk = xcalloc(p->ntickers ? p->ntickers : 1, sizeof(*c.tk));
	for (i = 0; i < p->ntickers; i++) {
		if (calmaps[i] != NULL) {
			c.tk[i].s = dsl_bars_find(b, p->tickers[i]);
			c.tk[i].calmap = calmaps[i];
		}
	}
	/* Kept block histories (dsl_bars_keep_histories): holdings depend on the
	 * options that change a selection, so those are part of the key. */
	hist = c.opt->oracle == NULL ?
	    dsl_bars_history(b, p, c.ind_flags | (c.opt->ties_stable ? 0x100u : 0)) : NULL;
	if (hist != NULL) {
		c.memo = hist->memo;
		c.keep = hist->keep;
	}
	c.keep0 = c.keep.total;
	c.max_mem = c.opt->max_memory > 0 ? c.opt->max_memory :
	    DSL_MEM_EVAL * p->src_len + DSL_MEM_EVAL_SLACK;
	r = dsl_eval(&c, p->root, &v, ec);
	/* A block history swallows its errors (the day counts as failed): the
	 * budget is sticky, so report it whatever the outer result. */
	if (c.over_budget) {
		r = dsl_ctx_spend(&c, 0, ec);
		if (hist != NULL) {
			/* its memo holds days failed only for want of budget */
			dsl_memo_free(c.memo);
			dsl_arena_free(&c.keep);
			c.memo = NULL;
			memset(&c.keep, 0, sizeof(c.keep));
		}
	}
	if (r == 0)
		r = finalise(&c, &v, ret, ec);
	if (r < 0)
		errctx_prefix(ec, "%s", p->name);
	ret->indicator_calls = c.indicator_calls;
	ret->blocks_simulated = c.blocks_simulated;
	ret->steps = c.steps;
	ret->memory = c.peak_mem;
	if (c.opt->trace) {
		ret->trace = c.trace;
		ret->ntrace = c.ntrace;
	} else {
		for (i = 0; i < c.ntrace; i++)
			free(c.trace[i]);
		free(c.trace);
	}
	if (hist != NULL) {
		hist->memo = c.memo;
		hist->keep = c.keep;
	} else {
		dsl_memo_free(c.memo);
		dsl_arena_free(&c.keep);
	}
	dsl_scores_free(c.scores);
	dsl_arena_free(&c.score_arena);
	dsl_arena_free(&c.scratch);
	free(c.tk);
	return r;
}

void
dsl_result_clear(struct dsl_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->w[i].ticker);
	free(r->w);
	for (i = 0; i < r->ntrace; i++)
		free(r->trace[i]);
	free(r->trace);
	memset(r, 0, sizeof(*r));
}

/* Dates go through core/timeutil; these wrappers keep the DSL's callers on
 * one header. */
int
dsl_parse_date(const char *s, int64_t *ret_days, struct errctx *ec)
{
	if (s == NULL)
		return errctx_set(ec, -EINVAL, "date: missing");
	return time_parse_date(s, ret_days, ec);
}

char *
dsl_format_date(int64_t days, char *buf)
{
	return time_format_date(days, buf);
}

char *
dsl_format_number(double v, char *buf)
{
	return json_format_real(v, buf);	/* one shortest-decimal rule for every output */
}
