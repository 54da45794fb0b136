/* credentials: each provider of the chain (the remote ones against the
 * scripted fixture playing STS, the container endpoint and IMDS), the
 * refresh windows, forced refresh and concurrent use. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

static const char *const aws_env[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL_STS",
};

static char *tmp;

static void
setup(void)
{
	size_t i;

	for (i = 0; i < sizeof aws_env / sizeof aws_env[0]; i++)
		unsetenv(aws_env[i]);
	/* Never reach a real instance metadata service from a test. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	tmp = test_tmpdir();
	setenv("HOME", tmp, 1);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmp);

	(void)system(cmd);
	free(cmd);
	free(tmp);
}

static char *
write_tmp(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", tmp, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void
iso(int64_t usec, char *out, size_t n)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct aws_credential_set *
get_ok(struct aws_credentials *c)
{
	struct aws_credential_set *s = NULL;
	struct errctx ec;

	ck_assert_ok(aws_credentials_get(c, true, &s, &ec), &ec);
	return s;
}

START_TEST(test_credentials_options_and_env)
{
	struct secret *sec = secret_new("opt-secret", 10);
	struct aws_credentials_options o = { .access_key_id = "AKIAOPT", .secret_access_key = sec };
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;
	int64_t t;

	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	secret_free(sec);	/* copied */
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "AKIAOPT");
	ck_assert_str_eq(secret_reveal(s->secret_access_key), "opt-secret");
	ck_assert_str_eq(s->source, "options");
	aws_credential_set_unref(s);
	aws_credentials_free(c);

	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-02T03:04:05Z", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "AKIAENV");
	ck_assert_str_eq(secret_reveal(s->session_token), "env-token");
	ck_assert_int_eq(aws_parse_iso8601("2099-01-02T03:04:05Z", &t), 0);
	ck_assert_int_eq(s->expires_usec, t);
	ck_assert_str_eq(s->source, "env");
	aws_credential_set_unref(s);
	aws_credentials_free(c);

	/* Nothing anywhere (IMDS disabled): -ENOENT with a reason. */
	unsetenv("AWS_ACCESS_KEY_ID");
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	ck_assert_err(aws_credentials_get(c, true, &s, &ec), -ENOENT, &ec);
	aws_credentials_free(c);
}
END_TEST

START_TEST(test_credentials_shared_files)
{
	char *cred = write_tmp("credentials",
	    "[default]\naws_access_key_id = AKIADEF\naws_secret_access_key = def-secret\n"
	    "# comment\n[dev]\naws_access_key_id=AKIADEV\naws_secret_access_key=dev-secret\n"
	    "aws_session_token = dev-token\n");
	char *conf = write_tmp("config",
	    "[default]\nregion = us-east-1\n[profile cfg]\naws_access_key_id = AKIACFG\n"
	    "aws_secret_access_key = cfg-secret\n[profile dev]\naws_access_key_id = AKIAIGNORED\n"
	    "aws_secret_access_key = ignored\n[profile assume]\nrole_arn = arn:aws:iam::1:role/x\n"
	    "source_profile = default\n[profile proc]\ncredential_process = /bin/false\n");
	struct aws_credentials_options o = { .shared_credentials_file = cred, .config_file = conf };
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;

	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "AKIADEF");
	ck_assert_str_eq(s->source, "profile default");
	aws_credential_set_unref(s);
	aws_credentials_free(c);

	/* The credentials file wins over the config file for the same profile. */
	setenv("AWS_PROFILE", "dev", 1);
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "AKIADEV");
	ck_assert_str_eq(secret_reveal(s->session_token), "dev-token");
	aws_credential_set_unref(s);
	aws_credentials_free(c);

	o.profile = "cfg";	/* the option beats AWS_PROFILE */
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "AKIACFG");
	aws_credential_set_unref(s);
	aws_credentials_free(c);

	o.profile = "assume";
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	ck_assert_err(aws_credentials_get(c, true, &s, &ec), -ENOTSUP, &ec);
	aws_credentials_free(c);
	o.profile = "proc";
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	ck_assert_err(aws_credentials_get(c, true, &s, &ec), -ENOTSUP, &ec);
	aws_credentials_free(c);
	o.profile = "nosuch";
	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	ck_assert_err(aws_credentials_get(c, true, &s, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "nosuch"));
	/* No secret value leaks into the message. */
	ck_assert_ptr_null(strstr(ec.msg, "secret"));
	aws_credentials_free(c);
	free(cred);
	free(conf);
}
END_TEST

START_TEST(test_credentials_web_identity)
{
	char exp[40], *routes, *tokfile = write_tmp("token", "eyJ.jwt.token\n");
	struct fixture *f;
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;
	json_t *log, *req;
	const char *body;

	iso(aws_now_usec() + INT64_C(3600) * 1000000, exp, sizeof exp);
	routes = xasprintf("[{\"method\": \"POST\", \"path\": \"/\", \"responses\": ["
	    "{\"status\": 400, \"body\": \"<ErrorResponse><Error><Code>IDPCommunicationError</Code>"
	    "<Message>try again</Message></Error></ErrorResponse>\"},"
	    "{\"status\": 200, \"body\": \"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
	    "<Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>web-secret</SecretAccessKey>"
	    "<SessionToken>web&amp;token</SessionToken><Expiration>%s</Expiration></Credentials>"
	    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>\"}]}]", exp);
	f = fixture_start(routes);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/alchemiser", 1);
	setenv("AWS_ROLE_SESSION_NAME", "alc-test", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .sts_endpoint = f->url },
	    &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIAWEB");
	ck_assert_str_eq(secret_reveal(s->session_token), "web&token");
	ck_assert_int_gt(s->expires_usec, aws_now_usec());
	aws_credential_set_unref(s);

	log = fixture_requests(f);
	ck_assert_uint_eq(json_array_size(log), 2);	/* IDPCommunicationError retried */
	req = json_array_get(log, 1);
	body = json_string_value(json_object_get(req, "body"));
	ck_assert_ptr_nonnull(strstr(body, "Action=AssumeRoleWithWebIdentity"));
	ck_assert_ptr_nonnull(strstr(body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Falchemiser"));
	ck_assert_ptr_nonnull(strstr(body, "WebIdentityToken=eyJ.jwt.token&"));
	ck_assert_ptr_nonnull(strstr(body, "RoleSessionName=alc-test"));
	/* Unsigned call. */
	ck_assert_ptr_null(json_object_get(json_object_get(req, "headers"), "authorization"));
	json_decref(log);
	aws_credentials_free(c);
	fixture_free(f);
	free(routes);
	free(tokfile);
}
END_TEST

START_TEST(test_credentials_profile_web_identity)
{
	char exp[40], *routes, *tokfile = write_tmp("token", "profile.jwt"), *conf, *text;
	struct fixture *f;
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;
	json_t *log;

	iso(aws_now_usec() + INT64_C(3600) * 1000000, exp, sizeof exp);
	routes = xasprintf("[{\"method\": \"POST\", \"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": \"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
	    "<Credentials><AccessKeyId>ASIAPROF</AccessKeyId><SecretAccessKey>p-secret</SecretAccessKey>"
	    "<SessionToken>p-token</SessionToken><Expiration>%s</Expiration></Credentials>"
	    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>\"}]}]", exp);
	f = fixture_start(routes);
	text = xasprintf("[profile webid]\nrole_arn = arn:aws:iam::1:role/prof\n"
	    "web_identity_token_file = %s\nrole_session_name = prof-session\n", tokfile);
	conf = write_tmp("config", text);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .profile = "webid",
	    .config_file = conf, .sts_endpoint = f->url }, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIAPROF");
	ck_assert_str_eq(s->source, "profile webid");
	aws_credential_set_unref(s);
	log = fixture_requests(f);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(log, 0), "body")),
	    "WebIdentityToken=profile.jwt&"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(log, 0), "body")),
	    "RoleSessionName=prof-session"));
	json_decref(log);
	aws_credentials_free(c);
	fixture_free(f);
	free(routes);
	free(text);
	free(conf);
	free(tokfile);
}
END_TEST

START_TEST(test_credentials_container)
{
	char exp[40], *routes, *url;
	struct fixture *f;
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;
	json_t *log;

	iso(aws_now_usec() + INT64_C(7200) * 1000000, exp, sizeof exp);
	routes = xasprintf("[{\"method\": \"GET\", \"path\": \"/v1/credentials\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"AccessKeyId\": \"ASIAECS\", \"SecretAccessKey\": \"ecs-secret\","
	    "\"Token\": \"ecs-token\", \"Expiration\": \"%s\", \"RoleArn\": \"arn:x\"}}]}]", exp);
	f = fixture_start(routes);
	url = xasprintf("%s/v1/credentials", f->url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-token", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIAECS");
	ck_assert_str_eq(s->source, "container");
	aws_credential_set_unref(s);
	aws_credentials_free(c);
	log = fixture_requests(f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log, 0),
	    "headers"), "authorization")), "Bearer pod-token");
	json_decref(log);

	/* Plain http to a host outside the allow list is refused. */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	ck_assert_err(aws_credentials_get(c, true, &s, &ec), -EINVAL, &ec);
	aws_credentials_free(c);
	fixture_free(f);
	free(routes);
	free(url);
}
END_TEST

static struct fixture *
imds_fixture(int64_t exp1_usec, int64_t exp2_usec, bool first_401)
{
	char e1[40], e2[40], *routes;
	struct fixture *f;

	iso(exp1_usec, e1, sizeof e1);
	iso(exp2_usec, e2, sizeof e2);
	routes = xasprintf("[{\"method\": \"PUT\", \"path\": \"/latest/api/token\", \"responses\": ["
	    "{\"status\": 200, \"headers\": {\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}, \"body\": \"tok-1\"},"
	    "{\"status\": 200, \"headers\": {\"X-aws-ec2-metadata-token-ttl-seconds\": \"21600\"}, \"body\": \"tok-2\"}]},"
	    "{\"method\": \"GET\", \"path\": \"/latest/meta-data/iam/security-credentials/\", \"responses\": ["
	    "{\"status\": 200, \"body\": \"alc-role\\n\"}]},"
	    "{\"method\": \"GET\", \"path\": \"/latest/meta-data/iam/security-credentials/alc-role\", \"responses\": ["
	    "%s"
	    "{\"status\": 200, \"body\": {\"Code\": \"Success\", \"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"ASIA1\","
	    "\"SecretAccessKey\": \"s1\", \"Token\": \"t1\", \"Expiration\": \"%s\"}},"
	    "{\"status\": 200, \"body\": {\"Code\": \"Success\", \"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"ASIA2\","
	    "\"SecretAccessKey\": \"s2\", \"Token\": \"t2\", \"Expiration\": \"%s\"}},"
	    "{\"status\": 500, \"body\": \"down\"}]}]",
	    first_401 ? "{\"status\": 401, \"body\": \"\"}," : "", e1, e2);
	f = fixture_start(routes);
	free(routes);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f->url, 1);
	return f;
}

START_TEST(test_credentials_imds_flow)
{
	int64_t now = aws_now_usec();
	struct fixture *f = imds_fixture(now + INT64_C(6) * 3600 * 1000000,
	    now + INT64_C(6) * 3600 * 1000000, true);
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;
	json_t *log;
	size_t i, puts = 0;

	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIA1");
	ck_assert_str_eq(secret_reveal(s->session_token), "t1");
	ck_assert_str_eq(s->source, "imds");
	aws_credential_set_unref(s);

	log = fixture_requests(f);
	for (i = 0; i < json_array_size(log); i++) {
		json_t *r = json_array_get(log, i);
		json_t *h = json_object_get(r, "headers");

		if (strcmp(json_string_value(json_object_get(r, "method")), "PUT") == 0) {
			puts++;
			ck_assert_str_eq(json_string_value(json_object_get(h,
			    "x-aws-ec2-metadata-token-ttl-seconds")), "21600");
		} else {
			ck_assert_ptr_nonnull(json_object_get(h, "x-aws-ec2-metadata-token"));
		}
	}
	/* The 401 on the credential GET made exactly one new token. */
	ck_assert_uint_eq(puts, 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log,
	    json_array_size(log) - 1), "headers"), "x-aws-ec2-metadata-token")), "tok-2");
	json_decref(log);
	aws_credentials_free(c);
	fixture_free(f);
}
END_TEST

START_TEST(test_credentials_refresh_windows)
{
	int64_t now = aws_now_usec();
	/* advisory 60 min, mandatory 30 min; first set expires in 45 min:
	 * inside the advisory window only. */
	struct aws_credentials_options o = { .advisory_refresh_usec = INT64_C(3600) * 1000000,
		.mandatory_refresh_usec = INT64_C(1800) * 1000000 };
	struct fixture *f = imds_fixture(now + INT64_C(2700) * 1000000,
	    now + INT64_C(2700) * 1000000, false);
	struct aws_credentials *c;
	struct aws_credential_set *s, *s2;
	struct errctx ec;

	ck_assert_ok(aws_credentials_new(&o, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIA1");
	/* Advisory: a blocking caller refreshes and gets the new set. */
	s2 = get_ok(c);
	ck_assert_str_eq(s2->access_key_id, "ASIA2");
	aws_credential_set_unref(s2);
	/* Next refresh fails (HTTP 500): the current set is kept. */
	s2 = get_ok(c);
	ck_assert_str_eq(s2->access_key_id, "ASIA2");
	aws_credential_set_unref(s2);
	/* The old set stays valid for whoever still holds it. */
	ck_assert_str_eq(secret_reveal(s->secret_access_key), "s1");
	aws_credential_set_unref(s);
	aws_credentials_free(c);
	fixture_free(f);
}
END_TEST

START_TEST(test_credentials_mandatory_and_stale)
{
	int64_t now = aws_now_usec();
	/* Both sets expire in 5 min, inside the 10 min mandatory window: IMDS
	 * serving stale keys. They are used, with the expiry pushed out. */
	struct fixture *f = imds_fixture(now + INT64_C(300) * 1000000, now + INT64_C(300) * 1000000, false);
	struct aws_credentials *c;
	struct aws_credential_set *s;
	struct errctx ec;

	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIA1");
	ck_assert_int_gt(s->expires_usec, now + INT64_C(15) * 60 * 1000000);
	/* A forced refresh (expired-token error) fetches the next set. */
	aws_credentials_expire(c, s);
	aws_credential_set_unref(s);
	s = get_ok(c);
	ck_assert_str_eq(s->access_key_id, "ASIA2");
	aws_credential_set_unref(s);
	aws_credentials_free(c);
	fixture_free(f);
}
END_TEST

START_TEST(test_credentials_nonblocking)
{
	int64_t now = aws_now_usec();
	struct fixture *f = imds_fixture(now + INT64_C(6) * 3600 * 1000000,
	    now + INT64_C(6) * 3600 * 1000000, false);
	struct aws_credentials *c;
	struct aws_credential_set *s = NULL;
	struct errctx ec;
	int r, i;

	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	/* The loop thread never waits: first -EAGAIN, later the set. */
	r = aws_credentials_get(c, false, &s, &ec);
	ck_assert_err(r, -EAGAIN, &ec);
	for (i = 0; i < 500 && r == -EAGAIN; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		r = aws_credentials_get(c, false, &s, &ec);
	}
	ck_assert_ok(r, &ec);
	ck_assert_str_eq(s->access_key_id, "ASIA1");
	aws_credential_set_unref(s);
	aws_credentials_free(c);
	fixture_free(f);

	/* Nothing anywhere: after the background attempt, the loop gets the
	 * reason, not an endless -EAGAIN. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	r = aws_credentials_get(c, false, &s, &ec);
	for (i = 0; i < 500 && r == -EAGAIN; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		r = aws_credentials_get(c, false, &s, &ec);
	}
	ck_assert_err(r, -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "no AWS credentials"));
	aws_credentials_free(c);
}
END_TEST

static void *
hammer(void *arg)
{
	struct aws_credentials *c = arg;
	int i;

	for (i = 0; i < 200; i++) {
		struct aws_credential_set *s = get_ok(c);

		ck_assert(s->access_key_id[0] == 'A');
		if (i % 50 == 0)
			aws_credentials_expire(c, s);
		aws_credential_set_unref(s);
	}
	return NULL;
}

START_TEST(test_credentials_threads)
{
	struct aws_credentials *c;
	struct errctx ec;
	pthread_t t[4];
	int i;

	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ 0 }, &c, &ec), &ec);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, c), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	aws_credentials_free(c);
}
END_TEST

static Suite *
credentials_suite(void)
{
	Suite *s = suite_create("credentials");
	TCase *tc;

	tc = tcase_create("local");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_credentials_options_and_env);
	tcase_add_test(tc, test_credentials_shared_files);
	tcase_add_test(tc, test_credentials_threads);
	suite_add_tcase(s, tc);
	tc = tcase_create("remote");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_credentials_web_identity);
	tcase_add_test(tc, test_credentials_profile_web_identity);
	tcase_add_test(tc, test_credentials_container);
	tcase_add_test(tc, test_credentials_imds_flow);
	suite_add_tcase(s, tc);
	tc = tcase_create("refresh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_credentials_refresh_windows);
	tcase_add_test(tc, test_credentials_mandatory_and_stale);
	tcase_add_test(tc, test_credentials_nonblocking);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(credentials_suite)
