/* Credential cache and chain, plus the local providers (options, environment,
 * shared files). The remote ones live in cred_remote.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "cred_internal.h"

#define ADVISORY_USEC (15 * 60 * INT64_C(1000000))
#define MANDATORY_USEC (10 * 60 * INT64_C(1000000))
#define INI_MAX_KEYS 64

struct aws_credentials {
	pthread_mutex_t			 lock;
	pthread_cond_t			 cond;
	struct aws_credential_set	*cur;
	int				 provider;	/* index of the winner, -1 = none yet */
	bool				 refreshing;
	bool				 last_failed;	/* the last refresh failed: last_error says why */
	struct errctx			 last_error;
	bool				 bg_started;	/* bg thread exists (joined on next start/free) */
	pthread_t			 bg;
	struct cred_ctx			 x;
	struct secret			*static_secret;
	struct secret			*static_token;
};

struct ini_kv {
	char	*key;
	char	*value;
};

struct ini_section {
	struct ini_kv	kv[INI_MAX_KEYS];
	size_t		n;
	bool		found;
};

static int from_options(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec);
static int from_env(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec);
static int from_files(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec);

static const struct {
	const char	*name;
	cred_provider_fn fn;
} providers[] = {
	{ "options", from_options },
	{ "environment", from_env },
	{ "shared files", from_files },
	{ "web identity", cred_from_env_web_identity },
	{ "container", cred_from_container },
	{ "imds", cred_from_imds },
};

struct aws_credential_set *
cred_set_new(const char *key_id, const char *secret, size_t secret_len, const char *token,
    int64_t expires_usec, const char *source)
{
	struct aws_credential_set *s = xcalloc(1, sizeof *s);

	s->access_key_id = xstrdup(key_id);
	s->secret_access_key = secret_new(secret, secret_len);
	if (token != NULL && *token != '\0')
		s->session_token = secret_new(token, strlen(token));
	s->expires_usec = expires_usec;
	s->refs = 1;
	(void)snprintf(s->source, sizeof s->source, "%s", source);
	return s;
}

struct aws_credential_set *
aws_credential_set_ref(struct aws_credential_set *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void
aws_credential_set_unref(struct aws_credential_set *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(s->access_key_id);
	secret_free(s->secret_access_key);
	secret_free(s->session_token);
	free(s);
}

static int
from_options(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const struct aws_credentials_options *o = &x->o;

	if (o->access_key_id == NULL)
		return -ENOENT;
	if (o->secret_access_key == NULL)
		return errctx_set(ec, -EINVAL, "access key id '%s' configured without a secret key",
		    o->access_key_id);
	*ret = cred_set_new(o->access_key_id, secret_reveal(o->secret_access_key),
	    secret_len(o->secret_access_key),
	    o->session_token != NULL ? secret_reveal(o->session_token) : NULL, 0, "options");
	return 0;
}

static int
from_env(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *exp = getenv("AWS_CREDENTIAL_EXPIRATION");
	int64_t expires = 0;

	if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
		return -ENOENT;
	if (token == NULL || *token == '\0')
		token = getenv("AWS_SECURITY_TOKEN");
	if (exp != NULL && *exp != '\0' && aws_parse_iso8601(exp, &expires) < 0)
		return errctx_set(ec, -EINVAL, "AWS_CREDENTIAL_EXPIRATION: not an ISO 8601 time");
	*ret = cred_set_new(id, secret, strlen(secret), token, expires, "env");
	return 0;
}

static char *
strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Read one section of an AWS INI file. A missing file is not an error. */
static int
ini_read(const char *path, const char *section, struct ini_section *out, struct errctx *ec)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	bool in = false;

	memset(out, 0, sizeof *out);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		char *s = strip(line), *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL)
				continue;
			*end = '\0';
			in = strcmp(strip(s + 1), section) == 0;
			out->found |= in;
			continue;
		}
		eq = strchr(s, '=');
		if (!in || eq == NULL || out->n >= INI_MAX_KEYS)
			continue;
		*eq = '\0';
		/* Nested sub-sections (s3 = ...) are indented; we need none. */
		if (line[0] == ' ' || line[0] == '\t')
			continue;
		out->kv[out->n].key = xstrdup(strip(s));
		out->kv[out->n].value = xstrdup(strip(eq + 1));
		out->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

static const char *
ini_get(const struct ini_section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0 && *s->kv[i].value != '\0')
			return s->kv[i].value;
	return NULL;
}

static void
ini_free(struct ini_section *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		explicit_bzero(s->kv[i].value, strlen(s->kv[i].value));
		free(s->kv[i].key);
		free(s->kv[i].value);
	}
	s->n = 0;
}

static char *
home_path(const char *opt, const char *env, const char *rel)
{
	const char *v = opt != NULL ? opt : getenv(env);
	const char *home = getenv("HOME");

	if (v != NULL && *v != '\0') {
		if (v[0] == '~' && v[1] == '/' && home != NULL)
			return xasprintf("%s%s", home, v + 1);
		return xstrdup(v);
	}
	return xasprintf("%s/%s", home != NULL ? home : "", rel);
}

static int
static_keys(const struct ini_section *s, const char *source, struct aws_credential_set **ret)
{
	const char *id = ini_get(s, "aws_access_key_id");
	const char *secret = ini_get(s, "aws_secret_access_key");

	if (id == NULL || secret == NULL)
		return -ENOENT;
	*ret = cred_set_new(id, secret, strlen(secret), ini_get(s, "aws_session_token"), 0, source);
	return 0;
}

static int
from_files(struct cred_ctx *x, struct aws_credential_set **ret, struct errctx *ec)
{
	const char *env_profile = getenv("AWS_PROFILE");
	const char *profile = x->o.profile;
	char *cpath, *fpath, *section, source[64];
	struct ini_section cs, fs;
	bool named;
	int r;

	if (profile == NULL && env_profile != NULL && *env_profile != '\0')
		profile = env_profile;
	if (profile == NULL && (env_profile = getenv("AWS_DEFAULT_PROFILE")) != NULL && *env_profile != '\0')
		profile = env_profile;
	named = profile != NULL && strcmp(profile, "default") != 0;
	if (profile == NULL)
		profile = "default";
	(void)snprintf(source, sizeof source, "profile %s", profile);

	cpath = home_path(x->o.shared_credentials_file, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	fpath = home_path(x->o.config_file, "AWS_CONFIG_FILE", ".aws/config");
	r = ini_read(cpath, profile, &cs, ec);
	if (r < 0)
		goto out_paths;
	/* Static keys in the credentials file win over the config file's. */
	r = static_keys(&cs, source, ret);
	if (r == 0)
		goto out_cs;
	section = strcmp(profile, "default") == 0 ? xstrdup("default") : xasprintf("profile %s", profile);
	r = ini_read(fpath, section, &fs, ec);
	if (r == 0 && !fs.found && strcmp(profile, "default") == 0)
		r = ini_read(fpath, "profile default", &fs, ec);
	free(section);
	if (r < 0)
		goto out_cs;
	if (ini_get(&fs, "role_arn") != NULL && ini_get(&fs, "web_identity_token_file") != NULL) {
		r = cred_web_identity(x, ini_get(&fs, "web_identity_token_file"), ini_get(&fs, "role_arn"),
		    ini_get(&fs, "role_session_name"), source, ret, ec);
	} else if (ini_get(&fs, "role_arn") != NULL) {
		r = errctx_set(ec, -ENOTSUP, "%s: role_arn with source_profile/credential_source "
		    "(STS AssumeRole) is not supported; use web identity or instance credentials", source);
	} else if (ini_get(&fs, "credential_process") != NULL) {
		r = errctx_set(ec, -ENOTSUP, "%s: credential_process is not supported", source);
	} else if ((r = static_keys(&fs, source, ret)) == -ENOENT && named && !cs.found && !fs.found) {
		r = errctx_set(ec, -EINVAL, "profile '%s' not found in %s or %s", profile, cpath, fpath);
	}
	ini_free(&fs);
out_cs:
	ini_free(&cs);
out_paths:
	free(cpath);
	free(fpath);
	return r;
}

/* Run the remembered provider, or the whole chain. Called without the lock. */
static int
fetch(struct aws_credentials *c, int provider, struct aws_credential_set **ret, int *winner,
    struct errctx *ec)
{
	size_t i;
	int r;

	if (provider >= 0) {
		r = providers[provider].fn(&c->x, ret, ec);
		if (r == 0)
			*winner = provider;
		if (r != -ENOENT)
			return r;
		/* The winner has nothing any more (env cleared?): walk the chain. */
	}
	for (i = 0; i < ELEMENTSOF(providers); i++) {
		errctx_clear(ec);
		r = providers[i].fn(&c->x, ret, ec);
		if (r == 0) {
			*winner = (int)i;
			return 0;
		}
		if (r != -ENOENT)
			return errctx_prefix(ec, "credentials (%s)", providers[i].name);
	}
	return errctx_set(ec, -ENOENT, "no AWS credentials: none in the options, the environment, "
	    "the shared files, web identity, the container endpoint or instance metadata");
}

/* Refresh with the lock held on entry and exit; drops it around the fetch. */
static int
refresh_locked(struct aws_credentials *c, struct errctx *ec)
{
	struct aws_credential_set *s = NULL;
	int provider = c->provider, winner = -1, r;

	c->refreshing = true;
	pthread_mutex_unlock(&c->lock);
	r = fetch(c, provider, &s, &winner, ec);
	pthread_mutex_lock(&c->lock);
	c->refreshing = false;
	c->last_failed = r < 0;
	if (r < 0)
		c->last_error = *ec;
	if (r == 0) {
		aws_credential_set_unref(c->cur);
		c->cur = s;
		c->provider = winner;
	}
	pthread_cond_broadcast(&c->cond);
	return r;
}

static void *
bg_refresh(void *arg)
{
	struct aws_credentials *c = arg;
	struct errctx ec;

	pthread_mutex_lock(&c->lock);
	(void)refresh_locked(c, &ec);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* With the lock held and no refresh running. */
static void
start_bg_locked(struct aws_credentials *c)
{
	if (c->bg_started) {
		/* The previous one finished (refreshing is false): reap it. */
		pthread_join(c->bg, NULL);
		c->bg_started = false;
	}
	c->refreshing = true;	/* claimed now so no second thread starts */
	if (pthread_create(&c->bg, NULL, bg_refresh, c) != 0) {
		c->refreshing = false;
		return;
	}
	c->bg_started = true;
}

int
aws_credentials_get(struct aws_credentials *c, bool may_block, struct aws_credential_set **ret,
    struct errctx *ec)
{
	int64_t adv = c->x.o.advisory_refresh_usec > 0 ? c->x.o.advisory_refresh_usec : ADVISORY_USEC;
	int64_t mand = c->x.o.mandatory_refresh_usec > 0 ? c->x.o.mandatory_refresh_usec : MANDATORY_USEC;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct aws_credential_set *cur = c->cur;
		int64_t now = aws_now_usec();
		bool usable = cur != NULL && !cur->forced_stale &&
		    (cur->expires_usec == 0 || now < cur->expires_usec);

		if (usable && (cur->expires_usec == 0 || now < cur->expires_usec - adv))
			break;	/* fresh */
		if (usable && now < cur->expires_usec - mand) {
			/* Advisory window: someone refreshes, nobody waits for it. */
			if (!c->refreshing) {
				if (may_block)
					(void)refresh_locked(c, ec);
				else
					start_bg_locked(c);
			}
			break;
		}
		if (!may_block) {
			/* A refresh that already failed answers with its reason (the
			 * next one starts for the following call). */
			bool failed = !c->refreshing && c->last_failed;

			if (!c->refreshing)
				start_bg_locked(c);
			if (usable)
				break;
			if (failed) {
				if (ec != NULL)
					*ec = c->last_error;
				r = c->last_error.code < 0 ? c->last_error.code : -EAGAIN;
			} else {
				r = errctx_set(ec, -EAGAIN, "credentials: refresh in progress");
			}
			break;
		}
		if (c->refreshing) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		r = refresh_locked(c, ec);
		if (r < 0)
			break;
		/* Fresh from the provider yet already inside the mandatory window
		 * (IMDS serving stale keys during an outage): use them rather than
		 * hammer the provider; botocore does the same. */
		if (c->cur->expires_usec != 0 && aws_now_usec() >= c->cur->expires_usec - mand) {
			int64_t jitter = (int64_t)(aws_random01() * 480.0 * 1e6) + 120 * INT64_C(1000000);

			c->cur->expires_usec = aws_now_usec() + adv + jitter;
		}
		break;	/* just fetched: use it even if already in the advisory window */
	}
	if (r == 0) {
		if (c->cur == NULL)
			r = errctx_set(ec, -ENOENT, "credentials: none available");
		else
			*ret = aws_credential_set_ref(c->cur);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

void
aws_credentials_expire(struct aws_credentials *c, const struct aws_credential_set *stale)
{
	pthread_mutex_lock(&c->lock);
	if (c->cur != NULL && c->cur == stale)
		c->cur->forced_stale = true;
	pthread_mutex_unlock(&c->lock);
}

static const char *
dup_opt(const char *s)
{
	return xstrdup_or_null(s);
}

int
aws_credentials_new(const struct aws_credentials_options *o, struct aws_credentials **ret,
    struct errctx *ec)
{
	struct aws_credentials *c = xcalloc(1, sizeof *c);
	struct http_options ho = { .connect_timeout_usec = 1000000, .timeout_usec = 10000000 };

	if (o->access_key_id != NULL && o->secret_access_key == NULL) {
		free(c);
		return errctx_set(ec, -EINVAL, "credentials: access key id without a secret key");
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->provider = -1;
	c->x.o = *o;
	c->x.o.access_key_id = dup_opt(o->access_key_id);
	c->x.o.secret_access_key = c->static_secret = secret_dup(o->secret_access_key);
	c->x.o.session_token = c->static_token = secret_dup(o->session_token);
	c->x.o.profile = dup_opt(o->profile);
	c->x.o.shared_credentials_file = dup_opt(o->shared_credentials_file);
	c->x.o.config_file = dup_opt(o->config_file);
	c->x.o.region = dup_opt(o->region);
	c->x.o.sts_endpoint = dup_opt(o->sts_endpoint);
	c->x.o.imds_endpoint = dup_opt(o->imds_endpoint);
	c->x.o.ca_file = dup_opt(o->ca_file);
	ho.ca_file = o->ca_file;
	c->x.http = http_easy_new(&ho);
	*ret = c;
	return 0;
}

void
aws_credentials_free(struct aws_credentials *c)
{
	if (c == NULL)
		return;
	if (c->bg_started)
		pthread_join(c->bg, NULL);
	aws_credential_set_unref(c->cur);
	http_easy_free(c->x.http);
	free((char *)c->x.o.access_key_id);
	secret_free(c->static_secret);
	secret_free(c->static_token);
	free((char *)c->x.o.profile);
	free((char *)c->x.o.shared_credentials_file);
	free((char *)c->x.o.config_file);
	free((char *)c->x.o.region);
	free((char *)c->x.o.sts_endpoint);
	free((char *)c->x.o.imds_endpoint);
	free((char *)c->x.o.ca_file);
	if (c->x.imds_token != NULL)
		explicit_bzero(c->x.imds_token, strlen(c->x.imds_token));
	free(c->x.imds_token);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
