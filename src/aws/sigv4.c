/* SigV4 header signing; see include/alchemiser/aws/sigv4.h and
 * shared/reference/aws-sigv4.md for the rules followed here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alchemiser/aws/sigv4.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"

struct canon_header {
	char	*name;		/* lower case */
	char	*value;		/* trimmed, runs of whitespace collapsed */
	size_t	 order;		/* position in the request, for a stable sort */
};

struct query_pair {
	char	*name;		/* UriEncoded */
	char	*value;
};

static bool header_is_unsigned(const char *lname);
static char *trimall(const char *v);
static int header_cmp(const void *a, const void *b);
static int query_cmp(const void *a, const void *b);

/* botocore's SIGV4 exclusion list: headers that proxies or libcurl may add,
 * drop or rewrite after we sign. */
static const char *const unsigned_headers[] = {
	"authorization", "connection", "expect", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
	"user-agent", "x-amzn-trace-id",
};

static bool
header_is_unsigned(const char *lname)
{
	size_t i;

	for (i = 0; i < ELEMENTSOF(unsigned_headers); i++)
		if (strcmp(lname, unsigned_headers[i]) == 0)
			return true;
	return false;
}

static char *
trimall(const char *v)
{
	struct abuf b;
	bool space = false;
	const char *q;

	/* Most values have nothing to trim: no white space but single inner
	 * spaces, none at either end. */
	for (q = v; *q != '\0'; q++)
		if ((isspace((unsigned char)*q) && *q != ' ') || (*q == ' ' && (q == v || q[1] == ' ' ||
		    q[1] == '\0')))
			break;
	if (*q == '\0')
		return xstrdup(v);
	abuf_init(&b);
	for (; *v != '\0'; v++) {
		if (isspace((unsigned char)*v)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			abuf_putc(&b, ' ');
		space = false;
		abuf_putc(&b, *v);
	}
	return abuf_steal(&b);
}

static int
header_cmp(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
query_cmp(const void *a, const void *b)
{
	const struct query_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

void
sigv4_canonical_uri(struct abuf *b, const char *path, bool normalize)
{
	const char **segs;
	size_t nseg = 0, i, len;
	const char *p, *q;
	struct abuf norm;
	bool trailing;

	if (path == NULL || *path == '\0')
		path = "/";
	if (!normalize) {
		aws_uri_encode(b, path, strlen(path), true);
		return;
	}
	/* posixpath.normpath plus the kept trailing slash, as botocore does. */
	len = strlen(path);
	segs = xcalloc(len + 1, sizeof *segs);
	for (p = path; *p != '\0'; p = q) {
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		q = strchr(p, '/');
		if (q == NULL)
			q = p + strlen(p);
		n = (size_t)(q - p);
		if (n == 1 && p[0] == '.')
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		segs[nseg++] = p;
	}
	trailing = path[len - 1] == '/';
	abuf_init(&norm);
	for (i = 0; i < nseg; i++) {
		const char *end = strchr(segs[i], '/');

		abuf_putc(&norm, '/');
		abuf_add(&norm, segs[i], end != NULL ? (size_t)(end - segs[i]) : strlen(segs[i]));
	}
	if (nseg == 0 || trailing)
		abuf_putc(&norm, '/');
	aws_uri_encode(b, norm.data, norm.len, true);
	abuf_free(&norm);
	free(segs);
}

void
sigv4_canonical_query(struct abuf *b, const char *query)
{
	struct query_pair *pairs;
	size_t n = 0, cap = 8, i;
	const char *p, *amp, *eq;

	if (query == NULL || *query == '\0')
		return;
	pairs = xcalloc(cap, sizeof *pairs);
	for (p = query; p != NULL && *p != '\0'; p = amp != NULL ? amp + 1 : NULL) {
		struct abuf e;
		char *raw;
		size_t plen;

		amp = strchr(p, '&');
		plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (plen == 0)
			continue;
		if (n == cap)
			pairs = xreallocarray(pairs, cap *= 2, sizeof *pairs);
		eq = memchr(p, '=', plen);
		abuf_init(&e);
		raw = aws_uri_decode(p, eq != NULL ? (size_t)(eq - p) : plen);
		aws_uri_encode(&e, raw, strlen(raw), false);
		free(raw);
		pairs[n].name = abuf_steal(&e);
		if (eq != NULL) {
			raw = aws_uri_decode(eq + 1, plen - (size_t)(eq + 1 - p));
			aws_uri_encode(&e, raw, strlen(raw), false);
			free(raw);
		}
		pairs[n].value = abuf_steal(&e);
		n++;
	}
	qsort(pairs, n, sizeof *pairs, query_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			abuf_putc(b, '&');
		abuf_printf(b, "%s=%s", pairs[i].name, pairs[i].value);
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

void
sigv4_signing_key(const struct secret *secret, const char *yyyymmdd, const char *region,
    const char *service, unsigned char out[AWS_SHA256_LEN])
{
	unsigned char k[AWS_SHA256_LEN];
	size_t slen = secret_len(secret);
	char *seed = xmalloc(slen + 5);

	memcpy(seed, "AWS4", 4);
	memcpy(seed + 4, secret_reveal(secret), slen);
	aws_hmac_sha256(seed, slen + 4, yyyymmdd, strlen(yyyymmdd), k);
	explicit_bzero(seed, slen + 4);
	free(seed);
	aws_hmac_sha256(k, sizeof k, region, strlen(region), k);
	aws_hmac_sha256(k, sizeof k, service, strlen(service), k);
	aws_hmac_sha256(k, sizeof k, "aws4_request", 12, out);
	explicit_bzero(k, sizeof k);
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    struct sigv4_signature *sig, struct errctx *ec)
{
	struct canon_header *h;
	size_t nh = 0, i, cap;
	struct abuf cr, sh, sts;
	char crhash[AWS_SHA256_HEX_LEN + 1], scope[160];
	unsigned char key[AWS_SHA256_LEN], mac[AWS_SHA256_LEN];
	bool have_host = false;

	memset(sig, 0, sizeof *sig);
	if (req->method == NULL || p->region == NULL || p->service == NULL ||
	    p->access_key_id == NULL || p->secret_access_key == NULL)
		return errctx_set(ec, -EINVAL, "sigv4: method, region, service and credentials are required");
	if (strlen(p->region) + strlen(p->service) > 100)
		return errctx_set(ec, -EINVAL, "sigv4: region or service name too long");

	aws_format_amz_date(p->time_usec, sig->amz_date);
	if (req->body_len > 0)
		aws_sha256_hex(req->body, req->body_len, sig->content_sha256);
	else
		aws_sha256_hex("", 0, sig->content_sha256);

	cap = req->n_headers + 3;
	h = xcalloc(cap, sizeof *h);
	for (i = 0; i < req->n_headers; i++) {
		char *lname = xstrdup(req->headers[i].name);
		char *q;

		for (q = lname; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if (header_is_unsigned(lname) || strcmp(lname, "x-amz-date") == 0 ||
		    (strcmp(lname, "x-amz-security-token") == 0 && p->session_token != NULL)) {
			/* The signer owns these: never sign a stale copy from the caller. */
			free(lname);
			continue;
		}
		have_host |= strcmp(lname, "host") == 0;
		h[nh].name = lname;
		h[nh].value = trimall(req->headers[i].value != NULL ? req->headers[i].value : "");
		h[nh].order = i;
		nh++;
	}
	if (!have_host) {
		for (i = 0; i < nh; i++) {
			free(h[i].name);
			free(h[i].value);
		}
		free(h);
		return errctx_set(ec, -EINVAL, "sigv4: no Host header to sign");
	}
	h[nh++] = (struct canon_header){ xstrdup("x-amz-date"), xstrdup(sig->amz_date), cap };
	if (p->session_token != NULL && !p->omit_session_token)
		h[nh++] = (struct canon_header){ xstrdup("x-amz-security-token"),
		    trimall(p->session_token), cap };
	if (p->sign_body)
		h[nh++] = (struct canon_header){ xstrdup("x-amz-content-sha256"),
		    xstrdup(sig->content_sha256), cap };
	qsort(h, nh, sizeof *h, header_cmp);

	abuf_init(&cr);
	abuf_init(&sh);
	abuf_printf(&cr, "%s\n", req->method);
	sigv4_canonical_uri(&cr, req->path, p->normalize_path);
	abuf_putc(&cr, '\n');
	sigv4_canonical_query(&cr, req->query);
	abuf_putc(&cr, '\n');
	for (i = 0; i < nh; i++) {
		/* Repeated names: one line, values joined with ',' in request order. */
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			abuf_printf(&cr, ",%s", h[i].value);
			continue;
		}
		if (i > 0)
			abuf_putc(&cr, '\n');
		abuf_printf(&cr, "%s:%s", h[i].name, h[i].value);
		if (sh.len > 0)
			abuf_putc(&sh, ';');
		abuf_puts(&sh, h[i].name);
	}
	abuf_printf(&cr, "\n\n%s\n%s", sh.data, sig->content_sha256);
	for (i = 0; i < nh; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);

	aws_sha256_hex(cr.data, cr.len, crhash);
	(void)snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", sig->amz_date, p->region,
	    p->service);
	abuf_init(&sts);
	abuf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", sig->amz_date, scope, crhash);

	if (p->signing_key != NULL) {
		memcpy(key, p->signing_key, sizeof key);
	} else {
		char day[9];

		memcpy(day, sig->amz_date, 8);
		day[8] = '\0';
		sigv4_signing_key(p->secret_access_key, day, p->region, p->service, key);
	}
	aws_hmac_sha256(key, sizeof key, sts.data, sts.len, mac);
	explicit_bzero(key, sizeof key);
	aws_hex(mac, sizeof mac, sig->signature);

	sig->authorization = xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	    p->access_key_id, scope, sh.data, sig->signature);
	sig->signed_headers = abuf_steal(&sh);
	sig->canonical_request = abuf_steal(&cr);
	sig->string_to_sign = abuf_steal(&sts);
	return 0;
}

void
sigv4_signature_free(struct sigv4_signature *sig)
{
	if (sig == NULL)
		return;
	free(sig->authorization);
	free(sig->signed_headers);
	free(sig->canonical_request);
	free(sig->string_to_sign);
	sig->authorization = sig->signed_headers = NULL;
	sig->canonical_request = sig->string_to_sign = NULL;
}
