#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/strlist.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"

#define CONFIG_LINE_MAX 4096

struct config_value {
	const struct config_key *key;
	char		*raw;		/* text as written (or the default) */
	unsigned	 line;		/* 0 = default */
	char		*str;		/* STRING, PATH (resolved), ENUM */
	int64_t		 num;		/* INT, DURATION, BOOL */
	struct decimal	 dec;
	char		**items;	/* LIST */
	size_t		 n_items;
	struct secret	*secret;	/* SECRET */
};

struct config {
	atomic_int		 refs;
	char			*origin;
	char			*basedir;
	size_t			 n;
	struct config_value	*values;
};

/* The parse state: where we are and every problem found so far. */
struct parser {
	const char	*origin;
	FILE		*errors;
	struct errctx	*ec;
	int		 n_errors;
};

static void problem(struct parser *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[ERRCTX_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->n_errors == 0) {
		if (line > 0)
			errctx_set(p->ec, -EINVAL, "%s:%u: %s", p->origin, line, msg);
		else
			errctx_set(p->ec, -EINVAL, "%s: %s", p->origin, msg);
	}
	if (p->errors != NULL) {
		if (line > 0)
			fprintf(p->errors, "%s:%u: %s\n", p->origin, line, msg);
		else
			fprintf(p->errors, "%s: %s\n", p->origin, msg);
	}
	p->n_errors++;
}

/* Levenshtein distance, bounded inputs (key names). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[128], cur[128];

	if (la >= ELEMENTSOF(prev) || lb >= ELEMENTSOF(prev))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, sizeof(size_t) * (lb + 1));
	}
	return prev[lb];
}

static const char *
nearest_key(const char *name)
{
	const struct config_key *k, *best = NULL;
	size_t d, best_d = SIZE_MAX;

	for (k = config_table(); k->name != NULL; k++) {
		d = edit_distance(name, k->name);
		if (d < best_d) {
			best_d = d;
			best = k;
		}
	}
	/* Only suggest when it plausibly is a typo. */
	return best != NULL && best_d <= 4 ? best->name : NULL;
}

static int
parse_bool(const char *s, bool *ret)
{
	static const char *yes[] = { "yes", "true", "on", "1" }, *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_duration(const char *s, int64_t *ret)
{
	static const struct { const char *suffix; int64_t usec; } units[] = {
		{ "us", 1 }, { "ms", USEC_PER_MSEC }, { "s", USEC_PER_SEC },
		{ "m", 60 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC }, { "d", USEC_PER_DAY },
	};
	char *end;
	long long v;
	size_t i;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0 || !isdigit((unsigned char)*s))
		return -EINVAL;
	if (*end == '\0')
		return -EINVAL;	/* a unit is required: "30" is ambiguous */
	for (i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > INT64_MAX / units[i].usec)
				return -ERANGE;
			*ret = (int64_t)v * units[i].usec;
			return 0;
		}
	}
	return -EINVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
value_clear(struct config_value *v)
{
	size_t i;

	free(v->raw);
	free(v->str);
	for (i = 0; i < v->n_items; i++)
		free(v->items[i]);
	free(v->items);
	secret_free(v->secret);
	memset(v, 0, sizeof *v);
}

/* Convert raw text into the typed value; report problems against line. */
static void
value_set(struct config *c, struct parser *p, struct config_value *v,
    const struct config_key *k, const char *raw, unsigned line)
{
	struct errctx sub = { 0 };
	bool b;
	int r;

	value_clear(v);
	v->key = k;
	v->raw = xstrdup(raw);
	v->line = line;
	switch (k->type) {
	case CONFIG_STRING:
		v->str = xstrdup(raw);
		break;
	case CONFIG_PATH:
		if (raw[0] == '\0' || raw[0] == '/' || c->basedir == NULL || line == 0)
			v->str = xstrdup(raw);
		else
			v->str = xasprintf("%s/%s", c->basedir, raw);
		break;
	case CONFIG_ENUM:
		if (!strlist_has(k->choices, raw))
			problem(p, line, "key '%s': '%s' is not one of %s", k->name, raw, k->choices);
		v->str = xstrdup(raw);
		break;
	case CONFIG_INT: {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(raw, &end, 10);
		if (errno != 0 || end == raw || *end != '\0')
			problem(p, line, "key '%s': '%s' is not an integer", k->name, raw);
		else if ((k->min != 0 || k->max != 0) && (n < k->min || n > k->max))
			problem(p, line, "key '%s': %lld is outside %lld..%lld", k->name, n,
			    (long long)k->min, (long long)k->max);
		v->num = n;
		break;
	}
	case CONFIG_BOOL:
		if (parse_bool(raw, &b) < 0)
			problem(p, line, "key '%s': '%s' is not a boolean (yes/no)", k->name, raw);
		else
			v->num = b;
		break;
	case CONFIG_DURATION:
		if (parse_duration(raw, &v->num) < 0)
			problem(p, line, "key '%s': '%s' is not a duration (e.g. 250ms, 30s, 5m, 2h, 400d)",
			    k->name, raw);
		else if ((k->min != 0 || k->max != 0) && (v->num < k->min || v->num > k->max))
			problem(p, line, "key '%s': %s is outside %llds..%llds", k->name, raw,
			    (long long)(k->min / USEC_PER_SEC), (long long)(k->max / USEC_PER_SEC));
		break;
	case CONFIG_DECIMAL:
		r = decimal_parse(raw, &v->dec, &sub);
		if (r < 0)
			problem(p, line, "key '%s': %s", k->name, errctx_msg(&sub));
		else if ((k->min != 0 || k->max != 0) && (v->dec.units < k->min || v->dec.units > k->max)) {
			char lo[DECIMAL_STRLEN], hi[DECIMAL_STRLEN];

			problem(p, line, "key '%s': %s is outside %s..%s", k->name, raw,
			    decimal_format(decimal_from_units(k->min), lo),
			    decimal_format(decimal_from_units(k->max), hi));
		}
		break;
	case CONFIG_LIST: {
		char *copy = xstrdup(raw), *save = NULL, *tok;

		for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			char *t = trim(tok);

			if (*t == '\0')
				continue;
			v->items = xreallocarray(v->items, v->n_items + 1, sizeof *v->items);
			v->items[v->n_items++] = xstrdup(t);
		}
		free(copy);
		break;
	}
	case CONFIG_SECRET:
		if (raw[0] == '\0')
			break;
		/* Relative names stay names: secret_load() looks in $CREDENTIALS_DIRECTORY. */
		r = secret_load(raw, &v->secret, &sub);
		if (r < 0)
			problem(p, line, "key '%s': %s", k->name, errctx_msg(&sub));
		break;
	default:
		problem(p, line, "key '%s': unknown type", k->name);
	}
}

static struct config *
config_new(const char *origin, const char *basedir)
{
	struct config *c = xcalloc(1, sizeof *c);
	const struct config_key *k;

	atomic_init(&c->refs, 1);
	c->origin = xstrdup(origin);
	c->basedir = xstrdup_or_null(basedir);
	for (k = config_table(); k->name != NULL; k++)
		c->n++;
	c->values = xcalloc(c->n, sizeof *c->values);
	return c;
}

/* Unquote "..." with \" and \\ escapes, or cut an unquoted value at " #" / " ;". */
static int
unquote(char *v, char **ret)
{
	char *r, *w;

	v = trim(v);
	if (*v != '"') {
		char *hash = v;

		while ((hash = strpbrk(hash, "#;")) != NULL) {
			if (hash > v && isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
			hash++;
		}
		*ret = trim(v);
		return 0;
	}
	for (r = v + 1, w = v; *r != '\0' && *r != '"'; r++) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (*r != '"')
		return -EINVAL;
	r = trim(r + 1);
	if (*r != '\0' && *r != '#' && *r != ';')
		return -EINVAL;
	*w = '\0';
	*ret = v;
	return 0;
}

static void
parse_text(struct config *c, struct parser *p, const char *text)
{
	char section[64] = "", line[CONFIG_LINE_MAX], name[192];
	const char *pos = text;
	unsigned lineno = 0;

	while (*pos != '\0') {
		const char *nl = strchr(pos, '\n');
		size_t len = nl != NULL ? (size_t)(nl - pos) : strlen(pos);
		char *s, *eq, *key, *val;
		const struct config_key *k;

		lineno++;
		if (len >= sizeof line) {
			problem(p, lineno, "line longer than %zu bytes", sizeof line - 1);
			pos += len + (nl != NULL);
			continue;
		}
		memcpy(line, pos, len);
		line[len] = '\0';
		pos += len + (nl != NULL);
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL || trim(end + 1)[0] != '\0') {
				problem(p, lineno, "malformed section header '%s'", s);
				continue;
			}
			*end = '\0';
			(void)snprintf(section, sizeof section, "%s", trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			problem(p, lineno, "expected 'key = value', got '%s'", s);
			continue;
		}
		*eq = '\0';
		key = trim(s);
		if (section[0] == '\0') {
			problem(p, lineno, "key '%s' outside any [section]", key);
			continue;
		}
		(void)snprintf(name, sizeof name, "%s.%s", section, key);
		k = config_table_find(name);
		if (k == NULL) {
			const char *near = nearest_key(name);

			if (near != NULL)
				problem(p, lineno, "unknown key '%s' (did you mean '%s'?)", name, near);
			else
				problem(p, lineno, "unknown key '%s'", name);
			continue;
		}
		if (unquote(eq + 1, &val) < 0) {
			problem(p, lineno, "key '%s': unterminated or malformed quoted value", name);
			continue;
		}
		if (c->values[k - config_table()].line != 0) {
			problem(p, lineno, "key '%s' set twice (first on line %u)", name,
			    c->values[k - config_table()].line);
			continue;
		}
		value_set(c, p, &c->values[k - config_table()], k, val, lineno);
	}
}

static void
apply_defaults(struct config *c, struct parser *p)
{
	const struct config_key *k;
	size_t i;

	for (k = config_table(), i = 0; k->name != NULL; k++, i++) {
		if (c->values[i].key != NULL)
			continue;
		if (k->def == NULL) {
			problem(p, 0, "required key '%s' is not set", k->name);
			continue;
		}
		value_set(c, p, &c->values[i], k, k->def, 0);
	}
}

/* Keys whose endpoint receives a credential: the Alpaca key and secret go in
 * headers, an AWS request carries its session token and signature. (The
 * instance metadata endpoint is plain HTTP by design and link-local.) */
static const char *const secret_endpoints[] = {
	"trading.alpaca_url", "trading.alpaca_data_url", "aws.sqs_endpoint", "aws.events_endpoint",
	"aws.dynamodb_endpoint", "aws.sts_endpoint",
};

/* "http://HOST[:port][/...]" with HOST localhost, 127.x.x.x or [::1]. */
static bool
http_loopback(const char *url)
{
	const char *h = url + strlen("http://");
	size_t n;

	if (*h == '[')
		return strncmp(h, "[::1]", 5) == 0 && strchr(":/", h[5]) != NULL;
	n = strcspn(h, ":/?#");
	if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	if (strncmp(h, "127.", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			return false;
	return true;
}

/* 1: plain http to a host that is not loopback; 0: fine; -1: not a URL we use. */
static int
endpoint_kind(const char *url)
{
	if (*url == '\0' || strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (strncasecmp(url, "http://", 7) != 0)
		return -1;
	return http_loopback(url) ? 0 : 1;
}

static void
check_endpoints(struct config *c, struct parser *p)
{
	bool allow = config_bool(c, "daemon.allow_plain_http");

	for (size_t i = 0; i < ELEMENTSOF(secret_endpoints); i++) {
		const char *url = config_str(c, secret_endpoints[i]);
		int k = endpoint_kind(url);

		if (k < 0)
			problem(p, 0, "%s: '%s' is not an https:// URL", secret_endpoints[i], url);
		else if (k > 0 && !allow)
			problem(p, 0, "%s: http:// would send credentials in clear text to '%s'; use "
			    "https:// (plain http is allowed to a loopback host, or with "
			    "daemon.allow_plain_http = yes)", secret_endpoints[i], url);
	}
}

char *
config_plain_http_endpoints(const struct config *c)
{
	char *out = NULL, *next;

	for (size_t i = 0; i < ELEMENTSOF(secret_endpoints); i++) {
		const char *url = config_str(c, secret_endpoints[i]);

		if (endpoint_kind(url) <= 0)
			continue;
		next = out == NULL ? xasprintf("%s = %s", secret_endpoints[i], url) :
		    xasprintf("%s, %s = %s", out, secret_endpoints[i], url);
		free(out);
		out = next;
	}
	return out;
}

/* http.listen: a numeric ADDRESS:PORT ([IPv6]:PORT); anything but loopback
 * needs http.token. The same rules as httpd_listen_parse, checked here so
 * that --check-config sees them and the daemon exits 2 like for any other
 * configuration error. */
static void
check_listen(struct config *c, struct parser *p)
{
	const char *l = config_str(c, "http.listen"), *h = l, *colon;
	unsigned char addr[16];
	char host[64], *end;
	size_t hlen;
	unsigned long port;
	bool loopback;

	if (l[0] == '\0')
		return;
	if (l[0] == '[') {
		const char *close = strchr(l, ']');

		colon = close != NULL && close[1] == ':' ? close + 1 : NULL;
		h = l + 1;
		hlen = close != NULL ? (size_t)(close - h) : 0;
	} else {
		colon = strrchr(l, ':');
		hlen = colon != NULL ? (size_t)(colon - l) : 0;
	}
	if (colon == NULL || hlen == 0 || hlen >= sizeof host) {
		problem(p, 0, "http.listen '%s': want ADDRESS:PORT ([IPv6]:PORT)", l);
		return;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 || port > 65535) {
		problem(p, 0, "http.listen '%s': port must be 1..65535", l);
		return;
	}
	if (inet_pton(AF_INET, host, addr) == 1)
		loopback = addr[0] == 127;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		loopback = memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	else {
		problem(p, 0, "http.listen '%s': the address must be numeric (127.0.0.1, ::1, 0.0.0.0 ...)", l);
		return;
	}
	if (!loopback && config_secret(c, "http.token") == NULL)
		problem(p, 0, "http.listen %s is not a loopback address: set http.token "
		    "(a bearer token from a credential)", l);
}

/* Checks across keys, done once everything is typed. */
static void
validate(struct config *c, struct parser *p)
{
	if (strcmp(config_str(c, "daemon.backend"), "aws") == 0) {
		if (config_str(c, "aws.queue_url")[0] == '\0')
			problem(p, 0, "backend = aws needs aws.queue_url");
		if (config_str(c, "aws.dead_letter_queue_url")[0] == '\0')
			problem(p, 0, "backend = aws needs aws.dead_letter_queue_url");
		if ((config_str(c, "aws.access_key_id")[0] != '\0') !=
		    (config_secret(c, "aws.secret_access_key") != NULL))
			problem(p, 0, "aws.access_key_id and aws.secret_access_key go together");
	}
	if (strcmp(config_str(c, "mail.transport"), "smtp") == 0 &&
	    config_str(c, "mail.smtp_url")[0] == '\0')
		problem(p, 0, "mail.transport = smtp needs mail.smtp_url");
	if (strcmp(config_str(c, "trading.broker"), "alpaca") == 0 &&
	    (config_secret(c, "trading.alpaca_key_id") == NULL ||
	     config_secret(c, "trading.alpaca_secret_key") == NULL))
		problem(p, 0, "trading.broker = alpaca needs trading.alpaca_key_id and trading.alpaca_secret_key");
	if (config_usec(c, "daemon.retry_backoff_max") < config_usec(c, "daemon.retry_backoff_base"))
		problem(p, 0, "daemon.retry_backoff_max is shorter than daemon.retry_backoff_base");
	if (config_list_len(c, "mail.to") == 0)
		problem(p, 0, "mail.to lists no recipient");
	if (config_str(c, "trading.as_of")[0] != '\0') {
		int64_t d;

		if (time_parse_date(config_str(c, "trading.as_of"), &d, NULL) < 0)
			problem(p, 0, "trading.as_of: expected a date YYYY-MM-DD");
		/* A fixed as-of against a live account would trade on old prices forever. */
		if (strcmp(config_str(c, "trading.mode"), "live") == 0)
			problem(p, 0, "trading.as_of replays a fixed history: not with trading.mode = live");
	}
	check_endpoints(c, p);
	check_listen(c, p);
}

int
config_load_string(const char *text, const char *origin, const char *basedir, FILE *errors,
    struct config **ret, struct errctx *ec)
{
	struct parser p = { .origin = origin, .errors = errors, .ec = ec };
	struct config *c = config_new(origin, basedir);

	if (text != NULL)
		parse_text(c, &p, text);
	apply_defaults(c, &p);
	if (p.n_errors == 0)
		validate(c, &p);
	if (p.n_errors > 0) {
		if (p.n_errors > 1)
			errctx_prefix(ec, "%d problems, the first", p.n_errors);
		config_unref(c);
		return -EINVAL;
	}
	*ret = c;
	return 0;
}

int
config_load(const char *path, FILE *errors, struct config **ret, struct errctx *ec)
{
	_cleanup_free_ char *text = NULL, *dircopy = NULL;
	struct stat st = { 0 };
	size_t len = 0, cap = 0;
	char buf[8192];
	FILE *f;
	size_t n;
	int r;

	if (path == NULL)
		return config_load_string(NULL, "(defaults)", NULL, errors, ret, ec);
	f = fopen(path, "re");
	if (f == NULL) {
		r = -errno;
		if (errors != NULL)
			fprintf(errors, "%s: %s\n", path, strerror(-r));
		return errctx_set(ec, r, "%s: %s", path, strerror(-r));
	}
	/* A directory opens and reads as empty: it was taken as a valid file
	 * of defaults. A device or a FIFO is no configuration either. */
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		fclose(f);
		if (errors != NULL)
			fprintf(errors, "%s: not a regular file%s\n", path,
			    r == -EISDIR ? " (a directory)" : "");
		return errctx_set(ec, r, "%s: not a regular file%s", path,
		    r == -EISDIR ? " (a directory)" : "");
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			text = xreallocarray(text, cap, 1);
		}
		memcpy(text + len, buf, n);
		len += n;
		if (len > 1024 * 1024) {
			fclose(f);
			return errctx_set(ec, -E2BIG, "%s: larger than 1 MiB", path);
		}
	}
	fclose(f);
	if (text == NULL)
		text = xstrdup("");
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL)
		return errctx_set(ec, -EINVAL, "%s: contains a NUL byte", path);
	dircopy = xstrdup(path);
	return config_load_string(text, path, dirname(dircopy), errors, ret, ec);
}

size_t
config_keys_set(const struct config *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		if (c->values[i].line > 0)
			n++;
	return n;
}

int
config_reload_check(const struct config *cur, const struct config *next, struct errctx *ec)
{
	size_t i, had = config_keys_set(cur), lost = 0;
	char names[256] = "";
	size_t len = 0;

	for (i = 0; i < cur->n && i < next->n; i++) {
		if (cur->values[i].line == 0 || next->values[i].line > 0)
			continue;
		if (lost < 4 && len < sizeof names) {
			int w = snprintf(names + len, sizeof names - len, "%s%s", lost > 0 ? ", " : "",
			    cur->values[i].key->name);

			len += w > 0 ? (size_t)w : 0;
		}
		lost++;
	}
	if (had == 0 || lost == 0)
		return 0;
	if (config_keys_set(next) == 0)
		return errctx_set(ec, -EINVAL, "%s sets no key at all (empty, truncated or without its "
		    "sections?) while the running configuration sets %zu; refused rather than reset "
		    "them all to their defaults (restart the daemon to use it on purpose)",
		    next->origin, had);
	if (lost * 2 > had)
		return errctx_set(ec, -EINVAL, "%s would put %zu of the %zu keys the running "
		    "configuration sets back to their defaults (%s%s); refused as a file that lost "
		    "its sections (restart the daemon to use it on purpose)", next->origin, lost, had,
		    names, lost > 4 ? ", ..." : "");
	return 0;
}

struct config *
config_ref(struct config *c)
{
	if (c != NULL)
		atomic_fetch_add(&c->refs, 1);
	return c;
}

void
config_unref(struct config *c)
{
	size_t i;

	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	for (i = 0; i < c->n; i++)
		value_clear(&c->values[i]);
	free(c->values);
	free(c->origin);
	free(c->basedir);
	free(c);
}

/* config_table_find, remembered by the address of the name (callers pass
 * literals): the pipeline asks for the same few durations for every message
 * (issue #13), and the table is scanned with strcmp. A hint is an index
 * checked by one strcmp, so a collision or a racing thread only costs the
 * scan; any thread may ask. */
#define KEY_HINTS 64

static const struct config_key *
find_key(const char *name)
{
	static _Atomic uint16_t hints[KEY_HINTS];	/* index + 1; 0: none */
	const struct config_key *tab = config_table(), *k;
	size_t h = (size_t)(((uint64_t)(uintptr_t)name * UINT64_C(0x9e3779b97f4a7c15)) >> 58) &
	    (KEY_HINTS - 1);
	unsigned i = atomic_load_explicit(&hints[h], memory_order_relaxed);

	if (i != 0 && strcmp(tab[i - 1].name, name) == 0)
		return &tab[i - 1];
	k = config_table_find(name);
	if (k != NULL && k - tab < UINT16_MAX)
		atomic_store_explicit(&hints[h], (uint16_t)(k - tab + 1), memory_order_relaxed);
	return k;
}

static const struct config_value *
lookup(const struct config *c, const char *name, enum config_type t1, enum config_type t2,
    enum config_type t3)
{
	const struct config_key *k = find_key(name);
	const struct config_value *v;

	if (k == NULL || (k->type != t1 && k->type != t2 && k->type != t3)) {
		fprintf(stderr, "alchemiserd: internal error: config key '%s' asked with the wrong type\n",
		    name);
		abort();
	}
	v = &c->values[k - config_table()];
	return v;
}

const char *
config_str(const struct config *c, const char *name)
{
	const struct config_value *v = lookup(c, name, CONFIG_STRING, CONFIG_PATH, CONFIG_ENUM);

	return v->str != NULL ? v->str : "";
}

int64_t
config_int(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_INT, CONFIG_INT, CONFIG_INT)->num;
}

bool
config_bool(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_BOOL, CONFIG_BOOL, CONFIG_BOOL)->num != 0;
}

int64_t
config_usec(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_DURATION, CONFIG_DURATION, CONFIG_DURATION)->num;
}

struct decimal
config_decimal(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_DECIMAL, CONFIG_DECIMAL, CONFIG_DECIMAL)->dec;
}

size_t
config_list_len(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_LIST, CONFIG_LIST, CONFIG_LIST)->n_items;
}

const char *
config_list_item(const struct config *c, const char *name, size_t i)
{
	const struct config_value *v = lookup(c, name, CONFIG_LIST, CONFIG_LIST, CONFIG_LIST);

	return i < v->n_items ? v->items[i] : NULL;
}

const struct secret *
config_secret(const struct config *c, const char *name)
{
	return lookup(c, name, CONFIG_SECRET, CONFIG_SECRET, CONFIG_SECRET)->secret;
}

const char *
config_origin(const struct config *c)
{
	return c->origin;
}

void
config_print(const struct config *c, FILE *out)
{
	char section[64] = "";
	size_t i;

	fprintf(out, "# effective configuration from %s\n", c->origin);
	for (i = 0; i < c->n; i++) {
		const struct config_value *v = &c->values[i];
		const char *dot = strchr(v->key->name, '.');
		size_t slen = (size_t)(dot - v->key->name);

		if (strlen(section) != slen || strncmp(section, v->key->name, slen) != 0) {
			(void)snprintf(section, sizeof section, "%.*s", (int)slen, v->key->name);
			fprintf(out, "\n[%s]\n", section);
		}
		if (v->key->type == CONFIG_SECRET) {
			if (v->secret != NULL)
				fprintf(out, "%s = %s  # (secret, %zu bytes, not shown)\n", dot + 1, v->raw,
				    secret_len(v->secret));
			else
				fprintf(out, "%s =\n", dot + 1);
		} else if (v->key->type == CONFIG_PATH)
			fprintf(out, "%s = %s\n", dot + 1, v->str);
		else
			fprintf(out, "%s = %s\n", dot + 1, v->raw);
	}
}

char *
config_diff_restart_keys(const struct config *old_cfg, const struct config *new_cfg)
{
	char *out = NULL, *tmp;
	size_t i;

	for (i = 0; i < old_cfg->n; i++) {
		const struct config_value *a = &old_cfg->values[i], *b = &new_cfg->values[i];

		if (a->key->reloadable || strcmp(a->raw, b->raw) == 0)
			continue;
		tmp = out == NULL ? xstrdup(a->key->name) : xasprintf("%s, %s", out, a->key->name);
		free(out);
		out = tmp;
	}
	return out;
}
