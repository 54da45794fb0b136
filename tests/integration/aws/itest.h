/* Shared by the aws integration test program (run by the *.sh scripts). */
#ifndef ALCHEMISER_TESTS_ITEST_H
#define ALCHEMISER_TESTS_ITEST_H

#include <check.h>

struct aws_credentials;

/* Required environment variable (fails the test when absent). */
const char *itest_env(const char *name);
/* Credentials from AWS_ACCESS_KEY_ID/SECRET, or with a wrong secret. */
struct aws_credentials *itest_creds(const char *override_secret);

TCase	*itest_sqs_tcase(void);
TCase	*itest_eventbridge_tcase(void);
TCase	*itest_dynamodb_tcase(void);
TCase	*itest_dynamodb_runs_tcase(void);

#endif
