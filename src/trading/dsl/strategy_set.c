/* Strategy sets: load and validate the set file, fetch bars once, evaluate
 * each file independently (§7 item 26) and consolidate (seed §5.2). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/strategy_set.h"
#include "strindex.h"

struct strategy_set {
	char			 *path;
	struct strategy_set_entry *e;
	size_t			  n;
	const char		**tickers;
	size_t			  ntickers;
	size_t			  lookback;
	struct strindex		  tindex;	/* ticker -> index in tickers */
	size_t			**tmap;		/* per file: its ticker j -> index in tickers */
};

static int	add_entry(struct strategy_set *s, const char *dir, const char *file, double alloc,
	    struct errctx *ec);
static int	finish(struct strategy_set *s, struct errctx *ec);
static int	cmp_weight(const void *a, const void *b);
static int	fetch_series(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
		    struct md_series **ret, struct errctx *ec);
static void	free_series(struct md_series *series, size_t n);
static int	precheck(const struct strategy_set *s, size_t file,
		    const struct strategy_set_result *ret, struct strategy_outcome *o);
static void	failures_message(const struct strategy_set_result *ret, struct errctx *ec, int code);
static int	evaluate(const struct strategy_set *s, struct dsl_bars *b, int64_t as_of_day,
		    const struct dsl_options *opt, const struct strategy_set_policy *pol,
		    struct strategy_set_result *ret, struct errctx *ec);

static int
add_entry(struct strategy_set *s, const char *dir, const char *file, double alloc,
    struct errctx *ec)
{
	struct strategy_set_entry *e;
	struct dsl_program *p;
	char *path;
	size_t i;
	int r;

	if (*file == '\0')
		return errctx_set(ec, -EINVAL, "empty file name");
	for (i = 0; i < s->n; i++)
		if (strcmp(s->e[i].file, file) == 0)
			return errctx_set(ec, -EINVAL, "file '%s' listed twice", file);
	if (!(alloc >= 0) || !isfinite(alloc))
		return errctx_set(ec, -EINVAL, "allocation of '%s' must be a number >= 0", file);
	path = file[0] == '/' || dir == NULL ? xstrdup(file) : xasprintf("%s/%s", dir, file);
	if ((r = dsl_program_load(path, &p, ec)) < 0) {
		free(path);
		return r;
	}
	s->e = xreallocarray(s->e, s->n + 1, sizeof(*s->e));
	e = &s->e[s->n++];
	e->file = xstrdup(file);
	e->path = path;
	e->allocation = alloc;
	e->weight = 0;
	e->program = p;
	return 0;
}

static int
finish(struct strategy_set *s, struct errctx *ec)
{
	double total = 0;
	size_t i, j, k;

	/* Hashed, so a set (or one file) with 100k tickers loads in linear time. */
	if (s->n == 0)
		return errctx_set(ec, -EINVAL, "no strategy files");
	for (i = 0; i < s->n; i++)
		total += s->e[i].allocation;
	if (!(total > 0))
		return errctx_set(ec, -EINVAL, "allocations sum to %g, must be > 0", total);
	s->tmap = xcalloc(s->n, sizeof(*s->tmap));
	for (i = 0; i < s->n; i++) {
		const char *const *t;
		size_t nt = dsl_program_tickers(s->e[i].program, &t), lb;

		s->e[i].weight = s->e[i].allocation / total;
		lb = dsl_program_lookback(s->e[i].program);
		if (lb > s->lookback)
			s->lookback = lb;
		s->tmap[i] = xmalloc((nt ? nt : 1) * sizeof(**s->tmap));
		for (j = 0; j < nt; j++) {
			if (!strindex_get(&s->tindex, t[j], &k)) {
				k = s->ntickers;
				if ((k & (k - 1)) == 0)	/* grow at powers of two */
					s->tickers = xreallocarray(s->tickers, k ? 2 * k : 1,
					    sizeof(*s->tickers));
				s->tickers[s->ntickers++] = t[j];
				strindex_put(&s->tindex, t[j], k);
			}
			s->tmap[i][j] = k;
		}
	}
	return 0;
}

int
strategy_set_load(const char *path, struct strategy_set **ret, struct errctx *ec)
{
	struct strategy_set *s;
	json_t *root, *files, *allocs, *v;
	json_error_t jerr;
	const char *key, *slash = strrchr(path, '/');
	char *dir = slash != NULL ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	size_t i;
	int r = 0;

	*ret = NULL;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		free(dir);
		return errctx_set(ec, access(path, R_OK) == 0 ? -EBADMSG : -ENOENT, "%s:%d:%d: %s",
		    path, jerr.line, jerr.column, jerr.text);
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	files = json_object_get(root, "files");
	allocs = json_object_get(root, "allocations");
	if (!json_is_object(root) || (files != NULL && !json_is_array(files)) ||
	    (allocs != NULL && !json_is_object(allocs)) || (files == NULL && allocs == NULL)) {
		r = errctx_set(ec, -EINVAL, "expected {\"files\": [...], \"allocations\": {...}}");
		goto out;
	}
	if (files != NULL) {
		json_array_foreach(files, i, v) {
			json_t *a = allocs != NULL ? json_object_get(allocs, json_string_value(v) ?
			    json_string_value(v) : "") : NULL;

			if (!json_is_string(v)) {
				r = errctx_set(ec, -EINVAL, "files[%zu]: expected a string", i);
				goto out;
			}
			if (allocs != NULL && !json_is_number(a)) {
				r = errctx_set(ec, -EINVAL, "allocations: '%s' %s", json_string_value(v),
				    a == NULL ? "is missing" : "must be a number");
				goto out;
			}
			if ((r = add_entry(s, dir, json_string_value(v), a != NULL ?
			    json_number_value(a) : 1.0, ec)) < 0)
				goto out;
		}
		if (allocs != NULL && json_object_size(allocs) != s->n) {
			json_object_foreach(allocs, key, v) {
				for (i = 0; i < s->n && strcmp(s->e[i].file, key) != 0; i++)
					;
				if (i == s->n) {
					r = errctx_set(ec, -EINVAL, "allocations: '%s' is not in files", key);
					goto out;
				}
			}
		}
	} else {
		json_object_foreach(allocs, key, v) {
			if (!json_is_number(v)) {
				r = errctx_set(ec, -EINVAL, "allocations: '%s' must be a number", key);
				goto out;
			}
			if ((r = add_entry(s, dir, key, json_number_value(v), ec)) < 0)
				goto out;
		}
	}
	r = finish(s, ec);
out:
	json_decref(root);
	free(dir);
	if (r < 0) {
		errctx_prefix(ec, "%s", path);
		strategy_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int
strategy_set_load_file(const char *clj_path, struct strategy_set **ret, struct errctx *ec)
{
	struct strategy_set *s = xcalloc(1, sizeof(*s));
	int r;

	*ret = NULL;
	s->path = xstrdup(clj_path);
	if ((r = add_entry(s, NULL, clj_path, 1.0, ec)) < 0 || (r = finish(s, ec)) < 0) {
		strategy_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void
strategy_set_free(struct strategy_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free((char *)s->e[i].file);
		free((char *)s->e[i].path);
		dsl_program_free((struct dsl_program *)s->e[i].program);
	}
	for (i = 0; s->tmap != NULL && i < s->n; i++)
		free(s->tmap[i]);
	free(s->tmap);
	strindex_fini(&s->tindex);
	free(s->e);
	free(s->tickers);
	free(s->path);
	free(s);
}

size_t
strategy_set_count(const struct strategy_set *s)
{
	return s->n;
}

const struct strategy_set_entry *
strategy_set_entry(const struct strategy_set *s, size_t i)
{
	return i < s->n ? &s->e[i] : NULL;
}

size_t
strategy_set_tickers(const struct strategy_set *s, const char *const **ret)
{
	*ret = s->tickers;
	return s->ntickers;
}

size_t
strategy_set_lookback(const struct strategy_set *s)
{
	return s->lookback;
}

static const char *const policy_names[_STRATEGY_FAILURE_MAX] = {
	[STRATEGY_FAILURE_FAIL] = "fail",
	[STRATEGY_FAILURE_CASH] = "cash",
	[STRATEGY_FAILURE_RENORMALISE] = "renormalise",
};

const char *
strategy_failure_policy_to_string(enum strategy_failure_policy p)
{
	return p < _STRATEGY_FAILURE_MAX ? policy_names[p] : "?";
}

int
strategy_failure_policy_from_string(const char *s, enum strategy_failure_policy *ret)
{
	size_t i;

	for (i = 0; i < _STRATEGY_FAILURE_MAX; i++)
		if (s != NULL && strcmp(s, policy_names[i]) == 0) {
			*ret = (enum strategy_failure_policy)i;
			return 0;
		}
	return -EINVAL;
}

static int
fetch_series(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
    struct md_series **ret, struct errctx *ec)
{
	struct md_series *series = xcalloc(s->ntickers ? s->ntickers : 1, sizeof(*series));
	int r;

	r = md->ops->daily_bars(md, s->tickers, s->ntickers, as_of_day, s->lookback, series, ec);
	if (r < 0) {
		errctx_prefix(ec, "market data (%s)", md->ops->name);
		free(series);
		return r;
	}
	*ret = series;
	return 0;
}

static void
free_series(struct md_series *series, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		md_series_clear(&series[i]);
	free(series);
}

int
strategy_set_fetch(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
    struct dsl_bars *b, struct errctx *ec)
{
	struct md_series *series;
	int r;

	if ((r = fetch_series(s, md, as_of_day, &series, ec)) < 0)
		return r;
	dsl_bars_add_md(b, series, s->ntickers);
	free_series(series, s->ntickers);
	return 0;
}

static int
cmp_weight(const void *a, const void *b)
{
	return strcmp(((const struct dsl_weight *)a)->ticker, ((const struct dsl_weight *)b)->ticker);
}

/* A file fails before evaluation when a ticker it needs is not usable: the
 * first such ticker is named, with the count of the others. Also notes the
 * oldest last bar the file reads. */
static int
precheck(const struct strategy_set *s, size_t file, const struct strategy_set_result *ret,
    struct strategy_outcome *o)
{
	const struct bars_freshness *bad = NULL, *f;
	const char *const *t;
	size_t nt = dsl_program_tickers(s->e[file].program, &t), j, more = 0;
	char why[320];

	for (j = 0; j < nt; j++) {
		/* fresh[] is in set ticker order: the file's map finds its entry. */
		if (s->tmap[file][j] >= ret->nfresh)
			continue;
		f = &ret->fresh[s->tmap[file][j]];
		if (f->last_day > 0 && (o->bars_day == 0 || f->last_day < o->bars_day))
			o->bars_day = f->last_day;
		if (bars_freshness_ok(f))
			continue;
		if (bad == NULL)
			bad = f;
		else
			more++;
	}
	if (bad == NULL)
		return 0;
	bars_freshness_describe(bad, why, sizeof(why));
	o->status = bad->state == BARS_MISSING ? -ENOENT : -ENODATA;
	o->error = more > 0 ? xasprintf("%s (and %zu more ticker%s)", why, more,
	    more == 1 ? "" : "s") : xstrdup(why);
	return o->status;
}

static void
failures_message(const struct strategy_set_result *ret, struct errctx *ec, int code)
{
	char msg[ERRCTX_MSG_MAX];
	size_t i, len, nth = 0;

	len = (size_t)snprintf(msg, sizeof(msg), "%zu of %zu strategy files failed",
	    ret->nfailed, ret->ns);
	for (i = 0; i < ret->ns && len < sizeof(msg); i++)
		if (ret->s[i].status < 0)
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s %s: %s",
			    nth++ == 0 ? ":" : ";", ret->s[i].file,
			    ret->s[i].error != NULL ? ret->s[i].error : "failed");
	errctx_set(ec, code, "%s", msg);
}

static int
evaluate(const struct strategy_set *s, struct dsl_bars *b, int64_t as_of_day,
    const struct dsl_options *opt, const struct strategy_set_policy *pol,
    struct strategy_set_result *ret, struct errctx *ec)
{
	struct dsl_weight *c = NULL;
	struct strindex ci = { 0 };
	size_t i, j, k, nc = 0;
	double total = 0, kept = 0;
	int first = 0;

	ret->s = xcalloc(s->n, sizeof(*ret->s));
	ret->ns = s->n;
	for (i = 0; i < s->n; i++) {
		struct strategy_outcome *o = &ret->s[i];
		struct errctx fec;

		errctx_clear(&fec);
		o->file = s->e[i].file;
		o->weight = s->e[i].weight;
		if (pol == NULL || precheck(s, i, ret, o) == 0) {
			o->status = dsl_evaluate(s->e[i].program, b, as_of_day, opt, &o->result, &fec);
			if (o->status < 0)
				o->error = xstrdup(errctx_msg(&fec));
		}
		if (o->status < 0) {
			ret->nfailed++;
			if (first == 0)
				first = o->status;
			continue;
		}
		kept += o->weight;
		/* §5.2 steps 4-5: scale by the file's weight and sum per ticker. */
		for (j = 0; j < o->result.n; j++) {
			const struct dsl_weight *w = &o->result.w[j];

			if (!(w->weight > 0))
				continue;
			if (!strindex_get(&ci, w->ticker, &k)) {
				k = nc;
				if ((nc & (nc - 1)) == 0)	/* grow at powers of two */
					c = xreallocarray(c, nc ? 2 * nc : 1, sizeof(*c));
				c[nc].ticker = xstrdup(w->ticker);
				c[nc++].weight = 0;
				strindex_put(&ci, c[k].ticker, k);
			}
			c[k].weight += o->weight * w->weight;
		}
	}
	strindex_fini(&ci);
	ret->w = c;
	ret->n = nc;
	if (ret->nfailed == s->n) {
		failures_message(ret, ec, first);
		return errctx_prefix(ec, "every strategy failed");
	}
	if (ret->nfailed > 0 && pol != NULL && pol->on_failure == STRATEGY_FAILURE_FAIL) {
		failures_message(ret, ec, first);
		return first;
	}
	/* Step 6: normalise over the survivors. With CASH the failed files'
	 * share is not handed to the others: the weights sum to what survived. */
	if (ret->nfailed == 0 || pol == NULL || pol->on_failure != STRATEGY_FAILURE_CASH)
		kept = 1;
	for (k = 0; k < nc; k++)
		total += c[k].weight;
	for (k = 0; k < nc; k++)
		c[k].weight = c[k].weight / total * kept;
	ret->cash_weight = 1 - kept;
	qsort(c, nc, sizeof(*c), cmp_weight);
	return 0;
}

int
strategy_set_evaluate_bars(const struct strategy_set *s, struct dsl_bars *b, int64_t as_of_day,
    const struct dsl_options *opt, struct strategy_set_result *ret, struct errctx *ec)
{
	memset(ret, 0, sizeof(*ret));
	return evaluate(s, b, as_of_day, opt, NULL, ret, ec);
}

int
strategy_set_evaluate_series(const struct strategy_set *s, struct dsl_bars *b,
    const struct md_series *series, int64_t as_of_day, const struct dsl_options *opt,
    const struct strategy_set_policy *pol, struct strategy_set_result *ret, struct errctx *ec)
{
	static const struct strategy_set_policy strict;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (pol == NULL)
		pol = &strict;
	ret->session = bars_freshness_session(as_of_day);
	ret->fresh = xcalloc(s->ntickers ? s->ntickers : 1, sizeof(*ret->fresh));
	ret->nfresh = s->ntickers;
	for (i = 0; i < s->ntickers; i++) {
		/* What a fetch as of as_of_day returns: the bars on or before it. */
		struct md_series view = series[i];
		size_t lo = 0, hi = series[i].n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (series[i].bars[mid].day <= as_of_day)
				lo = mid + 1;
			else
				hi = mid;
		}
		view.n = lo;
		if (lo < series[i].n)
			view.later_day = series[i].bars[lo].day;
		bars_freshness_check(&view, as_of_day, &pol->fresh, &ret->fresh[i]);
		/* Borrow the set's copy: the caller may free the series first. */
		ret->fresh[i].symbol = s->tickers[i];
		if (ret->fresh[i].last_day > 0 &&
		    (ret->bars_day == 0 || ret->fresh[i].last_day < ret->bars_day))
			ret->bars_day = ret->fresh[i].last_day;
	}
	return evaluate(s, b, as_of_day, opt, pol, ret, ec);
}

int
strategy_set_evaluate(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
    const struct dsl_options *opt, const struct strategy_set_policy *pol,
    struct strategy_set_result *ret, struct errctx *ec)
{
	struct md_series *series;
	struct dsl_bars *b;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = fetch_series(s, md, as_of_day, &series, ec)) < 0)
		return r;
	b = dsl_bars_new();
	dsl_bars_add_md(b, series, s->ntickers);
	r = strategy_set_evaluate_series(s, b, series, as_of_day, opt, pol, ret, ec);
	free_series(series, s->ntickers);
	dsl_bars_free(b);
	return r;
}

void
strategy_set_result_clear(struct strategy_set_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ns; i++) {
		free(r->s[i].error);
		dsl_result_clear(&r->s[i].result);
	}
	free(r->s);
	for (i = 0; i < r->n; i++)
		free(r->w[i].ticker);
	free(r->w);
	free(r->fresh);
	memset(r, 0, sizeof(*r));
}
