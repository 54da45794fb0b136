/*
 * broker_alpaca_http: requests to Alpaca over libcurl easy handles, the
 * mapping of its answers onto our errnos, and the bounded retries of
 * idempotent calls. Auth headers are built per request from the secrets and
 * are never part of any message we produce.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_alpaca_http.h"

struct buf;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud);
static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud);
static CURL *pool_get(struct alpaca *a);
static void pool_put(struct alpaca *a, CURL *c);
static struct curl_slist *auth_headers(struct alpaca *a, bool has_body);
static void free_headers(struct curl_slist *h);
static void describe(const json_t *body, const struct buf *raw, long *code, char *out, size_t size);
static int map_status(long status, const json_t *body, const struct buf *raw, const char *method,
    const char *what, struct errctx *ec);
static void what_of(const char *url, char *out, size_t size);

#define MAX_RESPONSE (4 * 1024 * 1024)	/* the largest answer we accept (open orders) */
#define DUPLICATE_CODE 40010001		/* "client_order_id must be unique" */

struct buf {
	char	*data;
	size_t	 len;
	bool	 overflow;
};

struct hints {
	int64_t	retry_after_usec;
};

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > MAX_RESPONSE) {
		b->overflow = true;
		return 0;
	}
	b->data = xreallocarray(b->data, b->len + n + 1, 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Retry-After (seconds, or an HTTP date as RFC 9110 allows and the official
 * SDK reads) and X-Ratelimit-Reset (epoch seconds). */
static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct hints *h = ud;
	size_t n = size * nmemb;
	char line[128];
	long long v;

	if (n >= sizeof line)
		return n;
	memcpy(line, ptr, n);
	line[n] = '\0';
	if (strncasecmp(line, "Retry-After:", 12) == 0) {
		int64_t w = alpaca_retry_after_usec(line + 12, (int64_t)time(NULL) * 1000000);

		if (w >= 0)
			h->retry_after_usec = w;
	} else if (strncasecmp(line, "X-Ratelimit-Reset:", 18) == 0 &&
	    sscanf(line + 18, "%lld", &v) == 1 && h->retry_after_usec < 0) {
		long long now = (long long)time(NULL);

		h->retry_after_usec = v > now ? (v - now) * 1000000 : 0;
	}
	return n;
}

int64_t
alpaca_retry_after_usec(const char *value, int64_t now_usec)
{
	char buf[96], *end;
	size_t len;
	long long secs;
	time_t when;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strcspn(value, "\r\n");
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	errno = 0;
	secs = strtoll(buf, &end, 10);
	if (end != buf && *end == '\0')
		return errno != 0 || secs < 0 ? -1 : (secs > 86400 ? 86400 : secs) * 1000000;
	when = curl_getdate(buf, NULL);
	if (when == (time_t)-1)
		return -1;
	return (int64_t)when * 1000000 > now_usec ? (int64_t)when * 1000000 - now_usec : 0;
}

static CURL *
pool_get(struct alpaca *a)
{
	CURL *c = NULL;

	pthread_mutex_lock(&a->lock);
	if (a->n_pool > 0)
		c = a->pool[--a->n_pool];
	pthread_mutex_unlock(&a->lock);
	if (c == NULL)
		c = curl_easy_init();
	else
		curl_easy_reset(c);
	return c;
}

static void
pool_put(struct alpaca *a, CURL *c)
{
	pthread_mutex_lock(&a->lock);
	if (a->n_pool < ALPACA_POOL_MAX) {
		a->pool[a->n_pool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (c != NULL)
		curl_easy_cleanup(c);
}

void
alpaca_pool_free(struct alpaca *a)
{
	for (int i = 0; i < a->n_pool; i++)
		curl_easy_cleanup(a->pool[i]);
	a->n_pool = 0;
}

static struct curl_slist *
auth_headers(struct alpaca *a, bool has_body)
{
	struct curl_slist *h = NULL;
	char *line;

	line = xasprintf("APCA-API-KEY-ID: %s", secret_reveal(a->key_id));
	h = curl_slist_append(h, line);
	explicit_bzero(line, strlen(line));
	free(line);
	line = xasprintf("APCA-API-SECRET-KEY: %s", secret_reveal(a->secret_key));
	h = curl_slist_append(h, line);
	explicit_bzero(line, strlen(line));
	free(line);
	h = curl_slist_append(h, "Accept: application/json");
	if (has_body)
		h = curl_slist_append(h, "Content-Type: application/json");
	return h;
}

/* Wipe the copies curl's list made of the secrets before freeing it. */
static void
free_headers(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* The answer's "message" (and "code"), escaped and short, for errctx. */
static void
describe(const json_t *body, const struct buf *raw, long *code, char *out, size_t size)
{
	const char *msg = json_is_object(body) ? json_get_str(body, "message") : NULL;
	size_t i, j;

	*code = 0;
	if (json_is_object(body) && json_is_integer(json_object_get(body, "code")))
		*code = (long)json_integer_value(json_object_get(body, "code"));
	if (msg == NULL)
		msg = raw->data != NULL ? raw->data : "";
	for (i = 0, j = 0; msg[i] != '\0' && j + 1 < size && i < 200; i++)
		out[j++] = isprint((unsigned char)msg[i]) ? msg[i] : '?';
	out[j] = '\0';
}

static int
map_status(long status, const json_t *body, const struct buf *raw, const char *method,
    const char *what, struct errctx *ec)
{
	char msg[220];
	long code;

	if (status >= 200 && status < 300)
		return 0;
	describe(body, raw, &code, msg, sizeof msg);
	if (status == 401 || status == 403)
		return errctx_set(ec, -EACCES, "%s %s: HTTP %ld: %s", method, what, status, msg);
	if (status == 404)
		return errctx_set(ec, -ENOENT, "%s %s: HTTP 404: %s", method, what, msg);
	if (status == 422 && (code == DUPLICATE_CODE || strstr(msg, "must be unique") != NULL))
		return errctx_set(ec, -EEXIST, "%s %s: HTTP 422: %s", method, what, msg);
	if (status == 400 || status == 422)
		return errctx_set(ec, -EBADMSG, "%s %s: HTTP %ld: %s", method, what, status, msg);
	if (status == 429 || status >= 500)
		return errctx_set(ec, -EAGAIN, "%s %s: HTTP %ld: %s", method, what, status, msg);
	return errctx_set(ec, -EPROTO, "%s %s: unexpected HTTP %ld: %s", method, what, status,
	    msg);
}

/* The path without host or query: enough to say which call failed. */
static void
what_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	snprintf(out, size, "%.*s", (int)(p != NULL ? strcspn(p, "?") : 0), p != NULL ? p : "");
}

int
alpaca_http_once(struct alpaca *a, const char *method, const char *url, const char *body,
    long *status, json_t **ret, int64_t *retry_after_usec, struct errctx *ec)
{
	struct buf resp = { 0 };
	struct hints hints = { .retry_after_usec = -1 };
	struct curl_slist *hdr;
	char what[160];
	CURL *c;
	CURLcode cr;
	int r;

	*ret = NULL;
	*status = 0;
	what_of(url, what, sizeof what);
	c = pool_get(a);
	if (c == NULL)
		return errctx_set(ec, -ENOMEM, "curl_easy_init failed");
	hdr = auth_headers(a, body != NULL);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "alchemiserd");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(a->timeout_usec / 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(a->connect_timeout_usec / 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hints);
	if (body != NULL) {
		/* libcurl silently re-sends a request whose reused keep-alive
		 * connection died before any answer: for an order that would be a
		 * blind re-POST. A fresh connection is never retried that way. */
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	cr = curl_easy_perform(c);
	free_headers(hdr);
	*retry_after_usec = hints.retry_after_usec;
	if (cr != CURLE_OK) {
		/* A handle that saw a broken exchange is not reused. */
		curl_easy_cleanup(c);
		free(resp.data);
		if (cr == CURLE_OPERATION_TIMEDOUT)
			return errctx_set(ec, -ETIMEDOUT, "%s %s: timed out", method, what);
		if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST)
			return errctx_set(ec, -EAGAIN, "%s %s: %s", method, what,
			    curl_easy_strerror(cr));
		if (cr == CURLE_WRITE_ERROR && resp.overflow)
			return errctx_set(ec, -E2BIG, "%s %s: answer over %d bytes", method, what,
			    MAX_RESPONSE);
		return errctx_set(ec, -ECONNRESET, "%s %s: %s", method, what, curl_easy_strerror(cr));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	pool_put(a, c);
	if (resp.len > 0) {
		json_error_t jerr;

		*ret = json_loadb(resp.data, resp.len, JSON_DECODE_ANY, &jerr);
	}
	r = map_status(*status, *ret, &resp, method, what, ec);
	if (r == 0 && resp.len > 0 && *ret == NULL)
		r = errctx_set(ec, -EPROTO, "%s %s: answer is not JSON", method, what);
	free(resp.data);
	if (r < 0) {
		json_decref(*ret);
		*ret = NULL;
	}
	return r;
}

bool
alpaca_retryable(int r)
{
	return r == -EAGAIN || r == -ETIMEDOUT || r == -ECONNRESET;
}

void
alpaca_backoff(struct alpaca *a, int k, int64_t hint_usec)
{
	int64_t wait = a->backoff_usec << (k < 16 ? k : 16);
	uint32_t rnd = 0;
	struct timespec ts;

	/* Full jitter on our own schedule; the server's hint is taken as given,
	 * up to ALPACA_HINT_MAX (a rate-limit window): a shorter wait only earns
	 * another 429 and spends an attempt. */
	if (hint_usec >= 0) {
		wait = hint_usec < ALPACA_HINT_MAX ? hint_usec : ALPACA_HINT_MAX;
	} else {
		if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			rnd = (uint32_t)time(NULL);
		wait = wait / 2 + (int64_t)(rnd % (uint32_t)(wait / 2 + 1));
		if (wait > a->max_backoff_usec)
			wait = a->max_backoff_usec;
	}
	ts.tv_sec = (time_t)(wait / 1000000);
	ts.tv_nsec = (long)(wait % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
alpaca_http(struct alpaca *a, const char *method, const char *url, json_t **ret,
    struct errctx *ec)
{
	int64_t hint;
	long status;
	int r;

	for (int k = 0;; k++) {
		r = alpaca_http_once(a, method, url, NULL, &status, ret, &hint, ec);
		if (!alpaca_retryable(r) || k + 1 >= a->max_attempts)
			break;
		alpaca_backoff(a, k, hint);
	}
	if (r < 0 && alpaca_retryable(r))
		errctx_prefix(ec, "after %d attempts", a->max_attempts);
	return r;
}

/* Path segment escaped (symbols like "BRK.B", ids are safe; escape anyway). */
char *
alpaca_esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = xstrdup(e != NULL ? e : "");

	curl_free(e);
	return r;
}

/* Class-suffix symbols: strategies (and so plans, emails, the dashboard)
 * write BRK/B, Alpaca's trading and data APIs BRK.B. A separator followed by
 * one or two letters at the end is a share class; anything else is left. */
static char *
class_separator(char *s, char sep)
{
	char *p = strrchr(s, sep);
	size_t k;

	if (p == NULL || p == s)
		return NULL;
	k = strlen(p + 1);
	if (k < 1 || k > 2)
		return NULL;
	for (size_t i = 1; i <= k; i++)
		if (!isalpha((unsigned char)p[i]))
			return NULL;
	return p;
}

void
alpaca_symbol_out(const char *s, char *out, size_t size)
{
	char *p;

	snprintf(out, size, "%s", s != NULL ? s : "");
	if ((p = class_separator(out, '/')) != NULL)
		*p = '.';
}

void
alpaca_symbol_in(char *s)
{
	char *p = class_separator(s, '.');

	if (p != NULL)
		*p = '/';
}

/* helpers shared by broker_alpaca*.c */
/* Money: string, number or null (zero). */
struct decimal
alpaca_money(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	struct decimal d = DECIMAL_ZERO;

	if (json_is_string(v))
		decimal_parse_round(json_string_value(v), DECIMAL_ROUND_HALF_EVEN, &d, NULL);
	else if (json_is_integer(v))
		decimal_from_int(json_integer_value(v), &d);
	else if (json_is_real(v))
		decimal_from_double(json_real_value(v), DECIMAL_ROUND_HALF_EVEN, &d);
	return d;
}

void
alpaca_copy_str(char *dst, size_t size, const json_t *o, const char *k)
{
	const char *s = json_is_object(o) ? json_get_str(o, k) : NULL;

	snprintf(dst, size, "%s", s != NULL ? s : "");
}

/* Alpaca's times: RFC 3339 with up to 9 fractional digits and an offset. */
int64_t
alpaca_when(const json_t *o, const char *k)
{
	const char *s = json_get_str(o, k);
	int64_t usec = 0;

	if (s == NULL || time_parse_rfc3339(s, &usec, NULL) < 0)
		return 0;
	return usec;
}

