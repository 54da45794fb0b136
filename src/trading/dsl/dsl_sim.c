/* Block histories (§7 items 11 and 13). A block competing in a filter or in
 * weight-inverse-volatility is scored by the indicator applied to its own
 * simulated daily value series: re-evaluate the block as of each past
 * trading day, hold that day's selection over the next close-to-close
 * return, compound, and apply the same formula as for a ticker (window on
 * the synthetic series). Holdings are memoised per (block, day), so nested
 * blocks and the days shared by successive series cost one evaluation each;
 * the block is keyed by its structural id (dsl_canon.c), so a repeated
 * block shares them, and its value is kept too, for the same block met
 * again on that day inside another block's history (dsl_sim_memo_value).
 *
 * Length: the indicator's minimum history (rsi: w+1); for the smoothers
 * (rsi, EMA) all the history there is, as §7 item 16 does for tickers: 3
 * windows of warm-up (the seed's weight decayed to e^-3) moved block RSI
 * scores of the seed corpus by up to 1.2 points (src/trading/dsl/README.md),
 * and the memo makes each extra day one evaluation of the block, once.
 * When the block cannot be evaluated that far back
 * (an indicator inside it lacks history, or a held ticker has no bar yet),
 * the series starts after the last failing day; if it is then shorter than
 * the minimum, the score falls back to the weighted average of today's member
 * scores (HEAD's fallback), which the trace marks.
 *
 * Score series (rsi, EMA): whether a day fails depends on the block and the
 * day only, so every day D of a stretch [start, end] without a failing day
 * has the same start, and its value series is a prefix of end's. rsi and EMA
 * are causal (indicators.h: out[t] reads p[0..t] only), so the score as of D
 * is out[D - start] of the indicator series over end's values: the same
 * doubles as walking D's own history. A block nested in a block whose rsi
 * reads all history is scored as of every earlier day; walking each of those
 * histories again cost the square of the sessions (issue 14's cold set).
 * The series is built once per (block, kind, window) and evaluation (a day
 * outside the stretch builds it again); the budget still counts each
 * score's whole history, so a file passes or fails the same budget whether
 * or not a score is read from the cache. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

struct memo_ent {
	uint32_t	 node;
	int32_t		 day;		/* -1: empty slot */
	struct dsl_frag	*f;		/* NULL: the block failed that day */
	struct dsl_val	*val;		/* the block's value, when a fragment or a
					 * ticker (dsl_sim_memo_value); else NULL */
};

struct dsl_memo {
	struct memo_ent	*e;
	size_t		 n, cap;
};

/* One block's score series for (kind, window) over the days [start, end]. */
struct score_ent {
	uint32_t	 node;
	int32_t		 kind;
	int32_t		 window;
	int32_t		 start, end;	/* end < 0: empty slot */
	const double	*out;		/* out[k]: the score as of day start + k */
};

struct dsl_scores {
	struct score_ent *e;
	size_t		  n, cap;
};

static size_t	memo_hash(uint32_t node, int32_t day, size_t mask);
static const struct memo_ent *memo_lookup(const struct dsl_ctx *c, uint32_t node, int32_t day);
static bool	frag_same(const struct dsl_frag *a, const struct dsl_frag *b);
static struct dsl_frag *frag_copy(struct dsl_arena *a, const struct dsl_frag *f);
static struct memo_ent *memo_find(struct dsl_ctx *c, uint32_t node, int32_t day, bool *found);
static const struct dsl_frag *block_at(struct dsl_ctx *c, const struct dsl_node *node, int32_t day);
static size_t	scores_hash(uint32_t node, int32_t kind, int32_t window, size_t mask);
static struct score_ent *scores_find(struct dsl_ctx *c, uint32_t node, int32_t kind,
	    int32_t window);
static size_t	walk_history(struct dsl_ctx *c, const struct dsl_node *node, size_t want,
	    const struct dsl_frag **hold);
static double	*value_series(struct dsl_ctx *c, const struct dsl_frag *const *hold, size_t m,
	    struct dsl_arena *a);
static int	score_all_history(struct dsl_ctx *c, const struct dsl_unit *u,
	    enum indicator_kind kind, int window, size_t need, double *ret, bool *simulated,
	    struct errctx *ec);

static size_t
memo_hash(uint32_t node, int32_t day, size_t mask)
{
	uint64_t k = ((uint64_t)node << 20) ^ (uint64_t)(uint32_t)day;

	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 32) & mask;
}

static struct memo_ent *
memo_find(struct dsl_ctx *c, uint32_t node, int32_t day, bool *found)
{
	struct dsl_memo *m = c->memo;
	size_t i, mask;

	if (m == NULL) {
		m = c->memo = xcalloc(1, sizeof(*m));
	}
	if (2 * (m->n + 1) > m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 1024, j;
		struct memo_ent *ne = xmalloc(ncap * sizeof(*ne));

		for (j = 0; j < ncap; j++)
			ne[j].day = -1;
		for (j = 0; j < m->cap; j++) {
			size_t k;

			if (m->e[j].day < 0)
				continue;
			for (k = memo_hash(m->e[j].node, m->e[j].day, ncap - 1); ne[k].day >= 0;
			    k = (k + 1) & (ncap - 1))
				;
			ne[k] = m->e[j];
		}
		free(m->e);
		m->e = ne;
		m->cap = ncap;
	}
	mask = m->cap - 1;
	for (i = memo_hash(node, day, mask); m->e[i].day >= 0; i = (i + 1) & mask) {
		if (m->e[i].node == node && m->e[i].day == day) {
			*found = true;
			return &m->e[i];
		}
	}
	*found = false;
	m->e[i].node = node;
	m->e[i].day = day;
	m->e[i].f = NULL;
	m->e[i].val = NULL;
	m->n++;
	return &m->e[i];
}

/* The entry of (node, day), or NULL; never adds one. */
static const struct memo_ent *
memo_lookup(const struct dsl_ctx *c, uint32_t node, int32_t day)
{
	const struct dsl_memo *m = c->memo;
	size_t i, mask;

	if (m == NULL || m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = memo_hash(node, day, mask); m->e[i].day >= 0; i = (i + 1) & mask)
		if (m->e[i].node == node && m->e[i].day == day)
			return &m->e[i];
	return NULL;
}

/* Same entries in the same order with the same weight bits (a value whose
 * weights sum to exactly 1 is its own holdings: one copy kept, not two). */
static bool
frag_same(const struct dsl_frag *a, const struct dsl_frag *b)
{
	return a->n == b->n && memcmp(a->tix, b->tix, a->n * sizeof(*a->tix)) == 0 &&
	    memcmp(a->w, b->w, a->n * sizeof(*a->w)) == 0;
}

/* An exact copy (same entries, order and weight bits). */
static struct dsl_frag *
frag_copy(struct dsl_arena *a, const struct dsl_frag *f)
{
	struct dsl_frag *g = dsl_frag_new(a, f->n);

	memcpy(g->tix, f->tix, f->n * sizeof(*g->tix));
	memcpy(g->w, f->w, f->n * sizeof(*g->w));
	g->n = f->n;
	return g;
}

bool
dsl_sim_memo_value(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret)
{
	const struct memo_ent *e;

	if (c->day < 0 || (e = memo_lookup(c, n->canon, (int32_t)c->day)) == NULL ||
	    e->val == NULL)
		return false;
	*ret = *e->val;
	if (ret->kind == DSL_V_FRAG)
		ret->u.frag = frag_copy(&c->scratch, e->val->u.frag);
	ret->node = n;
	return true;
}

void
dsl_memo_free(struct dsl_memo *m)
{
	if (m == NULL)
		return;
	free(m->e);
	free(m);
}

static size_t
scores_hash(uint32_t node, int32_t kind, int32_t window, size_t mask)
{
	uint64_t k = ((uint64_t)node << 24) ^ ((uint64_t)(uint32_t)window << 4) ^ (uint64_t)kind;

	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 32) & mask;
}

/* The slot of (node, kind, window): found (end >= 0) or empty, to fill. */
static struct score_ent *
scores_find(struct dsl_ctx *c, uint32_t node, int32_t kind, int32_t window)
{
	struct dsl_scores *t = c->scores;
	size_t i, mask;

	if (t == NULL)
		t = c->scores = xcalloc(1, sizeof(*t));
	if (2 * (t->n + 1) > t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 64, j;
		struct score_ent *ne = xmalloc(ncap * sizeof(*ne));

		for (j = 0; j < ncap; j++)
			ne[j].end = -1;
		for (j = 0; j < t->cap; j++) {
			size_t k;

			if (t->e[j].end < 0)
				continue;
			for (k = scores_hash(t->e[j].node, t->e[j].kind, t->e[j].window, ncap - 1);
			    ne[k].end >= 0; k = (k + 1) & (ncap - 1))
				;
			ne[k] = t->e[j];
		}
		free(t->e);
		t->e = ne;
		t->cap = ncap;
	}
	mask = t->cap - 1;
	for (i = scores_hash(node, kind, window, mask); t->e[i].end >= 0; i = (i + 1) & mask)
		if (t->e[i].node == node && t->e[i].kind == kind && t->e[i].window == window)
			return &t->e[i];
	return &t->e[i];
}

void
dsl_scores_free(struct dsl_scores *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

size_t
dsl_scores_size(const struct dsl_scores *t)
{
	return t != NULL ? t->cap * sizeof(*t->e) : 0;
}

static const struct dsl_frag *
block_at(struct dsl_ctx *c, const struct dsl_node *node, int32_t day)
{
	struct dsl_arena_mark mark;
	struct memo_ent *e;
	struct dsl_val v;
	struct errctx ec;
	int64_t saved = c->day;
	bool found, cv = c->cmp_valid;
	double cl = c->cmp_l, cr = c->cmp_r;
	struct dsl_frag *f = NULL;
	struct dsl_val *kept = NULL;

	e = memo_find(c, node->canon, day, &found);
	if (found)
		return e->f;
	dsl_arena_mark(&c->scratch, &mark);
	c->day = day;
	c->sim_depth++;
	c->blocks_simulated++;
	if (dsl_eval(c, node, &v, &ec) == 0) {
		f = dsl_value_holdings(c, &c->keep, &v);
		if (f->n == 0 || !(dsl_frag_sum(f) > 0))
			f = NULL;
		/* The value itself, for the same expression on the same day met
		 * again inside another block's history (dsl_sim_memo_value). */
		if (v.kind == DSL_V_FRAG || v.kind == DSL_V_STR) {
			kept = dsl_arena_alloc(&c->keep, sizeof(*kept));
			*kept = v;
			if (v.kind == DSL_V_FRAG)
				kept->u.frag = f != NULL && frag_same(f, v.u.frag) ? f :
				    frag_copy(&c->keep, v.u.frag);
		}
	}
	c->sim_depth--;
	c->day = saved;
	c->cmp_valid = cv;
	c->cmp_l = cl;
	c->cmp_r = cr;
	dsl_arena_reset(&c->scratch, &mark);
	/* The table may have grown during the evaluation: look the slot up again. */
	e = memo_find(c, node->canon, day, &found);
	e->f = f;
	e->val = kept;
	return f;
}

int
dsl_sim_fallback(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind, int window,
    double *ret, struct errctx *ec)
{
	double num = 0.0, den = 0.0;
	uint32_t i;

	for (i = 0; i < u->frag->n; i++) {
		struct errctx sec;
		double s;

		if (dsl_ctx_indicator(c, u->frag->tix[i], kind, window, &s, &sec) < 0 || !isfinite(s))
			continue;	/* members that fail are skipped */
		num += u->frag->w[i] * s;
		den += u->frag->w[i];
	}
	if (!(den > 0))
		return errctx_set(ec, -ENODATA, "no member of the block could be scored");
	*ret = num / den;
	return 0;
}

size_t
dsl_sim_points(enum indicator_kind kind, int window)
{
	size_t need = indicator_min_history(kind, window);

	if (kind == INDICATOR_RSI && need < (size_t)window + 1)
		need = (size_t)window + 1;
	return need + ((kind == INDICATOR_RSI || kind == INDICATOR_EMA_PRICE) ? 3 * (size_t)window : 0);
}

/* hold[k] = the holdings chosen at day (today - k), k = 1..m: walk back from
 * yesterday to the first day the block fails or a holding has no close,
 * at most want - 1 days. Returns m. */
static size_t
walk_history(struct dsl_ctx *c, const struct dsl_node *node, size_t want,
    const struct dsl_frag **hold)
{
	size_t m, i;

	for (m = 0; m + 1 < want; m++) {
		int64_t d = c->day - (int64_t)(m + 1);
		const struct dsl_frag *h;
		bool priced = true;

		if (d < 0 || (h = block_at(c, node, (int32_t)d)) == NULL)
			break;
		for (i = 0; i < h->n && priced; i++)
			priced = isfinite(dsl_ctx_close(c, h->tix[i], d));
		if (!priced)
			break;
		hold[m + 1] = h;
	}
	return m;
}

/* The compounded value series (val[0] = 1.0) of the m + 1 days ending today,
 * each day earning what the day before chose (hold from walk_history). */
static double *
value_series(struct dsl_ctx *c, const struct dsl_frag *const *hold, size_t m,
    struct dsl_arena *a)
{
	double *val = dsl_arena_alloc(a, (m + 1) * sizeof(*val));
	size_t j, i;

	val[0] = 1.0;
	for (j = 1; j <= m; j++) {
		/* point j is day (today - m + j); held: the choice of the day before */
		int64_t d1 = c->day - (int64_t)m + (int64_t)j, d0 = d1 - 1;
		const struct dsl_frag *h = hold[m - j + 1];
		double r = 0.0;

		for (i = 0; i < h->n; i++) {
			double p0 = dsl_ctx_close(c, h->tix[i], d0), p1 = dsl_ctx_close(c, h->tix[i], d1);

			if (p0 > 0 && isfinite(p1))
				r += h->w[i] * (p1 / p0 - 1.0);
		}
		val[j] = val[j - 1] * (1.0 + r);
	}
	return val;
}

/* rsi and EMA over all the history there is, through the score series
 * (the header): built on the first day asked, read on the others. */
static int
score_all_history(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind,
    int window, size_t need, double *ret, bool *simulated, struct errctx *ec)
{
	struct score_ent *e = scores_find(c, u->node->canon, (int32_t)kind, window);
	size_t n;
	double v;

	if (e->end < 0 || c->day < e->start || c->day > e->end) {
		struct dsl_arena_mark mark;
		const struct dsl_frag **hold;
		double *val, *out;
		size_t m;

		dsl_arena_mark(&c->scratch, &mark);
		hold = dsl_arena_alloc(&c->scratch, ((size_t)c->day + 1) * sizeof(*hold));
		m = walk_history(c, u->node, (size_t)c->day + 1, hold);
		val = value_series(c, hold, m, &c->scratch);
		out = dsl_arena_alloc(&c->score_arena, (m + 1) * sizeof(*out));
		indicator_series(kind, window, c->ind_flags, val, m + 1, out);
		dsl_arena_reset(&c->scratch, &mark);
		/* Evaluating earlier days may have added series (nested blocks),
		 * growing the table: find the slot again. */
		e = scores_find(c, u->node->canon, (int32_t)kind, window);
		if (e->end < 0)
			c->scores->n++;
		e->node = u->node->canon;
		e->kind = (int32_t)kind;
		e->window = window;
		e->start = (int32_t)(c->day - (int64_t)m);
		e->end = (int32_t)c->day;
		e->out = out;
		c->score_mem = c->score_arena.total + dsl_scores_size(c->scores);
	}
	n = (size_t)(c->day - e->start) + 1;
	v = n >= need ? e->out[n - 1] : NAN;
	if (!isfinite(v))
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	*ret = v;
	*simulated = true;
	return 0;
}

int
dsl_sim_score(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind, int window,
    double *ret, bool *simulated, struct errctx *ec)
{
	size_t need, want, m;
	const struct dsl_frag **hold;
	double *val, v;
	struct dsl_arena_mark mark;

	*simulated = false;
	if (c->opt->oracle != NULL || c->cal == NULL || c->day < 1 || u->node == NULL)
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	need = indicator_min_history(kind, window);
	if (kind == INDICATOR_RSI && need < (size_t)window + 1)
		need = (size_t)window + 1;
	want = kind == INDICATOR_RSI || kind == INDICATOR_EMA_PRICE ? (size_t)c->day + 1 :
	    dsl_sim_points(kind, window);
	/* The budget counts the history's points, read from the cache or walked. */
	if (dsl_ctx_spend(c, want, ec) < 0)
		return -E2BIG;
	if (kind == INDICATOR_RSI || kind == INDICATOR_EMA_PRICE)
		return score_all_history(c, u, kind, window, need, ret, simulated, ec);
	dsl_arena_mark(&c->scratch, &mark);
	hold = dsl_arena_alloc(&c->scratch, want * sizeof(*hold));
	m = walk_history(c, u->node, want, hold);
	if (m + 1 < need) {
		dsl_arena_reset(&c->scratch, &mark);
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	}
	val = value_series(c, hold, m, &c->scratch);
	v = indicator_last(kind, window, c->ind_flags, val, m + 1);
	dsl_arena_reset(&c->scratch, &mark);
	if (!isfinite(v))
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	*ret = v;
	*simulated = true;
	return 0;
}
