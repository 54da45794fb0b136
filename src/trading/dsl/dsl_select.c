/* filter (select-top / select-bottom) and weight-inverse-volatility.
 * Bare tickers are scored with the indicator itself; blocks (groups, weight
 * blocks, filters, ifs) are scored on their own simulated daily value series
 * (dsl_sim.c), §7 items 9-13. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

struct cand {
	struct dsl_unit	*u;
	double		 score;
	const char	*key;		/* tie-break: the unit's alphabetically first ticker */
	uint32_t	 idx;		/* candidate order */
	bool		 simulated;
};

struct sort_ctx {
	bool	top;
	bool	stable;
};

static int	cmp_cand(const void *a, const void *b, void *arg);
static const char *unit_key(struct dsl_ctx *c, const struct dsl_unit *u);
static void	unit_name(struct dsl_ctx *c, const struct dsl_unit *u, char *buf, size_t len);
static int	score_unit(struct dsl_ctx *c, struct dsl_unit *u, enum indicator_kind kind, int w,
	    double *ret, bool *sim, struct errctx *ec);
static int	collect(struct dsl_ctx *c, const struct dsl_node *n, uint32_t from,
	    struct dsl_unit **units, uint32_t *nu, struct errctx *ec);
static uint32_t	dedupe_tickers(struct dsl_ctx *c, struct dsl_unit *units, uint32_t n);
static bool	price_level(enum indicator_kind kind);

static int
cmp_cand(const void *a, const void *b, void *arg)
{
	const struct cand *x = a, *y = b;
	const struct sort_ctx *sc = arg;
	int k;

	if (x->score != y->score)
		return (x->score > y->score) == sc->top ? -1 : 1;
	/* §7 item 10: exact ties alphabetical (or candidate order on request). */
	if (!sc->stable && (k = strcmp(x->key, y->key)) != 0)
		return k;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const char *
unit_key(struct dsl_ctx *c, const struct dsl_unit *u)
{
	const char *best = NULL;
	uint32_t i;

	for (i = 0; i < u->frag->n; i++) {
		const char *t = dsl_tname(c, u->frag->tix[i]);

		if (best == NULL || strcmp(t, best) < 0)
			best = t;
	}
	return best != NULL ? best : "";
}

static void
unit_name(struct dsl_ctx *c, const struct dsl_unit *u, char *buf, size_t len)
{
	const struct dsl_node *n = u->node;

	if (u->tix >= 0)
		snprintf(buf, len, "%s", dsl_tname(c, u->tix));
	else if (n != NULL && n->op == DSL_OP_GROUP && n->child[0]->text != NULL)
		snprintf(buf, len, "[group \"%.40s\"]", n->child[0]->text);
	else if (n != NULL)
		snprintf(buf, len, "[%s@%u:%u]", n->text != NULL && n->type == DSL_N_LIST ?
		    n->text : "block", n->line, n->col);
	else
		snprintf(buf, len, "[block]");
}

static int
score_unit(struct dsl_ctx *c, struct dsl_unit *u, enum indicator_kind kind, int w, double *ret,
    bool *sim, struct errctx *ec)
{
	*sim = false;
	if (u->tix >= 0)
		return dsl_ctx_indicator(c, u->tix, kind, w, ret, ec);
	return dsl_sim_score(c, u, kind, w, ret, sim, ec);
}

static int
collect(struct dsl_ctx *c, const struct dsl_node *n, uint32_t from, struct dsl_unit **units,
    uint32_t *nu, struct errctx *ec)
{
	uint32_t i, cap = 0;
	int r;

	*units = NULL;
	*nu = 0;
	for (i = from; i < n->nchild; i++) {
		struct dsl_val v;

		if ((r = dsl_eval(c, n->child[i], &v, ec)) < 0 ||
		    (r = dsl_units(c, &v, units, nu, &cap, ec)) < 0)
			return r;
	}
	return 0;
}

/* Remove repeated bare tickers, keeping the first (blocks are never merged:
 * two equal blocks are two candidates). Returns the new count. A mark per
 * program ticker, not a scan, so 100k candidates stay linear. */
static uint32_t
dedupe_tickers(struct dsl_ctx *c, struct dsl_unit *units, uint32_t n)
{
	struct dsl_arena_mark mark;
	uint32_t i, k = 0;
	uint8_t *seen;

	dsl_arena_mark(&c->scratch, &mark);
	seen = dsl_arena_alloc(&c->scratch, c->p->ntickers + 1);
	memset(seen, 0, c->p->ntickers + 1);
	for (i = 0; i < n; i++) {
		if (units[i].tix >= 0) {
			if (seen[units[i].tix])
				continue;
			seen[units[i].tix] = 1;
		}
		units[k++] = units[i];
	}
	dsl_arena_reset(&c->scratch, &mark);
	return k;
}

/* Indicators in the units of a price (dollars), not of a return. */
static bool
price_level(enum indicator_kind kind)
{
	return kind == INDICATOR_CURRENT_PRICE || kind == INDICATOR_MA_PRICE ||
	    kind == INDICATOR_EMA_PRICE || kind == INDICATOR_STDEV_PRICE;
}

int
dsl_eval_filter(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
    struct errctx *ec)
{
	const struct dsl_node *cond = n->child[0];
	struct dsl_unit *units;
	struct cand *cd;
	struct dsl_frag *f;
	struct sort_ctx sc;
	uint32_t nu, nc = 0, i, j, keep;
	bool top = true, tickers = false, blocks = false, dollars;
	int limit = -1, r;

	/* The portfolio first, then the selection (HEAD's order). */
	if ((r = collect(c, n, n->nchild - 1, &units, &nu, ec)) < 0)
		return r;
	if (nu == 1 && units[0].tix < 0 && n->child[n->nchild - 1]->type == DSL_N_LIST &&
	    n->child[n->nchild - 1]->op != DSL_OP_NONE) {
		/* A single weight block (not a vector of candidates) is a set of
		 * tickers to rank, as in HEAD's asset mode. */
		struct dsl_frag *f1 = units[0].frag;

		units = dsl_arena_alloc(&c->scratch, f1->n * sizeof(*units));
		for (nu = 0; nu < f1->n; nu++) {
			units[nu].tix = f1->tix[nu];
			units[nu].node = NULL;
			units[nu].frag = dsl_frag_new(&c->scratch, 1);
			dsl_frag_add(&c->scratch, units[nu].frag, f1->tix[nu], 1.0);
		}
	}
	if (n->nchild == 3) {
		top = n->child[1]->op == DSL_OP_SELECT_TOP;
		limit = n->child[1]->window;
	}
	/* §7 item 9: candidates are de-duplicated. */
	nu = dedupe_tickers(c, units, nu);
	for (i = 0; i < nu; i++) {
		tickers |= units[i].tix >= 0;
		blocks |= units[i].tix < 0;
	}
	/* Mixed list, price-level indicator (§7 has no rule; ours, README.md):
	 * a bare ticker's moving-average-price is in dollars, a block's
	 * simulated series starts at 1.0, so comparing them ranks by the price
	 * level alone. Score such blocks in dollars too, by their holdings
	 * (HEAD's fallback, which is what HEAD did for these indicators), and
	 * say so in the trace. Lists of blocks only keep their simulated series. */
	dollars = tickers && blocks && price_level(cond->ind);
	if (dollars && dsl_ctx_tracing(c))
		dsl_ctx_trace(c, "%u:%u   warning: %s compares bare tickers (dollars) with blocks: "
		    "blocks scored by their holdings' %s, not by their simulated value series "
		    "(which starts at 1)", n->line, n->col, n->label,
		    indicator_name(cond->ind));
	cd = dsl_arena_alloc(&c->scratch, (nu ? nu : 1) * sizeof(*cd));
	for (i = 0; i < nu; i++) {
		struct errctx sec;
		double s;
		bool sim;

		if (cond->ind == INDICATOR_CURRENT_PRICE) {
			/* Not rewritable (seed §2.5): every candidate drops out. */
			continue;
		}
		errctx_clear(&sec);
		sim = false;
		r = dollars && units[i].tix < 0 ?
		    dsl_sim_fallback(c, &units[i], cond->ind, cond->window, &s, &sec) :
		    score_unit(c, &units[i], cond->ind, cond->window, &s, &sim, &sec);
		if (r == -ENOENT) {
			/* No market data at all is a data problem, not a score. */
			*ec = sec;
			return r;
		}
		if (r < 0 || !isfinite(s)) {
			if (dsl_ctx_tracing(c)) {
				char nm[96];

				unit_name(c, &units[i], nm, sizeof(nm));
				dsl_ctx_trace(c, "%u:%u   %s dropped: %s", n->line, n->col, nm,
				    r < 0 ? errctx_msg(&sec) : "no value");
			}
			continue;
		}
		cd[nc].u = &units[i];
		cd[nc].score = s;
		cd[nc].key = unit_key(c, &units[i]);
		cd[nc].idx = i;
		cd[nc].simulated = sim;
		nc++;
	}
	sc.top = top;
	sc.stable = c->opt->ties_stable;
	qsort_r(cd, nc, sizeof(*cd), cmp_cand, &sc);
	keep = limit < 0 || (uint32_t)limit > nc ? nc : (uint32_t)limit;
	f = dsl_frag_new(&c->scratch, keep ? keep : 1);
	/* Selected units merge at 1/k each with their own weights. */
	for (i = 0; i < keep; i++)
		for (j = 0; j < cd[i].u->frag->n; j++)
			dsl_frag_add(&c->scratch, f, cd[i].u->frag->tix[j], cd[i].u->frag->w[j] / keep);
	if (dsl_ctx_tracing(c)) {
		char line[1024], nm[96];
		size_t off = 0;

		for (i = 0; i < nc && off < sizeof(line) - 1; i++) {
			unit_name(c, cd[i].u, nm, sizeof(nm));
			off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s%s=%.6g%s",
			    i ? ", " : "", i < keep ? "*" : "", nm, cd[i].score,
			    cd[i].u->tix < 0 ? (cd[i].simulated ? "(sim)" : "(fallback)") : "");
		}
		if (nc == 0)
			snprintf(line, sizeof(line), "no candidate could be scored");
		dsl_ctx_trace(c, "%u:%u %s: %s", n->line, n->col, n->label, line);
	}
	ret->kind = DSL_V_FRAG;
	ret->u.frag = f;
	return 0;
}

int
dsl_eval_invvol(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
    struct errctx *ec)
{
	struct dsl_unit *units;
	struct dsl_frag *f;
	double *inv, total = 0.0;
	uint32_t nu, i, j;
	int r;

	if ((r = collect(c, n, 1, &units, &nu, ec)) < 0)
		return r;
	/* §7 item 13: de-duplicate tickers before normalising. */
	nu = dedupe_tickers(c, units, nu);
	if (nu == 0)
		return errctx_set(ec, -EINVAL, "%u:%u: weight-inverse-volatility received no assets",
		    n->line, n->col);
	inv = dsl_arena_alloc(&c->scratch, nu * sizeof(*inv));
	for (i = 0; i < nu; i++) {
		struct errctx sec;
		double s = NAN;
		bool sim;

		errctx_clear(&sec);
		r = score_unit(c, &units[i], INDICATOR_STDEV_RETURN, n->window, &s, &sim, &sec);
		if (r == -ENOENT) {
			*ec = sec;
			return r;
		}
		/* σ missing or <= 0: the unit is skipped. */
		inv[i] = r == 0 && isfinite(s) && s > 0 ? 1.0 / s : 0.0;
		total += inv[i];
		if (dsl_ctx_tracing(c)) {
			char nm[96];

			unit_name(c, &units[i], nm, sizeof(nm));
			if (inv[i] > 0)
				dsl_ctx_trace(c, "%u:%u   %s stdev-return(%d)=%.6g%s", n->line, n->col,
				    nm, n->window, s, units[i].tix < 0 ? (sim ? " (sim)" : " (fallback)") : "");
			else
				dsl_ctx_trace(c, "%u:%u   %s skipped: %s", n->line, n->col, nm,
				    r < 0 ? errctx_msg(&sec) : "volatility <= 0");
		}
	}
	if (!(total > 0))
		return errctx_set(ec, -ENODATA, "%u:%u: weight-inverse-volatility %d: no usable volatility",
		    n->line, n->col, n->window);
	f = dsl_frag_new(&c->scratch, nu);
	for (i = 0; i < nu; i++)
		for (j = 0; inv[i] > 0 && j < units[i].frag->n; j++)
			dsl_frag_add(&c->scratch, f, units[i].frag->tix[j],
			    units[i].frag->w[j] * inv[i] / total);
	if (dsl_ctx_tracing(c))
		dsl_ctx_trace(c, "%u:%u weight-inverse-volatility %d over %u units", n->line, n->col,
		    n->window, nu);
	ret->kind = DSL_V_FRAG;
	ret->u.frag = f;
	return 0;
}
