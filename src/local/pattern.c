/*
 * pattern: compile an EventBridge event pattern into a tree of conditions and
 * match events against it. See include/alchemiser/local/pattern.h for the
 * semantics; pattern_text.c has the string helpers (case folding, wildcard,
 * cidr) shared by the conditions.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/pattern.h"
#include "pattern_internal.h"

#define PATH_MAX_LEN 256

enum cond_kind {
	COND_EXACT,
	COND_PREFIX,
	COND_SUFFIX,
	COND_EQUALS_IGNORE_CASE,
	COND_WILDCARD,
	COND_ANYTHING_BUT,
	COND_NUMERIC,
	COND_CIDR,
	COND_EXISTS,
	_COND_MAX
};

struct scalar {
	json_type	 type;		/* JSON_STRING, JSON_INTEGER, JSON_REAL, JSON_TRUE, ... */
	char		*s;
	size_t		 len;
	json_int_t	 i;
	double		 d;
};

struct cond {
	enum cond_kind	 kind;
	bool		 ignore_case;	/* prefix/suffix with equals-ignore-case */
	struct scalar	 value;		/* exact; the string of prefix/suffix/eic */
	struct folded	 folded;	/* folded value when ignore_case */
	struct wildcard	*wc;
	struct cond	*inner;		/* anything-but: the conditions it negates */
	size_t		 n_inner;
	bool		 has_lo, lo_incl, has_hi, hi_incl;
	double		 lo, hi;
	struct cidr	 cidr;
	bool		 exists;
};

struct field {
	char		*name;
	struct node	*sub;		/* object pattern, or NULL for a leaf */
	struct cond	*conds;
	size_t		 n_conds;
};

struct node {
	struct field	*fields;
	size_t		 n_fields;
	struct node	**alts;		/* "$or" alternatives, n_alts >= 2 or 0 */
	size_t		 n_alts;
};

struct pattern {
	struct node	*root;
};

static int	compile_node(const json_t *obj, char *path, struct node **ret, struct errctx *ec);
static int	compile_leaf(const json_t *arr, char *path, struct field *f, struct errctx *ec);
static int	compile_cond(const json_t *v, char *path, struct cond *c, struct errctx *ec);
static void	node_free(struct node *n);
static void	cond_clear(struct cond *c);
static bool	node_match(const struct node *n, const json_t *obj);

/* Errors say where: "pattern 'detail.state[1]': ...". */
static int
perr(struct errctx *ec, const char *path, const char *fmt, ...)
{
	char msg[ERRCTX_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return errctx_set(ec, -EINVAL, "pattern '%s': %s", *path != '\0' ? path : "(top)", msg);
}

static size_t
path_push(char *path, const char *fmt, ...)
{
	size_t n = strlen(path);
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(path + n, PATH_MAX_LEN - n, fmt, ap);
	va_end(ap);
	return n;
}

static int
scalar_set(struct scalar *s, const json_t *v)
{
	memset(s, 0, sizeof *s);
	s->type = json_typeof(v);
	switch (s->type) {
	case JSON_STRING:
		s->len = json_string_length(v);
		s->s = xmalloc(s->len + 1);
		memcpy(s->s, json_string_value(v), s->len + 1);
		return 0;
	case JSON_INTEGER:
		s->i = json_integer_value(v);
		s->d = (double)s->i;
		return 0;
	case JSON_REAL:
		s->d = json_real_value(v);
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return 0;
	default:
		return -EINVAL;
	}
}

static bool
is_number(const json_t *v)
{
	return json_is_integer(v) || json_is_real(v);
}

static double
number_value(const json_t *v)
{
	return json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
}

/* A string operand of an operator; ignore-case forms fold it once here. */
static int
compile_string_op(const json_t *arg, const char *op, char *path, struct cond *c,
    bool allow_ignore_case, struct errctx *ec)
{
	const json_t *inner;

	if (json_is_object(arg) && allow_ignore_case) {
		inner = json_object_get(arg, "equals-ignore-case");
		if (json_object_size(arg) != 1 || !json_is_string(inner))
			return perr(ec, path, "%s: expected a string or {\"equals-ignore-case\": string}", op);
		c->ignore_case = true;
		arg = inner;
	}
	if (!json_is_string(arg))
		return perr(ec, path, "%s: expected a string", op);
	(void)scalar_set(&c->value, arg);
	if (c->ignore_case)
		pattern_fold(c->value.s, c->value.len, &c->folded);
	return 0;
}

static int
compile_numeric(const json_t *arg, char *path, struct cond *c, struct errctx *ec)
{
	size_t n = json_array_size(arg), i;

	if (!json_is_array(arg) || (n != 2 && n != 4))
		return perr(ec, path, "numeric: expected [op, number] or [op, number, op, number]");
	for (i = 0; i < n; i += 2) {
		const char *op = json_string_value(json_array_get(arg, i));
		const json_t *num = json_array_get(arg, i + 1);
		double d;

		if (op == NULL)
			return perr(ec, path, "numeric: operator %zu is not a string", i / 2 + 1);
		if (!is_number(num))
			return perr(ec, path, "numeric: expected a number after '%s'", op);
		d = number_value(num);
		if (!isfinite(d))
			return perr(ec, path, "numeric: value is not finite");
		if (strcmp(op, "=") == 0) {
			if (n != 2)
				return perr(ec, path, "numeric: '=' cannot be combined with another operator");
			c->has_lo = c->has_hi = c->lo_incl = c->hi_incl = true;
			c->lo = c->hi = d;
		} else if (strcmp(op, ">") == 0 || strcmp(op, ">=") == 0) {
			if (c->has_lo)
				return perr(ec, path, "numeric: two lower bounds");
			c->has_lo = true;
			c->lo_incl = op[1] == '=';
			c->lo = d;
		} else if (strcmp(op, "<") == 0 || strcmp(op, "<=") == 0) {
			if (c->has_hi)
				return perr(ec, path, "numeric: two upper bounds");
			c->has_hi = true;
			c->hi_incl = op[1] == '=';
			c->hi = d;
		} else
			return perr(ec, path, "numeric: unknown operator '%s' (=, <, <=, >, >=)", op);
	}
	if (c->has_lo && c->has_hi && c->lo > c->hi)
		return perr(ec, path, "numeric: empty range (lower bound above upper bound)");
	return 0;
}

/* anything-but: a list of inner conditions; the value matches when none does. */
static int
compile_anything_but(const json_t *arg, char *path, struct cond *c, struct errctx *ec)
{
	const char *key;
	const json_t *v, *op;
	size_t i, n;
	int r;

	if (json_is_object(arg)) {
		if (json_object_size(arg) != 1)
			return perr(ec, path, "anything-but: expected one operator");
		key = json_object_iter_key(json_object_iter((json_t *)arg));
		op = json_object_get(arg, key);
		if (strcmp(key, "prefix") != 0 && strcmp(key, "suffix") != 0 &&
		    strcmp(key, "equals-ignore-case") != 0 && strcmp(key, "wildcard") != 0)
			return perr(ec, path, "anything-but: unsupported operator '%s' (prefix, suffix, equals-ignore-case, wildcard)", key);
		/* equals-ignore-case and wildcard also take a list of strings. */
		n = json_is_array(op) ? json_array_size(op) : 1;
		if (json_is_array(op) && (strcmp(key, "prefix") == 0 || strcmp(key, "suffix") == 0))
			return perr(ec, path, "anything-but: %s: expected a string", key);
		if (n == 0)
			return perr(ec, path, "anything-but: %s: empty list", key);
		c->inner = xcalloc(n, sizeof *c->inner);
		for (i = 0; i < n; i++) {
			json_t *wrap = json_pack("{sO}", key, json_is_array(op) ? json_array_get(op, i) : op);

			c->n_inner = i + 1;
			r = compile_cond(wrap, path, &c->inner[i], ec);
			json_decref(wrap);
			if (r < 0)
				return errctx_prefix(ec, "anything-but");
		}
		return 0;
	}
	if (json_is_array(arg)) {
		n = json_array_size(arg);
		if (n == 0)
			return perr(ec, path, "anything-but: empty list");
		for (i = 0; i < n; i++) {
			v = json_array_get(arg, i);
			if (!json_is_string(v) && !is_number(v))
				return perr(ec, path, "anything-but: list element %zu is not a string or a number", i);
			if (json_is_string(v) != json_is_string(json_array_get(arg, 0)))
				return perr(ec, path, "anything-but: a list must hold only strings or only numbers");
		}
	} else if (!json_is_string(arg) && !is_number(arg))
		return perr(ec, path, "anything-but: expected a string, a number, a list or an operator object");
	n = json_is_array(arg) ? json_array_size(arg) : 1;
	c->inner = xcalloc(n, sizeof *c->inner);
	c->n_inner = n;
	for (i = 0; i < n; i++) {
		c->inner[i].kind = COND_EXACT;
		(void)scalar_set(&c->inner[i].value, json_is_array(arg) ? json_array_get(arg, i) : arg);
	}
	return 0;
}

static int
compile_cond(const json_t *v, char *path, struct cond *c, struct errctx *ec)
{
	const char *op;
	const json_t *arg;

	memset(c, 0, sizeof *c);
	if (!json_is_object(v)) {
		if (json_is_array(v))
			return perr(ec, path, "nested arrays are not allowed in a match list");
		c->kind = COND_EXACT;
		(void)scalar_set(&c->value, v);
		return 0;
	}
	if (json_object_size(v) != 1)
		return perr(ec, path, "an operator object needs exactly one key, got %zu",
		    json_object_size(v));
	op = json_object_iter_key(json_object_iter((json_t *)v));
	arg = json_object_get(v, op);
	if (strcmp(op, "prefix") == 0) {
		c->kind = COND_PREFIX;
		return compile_string_op(arg, op, path, c, true, ec);
	}
	if (strcmp(op, "suffix") == 0) {
		c->kind = COND_SUFFIX;
		return compile_string_op(arg, op, path, c, true, ec);
	}
	if (strcmp(op, "equals-ignore-case") == 0) {
		c->kind = COND_EQUALS_IGNORE_CASE;
		c->ignore_case = true;
		return compile_string_op(arg, op, path, c, false, ec);
	}
	if (strcmp(op, "wildcard") == 0) {
		char why[128];

		c->kind = COND_WILDCARD;
		if (!json_is_string(arg))
			return perr(ec, path, "wildcard: expected a string");
		c->wc = pattern_wildcard_compile(json_string_value(arg), json_string_length(arg),
		    why, sizeof why);
		if (c->wc == NULL)
			return perr(ec, path, "wildcard: %s", why);
		return 0;
	}
	if (strcmp(op, "anything-but") == 0) {
		c->kind = COND_ANYTHING_BUT;
		return compile_anything_but(arg, path, c, ec);
	}
	if (strcmp(op, "numeric") == 0) {
		c->kind = COND_NUMERIC;
		return compile_numeric(arg, path, c, ec);
	}
	if (strcmp(op, "cidr") == 0) {
		c->kind = COND_CIDR;
		if (!json_is_string(arg) || pattern_cidr_parse(json_string_value(arg), &c->cidr) < 0)
			return perr(ec, path, "cidr: expected an IPv4 or IPv6 prefix such as \"10.0.0.0/24\"");
		return 0;
	}
	if (strcmp(op, "exists") == 0) {
		c->kind = COND_EXISTS;
		if (!json_is_boolean(arg))
			return perr(ec, path, "exists: expected true or false");
		c->exists = json_is_true(arg);
		return 0;
	}
	return perr(ec, path, "unknown operator '%s'", op);
}

static int
compile_leaf(const json_t *arr, char *path, struct field *f, struct errctx *ec)
{
	size_t i, n = json_array_size(arr), mark;
	int r;

	if (n == 0)
		return perr(ec, path, "empty match list");
	f->conds = xcalloc(n, sizeof *f->conds);
	for (i = 0; i < n; i++) {
		mark = path_push(path, "[%zu]", i);
		f->n_conds = i + 1;
		r = compile_cond(json_array_get(arr, i), path, &f->conds[i], ec);
		path[mark] = '\0';
		if (r < 0)
			return r;
	}
	return 0;
}

/* "$or" is the OR primitive only as an array of objects, as in event-ruler. */
static bool
is_or_array(const json_t *v)
{
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	for (i = 0; i < json_array_size(v); i++)
		if (!json_is_object(json_array_get(v, i)))
			return false;
	return true;
}

static int
compile_node(const json_t *obj, char *path, struct node **ret, struct errctx *ec)
{
	struct node *n;
	const char *key;
	json_t *v;
	size_t mark, i;
	int r = 0;

	n = xcalloc(1, sizeof *n);
	*ret = n;
	if (json_object_size(obj) == 0)
		return perr(ec, path, "empty pattern object");
	n->fields = xcalloc(json_object_size(obj), sizeof *n->fields);
	json_object_foreach((json_t *)obj, key, v) {
		mark = path_push(path, "%s%s", *path != '\0' ? "." : "", key);
		if (strcmp(key, "$or") == 0 && is_or_array(v)) {
			if (json_array_size(v) < 2) {
				r = perr(ec, path, "needs at least 2 patterns");
				goto out;
			}
			n->alts = xcalloc(json_array_size(v), sizeof *n->alts);
			for (i = 0; i < json_array_size(v); i++) {
				size_t m2 = path_push(path, "[%zu]", i);

				n->n_alts = i + 1;
				r = compile_node(json_array_get(v, i), path, &n->alts[i], ec);
				path[m2] = '\0';
				if (r < 0)
					goto out;
			}
		} else {
			struct field *f = &n->fields[n->n_fields++];

			f->name = xstrdup(key);
			if (json_is_object(v))
				r = compile_node(v, path, &f->sub, ec);
			else if (json_is_array(v))
				r = compile_leaf(v, path, f, ec);
			else
				r = perr(ec, path, "expected an array of match values or an object, got %s",
				    json_is_string(v) ? "a string" : json_is_null(v) ? "null" : "a scalar");
			if (r < 0)
				goto out;
		}
		path[mark] = '\0';
	}
	return 0;
out:
	path[mark] = '\0';
	return r;
}

int
pattern_compile(const json_t *pattern, struct pattern **ret, struct errctx *ec)
{
	struct pattern *p;
	char path[PATH_MAX_LEN] = "";
	int r;

	*ret = NULL;
	if (!json_is_object(pattern))
		return errctx_set(ec, -EINVAL, "pattern: expected a JSON object");
	pattern_fold_init();
	p = xcalloc(1, sizeof *p);
	r = compile_node(pattern, path, &p->root, ec);
	if (r < 0) {
		pattern_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int
pattern_compile_text(const char *text, struct pattern **ret, struct errctx *ec)
{
	json_error_t jerr;
	json_t *j;
	int r;

	*ret = NULL;
	j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return errctx_set(ec, -EINVAL, "pattern: invalid JSON at %d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
	r = pattern_compile(j, ret, ec);
	json_decref(j);
	return r;
}

static void
cond_clear(struct cond *c)
{
	size_t i;

	free(c->value.s);
	free(c->folded.cp);
	pattern_wildcard_free(c->wc);
	for (i = 0; i < c->n_inner; i++)
		cond_clear(&c->inner[i]);
	free(c->inner);
}

static void
node_free(struct node *n)
{
	size_t i, j;

	if (n == NULL)
		return;
	for (i = 0; i < n->n_fields; i++) {
		free(n->fields[i].name);
		node_free(n->fields[i].sub);
		for (j = 0; j < n->fields[i].n_conds; j++)
			cond_clear(&n->fields[i].conds[j]);
		free(n->fields[i].conds);
	}
	free(n->fields);
	for (i = 0; i < n->n_alts; i++)
		node_free(n->alts[i]);
	free(n->alts);
	free(n);
}

void
pattern_free(struct pattern *p)
{
	if (p == NULL)
		return;
	node_free(p->root);
	free(p);
}

/* ---- matching ---- */

static bool
exact_match(const struct scalar *s, const json_t *v)
{
	switch (s->type) {
	case JSON_STRING:
		return json_is_string(v) && json_string_length(v) == s->len &&
		    memcmp(json_string_value(v), s->s, s->len) == 0;
	case JSON_INTEGER:
		if (json_is_integer(v))
			return json_integer_value(v) == s->i;
		return json_is_real(v) && json_real_value(v) == s->d;
	case JSON_REAL:
		return is_number(v) && number_value(v) == s->d;
	default:
		return json_typeof(v) == s->type;
	}
}

static bool
ends_with(const char *s, size_t n, const char *suf, size_t m)
{
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Case-insensitive prefix/suffix/equality on folded code points. */
static bool
folded_match(const struct cond *c, const char *s, size_t n)
{
	struct folded f;
	bool ok = false;

	pattern_fold(s, n, &f);
	switch (c->kind) {
	case COND_PREFIX:
		ok = f.n >= c->folded.n &&
		    memcmp(f.cp, c->folded.cp, c->folded.n * sizeof *f.cp) == 0;
		break;
	case COND_SUFFIX:
		ok = f.n >= c->folded.n &&
		    memcmp(f.cp + f.n - c->folded.n, c->folded.cp, c->folded.n * sizeof *f.cp) == 0;
		break;
	default:
		ok = f.n == c->folded.n &&
		    memcmp(f.cp, c->folded.cp, c->folded.n * sizeof *f.cp) == 0;
		break;
	}
	free(f.cp);
	return ok;
}

/* One condition against one present leaf value (exists is handled by the caller). */
static bool
cond_match(const struct cond *c, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? json_string_length(v) : 0, i;
	double d;

	switch (c->kind) {
	case COND_EXACT:
		return exact_match(&c->value, v);
	case COND_PREFIX:
		if (s == NULL)
			return false;
		if (c->ignore_case)
			return folded_match(c, s, n);
		return n >= c->value.len && memcmp(s, c->value.s, c->value.len) == 0;
	case COND_SUFFIX:
		if (s == NULL)
			return false;
		if (c->ignore_case)
			return folded_match(c, s, n);
		return ends_with(s, n, c->value.s, c->value.len);
	case COND_EQUALS_IGNORE_CASE:
		return s != NULL && folded_match(c, s, n);
	case COND_WILDCARD:
		return s != NULL && pattern_wildcard_match(c->wc, s, n);
	case COND_ANYTHING_BUT:
		for (i = 0; i < c->n_inner; i++)
			if (cond_match(&c->inner[i], v))
				return false;
		return true;
	case COND_NUMERIC:
		if (!is_number(v))
			return false;
		d = number_value(v);
		if (c->has_lo && (c->lo_incl ? d < c->lo : d <= c->lo))
			return false;
		if (c->has_hi && (c->hi_incl ? d > c->hi : d >= c->hi))
			return false;
		return true;
	case COND_CIDR:
		return s != NULL && pattern_cidr_match(&c->cidr, s);
	default:
		return false;
	}
}

/* Leaf values of a field: a scalar, or the non-object scalars of a (nested) array. */
static bool
any_leaf_matches(const struct cond *c, const json_t *v)
{
	size_t i;

	if (v == NULL || json_is_object(v))
		return false;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (any_leaf_matches(c, json_array_get(v, i)))
				return true;
		return false;
	}
	return cond_match(c, v);
}

static bool
has_leaf(const json_t *v)
{
	size_t i;

	if (v == NULL || json_is_object(v))
		return false;
	if (!json_is_array(v))
		return true;
	for (i = 0; i < json_array_size(v); i++)
		if (has_leaf(json_array_get(v, i)))
			return true;
	return false;
}

static bool
leaf_match(const struct field *f, const json_t *v)
{
	size_t i;

	for (i = 0; i < f->n_conds; i++) {
		const struct cond *c = &f->conds[i];

		if (c->kind == COND_EXISTS) {
			if (has_leaf(v) == c->exists)
				return true;
		} else if (any_leaf_matches(c, v))
			return true;
	}
	return false;
}

/* An object sub-pattern against the objects found in v (crushing arrays);
 * with none, against an absent object, so exists:false can still hold. */
static bool
sub_match(const struct node *sub, const json_t *v, bool *seen)
{
	size_t i;

	if (json_is_object(v)) {
		*seen = true;
		return node_match(sub, v);
	}
	if (json_is_array(v))
		for (i = 0; i < json_array_size(v); i++)
			if (sub_match(sub, json_array_get(v, i), seen))
				return true;
	return false;
}

static bool
node_match(const struct node *n, const json_t *obj)
{
	size_t i;
	bool any;

	for (i = 0; i < n->n_fields; i++) {
		const struct field *f = &n->fields[i];
		const json_t *v = obj != NULL ? json_object_get(obj, f->name) : NULL;

		if (f->sub != NULL) {
			bool seen = false;

			if (sub_match(f->sub, v, &seen))
				continue;
			if (seen || !node_match(f->sub, NULL))
				return false;
		} else if (!leaf_match(f, v))
			return false;
	}
	if (n->n_alts == 0)
		return true;
	for (i = 0, any = false; i < n->n_alts && !any; i++)
		any = node_match(n->alts[i], obj);
	return any;
}

bool
pattern_match(const struct pattern *p, const json_t *event)
{
	if (p == NULL || !json_is_object(event))
		return false;
	return node_match(p->root, event);
}

int
pattern_cli_test(const char *pattern_json, const char *event_json, FILE *out)
{
	struct pattern *p = NULL;
	struct errctx ec;
	json_error_t jerr;
	json_t *ev;
	bool ok;

	errctx_clear(&ec);
	if (pattern_compile_text(pattern_json, &p, &ec) < 0) {
		fprintf(out, "error: %s\n", errctx_msg(&ec));
		return 2;
	}
	ev = json_loads(event_json, 0, &jerr);
	if (!json_is_object(ev)) {
		fprintf(out, "error: event: %s\n", ev == NULL ? jerr.text : "expected a JSON object");
		json_decref(ev);
		pattern_free(p);
		return 2;
	}
	ok = pattern_match(p, ev);
	fprintf(out, "%s\n", ok ? "true" : "false");
	json_decref(ev);
	pattern_free(p);
	return ok ? 0 : 1;
}
