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

struct strategy_set {
	char			 *path;
	struct strategy_set_entry *e;
	size_t			  n;
	const char		**tickers;
	size_t			  ntickers;
	size_t			  lookback;
};

static int	add_entry(struct strategy_set *s, const char *dir, const char *file, double alloc,
	    struct errctx *ec);
static int	finish(struct strategy_set *s, struct errctx *ec);
static int	cmp_weight(const void *a, const void *b);

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

	if (s->n == 0)
		return errctx_set(ec, -EINVAL, "no strategy files");
	for (i = 0; i < s->n; i++)
		total += s->e[i].allocation;
	if (!(total > 0))
		return errctx_set(ec, -EINVAL, "allocations sum to %g, must be > 0", total);
	for (i = 0; i < s->n; i++) {
		const char *const *t;
		size_t nt = dsl_program_tickers(s->e[i].program, &t), lb;

		s->e[i].weight = s->e[i].allocation / total;
		lb = dsl_program_lookback(s->e[i].program);
		if (lb > s->lookback)
			s->lookback = lb;
		for (j = 0; j < nt; j++) {
			for (k = 0; k < s->ntickers; k++)
				if (strcmp(s->tickers[k], t[j]) == 0)
					break;
			if (k == s->ntickers) {
				s->tickers = xreallocarray(s->tickers, s->ntickers + 1, sizeof(*s->tickers));
				s->tickers[s->ntickers++] = t[j];
			}
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

int
strategy_set_fetch(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
    struct dsl_bars *b, struct errctx *ec)
{
	struct md_series *series = xcalloc(s->ntickers ? s->ntickers : 1, sizeof(*series));
	size_t i;
	int r;

	r = md->ops->daily_bars(md, s->tickers, s->ntickers, as_of_day, s->lookback, series, ec);
	if (r == 0)
		dsl_bars_add_md(b, series, s->ntickers);
	else
		errctx_prefix(ec, "market data (%s)", md->ops->name);
	for (i = 0; i < s->ntickers; i++)
		md_series_clear(&series[i]);
	free(series);
	return r;
}

static int
cmp_weight(const void *a, const void *b)
{
	return strcmp(((const struct dsl_weight *)a)->ticker, ((const struct dsl_weight *)b)->ticker);
}

int
strategy_set_evaluate_bars(const struct strategy_set *s, struct dsl_bars *b, int64_t as_of_day,
    const struct dsl_options *opt, struct strategy_set_result *ret, struct errctx *ec)
{
	struct dsl_weight *c = NULL;
	size_t i, j, k, nc = 0;
	double total = 0;
	int first = 0;
	char first_msg[ERRCTX_MSG_MAX] = "";

	memset(ret, 0, sizeof(*ret));
	ret->s = xcalloc(s->n, sizeof(*ret->s));
	ret->ns = s->n;
	for (i = 0; i < s->n; i++) {
		struct strategy_outcome *o = &ret->s[i];
		struct errctx fec;

		errctx_clear(&fec);
		o->file = s->e[i].file;
		o->weight = s->e[i].weight;
		o->status = dsl_evaluate(s->e[i].program, b, as_of_day, opt, &o->result, &fec);
		if (o->status < 0) {
			o->error = xstrdup(errctx_msg(&fec));
			ret->nfailed++;
			if (first == 0) {
				first = o->status;
				snprintf(first_msg, sizeof(first_msg), "%s", errctx_msg(&fec));
			}
			continue;
		}
		/* §5.2 steps 4-5: scale by the file's weight and sum per ticker. */
		for (j = 0; j < o->result.n; j++) {
			const struct dsl_weight *w = &o->result.w[j];

			if (!(w->weight > 0))
				continue;
			for (k = 0; k < nc && strcmp(c[k].ticker, w->ticker) != 0; k++)
				;
			if (k == nc) {
				c = xreallocarray(c, nc + 1, sizeof(*c));
				c[nc].ticker = xstrdup(w->ticker);
				c[nc++].weight = 0;
			}
			c[k].weight += o->weight * w->weight;
		}
	}
	if (ret->nfailed == s->n)
		return errctx_set(ec, first, "every strategy failed; first: %s", first_msg);
	/* Step 6: normalise over the survivors, which also renormalises away the
	 * share of a failed file. */
	for (k = 0; k < nc; k++)
		total += c[k].weight;
	for (k = 0; k < nc; k++)
		c[k].weight /= total;
	qsort(c, nc, sizeof(*c), cmp_weight);
	ret->w = c;
	ret->n = nc;
	return 0;
}

int
strategy_set_evaluate(const struct strategy_set *s, struct marketdata *md, int64_t as_of_day,
    const struct dsl_options *opt, struct strategy_set_result *ret, struct errctx *ec)
{
	struct dsl_bars *b = dsl_bars_new();
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = strategy_set_fetch(s, md, as_of_day, b, ec)) == 0)
		r = strategy_set_evaluate_bars(s, b, as_of_day, opt, ret, ec);
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
	memset(r, 0, sizeof(*r));
}
