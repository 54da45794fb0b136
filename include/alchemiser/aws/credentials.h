/*
 * credentials: where the daemon's AWS keys come from, cached and refreshed.
 * Chain, first that yields keys wins (the winner is remembered and asked
 * again on refresh):
 *   0. static keys given in the options (config file / LoadCredential=)
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN,
 *      AWS_CREDENTIAL_EXPIRATION]
 *   2. shared files, profile = options, else $AWS_PROFILE, else "default":
 *      static keys from the credentials file, then from the config file; a
 *      profile with web_identity_token_file + role_arn uses web identity.
 *      role_arn + source_profile / credential_source (STS AssumeRole) and
 *      credential_process are refused with -ENOTSUP rather than skipped.
 *   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity (unsigned)
 *   4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (169.254.170.2) or
 *      _FULL_URI (https, loopback or the ECS/EKS link-local hosts only), with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]
 *   5. IMDSv2 (unless disabled or AWS_EC2_METADATA_DISABLED=true): token PUT
 *      with a TTL header (cached until shortly before the TTL), role name,
 *      credential JSON; a 401 gets a new token once. No IMDSv1 fallback.
 * Refresh (botocore's RefreshableCredentials): inside the advisory window
 * (15 min before Expiration) one caller refreshes and everyone keeps the
 * current set if that fails; inside the mandatory window (10 min) callers
 * that may block wait for the refresh and get an error if it fails. Callers
 * that must not block (the loop thread) never wait: they get the current set
 * while it is still valid and a background refresh is started, or -EAGAIN.
 * aws_credentials_expire() forces a refresh after an expired-token error.
 * Thread:  every function is thread-safe; sets are immutable and refcounted.
 * Memory:  options are copied by _new; a set from _get is released with
 *          aws_credential_set_unref(). Secrets stay in struct secret.
 */
#ifndef ALCHEMISER_AWS_CREDENTIALS_H
#define ALCHEMISER_AWS_CREDENTIALS_H

#include <stdbool.h>
#include <stdint.h>

struct errctx;
struct secret;
struct aws_credentials;

struct aws_credential_set {
	char		*access_key_id;
	struct secret	*secret_access_key;
	struct secret	*session_token;		/* NULL for long-term keys */
	int64_t		 expires_usec;		/* wall clock; 0 = never expires */
	char		 source[64];		/* "env", "profile default", "imds", ... */
	/* private */
	int		 refs;
	bool		 forced_stale;
};

struct aws_credentials_options {
	/* Static keys (all borrowed, copied): when access_key_id is set, the
	 * chain is not consulted. */
	const char		*access_key_id;
	const struct secret	*secret_access_key;
	const struct secret	*session_token;
	const char		*profile;		/* NULL = $AWS_PROFILE or "default" */
	const char		*shared_credentials_file; /* NULL = $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials */
	const char		*config_file;		/* NULL = $AWS_CONFIG_FILE or ~/.aws/config */
	const char		*region;		/* STS region; NULL = $AWS_REGION / $AWS_DEFAULT_REGION */
	const char		*sts_endpoint;		/* NULL = $AWS_ENDPOINT_URL_STS or https://sts.REGION.amazonaws.com */
	const char		*imds_endpoint;		/* NULL = $AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254 */
	bool			 imds_disabled;
	int64_t			 metadata_timeout_usec;	/* IMDS / container calls; 0 = 2 s */
	int64_t			 advisory_refresh_usec;	/* 0 = 15 min */
	int64_t			 mandatory_refresh_usec;/* 0 = 10 min */
	const char		*ca_file;		/* for STS and https container URIs */
};

int	aws_credentials_new(const struct aws_credentials_options *o, struct aws_credentials **ret,
	    struct errctx *ec);
/* A usable set. may_block=false never waits on the network (loop thread).
 * -ENOENT when no provider has keys, -EACCES when a provider refused,
 * -EAGAIN when a non-blocking caller must come back after the refresh. */
int	aws_credentials_get(struct aws_credentials *c, bool may_block,
	    struct aws_credential_set **ret, struct errctx *ec);
/* The service said the token expired or is unknown: refresh before the next
 * use unless someone already replaced this set. */
void	aws_credentials_expire(struct aws_credentials *c, const struct aws_credential_set *stale);
void	aws_credentials_free(struct aws_credentials *c);

struct aws_credential_set *aws_credential_set_ref(struct aws_credential_set *s);
void	aws_credential_set_unref(struct aws_credential_set *s);

#endif
