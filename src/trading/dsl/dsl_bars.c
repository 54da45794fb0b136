/* Bar store: close series per ticker, the per-program calendars and their
 * calendar maps (dsl_bars_scope) and the indicator-series cache. Every
 * indicator is causal, so one series over the whole history answers "as of"
 * any day by indexing: a strategy's hundreds of indicator reads, and the
 * re-evaluations of simulated block histories, cost a lookup each. */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "dsl_internal.h"

struct icache_ent {
	uint8_t		 kind;
	unsigned	 flags;
	int32_t		 w;
	double		*v;
};

struct dsl_series {
	char		 *sym;
	int64_t		 *day;
	double		 *close;
	size_t		  n;
	struct icache_ent *ic;
	size_t		  nic, icap;
};

struct dsl_bars {
	struct dsl_series **s;
	size_t		   n, cap;
	struct dsl_scope  *scopes;	/* dsl_bars_scope cache */
	size_t		  *hidx;	/* open addressing: index + 1 into s, 0 empty */
	size_t		   hcap;	/* power of two, > 2 n */
	bool		   keep_hist;	/* dsl_bars_keep_histories */
	struct dsl_hist	  *hist;
	size_t		   nhist;
};

struct dsl_scope {
	char		**sym;
	size_t		  nsym;
	int64_t		 *day;
	struct dsl_calendar cal;
	int32_t		**calmap;	/* per sym; NULL: no bars */
	struct dsl_scope *next;
};

static void	series_free(struct dsl_series *s);
static void	scopes_free(struct dsl_bars *b);
static struct dsl_scope *scope_build(struct dsl_bars *b, const char *const *sym, size_t n);
static void	drop_histories(struct dsl_bars *b);

struct dsl_bars *
dsl_bars_new(void)
{
	return xcalloc(1, sizeof(struct dsl_bars));
}

static void
series_free(struct dsl_series *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nic; i++)
		free(s->ic[i].v);
	free(s->ic);
	free(s->day);
	free(s->close);
	free(s->sym);
	free(s);
}

void
dsl_bars_free(struct dsl_bars *b)
{
	size_t i;

	if (b == NULL)
		return;
	scopes_free(b);
	free(b->hidx);
	for (i = 0; i < b->n; i++)
		series_free(b->s[i]);
	free(b->s);
	drop_histories(b);
	free(b);
}

static size_t
sym_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;	/* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return (size_t)h;
}

/* The slot of symbol in the index: its entry, or the empty slot it would
 * take. A hash instead of a scan, so 100k tickers load in linear time. */
static size_t *
hash_slot(struct dsl_bars *b, const char *symbol)
{
	size_t i, mask = b->hcap - 1;

	for (i = sym_hash(symbol) & mask; b->hidx[i] != 0; i = (i + 1) & mask)
		if (strcmp(b->s[b->hidx[i] - 1]->sym, symbol) == 0)
			break;
	return &b->hidx[i];
}

static void
hash_grow(struct dsl_bars *b)
{
	size_t i;

	if (2 * (b->n + 1) < b->hcap)
		return;
	free(b->hidx);
	b->hcap = b->hcap ? 2 * b->hcap : 128;
	b->hidx = xcalloc(b->hcap, sizeof(*b->hidx));
	for (i = 0; i < b->n; i++)
		*hash_slot(b, b->s[i]->sym) = i + 1;
}

struct dsl_series *
dsl_bars_find(struct dsl_bars *b, const char *symbol)
{
	size_t *slot;

	if (b->hcap == 0)
		return NULL;
	slot = hash_slot(b, symbol);
	return *slot != 0 ? b->s[*slot - 1] : NULL;
}

void
dsl_bars_add(struct dsl_bars *b, const char *symbol, const int64_t *days, const double *closes,
    size_t n)
{
	struct dsl_series *s = xcalloc(1, sizeof(*s));
	size_t *slot;

	scopes_free(b);	/* new bars change every calendar */
	s->sym = xstrdup(symbol);
	s->n = n;
	s->day = xmalloc((n ? n : 1) * sizeof(*s->day));
	s->close = xmalloc((n ? n : 1) * sizeof(*s->close));
	if (n > 0) {
		memcpy(s->day, days, n * sizeof(*days));
		memcpy(s->close, closes, n * sizeof(*closes));
	}
	hash_grow(b);
	slot = hash_slot(b, symbol);
	if (*slot != 0) {
		series_free(b->s[*slot - 1]);
		b->s[*slot - 1] = s;
		goto done;
	}
	*slot = b->n + 1;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->s = xreallocarray(b->s, b->cap, sizeof(*b->s));
	}
	b->s[b->n++] = s;
done:
	/* New bars can change the calendar's day indexes the memo is keyed by. */
	drop_histories(b);
}

static void
drop_histories(struct dsl_bars *b)
{
	size_t i;

	for (i = 0; i < b->nhist; i++) {
		dsl_memo_free(b->hist[i].memo);
		dsl_arena_free(&b->hist[i].keep);
	}
	free(b->hist);
	b->hist = NULL;
	b->nhist = 0;
}

void
dsl_bars_keep_histories(struct dsl_bars *b, bool on)
{
	b->keep_hist = on;
	if (!on)
		drop_histories(b);
}

struct dsl_hist *
dsl_bars_history(struct dsl_bars *b, const struct dsl_program *p, unsigned key)
{
	struct dsl_hist *h;
	size_t i;

	if (!b->keep_hist)
		return NULL;
	for (i = 0; i < b->nhist; i++)
		if (b->hist[i].p == p && b->hist[i].key == key)
			return &b->hist[i];
	b->hist = xreallocarray(b->hist, b->nhist + 1, sizeof(*b->hist));
	h = &b->hist[b->nhist++];
	memset(h, 0, sizeof(*h));
	h->p = p;
	h->key = key;
	return h;
}

void
dsl_bars_add_md(struct dsl_bars *b, const struct md_series *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		int64_t *days = xmalloc((s[i].n ? s[i].n : 1) * sizeof(*days));
		double *cl = xmalloc((s[i].n ? s[i].n : 1) * sizeof(*cl));

		for (k = 0; k < s[i].n; k++) {
			days[k] = s[i].bars[k].day;
			cl[k] = s[i].bars[k].close;
		}
		dsl_bars_add(b, s[i].symbol, days, cl, s[i].n);
		free(days);
		free(cl);
	}
}

size_t
dsl_bars_count(const struct dsl_bars *b)
{
	return b->n;
}

const double *
dsl_series_closes(const struct dsl_series *s, size_t *n)
{
	*n = s->n;
	return s->close;
}

const double *
dsl_series_indicator(struct dsl_bars *b, struct dsl_series *s, enum indicator_kind kind,
    int window, unsigned flags)
{
	struct icache_ent *e;
	size_t i;

	(void)b;
	if (kind == INDICATOR_CURRENT_PRICE)
		return s->close;
	if (kind != INDICATOR_STDEV_RETURN)
		flags = 0;
	for (i = 0; i < s->nic; i++) {
		e = &s->ic[i];
		if (e->kind == kind && e->w == window && e->flags == flags)
			return e->v;
	}
	if (s->nic == s->icap) {
		s->icap = s->icap ? 2 * s->icap : 8;
		s->ic = xreallocarray(s->ic, s->icap, sizeof(*s->ic));
	}
	e = &s->ic[s->nic++];
	e->kind = (uint8_t)kind;
	e->w = window;
	e->flags = flags;
	e->v = xmalloc((s->n ? s->n : 1) * sizeof(*e->v));
	indicator_series(kind, window, flags, s->close, s->n, e->v);
	return e->v;
}

static void
scopes_free(struct dsl_bars *b)
{
	struct dsl_scope *sc, *next;
	size_t i;

	for (sc = b->scopes; sc != NULL; sc = next) {
		next = sc->next;
		for (i = 0; i < sc->nsym; i++) {
			free(sc->sym[i]);
			free(sc->calmap[i]);
		}
		free(sc->sym);
		free(sc->calmap);
		free(sc->day);
		free(sc);
	}
	b->scopes = NULL;
}

static struct dsl_scope *
scope_build(struct dsl_bars *b, const char *const *sym, size_t n)
{
	struct dsl_scope *sc = xcalloc(1, sizeof(*sc));
	struct dsl_series **ser = xcalloc(n ? n : 1, sizeof(*ser));
	int64_t lo = INT64_MAX, hi = INT64_MIN, d;
	uint8_t *mark = NULL;
	size_t i, k, m = 0;

	sc->nsym = n;
	sc->sym = xcalloc(n ? n : 1, sizeof(*sc->sym));
	sc->calmap = xcalloc(n ? n : 1, sizeof(*sc->calmap));
	for (i = 0; i < n; i++) {
		sc->sym[i] = xstrdup(sym[i]);
		ser[i] = dsl_bars_find(b, sym[i]);
		if (ser[i] != NULL && ser[i]->n == 0)
			ser[i] = NULL;
		if (ser[i] == NULL)
			continue;
		/* days are ascending (marketdata_csv_parse and the Alpaca seam check it) */
		if (ser[i]->day[0] < lo)
			lo = ser[i]->day[0];
		if (ser[i]->day[ser[i]->n - 1] > hi)
			hi = ser[i]->day[ser[i]->n - 1];
	}
	/* The union by marking days in [lo, hi]: linear in bars plus days. */
	if (lo <= hi) {
		mark = xcalloc((size_t)(hi - lo + 1), 1);
		for (i = 0; i < n; i++)
			for (k = 0; ser[i] != NULL && k < ser[i]->n; k++)
				if (!mark[ser[i]->day[k] - lo]) {
					mark[ser[i]->day[k] - lo] = 1;
					m++;
				}
	}
	sc->day = xmalloc((m ? m : 1) * sizeof(*sc->day));
	for (d = lo, k = 0; mark != NULL && d <= hi; d++)
		if (mark[d - lo])
			sc->day[k++] = d;
	free(mark);
	sc->cal.day = sc->day;
	sc->cal.n = m;
	for (i = 0; i < n; i++) {
		size_t ci, bi = 0;
		int32_t last = -1;

		if (ser[i] == NULL)
			continue;
		sc->calmap[i] = xmalloc((m ? m : 1) * sizeof(*sc->calmap[i]));
		/* Forward fill: a day without a bar for this ticker reads its last close. */
		for (ci = 0; ci < m; ci++) {
			while (bi < ser[i]->n && ser[i]->day[bi] <= sc->day[ci])
				last = (int32_t)bi++;
			sc->calmap[i][ci] = last;
		}
	}
	free(ser);
	return sc;
}

const struct dsl_calendar *
dsl_bars_scope(struct dsl_bars *b, const char *const *sym, size_t n,
    const int32_t *const **calmaps)
{
	struct dsl_scope *sc;
	size_t i;

	for (sc = b->scopes; sc != NULL; sc = sc->next) {
		for (i = 0; sc->nsym == n && i < n; i++)
			if (strcmp(sc->sym[i], sym[i]) != 0)
				break;
		if (sc->nsym == n && i == n)
			break;
	}
	if (sc == NULL) {
		sc = scope_build(b, sym, n);
		sc->next = b->scopes;
		b->scopes = sc;
	}
	*calmaps = (const int32_t *const *)sc->calmap;
	return &sc->cal;
}
