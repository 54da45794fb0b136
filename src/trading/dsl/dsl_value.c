/* Evaluation values: fragments (ticker -> weight, insertion ordered), and the
 * "unit" view of a value that weight-equal, filter and inverse-volatility
 * share (§7 items 6, 9, 11, 13: each string or fragment is one child, lists
 * are spliced, empty children are skipped). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

/* Fragments whose weights sum to less than this are empty (HEAD's 1e-9 rule
 * for normalisation, applied to "is there anything to hold"). */
#define FRAG_EPS 1e-9
/* Above this many entries dsl_frag_add looks tickers up in a hash index. */
#define FRAG_SCAN_MAX 32

static uint32_t	*frag_slot(const struct dsl_frag *f, int32_t tix);
static void	frag_index(struct dsl_arena *a, struct dsl_frag *f);
static int	units_rec(struct dsl_ctx *c, const struct dsl_val *v, const struct dsl_node *outer,
	    struct dsl_unit **units, uint32_t *n, uint32_t *cap, struct errctx *ec);

struct dsl_frag *
dsl_frag_new(struct dsl_arena *a, uint32_t cap)
{
	struct dsl_frag *f = dsl_arena_alloc(a, sizeof(*f));

	f->n = 0;
	f->ix = NULL;
	f->ixcap = f->ixn = 0;
	f->cap = cap ? cap : 4;
	f->tix = dsl_arena_alloc(a, f->cap * sizeof(*f->tix));
	f->w = dsl_arena_alloc(a, f->cap * sizeof(*f->w));
	return f;
}

/* The index slot of tix: its entry or the empty slot it would take. */
static uint32_t *
frag_slot(const struct dsl_frag *f, int32_t tix)
{
	uint32_t mask = f->ixcap - 1, i = ((uint32_t)tix * 2654435761u) & mask;

	while (f->ix[i] != 0 && f->tix[f->ix[i] - 1] != tix)
		i = (i + 1) & mask;
	return &f->ix[i];
}

/* Index f->tix[ixn..n) (entries appended by copies bypass dsl_frag_add),
 * growing the table to keep its load under one half. */
static void
frag_index(struct dsl_arena *a, struct dsl_frag *f)
{
	if (2 * (f->n + 1) > f->ixcap) {
		f->ixcap = f->ixcap ? 2 * f->ixcap : 4 * FRAG_SCAN_MAX;
		while (2 * (f->n + 1) > f->ixcap)
			f->ixcap *= 2;
		f->ix = dsl_arena_alloc(a, f->ixcap * sizeof(*f->ix));
		memset(f->ix, 0, f->ixcap * sizeof(*f->ix));
		f->ixn = 0;
	}
	for (; f->ixn < f->n; f->ixn++)
		*frag_slot(f, f->tix[f->ixn]) = f->ixn + 1;
}

void
dsl_frag_add(struct dsl_arena *a, struct dsl_frag *f, int32_t tix, double w)
{
	uint32_t i, *slot = NULL;

	/* Small fragments (nearly all) scan; large ones use the index. */
	if (f->n <= FRAG_SCAN_MAX) {
		for (i = 0; i < f->n; i++) {
			if (f->tix[i] == tix) {
				f->w[i] += w;
				return;
			}
		}
	} else {
		frag_index(a, f);
		slot = frag_slot(f, tix);
		if (*slot != 0) {
			f->w[*slot - 1] += w;
			return;
		}
	}
	if (f->n == f->cap) {
		int32_t *nt = dsl_arena_alloc(a, 2 * f->cap * sizeof(*nt));
		double *nw = dsl_arena_alloc(a, 2 * f->cap * sizeof(*nw));

		memcpy(nt, f->tix, f->n * sizeof(*nt));
		memcpy(nw, f->w, f->n * sizeof(*nw));
		f->tix = nt;
		f->w = nw;
		f->cap *= 2;
	}
	f->tix[f->n] = tix;
	f->w[f->n] = w;
	f->n++;
	if (slot != NULL) {
		*slot = f->n;
		f->ixn = f->n;
	}
}

double
dsl_frag_sum(const struct dsl_frag *f)
{
	double s = 0.0;
	uint32_t i;

	for (i = 0; i < f->n; i++)
		s += f->w[i];
	return s;
}

struct dsl_frag *
dsl_frag_scaled(struct dsl_arena *a, const struct dsl_frag *f, double k)
{
	struct dsl_frag *g = dsl_frag_new(a, f->n);
	uint32_t i;

	for (i = 0; i < f->n; i++) {
		g->tix[i] = f->tix[i];
		g->w[i] = f->w[i] * k;
	}
	g->n = f->n;
	return g;
}

struct dsl_frag *
dsl_frag_normalised(struct dsl_arena *a, const struct dsl_frag *f)
{
	double s = dsl_frag_sum(f);

	return dsl_frag_scaled(a, f, fabs(s) > FRAG_EPS ? 1.0 / s : 1.0);
}

static int
units_rec(struct dsl_ctx *c, const struct dsl_val *v, const struct dsl_node *outer,
    struct dsl_unit **units, uint32_t *n, uint32_t *cap, struct errctx *ec)
{
	struct dsl_unit *u;
	uint32_t i;
	int r;

	switch (v->kind) {
	case DSL_V_LIST:
		/* A one-element list is its element, but the block to re-evaluate
		 * for its history is the outermost expression (an if, a group). */
		for (i = 0; i < v->u.list->n; i++)
			if ((r = units_rec(c, &v->u.list->v[i], v->u.list->n == 1 ?
			    (outer != NULL ? outer : v->node) : NULL, units, n, cap, ec)) < 0)
				return r;
		return 0;
	case DSL_V_STR:
		if (v->tix < 0)
			return errctx_set(ec, -EINVAL, "'%s' is not a ticker", v->u.s);
		break;
	case DSL_V_FRAG:
		if (dsl_frag_sum(v->u.frag) <= FRAG_EPS)
			return 0;
		break;
	default:
		return 0;	/* none, numbers and booleans are not portfolios */
	}
	if (*n == *cap) {
		struct dsl_unit *nu;

		*cap = *cap ? 2 * *cap : 8;
		nu = dsl_arena_alloc(&c->scratch, *cap * sizeof(*nu));
		if (*n > 0)
			memcpy(nu, *units, *n * sizeof(*nu));
		*units = nu;
	}
	u = &(*units)[(*n)++];
	u->node = outer != NULL ? outer : v->node;
	if (v->kind == DSL_V_STR) {
		u->tix = v->tix;
		u->frag = dsl_frag_new(&c->scratch, 1);
		dsl_frag_add(&c->scratch, u->frag, v->tix, 1.0);
	} else {
		u->tix = DSL_NO_TICKER;
		u->frag = dsl_frag_normalised(&c->scratch, v->u.frag);
	}
	return 0;
}

int
dsl_units(struct dsl_ctx *c, const struct dsl_val *v, struct dsl_unit **units, uint32_t *n,
    uint32_t *cap, struct errctx *ec)
{
	return units_rec(c, v, NULL, units, n, cap, ec);
}

struct dsl_frag *
dsl_value_holdings(struct dsl_ctx *c, struct dsl_arena *a, const struct dsl_val *v)
{
	struct dsl_frag *f;
	struct dsl_unit *units = NULL;
	uint32_t i, j, n = 0, cap = 0;
	struct errctx ec;

	switch (v->kind) {
	case DSL_V_STR:
		f = dsl_frag_new(a, 1);
		if (v->tix >= 0)
			dsl_frag_add(a, f, v->tix, 1.0);
		return f;
	case DSL_V_FRAG:
		return dsl_frag_normalised(a, v->u.frag);
	case DSL_V_LIST:
		f = dsl_frag_new(a, 4);
		if (units_rec(c, v, NULL, &units, &n, &cap, &ec) < 0)
			return f;
		for (i = 0; i < n; i++)
			for (j = 0; j < units[i].frag->n; j++)
				dsl_frag_add(a, f, units[i].frag->tix[j], units[i].frag->w[j] / n);
		return f;
	default:
		return dsl_frag_new(a, 1);
	}
}
