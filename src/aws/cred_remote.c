/* Remote credential providers: STS AssumeRoleWithWebIdentity, the container
 * credential endpoint and IMDSv2. All blocking, on the cache's http_easy,
 * called by the one refreshing thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "cred_internal.h"

#define IMDS_TOKEN_TTL 21600
#define STS_ATTEMPTS 3

static int64_t
metadata_timeout(const struct cred_ctx *x)
{
	return x->o.metadata_timeout_usec > 0 ? x->o.metadata_timeout_usec : 2000000;
}

static char *
read_small_file(const char *path, struct errctx *ec)
{
	FILE *f = fopen(path, "r");
	struct abuf b;
	char buf[4096];
	size_t n;

	if (f == NULL) {
		errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	abuf_init(&b);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len < 65536)
		abuf_add(&b, buf, n);
	fclose(f);
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	return abuf_steal(&b);
}

/* Text of the first <tag>...</tag> in xml, entities decoded; NULL if absent.
 * STS answers are flat and machine-made: no CDATA, no attributes on these. */
static char *
xml_text(const char *xml, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;
	struct abuf out;

	(void)snprintf(open, sizeof open, "<%s>", tag);
	(void)snprintf(close, sizeof close, "</%s>", tag);
	a = strstr(xml, open);
	if (a == NULL)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (b == NULL)
		return NULL;
	abuf_init(&out);
	while (a < b) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
		};
		size_t i;

		for (i = 0; i < ELEMENTSOF(ents); i++)
			if (strncmp(a, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < ELEMENTSOF(ents)) {
			abuf_putc(&out, ents[i].c);
			a += strlen(ents[i].ent);
		} else {
			abuf_putc(&out, *a++);
		}
	}
	return abuf_steal(&out);
}

static void
form_add(struct abuf *b, const char *k, const char *v)
{
	if (b->len > 0)
		abuf_putc(b, '&');
	abuf_puts(b, k);
	abuf_putc(b, '=');
	aws_uri_encode(b, v, strlen(v), false);
}

static char *
sts_url(const struct cred_ctx *x)
{
	const char *ep = x->o.sts_endpoint;
	const char *region = x->o.region;

	if (ep == NULL)
		ep = getenv("AWS_ENDPOINT_URL_STS");
	if (ep != NULL && *ep != '\0')
		return xstrdup(ep);
	if (region == NULL)
		region = getenv("AWS_REGION");
	if (region == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if (region == NULL || *region == '\0')
		return xstrdup("https://sts.amazonaws.com/");
	return xasprintf("https://sts.%s.amazonaws.com/", region);
}

int
cred_web_identity(struct cred_ctx *x, const char *token_file, const char *role_arn,
    const char *session_name, const char *source, struct aws_credential_set **ret,
    struct errctx *ec)
{
	const char *hdrs[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
		"Accept: application/xml" };
	struct http_response resp;
	struct abuf form;
	char *token, *url, *name = NULL;
	int attempt, r = -EIO;

	/* Read fresh every time: the orchestrator rotates the file. */
	token = read_small_file(token_file, ec);
	if (token == NULL)
		return errctx_prefix(ec, "web identity token file");
	if (session_name == NULL || *session_name == '\0')
		session_name = name = xasprintf("alchemiserd-%ld", (long)getpid());
	abuf_init(&form);
	form_add(&form, "Action", "AssumeRoleWithWebIdentity");
	form_add(&form, "Version", "2011-06-15");
	form_add(&form, "RoleArn", role_arn);
	form_add(&form, "RoleSessionName", session_name);
	form_add(&form, "WebIdentityToken", token);
	form_add(&form, "DurationSeconds", "3600");
	explicit_bzero(token, strlen(token));
	free(token);
	free(name);
	url = sts_url(x);

	/* Unsigned by design (the model says authtype none). IDPCommunicationError
	 * and 5xx are retried like botocore does. */
	for (attempt = 1; attempt <= STS_ATTEMPTS; attempt++) {
		char *code, *msg, *id, *secret, *stoken, *exp;
		int64_t expires = 0;

		r = http_easy_perform(x->http, &(struct http_request){ .method = "POST", .url = url,
		    .headers = hdrs, .n_headers = 2, .body = form.data, .body_len = form.len },
		    &resp, ec);
		if (r < 0) {
			errctx_prefix(ec, "STS AssumeRoleWithWebIdentity");
			continue;
		}
		if (resp.status != 200) {
			code = xml_text(resp.body, "Code");
			msg = xml_text(resp.body, "Message");
			r = resp.status >= 500 || (code != NULL && strcmp(code, "IDPCommunicationError") == 0) ?
			    -EAGAIN : -EACCES;
			errctx_set(ec, r, "STS AssumeRoleWithWebIdentity: HTTP %ld %s: %.200s", resp.status,
			    code != NULL ? code : "?", msg != NULL ? msg : "");
			free(code);
			free(msg);
			http_response_free(&resp);
			if (r == -EAGAIN)
				continue;
			break;
		}
		id = xml_text(resp.body, "AccessKeyId");
		secret = xml_text(resp.body, "SecretAccessKey");
		stoken = xml_text(resp.body, "SessionToken");
		exp = xml_text(resp.body, "Expiration");
		explicit_bzero(resp.body, resp.body_len);
		http_response_free(&resp);
		if (id == NULL || secret == NULL || stoken == NULL || exp == NULL ||
		    aws_parse_iso8601(exp, &expires) < 0) {
			r = errctx_set(ec, -EPROTO, "STS AssumeRoleWithWebIdentity: response without "
			    "complete credentials");
		} else {
			*ret = cred_set_new(id, secret, strlen(secret), stoken, expires, source);
			r = 0;
		}
		if (secret != NULL)
			explicit_bzero(secret, strlen(secret));
		if (stoken != NULL)
			explicit_bzero(stoken, strlen(stoken));
		free(id);
		free(secret);
		free(stoken);
		free(exp);
		break;
	}
	explicit_bzero(form.data, form.len);
	abuf_free(&form);
	free(url);
	return r;
}

int
cred_from_env_web_identity(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = getenv("AWS_ROLE_ARN");

	if (file == NULL || *file == '\0' || role == NULL || *role == '\0')
		return -ENOENT;
	return cred_web_identity(x, file, role, getenv("AWS_ROLE_SESSION_NAME"), "web identity", ret, ec);
}

/* The credential JSON of the container endpoint and IMDS (Token + Expiration). */
static int
parse_cred_json(const struct http_response *resp, bool need_expiry, const char *source,
    struct aws_credential_set **ret, struct errctx *ec)
{
	json_error_t jerr;
	json_t *j = json_loadb(resp->body, resp->body_len, 0, &jerr);
	const char *id, *secret, *token, *exp;
	int64_t expires = 0;
	int r = 0;

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return errctx_set(ec, -EPROTO, "%s: credential response is not a JSON object", source);
	}
	id = json_string_value(json_object_get(j, "AccessKeyId"));
	secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	token = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (id == NULL || secret == NULL) {
		const char *code = json_string_value(json_object_get(j, "Code"));

		r = errctx_set(ec, -EACCES, "%s: no keys in the credential response (Code %s)", source,
		    code != NULL ? code : "absent");
	} else if ((need_expiry && (token == NULL || exp == NULL)) ||
	    (exp != NULL && aws_parse_iso8601(exp, &expires) < 0)) {
		r = errctx_set(ec, -EPROTO, "%s: credential response without a valid Token/Expiration",
		    source);
	} else {
		*ret = cred_set_new(id, secret, strlen(secret), token, expires, source);
	}
	json_decref(j);
	return r;
}

/* botocore's allow list for a full container URI. */
static bool
container_host_allowed(const char *url)
{
	const char *h, *end;
	char host[64];
	struct in_addr a;

	if (strncmp(url, "https://", 8) == 0)
		return true;
	if (strncmp(url, "http://", 7) != 0)
		return false;
	h = url + 7;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || (size_t)(end - h - 1) >= sizeof host)
			return false;
		(void)snprintf(host, sizeof host, "%.*s", (int)(end - h - 1), h + 1);
		return strcmp(host, "::1") == 0 || strcasecmp(host, "fd00:ec2::23") == 0;
	}
	end = h + strcspn(h, ":/");
	if ((size_t)(end - h) >= sizeof host)
		return false;
	(void)snprintf(host, sizeof host, "%.*s", (int)(end - h), h);
	if (strcmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int
cred_from_container(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tfile = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tenv = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *hdrs[2] = { "Accept: application/json", NULL };
	struct http_response resp;
	char *url, *auth = NULL, *token = NULL;
	int r, attempt;

	if (rel != NULL && *rel != '\0')
		url = xasprintf("http://169.254.170.2%s", rel);
	else if (full != NULL && *full != '\0')
		url = xstrdup(full);
	else
		return -ENOENT;
	if (!container_host_allowed(url)) {
		free(url);
		return errctx_set(ec, -EINVAL, "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI "
		    "must be https, loopback or the ECS/EKS link-local address");
	}
	if (tfile != NULL && *tfile != '\0') {
		token = read_small_file(tfile, ec);
		if (token == NULL) {
			free(url);
			return errctx_prefix(ec, "container authorization token file");
		}
	} else if (tenv != NULL && *tenv != '\0') {
		token = xstrdup(tenv);
	}
	if (token != NULL) {
		if (strpbrk(token, "\r\n") != NULL) {
			free(url);
			free(token);
			return errctx_set(ec, -EINVAL, "container authorization token contains CR or LF");
		}
		hdrs[1] = auth = xasprintf("Authorization: %s", token);
		explicit_bzero(token, strlen(token));
		free(token);
	}
	/* botocore: 3 attempts, short timeout. */
	r = -EIO;
	for (attempt = 0; attempt < 3; attempt++) {
		r = http_easy_perform(x->http, &(struct http_request){ .method = "GET", .url = url,
		    .headers = hdrs, .n_headers = auth != NULL ? 2 : 1, .timeout_usec = metadata_timeout(x),
		    .no_proxy = true }, &resp, ec);
		if (r < 0)
			continue;
		if (resp.status == 200)
			r = parse_cred_json(&resp, false, "container", ret, ec);
		else
			r = errctx_set(ec, resp.status >= 500 ? -EAGAIN : -EACCES,
			    "container credentials: HTTP %ld", resp.status);
		explicit_bzero(resp.body, resp.body_len);
		http_response_free(&resp);
		if (r != -EAGAIN && r != -EPROTO)
			break;
	}
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(url);
	return r < 0 ? errctx_prefix(ec, "container credentials") : 0;
}

static const char *
imds_base(const struct cred_ctx *x)
{
	const char *e = x->o.imds_endpoint;

	if (e == NULL)
		e = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (e == NULL || *e == '\0') {
		const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

		e = mode != NULL && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" :
		    "http://169.254.169.254";
	}
	return e;
}

/* 0 with a token cached in x, -ENOENT when IMDS does not answer. */
static int
imds_token(struct cred_ctx *x, bool force, struct errctx *ec)
{
	const char *base = imds_base(x);
	size_t blen = strlen(base);
	char *url, hdr[64];
	const char *hdrs[1] = { hdr };
	struct http_response resp;
	const char *ttl_hdr;
	long ttl = IMDS_TOKEN_TTL;
	int r;

	if (!force && x->imds_token != NULL && aws_monotonic_usec() < x->imds_token_until)
		return 0;
	url = xasprintf("%.*s/latest/api/token", (int)(blen > 0 && base[blen - 1] == '/' ? blen - 1 : blen), base);
	(void)snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL);
	r = http_easy_perform(x->http, &(struct http_request){ .method = "PUT", .url = url,
	    .headers = hdrs, .n_headers = 1, .timeout_usec = metadata_timeout(x), .no_proxy = true },
	    &resp, ec);
	free(url);
	if (r < 0)
		return errctx_set(ec, -ENOENT, "IMDS: no answer to the token request (%s)", errctx_msg(ec));
	if (resp.status != 200 || resp.body_len == 0) {
		long st = resp.status;

		http_response_free(&resp);
		/* 403/404/405: IMDS off or v1 only; we do not fall back to v1. */
		return errctx_set(ec, st == 400 ? -EINVAL : -ENOENT, "IMDS: token request got HTTP %ld", st);
	}
	ttl_hdr = http_response_header(&resp, "X-aws-ec2-metadata-token-ttl-seconds");
	if (ttl_hdr != NULL && atol(ttl_hdr) > 0)
		ttl = atol(ttl_hdr);
	if (x->imds_token != NULL)
		explicit_bzero(x->imds_token, strlen(x->imds_token));
	free(x->imds_token);
	x->imds_token = resp.body;
	resp.body = NULL;
	/* Renew a minute early (or at half life for tiny TTLs). */
	x->imds_token_until = aws_monotonic_usec() +
	    (ttl > 120 ? ttl - 60 : ttl / 2) * INT64_C(1000000);
	http_response_free(&resp);
	return 0;
}

static int
imds_get(struct cred_ctx *x, const char *path, struct http_response *resp, struct errctx *ec)
{
	const char *base = imds_base(x);
	size_t blen = strlen(base);
	char *url, *hdr;
	int r, attempt;

	url = xasprintf("%.*s%s", (int)(blen > 0 && base[blen - 1] == '/' ? blen - 1 : blen), base, path);
	for (attempt = 0; attempt < 2; attempt++) {
		r = imds_token(x, attempt > 0, ec);
		if (r < 0)
			break;
		hdr = xasprintf("X-aws-ec2-metadata-token: %s", x->imds_token);
		r = http_easy_perform(x->http, &(struct http_request){ .method = "GET", .url = url,
		    .headers = (const char *const *)&hdr, .n_headers = 1, .timeout_usec = metadata_timeout(x),
		    .no_proxy = true }, resp, ec);
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
		if (r < 0)
			break;
		/* 401: the token expired or IMDS restarted: one new token. */
		if (resp->status != 401)
			break;
		http_response_free(resp);
		r = errctx_set(ec, -EACCES, "IMDS: token refused (HTTP 401)");
	}
	free(url);
	return r;
}

int
cred_from_imds(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const char *off = getenv("AWS_EC2_METADATA_DISABLED");
	struct http_response resp;
	char *role, *nl, *path;
	int r;

	if (x->o.imds_disabled || (off != NULL && strcasecmp(off, "true") == 0))
		return -ENOENT;
	r = imds_get(x, "/latest/meta-data/iam/security-credentials/", &resp, ec);
	if (r < 0)
		return r;
	if (resp.status != 200 || resp.body_len == 0) {
		r = errctx_set(ec, resp.status == 404 ? -ENOENT : -EACCES,
		    "IMDS: no instance role (HTTP %ld)", resp.status);
		http_response_free(&resp);
		return r;
	}
	role = resp.body;
	resp.body = NULL;
	http_response_free(&resp);
	nl = strpbrk(role, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	if (*role == '\0' || strchr(role, '/') != NULL) {
		free(role);
		return errctx_set(ec, -EPROTO, "IMDS: bad role name");
	}
	path = xasprintf("/latest/meta-data/iam/security-credentials/%s", role);
	free(role);
	r = imds_get(x, path, &resp, ec);
	free(path);
	if (r < 0)
		return r;
	if (resp.status == 200)
		r = parse_cred_json(&resp, true, "imds", ret, ec);
	else
		r = errctx_set(ec, -EACCES, "IMDS: credentials request got HTTP %ld", resp.status);
	explicit_bzero(resp.body, resp.body_len);
	http_response_free(&resp);
	return r;
}
