/* Parser: tokens to AST with an explicit stack (no recursion, so the 190-deep
 * 3-Starburst.clj cannot overflow anything), symbol interning, and the public
 * program load/free. Each node is compiled as it closes (post-order). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "dsl_internal.h"

struct dsl_sym {
	const char	*name;
	uint32_t	 len;
	uint32_t	 hash;
	uint8_t		 op, ind;
	int32_t		 tix;
};

struct frame {
	struct dsl_node	*node;
	size_t		 base;		/* first child in the shared child stack */
};

static const struct {
	const char	*name;
	enum dsl_op	 op;
} op_table[] = {
	{ "defsymphony", DSL_OP_DEFSYMPHONY },
	{ "if", DSL_OP_IF },
	{ "asset", DSL_OP_ASSET },
	{ "weight-equal", DSL_OP_WEIGHT_EQUAL },
	{ "weight-specified", DSL_OP_WEIGHT_SPECIFIED },
	{ "weight-inverse-volatility", DSL_OP_WEIGHT_INVVOL },
	{ "group", DSL_OP_GROUP },
	{ "filter", DSL_OP_FILTER },
	{ "select-top", DSL_OP_SELECT_TOP },
	{ "select-bottom", DSL_OP_SELECT_BOTTOM },
	{ ">", DSL_OP_GT }, { "<", DSL_OP_LT }, { ">=", DSL_OP_GE }, { "<=", DSL_OP_LE },
	{ "=", DSL_OP_EQ },
	{ "nil", DSL_OP_NIL }, { "true", DSL_OP_TRUE }, { "false", DSL_OP_FALSE },
};

static uint32_t	hash_bytes(const char *s, size_t len);
static struct dsl_sym *intern_sym(struct dsl_program *p, const char *s, size_t len);
static struct dsl_node *new_node(struct dsl_program *p, enum dsl_ntype type, uint32_t line,
	    uint32_t col);
static int	parse(struct dsl_program *p, struct dsl_lexer *lx, struct errctx *ec);

static uint32_t
hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a: short keys, good enough spread */

	while (len-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct dsl_sym *
intern_sym(struct dsl_program *p, const char *s, size_t len)
{
	uint32_t h = hash_bytes(s, len);
	size_t i, k, mask;
	struct dsl_sym *sym;

	if (2 * (p->nsyms + 1) > p->symcap) {
		size_t ncap = p->symcap ? 2 * p->symcap : 256;
		struct dsl_sym **nt = xcalloc(ncap, sizeof(*nt));

		for (i = 0; i < p->symcap; i++) {
			size_t j;

			if (p->syms[i] == NULL)
				continue;
			for (j = p->syms[i]->hash & (ncap - 1); nt[j] != NULL; j = (j + 1) & (ncap - 1))
				;
			nt[j] = p->syms[i];
		}
		free(p->syms);
		p->syms = nt;
		p->symcap = ncap;
	}
	mask = p->symcap - 1;
	for (i = h & mask; p->syms[i] != NULL; i = (i + 1) & mask) {
		sym = p->syms[i];
		if (sym->hash == h && sym->len == len && memcmp(sym->name, s, len) == 0)
			return sym;
	}
	sym = dsl_arena_alloc(&p->arena, sizeof(*sym));
	sym->name = dsl_arena_strndup(&p->arena, s, len);
	sym->len = (uint32_t)len;
	sym->hash = h;
	sym->op = DSL_OP_NONE;
	sym->ind = 0;
	sym->tix = DSL_NO_TICKER;
	for (k = 0; k < ELEMENTSOF(op_table); k++)
		if (strcmp(op_table[k].name, sym->name) == 0)
			sym->op = op_table[k].op;
	if (sym->op == DSL_OP_NONE) {
		int ind = indicator_from_name(sym->name);

		if (ind >= 0) {
			sym->op = DSL_OP_INDICATOR;
			sym->ind = (uint8_t)ind;
		}
	}
	p->syms[i] = sym;
	p->nsyms++;
	return sym;
}

const char *
dsl_intern(struct dsl_program *p, const char *s, size_t len, uint8_t *op, uint8_t *ind)
{
	struct dsl_sym *sym = intern_sym(p, s, len);

	if (op != NULL)
		*op = sym->op;
	if (ind != NULL)
		*ind = sym->ind;
	return sym->name;
}

int32_t
dsl_ticker_index(struct dsl_program *p, const char *s, size_t len)
{
	char buf[64];
	struct dsl_sym *sym;
	size_t i;

	/* Tickers are upper-cased once here (§7 item 5: "spy" ends as SPY). */
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	for (i = 0; i < len; i++)
		buf[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 'a' + 'A' : s[i]);
	sym = intern_sym(p, buf, len);
	if (sym->tix == DSL_NO_TICKER) {
		if (p->ntickers == p->tickcap) {
			p->tickcap = p->tickcap ? 2 * p->tickcap : 32;
			p->tickers = xreallocarray(p->tickers, p->tickcap, sizeof(*p->tickers));
		}
		sym->tix = (int32_t)p->ntickers;
		p->tickers[p->ntickers++] = sym->name;
	}
	return sym->tix;
}

static struct dsl_node *
new_node(struct dsl_program *p, enum dsl_ntype type, uint32_t line, uint32_t col)
{
	struct dsl_node *n = dsl_arena_alloc(&p->arena, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->line = line;
	n->col = col;
	n->id = (uint32_t)p->nnodes++;
	n->tix = DSL_NO_TICKER;
	return n;
}

static int
parse(struct dsl_program *p, struct dsl_lexer *lx, struct errctx *ec)
{
	struct frame *fr = NULL;
	struct dsl_node **kids = NULL;
	struct dsl_canon canon = { 0 };
	size_t nfr = 0, frcap = 0, nkids = 0, kidcap = 0;
	size_t mem_limit = DSL_MEM_PROGRAM * lx->len + DSL_MEM_PROGRAM_SLACK;
	int r;

	for (;;) {
		struct dsl_node *n = NULL;

		if ((r = dsl_lexer_next(lx, ec)) < 0)
			goto out;
		switch (lx->tok) {
		case DSL_T_EOF:
			if (nfr > 0) {
				struct dsl_node *o = fr[nfr - 1].node;

				r = dsl_lexer_error(lx, ec, -EBADMSG, SIZE_MAX, o->line, o->col,
				    "unclosed '%c'", o->type == DSL_N_LIST ? '(' :
				    o->type == DSL_N_VECTOR ? '[' : '{');
				goto out;
			}
			r = p->root != NULL ? 0 : dsl_lexer_error(lx, ec, -EBADMSG, SIZE_MAX,
			    lx->tline, lx->tcol, "empty input");
			goto out;
		case DSL_T_LPAREN:
		case DSL_T_LBRACK:
		case DSL_T_LBRACE:
			if (p->root != NULL)
				goto trailing;
			if (nfr >= DSL_MAX_DEPTH) {
				r = dsl_lexer_error(lx, ec, -E2BIG, SIZE_MAX, lx->tline, lx->tcol,
				    "nesting deeper than %d", DSL_MAX_DEPTH);
				goto out;
			}
			if (nfr == frcap) {
				frcap = frcap ? 2 * frcap : 64;
				fr = xreallocarray(fr, frcap, sizeof(*fr));
			}
			fr[nfr].node = new_node(p, lx->tok == DSL_T_LPAREN ? DSL_N_LIST :
			    lx->tok == DSL_T_LBRACK ? DSL_N_VECTOR : DSL_N_MAP, lx->tline, lx->tcol);
			fr[nfr].base = nkids;
			nfr++;
			continue;
		case DSL_T_RPAREN:
		case DSL_T_RBRACK:
		case DSL_T_RBRACE: {
			enum dsl_ntype want = lx->tok == DSL_T_RPAREN ? DSL_N_LIST :
			    lx->tok == DSL_T_RBRACK ? DSL_N_VECTOR : DSL_N_MAP;
			size_t k;

			if (nfr == 0 || fr[nfr - 1].node->type != want) {
				r = dsl_lexer_error(lx, ec, -EBADMSG, (size_t)(lx->start - lx->text),
				    lx->tline, lx->tcol, "unexpected '%c'", *lx->start);
				goto out;
			}
			nfr--;
			n = fr[nfr].node;
			k = nkids - fr[nfr].base;
			n->nchild = (uint32_t)k;
			if (k > 0) {
				n->child = dsl_arena_alloc(&p->arena, k * sizeof(*n->child));
				memcpy(n->child, kids + fr[nfr].base, k * sizeof(*n->child));
			}
			nkids = fr[nfr].base;
			break;
		}
		case DSL_T_STRING:
		case DSL_T_SYMBOL:
		case DSL_T_KEYWORD:
			if (p->root != NULL)
				goto trailing;
			n = new_node(p, lx->tok == DSL_T_STRING ? DSL_N_STRING :
			    lx->tok == DSL_T_SYMBOL ? DSL_N_SYMBOL : DSL_N_KEYWORD, lx->tline, lx->tcol);
			n->text = dsl_intern(p, lx->start, lx->tlen, &n->op, &n->ind);
			n->tlen = (uint32_t)lx->tlen;
			break;
		case DSL_T_NUMBER:
			if (p->root != NULL)
				goto trailing;
			n = new_node(p, DSL_N_NUMBER, lx->tline, lx->tcol);
			n->num = lx->num;
			n->text = dsl_intern(p, lx->start, lx->tlen, NULL, NULL);
			n->tlen = (uint32_t)lx->tlen;
			break;
		default:
			r = errctx_set(ec, -EBADMSG, "%s: internal: bad token", lx->name);
			goto out;
		}
		if ((r = dsl_compile_node(p, lx, n, ec)) < 0)
			goto out;
		dsl_canon_node(&canon, n);
		/* An expression costs ~100 bytes: bound the program by its size
		 * (dsl.h) before a file of "1 1 1 ..." takes 50 times it. */
		if (p->arena.total + p->symcap * sizeof(*p->syms) + kidcap * sizeof(*kids) +
		    frcap * sizeof(*fr) + dsl_canon_size(&canon) > mem_limit) {
			r = dsl_lexer_error(lx, ec, -E2BIG, SIZE_MAX, lx->tline, lx->tcol,
			    "the program needs more than %zu MiB (%d times its %zu bytes + 1 MiB): "
			    "too many expressions for its size", (mem_limit + (1u << 20) - 1) >> 20,
			    DSL_MEM_PROGRAM, lx->len);
			goto out;
		}
		if (nfr == 0) {
			p->root = n;
			continue;
		}
		if (nkids == kidcap) {
			kidcap = kidcap ? 2 * kidcap : 256;
			kids = xreallocarray(kids, kidcap, sizeof(*kids));
		}
		kids[nkids++] = n;
	}
trailing:
	r = dsl_lexer_error(lx, ec, -EBADMSG, (size_t)(lx->start - lx->text), lx->tline, lx->tcol,
	    "unexpected tokens after the expression");
out:
	dsl_canon_fini(&canon);
	free(fr);
	free(kids);
	return r;
}

int
dsl_program_parse(const char *name, const char *text, size_t len, struct dsl_program **ret,
    struct errctx *ec)
{
	struct dsl_program *p;
	struct dsl_lexer lx;
	int r;

	*ret = NULL;
	if (len > DSL_MAX_FILE)
		return errctx_set(ec, -E2BIG, "%s: %zu bytes, over the limit of %u", name, len,
		    DSL_MAX_FILE);
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->src_len = len;
	dsl_lexer_init(&lx, p->name, text, len);
	r = parse(p, &lx, ec);
	dsl_lexer_fini(&lx);
	if (r < 0) {
		dsl_program_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int
dsl_program_load(const char *path, struct dsl_program **ret, struct errctx *ec)
{
	FILE *f;
	struct stat st;
	char *buf;
	const char *base = strrchr(path, '/');
	size_t n;
	int r;

	*ret = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return errctx_set(ec, -EINVAL, "%s: not a regular file", path);
	}
	if ((size_t)st.st_size > DSL_MAX_FILE) {
		fclose(f);
		return errctx_set(ec, -E2BIG, "%s: %lld bytes, over the limit of %u", path,
		    (long long)st.st_size, DSL_MAX_FILE);
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size) {
		free(buf);
		return errctx_set(ec, -EIO, "%s: short read", path);
	}
	buf[n] = '\0';
	r = dsl_program_parse(base != NULL ? base + 1 : path, buf, n, ret, ec);
	free(buf);
	return r;
}

void
dsl_program_free(struct dsl_program *p)
{
	if (p == NULL)
		return;
	dsl_arena_free(&p->arena);
	free(p->syms);
	free(p->tickers);
	free(p->name);
	free(p);
}

const char *
dsl_program_name(const struct dsl_program *p)
{
	return p->name;
}

size_t
dsl_program_tickers(const struct dsl_program *p, const char *const **ret)
{
	*ret = (const char *const *)p->tickers;
	return p->ntickers;
}

size_t
dsl_program_lookback(const struct dsl_program *p)
{
	return p->lookback;
}

size_t
dsl_program_nodes(const struct dsl_program *p)
{
	return p->nnodes;
}

size_t
dsl_program_memory(const struct dsl_program *p)
{
	return p->arena.total + p->symcap * sizeof(*p->syms) + p->tickcap * sizeof(*p->tickers);
}

size_t
dsl_program_source_bytes(const struct dsl_program *p)
{
	return p->src_len;
}
