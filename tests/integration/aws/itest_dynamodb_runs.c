/* The dashboard's run and park records (aws/dynamodb_runs.h) against moto
 * (signatures checked) and dynalite, in the idempotency table they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/dynamodb_runs.h"
#include "alchemiser/core/xalloc.h"
#include "../../unit/helpers.h"
#include "itest.h"

#define SEC INT64_C(1000000)

static struct dynamodb_runs *
make(struct aws_credentials *creds)
{
	struct dynamodb_runs *r;
	struct errctx ec = { 0 };

	ck_assert_ok(dynamodb_runs_new(&(struct dynamodb_runs_options){ .region = "us-east-1",
	    .endpoint = itest_env("ALC_DDB_ENDPOINT"), .table_name = itest_env("ALC_TABLE") }, creds,
	    &r, &ec), &ec);
	return r;
}

static void
record(struct dynamodb_runs *r, const char *corr, const char *type, int64_t t)
{
	struct errctx ec = { 0 };
	char *detail = xasprintf("{\"correlation_id\": \"%s\", \"event_id\": \"%s-%s\", "
	    "\"weight\": 0.6}", corr, corr, type);

	ck_assert_ok(dynamodb_runs_record(r, type, detail, t, &ec), &ec);
	free(detail);
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

START_TEST(test_itest_dynamodb_runs_two_writers)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct dynamodb_runs *a = make(creds), *b = make(creds);
	int64_t t0 = aws_now_usec();
	struct errctx ec = { 0 };
	json_t *runs = NULL, *ev = NULL, *run, *steps;
	char corr_a[64], corr_b[64];

	(void)snprintf(corr_a, sizeof corr_a, "itest-run-a-%lld", (long long)t0);
	(void)snprintf(corr_b, sizeof corr_b, "itest-run-b-%lld", (long long)t0);
	/* Two daemons write the steps of one run; the last one is stored first. */
	record(a, corr_a, "WorkflowStarted", t0);
	record(b, corr_a, "WorkflowCompleted", t0 + 2 * SEC);
	record(a, corr_a, "SignalGenerated", t0 + 1 * SEC);
	/* A retried publish appends the same event again: read once. */
	record(b, corr_a, "SignalGenerated", t0 + 3 * SEC);
	record(b, corr_b, "WorkflowStarted", t0 + 10 * SEC);
	ck_assert_ok(dynamodb_runs_record(a, "WorkflowStarted", "{\"no\": \"correlation\"}", t0, &ec), &ec);

	ck_assert_ok(dynamodb_runs_list(b, t0 + 20 * SEC, 10, &runs, &ec), &ec);
	ck_assert_uint_ge(json_array_size(runs), 2);
	run = json_array_get(runs, 0);
	ck_assert_str_eq(str(run, "correlation_id"), corr_b);
	ck_assert_str_eq(str(run, "outcome"), "running");
	ck_assert(json_is_null(json_object_get(run, "finished_usec")));
	run = json_array_get(runs, 1);
	ck_assert_str_eq(str(run, "correlation_id"), corr_a);
	ck_assert_str_eq(str(run, "outcome"), "success");
	ck_assert_int_eq(json_integer_value(json_object_get(run, "started_usec")), t0);
	ck_assert_int_eq(json_integer_value(json_object_get(run, "finished_usec")), t0 + 2 * SEC);
	steps = json_object_get(run, "steps");
	ck_assert_uint_eq(json_array_size(steps), 3);
	ck_assert_str_eq(str(json_array_get(steps, 1), "detail_type"), "SignalGenerated");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(steps, 2), "claimed_usec")),
	    t0 + 1 * SEC);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(steps, 2), "completed_usec")),
	    t0 + 2 * SEC);
	json_decref(runs);
	ck_assert_ok(dynamodb_runs_list(a, t0 + 20 * SEC, 1, &runs, &ec), &ec);
	ck_assert_uint_eq(json_array_size(runs), 1);
	json_decref(runs);

	/* A run superseded by a newer one says so in its outcome. */
	{
		char corr_s[64], *detail;

		(void)snprintf(corr_s, sizeof corr_s, "itest-run-s-%lld", (long long)t0);
		detail = xasprintf("{\"correlation_id\": \"%s\", \"event_id\": \"%s-wc\", "
		    "\"superseded_by\": \"%s\"}", corr_s, corr_s, corr_b);
		ck_assert_ok(dynamodb_runs_record(a, "WorkflowCompleted", detail, t0 + 30 * SEC, &ec), &ec);
		free(detail);
		ck_assert_ok(dynamodb_runs_list(a, t0 + 40 * SEC, 1, &runs, &ec), &ec);
		ck_assert_str_eq(str(json_array_get(runs, 0), "correlation_id"), corr_s);
		ck_assert_str_eq(str(json_array_get(runs, 0), "outcome"), "superseded");
		json_decref(runs);
	}

	ck_assert_ok(dynamodb_runs_events(a, corr_a, &ev, &ec), &ec);
	ck_assert_uint_eq(json_array_size(ev), 3);
	ck_assert_str_eq(str(json_array_get(ev, 0), "detail_type"), "WorkflowStarted");
	ck_assert_str_eq(str(json_array_get(ev, 2), "detail_type"), "WorkflowCompleted");
	ck_assert_str_eq(str(json_object_get(json_array_get(ev, 1), "detail"), "correlation_id"), corr_a);
	json_decref(ev);
	ck_assert_ok(dynamodb_runs_events(a, "itest-no-such-run", &ev, &ec), &ec);
	ck_assert_uint_eq(json_array_size(ev), 0);
	json_decref(ev);
	dynamodb_runs_free(a);
	dynamodb_runs_free(b);
	aws_credentials_free(creds);
}
END_TEST

START_TEST(test_itest_dynamodb_runs_park_records)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct dynamodb_runs *r = make(creds);
	int64_t t0 = aws_now_usec();
	struct errctx ec = { 0 };
	json_t *p = NULL;
	size_t removed = 0;
	char *big = xmalloc(DYNAMODB_RUNS_BODY_MAX + 100);

	memset(big, 'x', DYNAMODB_RUNS_BODY_MAX + 99);
	big[DYNAMODB_RUNS_BODY_MAX + 99] = '\0';
	ck_assert_ok(dynamodb_runs_park(r, "itest-m2", "bad body", 3, big, t0 + SEC, &ec), &ec);
	ck_assert_ok(dynamodb_runs_park(r, "itest-m1", "", 1, "{\"mode\":\"bogus\"}", t0, &ec), &ec);
	ck_assert_ok(dynamodb_runs_parked(r, t0 + 5 * SEC, 100, &p, &ec), &ec);
	ck_assert_uint_eq(json_array_size(p), 2);
	ck_assert_str_eq(str(json_array_get(p, 0), "message_id"), "itest-m1");
	ck_assert(json_is_null(json_object_get(json_array_get(p, 0), "reason")) ||
	    json_object_get(json_array_get(p, 0), "reason") == NULL);
	ck_assert_str_eq(str(json_array_get(p, 1), "reason"), "bad body");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(p, 1), "receive_count")), 3);
	ck_assert_uint_eq(strlen(str(json_array_get(p, 1), "body")), DYNAMODB_RUNS_BODY_MAX);
	json_decref(p);
	ck_assert_ok(dynamodb_runs_unpark(r, "itest-m1", t0, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 1);
	ck_assert_ok(dynamodb_runs_parked(r, t0 + 5 * SEC, 100, &p, &ec), &ec);
	ck_assert_uint_eq(json_array_size(p), 1);
	json_decref(p);
	ck_assert_ok(dynamodb_runs_unpark(r, NULL, t0 + 5 * SEC, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 1);
	ck_assert_ok(dynamodb_runs_parked(r, t0 + 5 * SEC, 100, &p, &ec), &ec);
	ck_assert_uint_eq(json_array_size(p), 0);
	json_decref(p);
	free(big);
	dynamodb_runs_free(r);
	aws_credentials_free(creds);
}
END_TEST

TCase *
itest_dynamodb_runs_tcase(void)
{
	TCase *tc = tcase_create("dynamodb_runs");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_itest_dynamodb_runs_two_writers);
	tcase_add_test(tc, test_itest_dynamodb_runs_park_records);
	return tc;
}
