/* Per-node compilation, run by the parser as each node closes: resolve the
 * operator once (evaluation never looks a name up again), check arity,
 * precompute tickers, windows and counts, and build trace labels. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

static int	arity_error(struct dsl_lexer *lx, struct errctx *ec, const struct dsl_node *n,
	    const char *want);
static bool	is_ticker_atom(const struct dsl_node *n);
static int	ticker_of(struct dsl_program *p, struct dsl_lexer *lx, const struct dsl_node *c,
	    int32_t *tix, struct errctx *ec);
static int	mark_tickers(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
	    uint32_t from, uint32_t step, struct errctx *ec);
static unsigned	edit_distance(const char *a, const char *b);
static int	window_from_map(struct dsl_lexer *lx, const struct dsl_node *map, int *ret,
	    struct errctx *ec);
static int	compile_indicator(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
	    struct errctx *ec);
static int	compile_call(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
	    struct errctx *ec);

static int
arity_error(struct dsl_lexer *lx, struct errctx *ec, const struct dsl_node *n, const char *want)
{
	return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->line, n->col,
	    "'%s' takes %s, got %u", n->text, want, n->nchild);
}

static bool
is_ticker_atom(const struct dsl_node *n)
{
	return (n->type == DSL_N_STRING || n->type == DSL_N_SYMBOL) &&
	    !(n->type == DSL_N_SYMBOL && (n->op == DSL_OP_NIL || n->op == DSL_OP_TRUE ||
	    n->op == DSL_OP_FALSE)) && n->tlen > 0;
}

static bool
ticker_punct(char ch)
{
	return ch == '.' || ch == '-' || ch == '/' || ch == ':' || ch == '^';
}

/* A ticker names a file (SYMBOL.csv) and a request: letters, digits and
 * . - / : ^ only, at most DSL_TICKER_MAX characters, starting with a letter,
 * digit or ^, ending with a letter or digit, never two punctuation marks in a
 * row (so no "../" or "/." shapes). Longer or odder text is refused, never
 * truncated or mapped. */
static int
ticker_of(struct dsl_program *p, struct dsl_lexer *lx, const struct dsl_node *c, int32_t *tix,
    struct errctx *ec)
{
	char shown[40];
	size_t i, k;
	bool ok = c->tlen >= 1 && c->tlen <= DSL_TICKER_MAX;

	for (i = 0; ok && i < c->tlen; i++) {
		char ch = c->text[i];

		if (isalnum((unsigned char)ch))
			continue;
		if (!ticker_punct(ch) || (i == 0 && ch != '^') || i + 1 == c->tlen ||
		    (i > 0 && ticker_punct(c->text[i - 1])))
			ok = false;
	}
	if (ok) {
		*tix = dsl_ticker_index(p, c->text, c->tlen);
		return 0;
	}
	for (k = 0; k < c->tlen && k < 32; k++)
		shown[k] = isprint((unsigned char)c->text[k]) ? c->text[k] : '?';
	shown[k] = '\0';
	if (c->tlen > DSL_TICKER_MAX)
		return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, c->line, c->col,
		    "ticker '%s%s' is %u characters long (at most %d)", shown,
		    c->tlen > k ? "..." : "", c->tlen, DSL_TICKER_MAX);
	return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, c->line, c->col,
	    "bad ticker '%s': letters, digits and . - / : ^ only, starting with a letter, "
	    "digit or ^, ending with a letter or digit, no two punctuation marks in a row", shown);
}

/* Strings and bare symbols in value position are tickers (e.g. the vector
 * [BIL SOXL DBC] of a filter); names and descriptions are not. */
static int
mark_tickers(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n, uint32_t from,
    uint32_t step, struct errctx *ec)
{
	uint32_t i;
	int r;

	for (i = from; i < n->nchild; i += step) {
		struct dsl_node *c = n->child[i];

		if (is_ticker_atom(c) && c->tix == DSL_NO_TICKER &&
		    (r = ticker_of(p, lx, c, &c->tix, ec)) < 0)
			return r;
	}
	return 0;
}

/* Levenshtein distance of two short keys (for "did you mean"). */
static unsigned
edit_distance(const char *a, const char *b)
{
	unsigned row[33], i, j, diag, tmp;
	size_t la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = row[j] < row[j - 1] ? row[j] + 1 : row[j - 1] + 1;
			if (diag + (a[i - 1] != b[j - 1]) < row[j])
				row[j] = diag + (a[i - 1] != b[j - 1]);
			diag = tmp;
		}
	}
	return row[lb];
}

static int
window_from_map(struct dsl_lexer *lx, const struct dsl_node *map, int *ret, struct errctx *ec)
{
	uint32_t i;
	int found = 0;

	for (i = 0; i + 1 < map->nchild; i += 2) {
		const struct dsl_node *k = map->child[i], *v = map->child[i + 1];
		const char *key = k->text;

		if (key == NULL)
			continue;
		if (*key == ':')	/* "window" and ":window" alike (§7 item 2) */
			key++;
		/* The only key an indicator map has: anything else is a typo that
		 * would silently mean the default window. */
		if (strcmp(key, "window") != 0)
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, k->line, k->col,
			    "unknown key ':%.40s' in an indicator map%s", key,
			    edit_distance(key, "window") <= 3 ? " (did you mean :window?)" :
			    " (only :window)");
		if (v->type != DSL_N_NUMBER)
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, v->line, v->col,
			    "window must be a number");
		/* Fractional windows are truncated (§7 item 2). */
		if (!(v->num >= 1.0 && v->num < 100000.0))
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, v->line, v->col,
			    "window %s out of range (1..99999)", v->text);
		*ret = (int)trunc(v->num);
		found = 1;
	}
	return found;
}

static int
compile_indicator(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
    struct errctx *ec)
{
	enum indicator_kind kind = n->ind;
	char label[96];
	uint32_t i;
	int r;
	size_t lb;

	n->window = indicator_default_window(kind);
	for (i = 0; i < n->nchild; i++) {
		struct dsl_node *c = n->child[i];

		if (is_ticker_atom(c) && n->tix == DSL_NO_TICKER && i == 0) {
			if ((r = ticker_of(p, lx, c, &n->tix, ec)) < 0)
				return r;
		} else if (c->type == DSL_N_MAP) {
			if (kind == INDICATOR_CURRENT_PRICE)
				continue;
			if ((r = window_from_map(lx, c, &n->window, ec)) < 0)
				return r;
			n->has_window = r > 0;
		} else {
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, c->line, c->col,
			    "'%s' takes a ticker and a {:window N} map", n->text);
		}
	}
	if (kind == INDICATOR_CURRENT_PRICE)
		snprintf(label, sizeof(label), "%s(%s)", n->text,
		    n->tix >= 0 ? p->tickers[n->tix] : "");
	else if (n->tix >= 0)
		snprintf(label, sizeof(label), "%s(%s,%d)", n->text, p->tickers[n->tix], n->window);
	else
		snprintf(label, sizeof(label), "%s(%d)", n->text, n->window);
	n->label = dsl_arena_strndup(&p->arena, label, strlen(label));
	lb = indicator_lookback(kind, n->window);
	if (lb > n->lookback)
		n->lookback = (uint32_t)lb;
	return 0;
}

static int
compile_call(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n, struct errctx *ec)
{
	uint32_t i;

	switch (n->op) {
	case DSL_OP_DEFSYMPHONY:
		if (n->nchild < 3)
			return arity_error(lx, ec, n, "a name, a header map and a body");
		return mark_tickers(p, lx, n, 2, 100000, ec);
	case DSL_OP_IF:
		if (n->nchild < 2)
			return arity_error(lx, ec, n, "a condition, a then and an optional else");
		if (n->nchild > 3)
			n->nchild = 3;	/* extra arguments are ignored, as in every engine */
		return mark_tickers(p, lx, n, 1, 1, ec);
	case DSL_OP_ASSET:
		if (n->nchild < 1 || !is_ticker_atom(n->child[0]))
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->line, n->col,
			    "'asset' takes a ticker string first");
		return ticker_of(p, lx, n->child[0], &n->tix, ec);
	case DSL_OP_WEIGHT_EQUAL:
		if (n->nchild < 1)
			return arity_error(lx, ec, n, "at least one argument");
		return mark_tickers(p, lx, n, 0, 1, ec);
	case DSL_OP_WEIGHT_SPECIFIED:
		if (n->nchild < 2 || n->nchild % 2 != 0)
			return arity_error(lx, ec, n, "weight/portfolio pairs");
		for (i = 0; i < n->nchild; i += 2)
			if (n->child[i]->type != DSL_N_NUMBER || n->child[i]->num < 0)
				return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->child[i]->line,
				    n->child[i]->col, "weight must be a number >= 0");
		return mark_tickers(p, lx, n, 1, 2, ec);
	case DSL_OP_WEIGHT_INVVOL:
		if (n->nchild < 2)
			return arity_error(lx, ec, n, "a window and at least one portfolio");
		if (n->child[0]->type != DSL_N_NUMBER || !(n->child[0]->num >= 1.0 &&
		    n->child[0]->num < 100000.0))
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->child[0]->line,
			    n->child[0]->col, "window must be a number in 1..99999");
		n->window = (int)trunc(n->child[0]->num);
		/* A block's history goes this far back beyond what its inside needs. */
		n->lookback += (uint32_t)dsl_sim_points(INDICATOR_STDEV_RETURN, n->window);
		return mark_tickers(p, lx, n, 1, 1, ec);
	case DSL_OP_GROUP:
		if (n->nchild < 2)
			return arity_error(lx, ec, n, "a name and a body");
		return mark_tickers(p, lx, n, 1, 1, ec);
	case DSL_OP_FILTER: {
		const struct dsl_node *cond = n->child[0];
		char label[160];

		if (n->nchild < 2 || n->nchild > 3)
			return arity_error(lx, ec, n, "2 or 3 arguments");
		if (cond->type != DSL_N_LIST || cond->op != DSL_OP_INDICATOR)
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, cond->line, cond->col,
			    "filter condition must be an indicator such as (rsi {:window 10})");
		if (n->nchild == 3 && (n->child[1]->type != DSL_N_LIST ||
		    (n->child[1]->op != DSL_OP_SELECT_TOP &&
		    n->child[1]->op != DSL_OP_SELECT_BOTTOM)))
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->child[1]->line,
			    n->child[1]->col, "filter selection must be select-top or select-bottom");
		if (n->nchild == 3)
			snprintf(label, sizeof(label), "filter %s(%d) %s %d", cond->text, cond->window,
			    n->child[1]->text, n->child[1]->window);
		else
			snprintf(label, sizeof(label), "filter %s(%d)", cond->text, cond->window);
		n->label = dsl_arena_strndup(&p->arena, label, strlen(label));
		n->lookback += (uint32_t)dsl_sim_points(cond->ind, cond->window);
		return mark_tickers(p, lx, n, n->nchild - 1, 1, ec);
	}
	case DSL_OP_SELECT_TOP:
	case DSL_OP_SELECT_BOTTOM:
		if (n->nchild < 1 || n->child[0]->type != DSL_N_NUMBER)
			return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->line, n->col,
			    "'%s' takes a count", n->text);
		/* Truncated toward zero; negative keeps every candidate (§7 item 15). */
		n->window = fabs(n->child[0]->num) < 1e6 ? (int)trunc(n->child[0]->num) : -1;
		return 0;
	case DSL_OP_GT: case DSL_OP_LT: case DSL_OP_GE: case DSL_OP_LE: case DSL_OP_EQ:
		if (n->nchild != 2)
			return arity_error(lx, ec, n, "exactly 2 arguments");
		return 0;
	case DSL_OP_INDICATOR:
		return compile_indicator(p, lx, n, ec);
	default:
		return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, n->line, n->col,
		    "unknown DSL function '%s'", n->text);
	}
}

int
dsl_compile_node(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
    struct errctx *ec)
{
	struct dsl_node *head;
	uint32_t i;
	int r;

	/* The subtree's history need starts as the largest of its children's;
	 * calls add their own below. */
	for (i = 0; i < n->nchild; i++)
		if (n->child[i]->lookback > n->lookback)
			n->lookback = n->child[i]->lookback;
	if (n->lookback > p->lookback)
		p->lookback = n->lookback;
	switch (n->type) {
	case DSL_N_MAP:
		if (n->nchild % 2 != 0)
			return dsl_lexer_error(lx, ec, -EBADMSG, SIZE_MAX, n->line, n->col,
			    "map with a key but no value");
		return 0;
	case DSL_N_VECTOR:
		return mark_tickers(p, lx, n, 0, 1, ec);
	case DSL_N_LIST:
		break;
	default:
		return 0;
	}
	if (n->nchild == 0 || n->child[0]->type != DSL_N_SYMBOL) {
		/* A list that is not a call: every element is a value. */
		return mark_tickers(p, lx, n, 0, 1, ec);
	}
	head = n->child[0];
	n->op = head->op;
	n->ind = head->ind;
	n->text = head->text;
	n->tlen = head->tlen;
	n->child++;
	n->nchild--;
	if (n->op == DSL_OP_NONE || n->op == DSL_OP_NIL || n->op == DSL_OP_TRUE ||
	    n->op == DSL_OP_FALSE)
		return dsl_lexer_error(lx, ec, -EINVAL, SIZE_MAX, head->line, head->col,
		    "unknown DSL function '%s'", head->text);
	if ((r = compile_call(p, lx, n, ec)) < 0)
		return r;
	if (n->lookback > p->lookback)
		p->lookback = n->lookback;
	return 0;
}
