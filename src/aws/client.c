/* AWS JSON protocol endpoint: sign, send, classify, retry (sync and async). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/client.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/http.h"
#include "alchemiser/aws/retry.h"
#include "alchemiser/aws/sigv4.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"

#define POOL_KEEP 16
#define CRED_WAIT_USEC 100000
#define CRED_WAIT_MAX 100	/* 10 s for a non-blocking credential refresh */

struct aws_client {
	char			*url;
	char			*host;		/* Host header: host[:port] */
	char			*path;
	char			*region;
	char			*service;
	char			*target_prefix;
	char			*content_type;
	char			*ca_file;
	unsigned		 max_attempts;
	struct http_options	 http;
	struct aws_credentials	*creds;
	struct retry_quota	 quota;
	struct clock_skew	 skew;
	/* Signing key of the last (credential set, day): derived once a day
	 * instead of four HMACs per request. */
	pthread_mutex_t		 key_lock;
	struct aws_credential_set *key_set;	/* referenced */
	char			 key_day[9];
	unsigned char		 key[AWS_SHA256_LEN];
	pthread_mutex_t		 pool_lock;
	struct http_easy	*pool[POOL_KEEP];
	size_t			 n_pool;
	uint64_t		 requests;	/* HTTP attempts sent (atomic) */
};

/* Every client's attempts, for --once's summary and the bench. */
static uint64_t requests_total;

static void
count_request(struct aws_client *c)
{
	__atomic_add_fetch(&c->requests, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&requests_total, 1, __ATOMIC_RELAXED);
}

struct signed_req {
	char	*hdr[6];
	size_t	 n;
};

struct aws_call {
	struct aws_client		*c;
	struct http_multi		*m;
	struct event_base		*base;
	char				*op;
	char				*body;
	size_t				 len;
	int64_t				 timeout;
	aws_call_cb			 cb;
	aws_call_raw_cb			 raw_cb;	/* instead of cb: the 2xx body unparsed */
	void				*arg;
	struct retry_state		 st;
	struct aws_credential_set	*set;
	struct http_xfer		*xfer;
	struct event			*timer;
	bool				 cancelled;
	int				 cred_waits;
};

int
aws_error_errno(const struct aws_error *e)
{
	static const char *const auth[] = { "AccessDenied", "AccessDeniedException", "InvalidSecurity",
		"MissingAuthenticationToken", "MissingAuthenticationTokenException", "IncompleteSignature",
		"SignatureDoesNotMatch", "InvalidSignatureException", "InvalidClientTokenId",
		"UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "AuthFailure",
		"RequestExpired", "RequestTimeTooSkewed", "NotAuthorizedForSourceException" };
	static const char *const missing[] = { "ResourceNotFoundException", "QueueDoesNotExist",
		"AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue", "InvalidAddress" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(auth); i++)
		if (strcmp(e->code, auth[i]) == 0)
			return -EACCES;
	for (i = 0; i < ELEMENTSOF(missing); i++)
		if (strcmp(e->code, missing[i]) == 0)
			return -ENOENT;
	if (strcmp(e->code, "ConditionalCheckFailedException") == 0)
		return -EEXIST;
	if (retry_code_is_throttle(e->code) || retry_code_is_transient(e->code) || e->status >= 500 ||
	    e->status == 429)
		return -EAGAIN;
	if (e->status == 401 || e->status == 403)
		return -EACCES;
	if (e->status >= 400)
		return -EINVAL;
	return -EPROTO;
}

static void
xml_field(const char *xml, const char *tag, char *out, size_t size)
{
	char open[32], close[32];
	const char *a, *b;

	(void)snprintf(open, sizeof open, "<%s>", tag);
	(void)snprintf(close, sizeof close, "</%s>", tag);
	a = strstr(xml, open);
	if (a == NULL)
		return;
	a += strlen(open);
	b = strstr(a, close);
	if (b == NULL)
		return;
	(void)snprintf(out, size, "%.*s", (int)(b - a), a);
}

/* Some services echo the canonical request in signature errors ("The
 * Canonical String for this request should have been ..."), and that holds
 * the session token: keep only the first line and nothing from there on. */
static void
sanitize_message(char *msg)
{
	char *cut = strstr(msg, "Canonical");

	if (cut != NULL)
		*cut = '\0';
	cut = strpbrk(msg, "\r\n");
	if (cut != NULL)
		*cut = '\0';
}

/* Fill err from an error response; *body_json gets the parsed JSON or NULL. */
static void
parse_error(const struct http_response *resp, struct aws_error *err, json_t **body_json)
{
	const char *h;
	json_t *j = NULL;

	err->status = resp->status;
	err->code[0] = err->message[0] = '\0';
	if (resp->body_len > 0 && resp->body[0] == '{')
		j = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (j != NULL) {
		const char *type = json_string_value(json_object_get(j, "__type"));
		const char *msg = json_string_value(json_object_get(j, "message"));

		if (type == NULL)
			type = json_string_value(json_object_get(j, "code"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(j, "Message"));
		aws_error_code_short(type, err->code, sizeof err->code);
		if (msg != NULL)
			(void)snprintf(err->message, sizeof err->message, "%s", msg);
	}
	if (err->code[0] == '\0' && (h = http_response_header(resp, "x-amzn-query-error")) != NULL) {
		const char *semi = strchr(h, ';');

		(void)snprintf(err->code, sizeof err->code, "%.*s",
		    (int)(semi != NULL ? (size_t)(semi - h) : strlen(h)), h);
	}
	if (err->code[0] == '\0' && (h = http_response_header(resp, "x-amzn-ErrorType")) != NULL)
		aws_error_code_short(h, err->code, sizeof err->code);
	if (err->code[0] == '\0' && resp->body_len > 0 && resp->body[0] == '<') {
		/* moto answers auth failures in XML even for JSON services. */
		xml_field(resp->body, "Code", err->code, sizeof err->code);
		xml_field(resp->body, "Message", err->message, sizeof err->message);
	}
	sanitize_message(err->message);
	*body_json = j;
}

static void
signing_key(struct aws_client *c, struct aws_credential_set *set, int64_t now,
    unsigned char out[AWS_SHA256_LEN])
{
	char date[AWS_AMZ_DATE_LEN + 1];

	aws_format_amz_date(now, date);
	pthread_mutex_lock(&c->key_lock);
	if (c->key_set != set || strncmp(c->key_day, date, 8) != 0) {
		aws_credential_set_unref(c->key_set);
		c->key_set = aws_credential_set_ref(set);
		memcpy(c->key_day, date, 8);
		c->key_day[8] = '\0';
		sigv4_signing_key(set->secret_access_key, c->key_day, c->region, c->service, c->key);
	}
	memcpy(out, c->key, AWS_SHA256_LEN);
	pthread_mutex_unlock(&c->key_lock);
}

static int
build(struct aws_client *c, const char *op, const char *body, size_t len,
    struct aws_credential_set *set, struct signed_req *sr, struct errctx *ec)
{
	unsigned char key[AWS_SHA256_LEN];
	char target[160];
	struct sigv4_header h[3];
	struct sigv4_signature sig;
	struct sigv4_params p = { c->region, c->service, set->access_key_id, set->secret_access_key,
		set->session_token != NULL ? secret_reveal(set->session_token) : NULL,
		clock_skew_now(&c->skew), true, false, false, NULL };
	int r;

	/* One clock reading for the date and the key's day. */
	signing_key(c, set, p.time_usec, key);
	p.signing_key = key;
	(void)snprintf(target, sizeof target, "%s.%s", c->target_prefix, op);
	h[0] = (struct sigv4_header){ "Host", c->host };
	h[1] = (struct sigv4_header){ "Content-Type", c->content_type };
	h[2] = (struct sigv4_header){ "X-Amz-Target", target };
	r = sigv4_sign(&(struct sigv4_request){ "POST", c->path, NULL, h, 3, body, len }, &p, &sig, ec);
	explicit_bzero(key, sizeof key);
	if (r < 0)
		return r;
	sr->n = 0;
	sr->hdr[sr->n++] = xasprintf("Host: %s", c->host);
	sr->hdr[sr->n++] = xasprintf("Content-Type: %s", c->content_type);
	sr->hdr[sr->n++] = xasprintf("X-Amz-Target: %s", target);
	sr->hdr[sr->n++] = xasprintf("X-Amz-Date: %s", sig.amz_date);
	if (p.session_token != NULL)
		sr->hdr[sr->n++] = xasprintf("X-Amz-Security-Token: %s", p.session_token);
	sr->hdr[sr->n++] = xasprintf("Authorization: %s", sig.authorization);
	sigv4_signature_free(&sig);
	return 0;
}

static void
signed_req_free(struct signed_req *sr)
{
	size_t i;

	for (i = 0; i < sr->n; i++) {
		explicit_bzero(sr->hdr[i], strlen(sr->hdr[i]));
		free(sr->hdr[i]);
	}
	sr->n = 0;
}

/* One attempt's outcome: 0 with *out, or a negative errno with *cls saying
 * whether to retry. transport_r is http's return. */
static int
outcome(struct aws_client *c, const char *op, int transport_r, const struct http_response *resp,
    const struct aws_credential_set *set, bool raw, json_t **out, struct aws_error *err,
    enum retry_class *cls, struct errctx *ec)
{
	bool skewed;
	int r;

	*out = NULL;
	memset(err, 0, sizeof *err);
	if (transport_r < 0) {
		*cls = retry_classify(transport_r, 0, NULL);
		return errctx_prefix(ec, "%s", op);
	}
	skewed = clock_skew_update(&c->skew, http_response_header(resp, "Date"), aws_now_usec());
	if (resp->status >= 200 && resp->status < 300) {
		json_error_t jerr;

		*cls = RETRY_CLASS_NONE;
		if (raw)
			return 0;	/* the caller reads the body itself */
		/* local-aws-sqs answers an empty receive with an empty body. */
		if (resp->body_len == 0) {
			*out = json_object();
			return 0;
		}
		*out = json_loadb(resp->body, resp->body_len, 0, &jerr);
		if (*out == NULL || !json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			return errctx_set(ec, -EPROTO, "%s: response is not a JSON object: %s", op, jerr.text);
		}
		return 0;
	}
	parse_error(resp, err, out);
	*cls = retry_classify(0, resp->status, err->code);
	if (*cls == RETRY_CLASS_CLOCK_SKEW && !skewed)
		*cls = RETRY_CLASS_NONE;	/* a wrong key, not a wrong clock: retrying cannot help */
	if (*cls == RETRY_CLASS_EXPIRED_TOKEN)
		aws_credentials_expire(c->creds, set);
	r = aws_error_errno(err);
	return errctx_set(ec, r, "%s: HTTP %ld %s: %.200s", op, resp->status,
	    err->code[0] != '\0' ? err->code : "(no error code)", err->message);
}

static struct http_easy *
pool_take(struct aws_client *c)
{
	struct http_easy *h = NULL;

	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool > 0)
		h = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->pool_lock);
	return h != NULL ? h : http_easy_new(&c->http);
}

static void
pool_give(struct aws_client *c, struct http_easy *h)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_pool < POOL_KEEP) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	http_easy_free(h);
}

int
aws_client_call(struct aws_client *c, const char *op, const json_t *req, json_t **ret,
    struct aws_error *err, struct errctx *ec)
{
	char *body = json_dumps(req, JSON_COMPACT);
	int r;

	if (body == NULL) {
		*ret = NULL;
		return errctx_set(ec, -EINVAL, "%s: request not serialisable", op);
	}
	r = aws_client_call_text(c, op, body, strlen(body), ret, err, ec);
	free(body);
	return r;
}

int
aws_client_call_text(struct aws_client *c, const char *op, const char *body, size_t len,
    json_t **ret, struct aws_error *err, struct errctx *ec)
{
	struct aws_error local_err;
	struct retry_state st;
	int r;

	if (err == NULL)
		err = &local_err;
	*ret = NULL;
	retry_state_init(&st, c->max_attempts);
	for (;;) {
		struct aws_credential_set *set = NULL;
		struct http_response resp;
		struct signed_req sr;
		struct http_easy *h;
		enum retry_class cls;
		int64_t delay;
		int tr;

		json_decref(*ret);
		*ret = NULL;
		r = aws_credentials_get(c->creds, true, &set, ec);
		if (r < 0) {
			memset(err, 0, sizeof *err);
			errctx_prefix(ec, "%s", op);
			break;
		}
		r = build(c, op, body, len, set, &sr, ec);
		if (r < 0) {
			aws_credential_set_unref(set);
			break;
		}
		h = pool_take(c);
		count_request(c);
		tr = http_easy_perform(h, &(struct http_request){ .method = "POST", .url = c->url,
		    .headers = (const char *const *)sr.hdr, .n_headers = sr.n, .body = body,
		    .body_len = len }, &resp, ec);
		pool_give(c, h);
		signed_req_free(&sr);
		r = outcome(c, op, tr, &resp, set, false, ret, err, &cls, ec);
		http_response_free(&resp);
		aws_credential_set_unref(set);
		if (r == 0) {
			retry_success(&c->quota, &st);
			break;
		}
		delay = retry_next(&c->quota, &st, cls);
		if (delay < 0)
			break;
		if (delay > 0) {
			struct timespec ts = { delay / 1000000, (delay % 1000000) * 1000 };

			/* Workers may block; the loop thread uses aws_client_start. */
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	return r;
}

static void call_attempt(struct aws_call *call);

/* raw_body: the 2xx body for a raw call (NULL otherwise). */
static void
call_finish(struct aws_call *call, json_t *resp, const struct http_response *raw_body, int r,
    const struct aws_error *err, const struct errctx *ec)
{
	if (call->raw_cb != NULL)
		call->raw_cb(raw_body != NULL ? raw_body->body : NULL,
		    raw_body != NULL ? raw_body->body_len : 0, r, err, ec, call->arg);
	else
		call->cb(resp, r, err, ec, call->arg);
	aws_credential_set_unref(call->set);
	event_free(call->timer);
	free(call->op);
	free(call->body);
	free(call);
}

static void
call_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aws_call *call = arg;

	if (call->cancelled) {
		struct errctx ec;

		errctx_set(&ec, -ECANCELED, "%s: cancelled", call->op);
		call_finish(call, NULL, NULL, -ECANCELED, NULL, &ec);
		return;
	}
	call_attempt(call);
}

static void
call_schedule(struct aws_call *call, int64_t delay)
{
	struct timeval tv = { delay / 1000000, delay % 1000000 };

	evtimer_add(call->timer, &tv);
}

static void
call_http_cb(struct http_response *resp, int tr, const struct errctx *hec, void *arg)
{
	struct aws_call *call = arg;
	struct aws_error err;
	struct errctx ec = *hec;
	enum retry_class cls;
	json_t *out = NULL;
	int64_t delay;
	int r;

	call->xfer = NULL;
	if (tr == -ECANCELED || call->cancelled) {
		errctx_set(&ec, -ECANCELED, "%s: cancelled", call->op);
		call_finish(call, NULL, NULL, -ECANCELED, NULL, &ec);
		return;
	}
	r = outcome(call->c, call->op, tr, resp, call->set, call->raw_cb != NULL, &out, &err, &cls,
	    &ec);
	aws_credential_set_unref(call->set);
	call->set = NULL;
	if (r == 0) {
		retry_success(&call->c->quota, &call->st);
		call_finish(call, out, resp, 0, &err, &ec);
		json_decref(out);
		return;
	}
	delay = retry_next(&call->c->quota, &call->st, cls);
	if (delay < 0) {
		call_finish(call, out, NULL, r, &err, &ec);
		json_decref(out);
		return;
	}
	json_decref(out);
	call_schedule(call, delay);
}

static void
call_attempt(struct aws_call *call)
{
	struct signed_req sr;
	struct errctx ec;
	int r;

	r = aws_credentials_get(call->c->creds, false, &call->set, &ec);
	if (r == -EAGAIN && ++call->cred_waits <= CRED_WAIT_MAX) {
		call_schedule(call, CRED_WAIT_USEC);
		return;
	}
	if (r == 0)
		r = build(call->c, call->op, call->body, call->len, call->set, &sr, &ec);
	if (r == 0) {
		count_request(call->c);
		r = http_multi_start(call->m, &(struct http_request){ .method = "POST",
		    .url = call->c->url, .headers = (const char *const *)sr.hdr, .n_headers = sr.n,
		    .body = call->body, .body_len = call->len, .timeout_usec = call->timeout },
		    call_http_cb, call, &call->xfer, &ec);
		signed_req_free(&sr);
	}
	if (r < 0) {
		errctx_prefix(&ec, "%s", call->op);
		call_finish(call, NULL, NULL, r, NULL, &ec);
	}
}

int
aws_client_start(struct aws_client *c, struct http_multi *m, struct event_base *base,
    const char *op, const json_t *req, int64_t timeout_usec, aws_call_cb cb, void *arg,
    struct aws_call **ret, struct errctx *ec)
{
	char *body = json_dumps(req, JSON_COMPACT);

	if (body == NULL)
		return errctx_set(ec, -EINVAL, "%s: request not serialisable", op);
	return aws_client_start_text(c, m, base, op, body, strlen(body), timeout_usec, cb, arg, ret,
	    ec);
}

static int
start(struct aws_client *c, struct http_multi *m, struct event_base *base, const char *op,
    char *body, size_t len, int64_t timeout_usec, aws_call_cb cb, aws_call_raw_cb raw_cb, void *arg,
    struct aws_call **ret)
{
	struct aws_call *call = xcalloc(1, sizeof *call);

	call->c = c;
	call->m = m;
	call->base = base;
	call->op = xstrdup(op);
	call->body = body;
	call->len = len;
	call->timeout = timeout_usec;
	call->cb = cb;
	call->raw_cb = raw_cb;
	call->arg = arg;
	call->timer = evtimer_new(base, call_timer_cb, call);
	if (call->timer == NULL)
		abort();
	retry_state_init(&call->st, c->max_attempts);
	/* First attempt from the loop, so the callback can never run inside
	 * this call (credentials may also need a moment). */
	call_schedule(call, 0);
	if (ret != NULL)
		*ret = call;
	return 0;
}

int
aws_client_start_text(struct aws_client *c, struct http_multi *m, struct event_base *base,
    const char *op, char *body, size_t len, int64_t timeout_usec, aws_call_cb cb, void *arg,
    struct aws_call **ret, struct errctx *ec)
{
	(void)ec;
	return start(c, m, base, op, body, len, timeout_usec, cb, NULL, arg, ret);
}

int
aws_client_start_raw(struct aws_client *c, struct http_multi *m, struct event_base *base,
    const char *op, char *body, size_t len, int64_t timeout_usec, aws_call_raw_cb cb, void *arg,
    struct aws_call **ret, struct errctx *ec)
{
	(void)ec;
	return start(c, m, base, op, body, len, timeout_usec, NULL, cb, arg, ret);
}

void
aws_call_cancel(struct aws_call *call)
{
	if (call == NULL || call->cancelled)
		return;
	call->cancelled = true;
	if (call->xfer != NULL) {
		http_multi_cancel(call->m, call->xfer);	/* its callback finishes us */
		return;
	}
	evtimer_del(call->timer);
	call_schedule(call, 0);
}

void
aws_call_abort(struct aws_call *call)
{
	struct errctx ec;

	if (call == NULL)
		return;
	if (call->xfer != NULL)
		http_multi_discard(call->m, call->xfer);
	call->xfer = NULL;
	evtimer_del(call->timer);
	errctx_set(&ec, -ECANCELED, "%s: cancelled", call->op);
	call_finish(call, NULL, NULL, -ECANCELED, NULL, &ec);
}

int
aws_client_new(const struct aws_client_options *o, struct aws_client **ret, struct errctx *ec)
{
	struct aws_client *c;
	CURLU *u;
	char *host = NULL, *port = NULL, *path = NULL, *scheme = NULL;

	if (o->region == NULL || o->service == NULL || o->target_prefix == NULL ||
	    o->content_type == NULL || o->creds == NULL || o->endpoint_prefix == NULL)
		return errctx_set(ec, -EINVAL, "aws client: region, service and credentials are required");
	c = xcalloc(1, sizeof *c);
	c->url = o->endpoint != NULL ? xstrdup(o->endpoint) :
	    xasprintf("https://%s.%s.amazonaws.com/", o->endpoint_prefix, o->region);
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		free(c->url);
		free(c);
		return errctx_set(ec, -EINVAL, "aws client: bad endpoint URL '%s'", o->endpoint);
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		curl_free(host);
		curl_free(scheme);
		curl_url_cleanup(u);
		free(c->url);
		free(c);
		return errctx_set(ec, -EINVAL, "aws client: endpoint must be http or https");
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	c->host = port != NULL ? xasprintf("%s:%s", host, port) : xstrdup(host);
	c->path = xstrdup(path != NULL ? path : "/");
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(scheme);
	curl_url_cleanup(u);
	c->region = xstrdup(o->region);
	c->service = xstrdup(o->service);
	c->target_prefix = xstrdup(o->target_prefix);
	c->content_type = xstrdup(o->content_type);
	c->ca_file = xstrdup_or_null(o->ca_file);
	c->max_attempts = o->max_attempts;
	c->http.connect_timeout_usec = o->connect_timeout_usec;
	c->http.timeout_usec = o->timeout_usec;
	c->http.ca_file = c->ca_file;
	c->creds = o->creds;
	retry_quota_init(&c->quota);
	pthread_mutex_init(&c->key_lock, NULL);
	pthread_mutex_init(&c->pool_lock, NULL);
	http_global_init();
	*ret = c;
	return 0;
}

void
aws_client_free(struct aws_client *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_pool; i++)
		http_easy_free(c->pool[i]);
	pthread_mutex_destroy(&c->pool_lock);
	aws_credential_set_unref(c->key_set);
	explicit_bzero(c->key, sizeof c->key);
	pthread_mutex_destroy(&c->key_lock);
	retry_quota_destroy(&c->quota);
	free(c->url);
	free(c->host);
	free(c->path);
	free(c->region);
	free(c->service);
	free(c->target_prefix);
	free(c->content_type);
	free(c->ca_file);
	free(c);
}

const char *
aws_client_url(const struct aws_client *c)
{
	return c->url;
}

uint64_t
aws_client_requests(const struct aws_client *c)
{
	return __atomic_load_n(&c->requests, __ATOMIC_RELAXED);
}

uint64_t
aws_requests_total(void)
{
	return __atomic_load_n(&requests_total, __ATOMIC_RELAXED);
}

int
aws_client_quota_tokens(struct aws_client *c)
{
	return retry_quota_tokens(&c->quota);
}

int64_t
aws_client_clock_offset_usec(struct aws_client *c)
{
	return __atomic_load_n(&c->skew.offset_usec, __ATOMIC_RELAXED);
}
