/* aws integration tests: which groups run depends on ALC_ITEST (moto runs
 * all three services, dynalite DynamoDB, local-sqs SQS). */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/core/secret.h"
#include "../../unit/helpers.h"
#include "itest.h"

const char *
itest_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "environment variable %s is not set", name);
	return v;
}

struct aws_credentials *
itest_creds(const char *override_secret)
{
	const char *secret = override_secret != NULL ? override_secret : itest_env("AWS_SECRET_ACCESS_KEY");
	struct secret *s = secret_new(secret, strlen(secret));
	struct aws_credentials *c;
	struct errctx ec;

	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){
	    .access_key_id = itest_env("AWS_ACCESS_KEY_ID"), .secret_access_key = s }, &c, &ec), &ec);
	secret_free(s);
	return c;
}

static Suite *
itest_suite(void)
{
	Suite *s = suite_create("aws-integration");
	const char *which = getenv("ALC_ITEST");

	if (which == NULL)
		which = "";
	if (strcmp(which, "moto") == 0 || strcmp(which, "local-sqs") == 0)
		suite_add_tcase(s, itest_sqs_tcase());
#ifdef ITEST_HAVE_EVENTBRIDGE
	if (strcmp(which, "moto") == 0)
		suite_add_tcase(s, itest_eventbridge_tcase());
#endif
#ifdef ITEST_HAVE_DYNAMODB
	if (strcmp(which, "moto") == 0 || strcmp(which, "dynalite") == 0)
		suite_add_tcase(s, itest_dynamodb_tcase());
	if (strcmp(which, "moto") == 0 || strcmp(which, "dynalite") == 0)
		suite_add_tcase(s, itest_dynamodb_runs_tcase());
#endif
	return s;
}

ALC_TEST_MAIN(itest_suite)
