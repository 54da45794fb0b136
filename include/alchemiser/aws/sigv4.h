/*
 * sigv4: AWS Signature Version 4 for the Authorization header (HMAC-SHA256),
 * a pure function of the request, the credentials and the time.
 * Thread:  any; nothing shared.
 * Memory:  the request and params are borrowed; struct sigv4_signature holds
 *          malloc'ed strings released with sigv4_signature_free().
 * Secrets: the secret key is read through secret_reveal() only to derive the
 *          signing key; nothing here logs, and no error message names it.
 *
 * Input conventions (the AWS test suite's and botocore's):
 *   path   the request path as sent, without the query ("/", "/a%20b/").
 *          Each segment is UriEncoded once more (botocore's double encoding
 *          for every service except S3), so a raw space in a path becomes
 *          %20 and an escaped %20 becomes %2520; with normalize_path, "." and
 *          ".." segments and repeated slashes are removed first.
 *   query  the raw query without '?', or NULL: names and values are
 *          %-decoded, then UriEncoded, then sorted, so raw and escaped forms
 *          sign the same.
 *   headers what will be sent; the signer adds x-amz-date, and
 *          x-amz-security-token / x-amz-content-sha256 when asked, and returns
 *          their values so the caller sends exactly what was signed.
 *          Hop-by-hop headers libcurl may change (user-agent, expect, ...)
 *          and authorization are never signed.
 */
#ifndef ALCHEMISER_AWS_SIGV4_H
#define ALCHEMISER_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/aws/awsutil.h"

struct errctx;
struct secret;

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_request {
	const char			*method;	/* "POST" */
	const char			*path;		/* "/" */
	const char			*query;		/* NULL or "a=b&c=d" */
	const struct sigv4_header	*headers;	/* must include Host */
	size_t				 n_headers;
	const void			*body;
	size_t				 body_len;
};

struct sigv4_params {
	const char		*region;	/* "us-east-1" */
	const char		*service;	/* signing name: "sqs", "events", "dynamodb" */
	const char		*access_key_id;
	const struct secret	*secret_access_key;
	const char		*session_token;	/* NULL for long-term keys */
	int64_t			 time_usec;	/* wall clock, already skew-corrected */
	bool			 normalize_path;/* true for every service we call */
	bool			 omit_session_token; /* send the token unsigned (test suite only) */
	bool			 sign_body;	/* add x-amz-content-sha256 (S3 style) */
	/* The derived key of (secret, day of time_usec, region, service) when
	 * the caller caches it (it changes once a day); NULL = derive here. */
	const unsigned char	*signing_key;
};

struct sigv4_signature {
	char	 amz_date[AWS_AMZ_DATE_LEN + 1];	/* send as X-Amz-Date */
	char	 content_sha256[AWS_SHA256_HEX_LEN + 1];/* payload hash (X-Amz-Content-Sha256 if sign_body) */
	char	 signature[AWS_SHA256_HEX_LEN + 1];
	char	*authorization;		/* full Authorization header value */
	char	*signed_headers;	/* "host;x-amz-date" */
	char	*canonical_request;	/* for tests and debug logs (no secrets in it) */
	char	*string_to_sign;
};

/* Sign; on success sig holds what to send. -EINVAL on a missing field. */
int	sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
	    struct sigv4_signature *sig, struct errctx *ec);
void	sigv4_signature_free(struct sigv4_signature *sig);

/* The signing key of (secret, yyyymmdd, region, service): exposed for tests. */
void	sigv4_signing_key(const struct secret *secret, const char *yyyymmdd, const char *region,
	    const char *service, unsigned char out[AWS_SHA256_LEN]);

/* Canonical URI of a path (see above) appended to b. */
void	sigv4_canonical_uri(struct abuf *b, const char *path, bool normalize);
/* Canonical query string of a raw query appended to b. */
void	sigv4_canonical_query(struct abuf *b, const char *query);

#endif
