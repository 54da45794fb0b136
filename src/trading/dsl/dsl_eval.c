/* Node evaluation: literals, lists, if, asset, weight-equal,
 * weight-specified, group, comparisons and indicator calls (filter and
 * inverse-volatility live in dsl_select.c). Semantics: dsl-semantics.md §7. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

/* Recursion guard: nodes nest at most DSL_MAX_DEPTH deep, and a filter or
 * inverse-volatility block adds a few frames while it builds a history. */
#define EVAL_MAX_DEPTH (2 * DSL_MAX_DEPTH + 64)

static int	eval_list(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
static int	eval_if(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
static int	eval_weight_equal(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
static int	eval_weight_specified(struct dsl_ctx *c, const struct dsl_node *n,
	    struct dsl_val *ret, struct errctx *ec);
static int	eval_group(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
static int	eval_compare(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
static double	as_number(const struct dsl_val *v);
static bool	truthy(const struct dsl_val *v);
static const char *operand_label(const struct dsl_node *n, double v, char *buf, size_t len);

static int
eval_list(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec)
{
	struct dsl_list *l = dsl_arena_alloc(&c->scratch, sizeof(*l));
	uint32_t i;
	int r;

	l->n = n->nchild;
	l->v = dsl_arena_alloc(&c->scratch, (n->nchild ? n->nchild : 1) * sizeof(*l->v));
	for (i = 0; i < n->nchild; i++)
		if ((r = dsl_eval(c, n->child[i], &l->v[i], ec)) < 0)
			return r;
	ret->kind = DSL_V_LIST;
	ret->u.list = l;
	return 0;
}

static double
as_number(const struct dsl_val *v)
{
	char *end;
	double d;

	switch (v->kind) {
	case DSL_V_NUM: return v->u.num;
	case DSL_V_BOOL: return v->u.b ? 1.0 : 0.0;
	case DSL_V_STR:
		d = strtod(v->u.s, &end);
		return end != v->u.s && *end == '\0' ? d : 0.0;
	default: return 0.0;
	}
}

static bool
truthy(const struct dsl_val *v)
{
	switch (v->kind) {
	case DSL_V_NUM: return v->u.num != 0.0;
	case DSL_V_BOOL: return v->u.b;
	case DSL_V_STR: return v->u.s[0] != '\0';
	case DSL_V_FRAG: return v->u.frag->n > 0;
	case DSL_V_LIST: return v->u.list->n > 0;
	default: return false;
	}
}

/* "rsi(SPY,10)=55.2" for computed operands, the literal itself otherwise. */
static const char *
operand_label(const struct dsl_node *n, double v, char *buf, size_t len)
{
	if (n->label != NULL)
		snprintf(buf, len, "%s=%.6g", n->label, v);
	else if (n->type == DSL_N_NUMBER || n->type == DSL_N_STRING || n->type == DSL_N_SYMBOL)
		snprintf(buf, len, "%.*s", (int)n->tlen, n->text);
	else
		snprintf(buf, len, "(expr)=%.6g", v);
	return buf;
}

static int
eval_compare(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec)
{
	struct dsl_val l, r;
	double a, b;
	bool res;
	int rc;

	if ((rc = dsl_eval(c, n->child[0], &l, ec)) < 0 || (rc = dsl_eval(c, n->child[1], &r, ec)) < 0)
		return rc;
	a = as_number(&l);
	b = as_number(&r);
	switch (n->op) {
	case DSL_OP_GT: res = a > b; break;
	case DSL_OP_LT: res = a < b; break;
	case DSL_OP_GE: res = a >= b; break;
	case DSL_OP_LE: res = a <= b; break;
	default:
		if (l.kind == DSL_V_STR && r.kind == DSL_V_STR)
			res = strcmp(l.u.s, r.u.s) == 0;
		else if ((l.kind == DSL_V_NUM || l.kind == DSL_V_BOOL) &&
		    (r.kind == DSL_V_NUM || r.kind == DSL_V_BOOL))
			res = a == b;
		else
			res = false;
		break;
	}
	c->cmp_l = a;
	c->cmp_r = b;
	c->cmp_valid = true;
	ret->kind = DSL_V_BOOL;
	ret->u.b = res;
	return 0;
}

static int
eval_if(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec)
{
	const struct dsl_node *cond = n->child[0];
	struct dsl_val v;
	bool t;
	int r;

	c->cmp_valid = false;
	if ((r = dsl_eval(c, cond, &v, ec)) < 0)
		return r;
	t = truthy(&v);
	if (dsl_ctx_tracing(c)) {
		char lb[96], rb[96];

		if (cond->op >= DSL_OP_GT && cond->op <= DSL_OP_EQ && c->cmp_valid)
			dsl_ctx_trace(c, "%u:%u if %s %s %s -> %s", n->line, n->col,
			    operand_label(cond->child[0], c->cmp_l, lb, sizeof(lb)), cond->text,
			    operand_label(cond->child[1], c->cmp_r, rb, sizeof(rb)),
			    t ? "then" : "else");
		else
			dsl_ctx_trace(c, "%u:%u if %s -> %s", n->line, n->col,
			    operand_label(cond, truthy(&v), lb, sizeof(lb)), t ? "then" : "else");
	}
	if (t)
		return dsl_eval(c, n->child[1], ret, ec);
	if (n->nchild < 3)
		/* §7 item 4: a false condition without an else is an error. */
		return errctx_set(ec, -EINVAL, "%u:%u: if-condition is false and there is no else",
		    n->line, n->col);
	return dsl_eval(c, n->child[2], ret, ec);
}

static int
eval_weight_equal(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
    struct errctx *ec)
{
	struct dsl_unit *units = NULL;
	uint32_t i, j, nu = 0, cap = 0;
	struct dsl_frag *f;
	int r;

	for (i = 0; i < n->nchild; i++) {
		struct dsl_val v;

		if ((r = dsl_eval(c, n->child[i], &v, ec)) < 0 ||
		    (r = dsl_units(c, &v, &units, &nu, &cap, ec)) < 0)
			return r;
	}
	if (nu == 0)
		return errctx_set(ec, -EINVAL, "%u:%u: weight-equal received no assets",
		    n->line, n->col);
	/* §7 item 6: 1/n per child, each child keeps its own (normalised) weights. */
	f = dsl_frag_new(&c->scratch, nu);
	for (i = 0; i < nu; i++)
		for (j = 0; j < units[i].frag->n; j++)
			dsl_frag_add(&c->scratch, f, units[i].frag->tix[j], units[i].frag->w[j] / nu);
	ret->kind = DSL_V_FRAG;
	ret->u.frag = f;
	return 0;
}

static int
eval_weight_specified(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
    struct errctx *ec)
{
	struct dsl_frag *f = dsl_frag_new(&c->scratch, n->nchild);
	uint32_t i, j, k;
	int r;

	for (i = 0; i + 1 < n->nchild; i += 2) {
		double w = n->child[i]->num;
		struct dsl_unit *units = NULL;
		uint32_t nu = 0, cap = 0;
		struct dsl_val v;

		if ((r = dsl_eval(c, n->child[i + 1], &v, ec)) < 0 ||
		    (r = dsl_units(c, &v, &units, &nu, &cap, ec)) < 0)
			return r;
		if (nu == 0)
			return errctx_set(ec, -EINVAL, "%u:%u: weight-specified operand %u is empty",
			    n->line, n->col, i / 2 + 1);
		/* §7 item 7: the operand is normalised (a list gives equal items),
		 * the pair weight is taken literally. */
		for (k = 0; k < nu; k++)
			for (j = 0; j < units[k].frag->n; j++)
				dsl_frag_add(&c->scratch, f, units[k].frag->tix[j],
				    w * units[k].frag->w[j] / nu);
	}
	ret->kind = DSL_V_FRAG;
	ret->u.frag = f;
	return 0;
}

static int
eval_group(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec)
{
	struct dsl_val v = { .kind = DSL_V_NONE };
	uint32_t i;
	int r;

	/* §7 item 8: a transparent container; the last body value is the group. */
	for (i = 1; i < n->nchild; i++)
		if ((r = dsl_eval(c, n->child[i], &v, ec)) < 0)
			return r;
	while (v.kind == DSL_V_LIST && v.u.list->n == 1)
		v = v.u.list->v[0];
	switch (v.kind) {
	case DSL_V_STR:
	case DSL_V_NONE:
		ret->kind = DSL_V_FRAG;
		ret->u.frag = dsl_value_holdings(c, &c->scratch, &v);
		return 0;
	default:
		*ret = v;
		return 0;
	}
}

int
dsl_eval(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec)
{
	int r = 0;

	if ((r = dsl_ctx_spend(c, 1, ec)) < 0)
		return r;
	if (++c->depth > EVAL_MAX_DEPTH) {
		c->depth--;
		return errctx_set(ec, -E2BIG, "%u:%u: evaluation nested deeper than %d",
		    n->line, n->col, EVAL_MAX_DEPTH);
	}
	ret->kind = DSL_V_NONE;
	ret->tix = DSL_NO_TICKER;
	/* A block history meets the blocks nested in it as of days their own
	 * histories already evaluated: take the kept value (dsl_sim.c). */
	if (c->sim_depth > 0 && n->type == DSL_N_LIST && n->op != DSL_OP_NONE &&
	    dsl_sim_memo_value(c, n, ret)) {
		c->depth--;
		return 0;
	}
	switch (n->type) {
	case DSL_N_NUMBER:
		ret->kind = DSL_V_NUM;
		ret->u.num = n->num;
		break;
	case DSL_N_SYMBOL:
		if (n->op == DSL_OP_NIL)
			break;
		if (n->op == DSL_OP_TRUE || n->op == DSL_OP_FALSE) {
			ret->kind = DSL_V_BOOL;
			ret->u.b = n->op == DSL_OP_TRUE;
			break;
		}
		/* A bare symbol is its own name. */
		__attribute__((fallthrough));
	case DSL_N_STRING:
	case DSL_N_KEYWORD:
		ret->kind = DSL_V_STR;
		ret->u.s = n->tix >= 0 ? c->p->tickers[n->tix] : n->text;
		ret->tix = n->tix;
		break;
	case DSL_N_MAP:
		r = errctx_set(ec, -EINVAL, "%u:%u: a map is not a value here", n->line, n->col);
		break;
	case DSL_N_VECTOR:
		r = eval_list(c, n, ret, ec);
		break;
	default:
		switch (n->op) {
		case DSL_OP_NONE: r = eval_list(c, n, ret, ec); break;
		case DSL_OP_DEFSYMPHONY: r = dsl_eval(c, n->child[2], ret, ec); break;
		case DSL_OP_IF: r = eval_if(c, n, ret, ec); break;
		case DSL_OP_ASSET:
			ret->kind = DSL_V_STR;
			ret->tix = n->tix;
			ret->u.s = c->p->tickers[n->tix];
			break;
		case DSL_OP_WEIGHT_EQUAL: r = eval_weight_equal(c, n, ret, ec); break;
		case DSL_OP_WEIGHT_SPECIFIED: r = eval_weight_specified(c, n, ret, ec); break;
		case DSL_OP_WEIGHT_INVVOL: r = dsl_eval_invvol(c, n, ret, ec); break;
		case DSL_OP_GROUP: r = eval_group(c, n, ret, ec); break;
		case DSL_OP_FILTER: r = dsl_eval_filter(c, n, ret, ec); break;
		case DSL_OP_SELECT_TOP:
		case DSL_OP_SELECT_BOTTOM:
			ret->kind = DSL_V_NUM;
			ret->u.num = n->window;
			break;
		case DSL_OP_INDICATOR:
			if (n->tix < 0) {
				r = errctx_set(ec, -EINVAL, "%u:%u: '%s' needs a ticker outside a filter",
				    n->line, n->col, n->text);
				break;
			}
			ret->kind = DSL_V_NUM;
			r = dsl_ctx_indicator(c, n->tix, n->ind, n->window, &ret->u.num, ec);
			break;
		default:
			r = eval_compare(c, n, ret, ec);
			break;
		}
	}
	ret->node = n;
	c->depth--;
	return r;
}
