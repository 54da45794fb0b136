/*
 * dsl_internal: what the DSL modules share (AST, arenas, values, the
 * evaluation context). Not installed; nothing outside src/trading/dsl uses it.
 * Thread:  an evaluation context belongs to one evaluation on one thread.
 * Memory:  AST nodes live in the program's arena; values live in the
 *          context's scratch arena (reset between simulated days) or its memo
 *          arena (block holdings kept for the whole evaluation); block score
 *          series live in its score arena (this evaluation only).
 */
#ifndef ALCHEMISER_TRADING_DSL_INTERNAL_H
#define ALCHEMISER_TRADING_DSL_INTERNAL_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/trading/dsl.h"
#include "alchemiser/trading/indicators.h"

struct errctx;

/* ---- arena ---- */
struct dsl_chunk {
	struct dsl_chunk *next;
	size_t		  size, used;
	alignas(16) unsigned char data[];
};
struct dsl_arena {
	struct dsl_chunk *head;		/* newest chunk first */
	size_t		  total;
};
struct dsl_arena_mark {
	struct dsl_chunk *chunk;
	size_t		  used;
};

void	*dsl_arena_alloc_slow(struct dsl_arena *a, size_t size);
/* size bytes, 16-aligned, until the arena is reset past them or freed.
 * Inline: the evaluator allocates a few values per node evaluated. */
static inline void *
dsl_arena_alloc(struct dsl_arena *a, size_t size)
{
	struct dsl_chunk *c = a->head;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->used < size)
		return dsl_arena_alloc_slow(a, size);
	p = c->data + c->used;
	c->used += size;
	return p;
}
char	*dsl_arena_strndup(struct dsl_arena *a, const char *s, size_t n);
void	dsl_arena_mark(struct dsl_arena *a, struct dsl_arena_mark *m);
void	dsl_arena_reset(struct dsl_arena *a, const struct dsl_arena_mark *m);
void	dsl_arena_free(struct dsl_arena *a);

/* ---- lexer ---- */
enum dsl_tok {
	DSL_T_EOF,
	DSL_T_LPAREN, DSL_T_RPAREN, DSL_T_LBRACK, DSL_T_RBRACK, DSL_T_LBRACE, DSL_T_RBRACE,
	DSL_T_STRING, DSL_T_NUMBER, DSL_T_KEYWORD, DSL_T_SYMBOL,
	_DSL_T_MAX
};

struct dsl_lexer {
	const char	*name;		/* for messages */
	const char	*text;
	size_t		 len, pos;
	uint32_t	 line, col;
	/* current token */
	enum dsl_tok	 tok;
	const char	*start;		/* token text (strings: unescaped in buf) */
	size_t		 tlen;
	uint32_t	 tline, tcol;
	double		 num;
	char		*buf;		/* string unescape buffer */
	size_t		 bufcap;
};

void	dsl_lexer_init(struct dsl_lexer *lx, const char *name, const char *text, size_t len);
void	dsl_lexer_fini(struct dsl_lexer *lx);
/* Advance to the next token; -EBADMSG with position on bad input. */
int	dsl_lexer_next(struct dsl_lexer *lx, struct errctx *ec);
/* errctx_set with "name:line:col: msg near '...'" (excerpt from text offset
 * off; off == SIZE_MAX for none). */
int	dsl_lexer_error(const struct dsl_lexer *lx, struct errctx *ec, int code, size_t off,
	    uint32_t line, uint32_t col, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));

/* ---- AST ---- */
enum dsl_ntype {
	DSL_N_LIST,	/* ( ... ) */
	DSL_N_VECTOR,	/* [ ... ] */
	DSL_N_MAP,	/* { k v ... } */
	DSL_N_SYMBOL,
	DSL_N_KEYWORD,	/* text without the colon */
	DSL_N_STRING,
	DSL_N_NUMBER,
	_DSL_N_MAX
};

enum dsl_op {
	DSL_OP_NONE,		/* not a call: literal, vector, map, plain list */
	DSL_OP_DEFSYMPHONY,
	DSL_OP_IF,
	DSL_OP_ASSET,
	DSL_OP_WEIGHT_EQUAL,
	DSL_OP_WEIGHT_SPECIFIED,
	DSL_OP_WEIGHT_INVVOL,
	DSL_OP_GROUP,
	DSL_OP_FILTER,
	DSL_OP_SELECT_TOP,
	DSL_OP_SELECT_BOTTOM,
	DSL_OP_GT, DSL_OP_LT, DSL_OP_GE, DSL_OP_LE, DSL_OP_EQ,
	DSL_OP_INDICATOR,	/* node->ind says which */
	DSL_OP_NIL, DSL_OP_TRUE, DSL_OP_FALSE,	/* the symbols nil/true/false as values */
	_DSL_OP_MAX
};

#define DSL_NO_TICKER (-1)

struct dsl_node {
	uint8_t		 type;		/* enum dsl_ntype */
	uint8_t		 op;		/* enum dsl_op (calls; nil/true/false symbols) */
	uint8_t		 ind;		/* enum indicator_kind when op == DSL_OP_INDICATOR */
	uint8_t		 has_window;	/* indicator: window written in the file */
	uint32_t	 line, col;
	uint32_t	 id;		/* dense, 0..nnodes-1 */
	uint32_t	 nchild;
	struct dsl_node	**child;	/* calls: the arguments (head removed) */
	const char	*text;		/* symbol/keyword/string text; call: operator name */
	uint32_t	 tlen;
	int32_t		 tix;		/* ticker index (asset, indicator, ticker literal) */
	int32_t		 window;	/* indicator window; select-*: count; wiv: window */
	double		 num;		/* number literal value */
	const char	*label;		/* trace label of calls: "rsi(SPY,10)" */
	uint32_t	 lookback;	/* bars the subtree needs (fetch hint) */
	uint32_t	 canon;		/* equal subtrees, equal canon (dsl_canon.c) */
};

/* Structural identity (dsl_canon.c), built while parsing. */
#define DSL_CANON_ATOM 0x80000000u	/* atoms: this bit | id, never shared */
struct dsl_canon {
	uint32_t		*slot;		/* open addressing: canon or UINT32_MAX */
	const struct dsl_node	**rep;		/* canon -> its first node */
	size_t			 n, cap;
};
/* Set n->canon; its children have theirs. */
void	dsl_canon_node(struct dsl_canon *t, struct dsl_node *n);
size_t	dsl_canon_size(const struct dsl_canon *t);
void	dsl_canon_fini(struct dsl_canon *t);

struct dsl_sym;

struct dsl_program {
	char		 *name;
	struct dsl_arena  arena;
	struct dsl_node	 *root;
	size_t		  nnodes;
	/* intern table */
	struct dsl_sym	**syms;
	size_t		  nsyms, symcap;
	/* tickers */
	const char	**tickers;
	size_t		  ntickers, tickcap;
	size_t		  lookback;
	size_t		  src_len;	/* bytes of source text (memory bounds) */
};

/* Intern text (exact bytes); returns the stable copy. */
const char *dsl_intern(struct dsl_program *p, const char *s, size_t len, uint8_t *op, uint8_t *ind);
/* Ticker index of s (upper-cased), adding it on first use. */
int32_t	dsl_ticker_index(struct dsl_program *p, const char *s, size_t len);
/* Compile a freshly closed node (post-order, called by the parser): resolve
 * the operator, check arity, precompute tickers, windows and labels. */
int	dsl_compile_node(struct dsl_program *p, struct dsl_lexer *lx, struct dsl_node *n,
	    struct errctx *ec);

/* ---- values ---- */
enum dsl_vkind { DSL_V_NONE, DSL_V_NUM, DSL_V_BOOL, DSL_V_STR, DSL_V_FRAG, DSL_V_LIST, _DSL_V_MAX };

struct dsl_frag {
	uint32_t	 n, cap;
	int32_t		*tix;
	double		*w;
	/* tix -> position + 1, built once a fragment is large (dsl_frag_add):
	 * weight-equal over 100k tickers stays linear. ixn entries indexed. */
	uint32_t	*ix;
	uint32_t	 ixcap, ixn;
};

struct dsl_val;
struct dsl_list {
	uint32_t	 n;
	struct dsl_val	*v;
};

struct dsl_val {
	uint8_t		 kind;
	int32_t		 tix;		/* DSL_V_STR: ticker index or DSL_NO_TICKER */
	union {
		double		 num;
		bool		 b;
		const char	*s;
		struct dsl_frag	*frag;
		struct dsl_list	*list;
	} u;
	const struct dsl_node *node;	/* the expression that produced it (block identity) */
};

struct dsl_frag *dsl_frag_new(struct dsl_arena *a, uint32_t cap);
void	dsl_frag_add(struct dsl_arena *a, struct dsl_frag *f, int32_t tix, double w);
double	dsl_frag_sum(const struct dsl_frag *f);
/* Copy scaled by k (into arena a). */
struct dsl_frag *dsl_frag_scaled(struct dsl_arena *a, const struct dsl_frag *f, double k);

/* ---- per-ticker bar access during an evaluation ---- */
struct dsl_series;		/* one ticker in the bar store */
struct dsl_calendar {
	const int64_t	*day;		/* bar days of a program's tickers, ascending */
	size_t		 n;
};

/* The calendar one program steps over: the union of the bar days of the
 * tickers SYM[0..n) it reads (not of every series in the store), so a file's
 * result never depends on the other files of its set (§7 item 26). *calmaps
 * gets, per ticker, the bar index of its last bar on or before each calendar
 * day (NULL: no bars). Cached per ticker list until bars are added. */
const struct dsl_calendar *dsl_bars_scope(struct dsl_bars *b, const char *const *sym, size_t n,
	    const int32_t *const **calmaps);
struct dsl_series *dsl_bars_find(struct dsl_bars *b, const char *symbol);
const double *dsl_series_closes(const struct dsl_series *s, size_t *n);
/* Block histories kept between evaluations (dsl_bars_keep_histories): the
 * memo and the arena its holdings live in, per (program, option key). NULL
 * when b does not keep them. */
struct dsl_memo;
struct dsl_hist {
	const struct dsl_program *p;
	unsigned		  key;
	struct dsl_memo		 *memo;
	struct dsl_arena	  keep;
};
struct dsl_hist *dsl_bars_history(struct dsl_bars *b, const struct dsl_program *p, unsigned key);
/* Cached indicator series over the whole history. */
const double *dsl_series_indicator(struct dsl_bars *b, struct dsl_series *s,
	    enum indicator_kind kind, int window, unsigned flags);

/* ---- evaluation context ---- */
struct dsl_memo;
struct dsl_scores;

struct dsl_tk {
	struct dsl_series *s;		/* NULL: no bars for this ticker */
	const int32_t	*calmap;
};

struct dsl_ctx {
	const struct dsl_program *p;
	struct dsl_bars		*bars;
	const struct dsl_options *opt;
	unsigned		 ind_flags;
	struct dsl_tk		*tk;		/* per program ticker */
	const struct dsl_calendar *cal;
	int64_t			 day;		/* calendar index evaluated "as of" */
	struct dsl_arena	 scratch;
	struct dsl_arena	 keep;		/* memoised block holdings */
	struct dsl_memo		*memo;
	struct dsl_scores	*scores;	/* block score series (dsl_sim.c) */
	struct dsl_arena	 score_arena;	/* ...their values, for this evaluation */
	size_t			 score_mem;	/* bytes of both */
	unsigned		 sim_depth;	/* > 0 while building a block history */
	unsigned		 depth;		/* recursion depth guard */
	uint64_t		 steps, max_steps;	/* evaluation budget */
	size_t			 keep0, max_mem;	/* memory bound (dsl.h): keep at start */
	size_t			 peak_mem;
	bool			 over_budget;	/* sticky: every later step fails too */
	bool			 over_memory;	/* ...because of the memory bound */
	/* trace */
	char			**trace;
	size_t			 ntrace, tracecap;
	size_t			 indicator_calls, blocks_simulated;
	/* last comparison, for the trace of an if */
	double			 cmp_l, cmp_r;
	bool			 cmp_valid;
};

/* Indicator value of ticker tix as of ctx->day. -ENODATA when the history is
 * too short (droppable in filter), -ENOENT when there are no bars at all. */
int	dsl_ctx_indicator(struct dsl_ctx *c, int32_t tix, enum indicator_kind kind, int window,
	    double *ret, struct errctx *ec);
/* Close of ticker tix at calendar day ci (NaN when none yet). */
double	dsl_ctx_close(struct dsl_ctx *c, int32_t tix, int64_t ci);
void	dsl_ctx_trace(struct dsl_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool
dsl_ctx_tracing(const struct dsl_ctx *c)
{
	return c->opt->trace && c->sim_depth == 0;
}

int	dsl_eval(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret, struct errctx *ec);
/* Memory one evaluation holds: values (scratch), the holdings it memoised
 * and its block score series; histories kept from earlier days (a
 * backtest) are not its cost. */
static inline size_t
dsl_ctx_memory(const struct dsl_ctx *c)
{
	return c->scratch.total + (c->keep.total - c->keep0) + c->score_mem;
}
int	dsl_ctx_spend_slow(struct dsl_ctx *c, struct errctx *ec);
/* Spend n steps of the budget: -E2BIG once it is exhausted (and from then
 * on, so a block history that swallows errors stops at once). Called for
 * every node evaluated: inline while nothing is to be recorded (within the
 * budget, memory not above its peak so far). */
static inline int
dsl_ctx_spend(struct dsl_ctx *c, uint64_t n, struct errctx *ec)
{
	c->steps += n;
	if (c->steps <= c->max_steps && !c->over_budget && dsl_ctx_memory(c) <= c->peak_mem)
		return 0;
	return dsl_ctx_spend_slow(c, ec);
}
/* Units for weight-equal / filter / inverse-volatility: every string or
 * fragment in v (lists spliced recursively), with the node it came from. */
struct dsl_unit {
	struct dsl_frag		*frag;		/* normalised holdings (string -> {t: 1}) */
	int32_t			 tix;		/* bare ticker, else DSL_NO_TICKER */
	const struct dsl_node	*node;		/* expression to re-evaluate for its history */
};
int	dsl_units(struct dsl_ctx *c, const struct dsl_val *v, struct dsl_unit **units,
	    uint32_t *n, uint32_t *cap, struct errctx *ec);
/* Holdings of a value as one unit (string, fragment, or list as equal shares). */
struct dsl_frag *dsl_value_holdings(struct dsl_ctx *c, struct dsl_arena *a, const struct dsl_val *v);
struct dsl_frag *dsl_frag_normalised(struct dsl_arena *a, const struct dsl_frag *f);

int	dsl_eval_filter(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
int	dsl_eval_invvol(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret,
	    struct errctx *ec);
/* Score one block unit for (kind, window): the indicator over the block's
 * simulated daily value series; the fallback (weighted average of today's
 * member scores) when the history cannot be built. *simulated says which. */
int	dsl_sim_score(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind,
	    int window, double *ret, bool *simulated, struct errctx *ec);
/* HEAD's fallback score of a block: the weight-averaged indicator of today's
 * holdings (members that fail skipped; -ENODATA when none scores). */
int	dsl_sim_fallback(struct dsl_ctx *c, const struct dsl_unit *u, enum indicator_kind kind,
	    int window, double *ret, struct errctx *ec);
void	dsl_memo_free(struct dsl_memo *m);
/* Inside a block history (sim_depth > 0): the value of n as of c->day when
 * an earlier block history evaluated the same expression on that day and
 * kept it (a fragment or a ticker: what dsl_eval would give again, bit for
 * bit; lists are not kept). false: evaluate n. */
bool	dsl_sim_memo_value(struct dsl_ctx *c, const struct dsl_node *n, struct dsl_val *ret);
/* The score series of one evaluation: free, and bytes of its table (the
 * values live in the context's score_arena). */
void	dsl_scores_free(struct dsl_scores *t);
size_t	dsl_scores_size(const struct dsl_scores *t);
/* Points of a block's simulated series to fetch bars for (kind, window):
 * the minimum history (rsi: w+1) plus 3w of warm-up for rsi and EMA. The
 * score itself uses every point there is for rsi and EMA (dsl_sim.c). */
size_t	dsl_sim_points(enum indicator_kind kind, int window);

const char *dsl_tname(const struct dsl_ctx *c, int32_t tix);

#endif
