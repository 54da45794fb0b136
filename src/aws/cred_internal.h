/* Credential providers, shared by credentials.c (cache, chain, env, files)
 * and cred_remote.c (STS web identity, container endpoint, IMDSv2). */
#ifndef ALCHEMISER_AWS_CRED_INTERNAL_H
#define ALCHEMISER_AWS_CRED_INTERNAL_H

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/http.h"

struct cred_ctx {
	struct aws_credentials_options	 o;		/* strings owned (copies) */
	struct http_easy		*http;		/* used by one refresher at a time */
	char				*imds_token;
	int64_t				 imds_token_until;	/* monotonic */
};

/* A provider: 0 with *ret, -ENOENT when it has nothing (try the next one),
 * another negative errno when it is configured but failed. */
typedef int (*cred_provider_fn)(struct cred_ctx *x, struct aws_credential_set **ret,
    struct errctx *ec);

struct aws_credential_set *cred_set_new(const char *key_id, const char *secret, size_t secret_len,
    const char *token, int64_t expires_usec, const char *source);

int	cred_web_identity(struct cred_ctx *x, const char *token_file, const char *role_arn,
	    const char *session_name, const char *source, struct aws_credential_set **ret,
	    struct errctx *ec);
int	cred_from_env_web_identity(struct cred_ctx *x, struct aws_credential_set **ret,
	    struct errctx *ec);
int	cred_from_container(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec);
int	cred_from_imds(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec);

#endif
