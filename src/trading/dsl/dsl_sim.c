/* Block histories (§7 items 11 and 13). A block competing in a filter or in
 * weight-inverse-volatility is scored by the indicator applied to its own
 * simulated daily value series: re-evaluate the block as of each past
 * trading day, hold that day's selection over the next close-to-close
 * return, compound, and apply the same formula as for a ticker (window on
 * the synthetic series). Holdings are memoised per (block, day), so nested
 * blocks and the days shared by successive series cost one evaluation each.
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
 * scores (HEAD's fallback), which the trace marks. */
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
};

struct dsl_memo {
	struct memo_ent	*e;
	size_t		 n, cap;
};

static size_t	memo_hash(uint32_t node, int32_t day, size_t mask);
static struct memo_ent *memo_find(struct dsl_ctx *c, uint32_t node, int32_t day, bool *found);
static const struct dsl_frag *block_at(struct dsl_ctx *c, const struct dsl_node *node, int32_t day);

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
	m->n++;
	return &m->e[i];
}

void
dsl_memo_free(struct dsl_memo *m)
{
	if (m == NULL)
		return;
	free(m->e);
	free(m);
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

	e = memo_find(c, node->id, day, &found);
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
	}
	c->sim_depth--;
	c->day = saved;
	c->cmp_valid = cv;
	c->cmp_l = cl;
	c->cmp_r = cr;
	dsl_arena_reset(&c->scratch, &mark);
	/* The table may have grown during the evaluation: look the slot up again. */
	e = memo_find(c, node->id, day, &found);
	e->f = f;
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

int
dsl_sim_score(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind, int window,
    double *ret, bool *simulated, struct errctx *ec)
{
	size_t need, want, m, j, i;
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
	/* Walking the history costs want points even when the memo has them. */
	if (dsl_ctx_spend(c, want, ec) < 0)
		return -E2BIG;
	dsl_arena_mark(&c->scratch, &mark);
	hold = dsl_arena_alloc(&c->scratch, want * sizeof(*hold));
	/* hold[k] = holdings chosen at day (today - k), k = 1..m */
	for (m = 0; m + 1 < want; m++) {
		int64_t d = c->day - (int64_t)(m + 1);
		const struct dsl_frag *h;
		bool priced = true;

		if (d < 0 || (h = block_at(c, u->node, (int32_t)d)) == NULL)
			break;
		for (i = 0; i < h->n && priced; i++)
			priced = isfinite(dsl_ctx_close(c, h->tix[i], d));
		if (!priced)
			break;
		hold[m + 1] = h;
	}
	if (m + 1 < need) {
		dsl_arena_reset(&c->scratch, &mark);
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	}
	val = dsl_arena_alloc(&c->scratch, (m + 1) * sizeof(*val));
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
	v = indicator_last(kind, window, c->ind_flags, val, m + 1);
	dsl_arena_reset(&c->scratch, &mark);
	if (!isfinite(v))
		return dsl_sim_fallback(c, u, kind, window, ret, ec);
	*ret = v;
	*simulated = true;
	return 0;
}
