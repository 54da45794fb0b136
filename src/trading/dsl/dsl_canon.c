/* Structural identity of expressions. Strategy files repeat whole blocks
 * (3-Starburst.clj holds the same groups under two filters, and the same
 * "MAX DD" filters several times), and a block's holdings as of a day depend
 * only on its expression and the day: evaluation reads no position, label or
 * node id. So equal subtrees share one id (dsl_node.canon), which keys the
 * block-history memo and the score series (dsl_sim.c): each repetition is
 * simulated once. Two nodes are equal when their type, operator, indicator,
 * window, ticker, text (interned: equal bytes, equal pointer) and number
 * are, and so are their children, pairwise: atoms field by field, other
 * children by canon. Computed as each node closes (post-order), after its
 * compilation, when its children's tickers are final (only a parent marks
 * its direct children as tickers, dsl_compile.c). */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

static uint64_t	mix(uint64_t h, uint64_t v);
static bool	is_atom(const struct dsl_node *n);
static uint64_t	atom_key(const struct dsl_node *n);
static uint64_t	node_hash(const struct dsl_node *n);
static bool	atom_eq(const struct dsl_node *a, const struct dsl_node *b);
static bool	node_eq(const struct dsl_node *a, const struct dsl_node *b);

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static bool
is_atom(const struct dsl_node *n)
{
	return n->type != DSL_N_LIST && n->type != DSL_N_VECTOR && n->type != DSL_N_MAP;
}

static uint64_t
atom_key(const struct dsl_node *n)
{
	uint64_t bits;

	memcpy(&bits, &n->num, sizeof(bits));
	return mix(mix(mix(n->type | (uint64_t)n->op << 8, (uint64_t)(uintptr_t)n->text),
	    (uint64_t)(uint32_t)n->tix), bits);
}

static uint64_t
node_hash(const struct dsl_node *n)
{
	uint64_t h = mix((uint64_t)n->type | (uint64_t)n->op << 8 | (uint64_t)n->ind << 16 |
	    (uint64_t)n->has_window << 24, (uint64_t)(uintptr_t)n->text);
	uint32_t i;

	h = mix(h, (uint64_t)(uint32_t)n->tix << 32 | (uint32_t)n->window);
	h = mix(h, n->nchild);
	for (i = 0; i < n->nchild; i++)
		h = mix(h, is_atom(n->child[i]) ? atom_key(n->child[i]) :
		    0x100000000ull | n->child[i]->canon);
	return h;
}

static bool
atom_eq(const struct dsl_node *a, const struct dsl_node *b)
{
	return a->type == b->type && a->op == b->op && a->text == b->text && a->tlen == b->tlen &&
	    a->tix == b->tix && memcmp(&a->num, &b->num, sizeof(a->num)) == 0;
}

static bool
node_eq(const struct dsl_node *a, const struct dsl_node *b)
{
	uint32_t i;

	if (a->type != b->type || a->op != b->op || a->ind != b->ind ||
	    a->has_window != b->has_window || a->text != b->text || a->tlen != b->tlen ||
	    a->tix != b->tix || a->window != b->window || a->nchild != b->nchild)
		return false;
	for (i = 0; i < a->nchild; i++) {
		const struct dsl_node *x = a->child[i], *y = b->child[i];

		if (is_atom(x) != is_atom(y))
			return false;
		if (is_atom(x) ? !atom_eq(x, y) : x->canon != y->canon)
			return false;
	}
	return true;
}

void
dsl_canon_node(struct dsl_canon *t, struct dsl_node *n)
{
	size_t i, mask;

	if (is_atom(n)) {
		n->canon = DSL_CANON_ATOM | n->id;	/* never shared: compared by field */
		return;
	}
	if (2 * (t->n + 1) > t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 256, j;
		uint32_t *ns = xmalloc(ncap * sizeof(*ns));

		for (j = 0; j < ncap; j++)
			ns[j] = UINT32_MAX;
		for (j = 0; j < t->cap; j++) {
			size_t k;

			if (t->slot[j] == UINT32_MAX)
				continue;
			for (k = node_hash(t->rep[t->slot[j]]) & (ncap - 1); ns[k] != UINT32_MAX;
			    k = (k + 1) & (ncap - 1))
				;
			ns[k] = t->slot[j];
		}
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
		t->rep = xreallocarray(t->rep, ncap / 2, sizeof(*t->rep));
	}
	mask = t->cap - 1;
	for (i = node_hash(n) & mask; t->slot[i] != UINT32_MAX; i = (i + 1) & mask) {
		if (node_eq(t->rep[t->slot[i]], n)) {
			n->canon = t->slot[i];
			return;
		}
	}
	n->canon = (uint32_t)t->n;
	t->rep[t->n++] = n;
	t->slot[i] = n->canon;
}

size_t
dsl_canon_size(const struct dsl_canon *t)
{
	return t->cap * sizeof(*t->slot) + t->cap / 2 * sizeof(*t->rep);
}

void
dsl_canon_fini(struct dsl_canon *t)
{
	free(t->slot);
	free(t->rep);
	memset(t, 0, sizeof(*t));
}
