/* dynamodb: the exact requests of the claim protocol and the mapping of the
 * answers, against the scripted fixture (emulators: tests/integration/aws). */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/dynamodb.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

#define NOW (INT64_C(1767323045) * 1000000)

struct env {
	struct fixture		*f;
	struct aws_credentials	*creds;
	struct idem_store	*s;
};

static void
env_start(struct env *e, const char *routes)
{
	struct secret *s = secret_new("test-secret", 11);
	struct errctx ec;

	e->f = fixture_start(routes);
	ck_assert_ok(aws_credentials_new(&(struct aws_credentials_options){ .access_key_id = "AKIATEST",
	    .secret_access_key = s }, &e->creds, &ec), &ec);
	secret_free(s);
	ck_assert_ok(dynamodb_idem_store_new(&(struct dynamodb_options){ .region = "us-east-1",
	    .endpoint = e->f->url, .table_name = "idem" }, e->creds, &e->s, &ec), &ec);
}

static void
env_stop(struct env *e)
{
	e->s->ops->free(e->s);
	aws_credentials_free(e->creds);
	fixture_free(e->f);
}

static json_t *
sent(struct env *e, size_t i, const char **target)
{
	json_t *log = fixture_requests(e->f);
	json_t *r = json_array_get(log, i);
	json_t *b = json_loads(json_string_value(json_object_get(r, "body")), 0, NULL);
	static char t[128];

	snprintf(t, sizeof t, "%s", json_string_value(json_object_get(json_object_get(r, "headers"),
	    "x-amz-target")));
	*target = t;
	json_decref(log);
	ck_assert_ptr_nonnull(b);
	return b;
}

static const struct idem_claim claim1 = { "ev-1", "host:1:0", "SignalGenerated", "corr-1", NOW,
	60 * INT64_C(1000000), 3600 * INT64_C(1000000), NULL };

START_TEST(test_dynamodb_claim_requests)
{
	struct env e;
	enum idem_claim_result res;
	char holder[128];
	struct errctx ec;
	const char *target;
	json_t *req, *item;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {}},"
	    "{\"status\": 200, \"body\": {\"Attributes\": {\"event_id\": {\"S\": \"ev-1\"}, \"status\": {\"S\": \"IN_PROGRESS\"},"
	    " \"owner\": {\"S\": \"host:9:0\"}}}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
	    " \"Message\": \"The conditional request failed\", \"Item\": {\"event_id\": {\"S\": \"ev-1\"},"
	    " \"status\": {\"S\": \"COMPLETED\"}, \"owner\": {\"S\": \"host:7:0\"}}}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
	    " \"message\": \"The conditional request failed\"}},"
	    "{\"status\": 200, \"body\": {\"Item\": {\"event_id\": {\"S\": \"ev-1\"}, \"status\": {\"S\": \"IN_PROGRESS\"},"
	    " \"owner\": {\"S\": \"host:8:0\"}, \"lease_expires_at\": {\"N\": \"1767323100\"}}}}]}]");
	ck_assert_ok(e.s->ops->claim(e.s, &claim1, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_CLAIMED);
	req = sent(&e, 0, &target);
	ck_assert_str_eq(target, "DynamoDB_20120810.PutItem");
	ck_assert_str_eq(json_string_value(json_object_get(req, "ConditionExpression")),
	    "attribute_not_exists(#id) OR (#st = :inprog AND #lease < :now) OR #exp < :now OR (#st = :inprog AND #own = :me)");
	ck_assert_str_eq(json_string_value(json_object_get(req, "ReturnValuesOnConditionCheckFailure")), "ALL_OLD");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(req,
	    "ExpressionAttributeValues"), ":now"), "N")), "1767323045");
	item = json_object_get(req, "Item");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(item, "status"), "S")), "IN_PROGRESS");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(item, "owner"), "S")), "host:1:0");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(item, "lease_expires_at"), "N")),
	    "1767323105");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(item, "expires_at"), "N")),
	    "1767326645");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(item, "correlation_id"), "S")), "corr-1");
	json_decref(req);

	/* The old item was another owner's lease: taken over. */
	ck_assert_ok(e.s->ops->claim(e.s, &claim1, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_TAKEN_OVER);
	ck_assert_str_eq(holder, "host:9:0");
	/* Condition failed with ALL_OLD: completed by someone. */
	ck_assert_ok(e.s->ops->claim(e.s, &claim1, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_COMPLETED);
	ck_assert_str_eq(holder, "host:7:0");
	/* Condition failed without the item (dynalite): a consistent read. */
	ck_assert_ok(e.s->ops->claim(e.s, &claim1, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_BUSY);
	ck_assert_str_eq(holder, "host:8:0");
	req = sent(&e, 4, &target);
	ck_assert_str_eq(target, "DynamoDB_20120810.GetItem");
	ck_assert(json_is_true(json_object_get(req, "ConsistentRead")));
	json_decref(req);
	env_stop(&e);
}
END_TEST

START_TEST(test_dynamodb_owned_writes)
{
	struct env e;
	struct errctx ec;
	const char *target;
	json_t *req;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {}},"
	    "{\"status\": 200, \"body\": {}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"}},"
	    "{\"status\": 200, \"body\": {}}]}]");
	ck_assert_ok(e.s->ops->renew(e.s, "ev-1", "host:1:0", NOW + 90 * INT64_C(1000000), &ec), &ec);
	req = sent(&e, 0, &target);
	ck_assert_str_eq(target, "DynamoDB_20120810.UpdateItem");
	ck_assert_str_eq(json_string_value(json_object_get(req, "ConditionExpression")),
	    "#own = :me AND #st = :inprog");
	ck_assert_str_eq(json_string_value(json_object_get(req, "UpdateExpression")), "SET #lease = :lease");
	json_decref(req);
	ck_assert_ok(e.s->ops->complete(e.s, "ev-1", "host:1:0", NOW, &ec), &ec);
	req = sent(&e, 1, &target);
	ck_assert_str_eq(json_string_value(json_object_get(req, "UpdateExpression")),
	    "SET #st = :done, #done = :now REMOVE #lease");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(req,
	    "ExpressionAttributeValues"), ":done"), "S")), "COMPLETED");
	json_decref(req);
	ck_assert_err(e.s->ops->complete(e.s, "ev-1", "host:2:0", NOW, &ec), -EEXIST, &ec);
	ck_assert_ok(e.s->ops->release(e.s, "ev-1", "host:1:0", &ec), &ec);
	req = sent(&e, 3, &target);
	ck_assert_str_eq(target, "DynamoDB_20120810.DeleteItem");
	ck_assert_ptr_null(json_object_get(req, "UpdateExpression"));
	json_decref(req);
	env_stop(&e);
}
END_TEST

START_TEST(test_dynamodb_errors_fail_closed)
{
	struct env e;
	enum idem_claim_result res = _IDEM_CLAIM_MAX;
	struct errctx ec;
	json_t *log;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"com.amazon.coral.validate#ValidationException\","
	    " \"message\": \"One or more parameter values were invalid\"}},"
	    "{\"status\": 200, \"body\": {\"Table\": {\"TableStatus\": \"ACTIVE\", \"KeySchema\": ["
	    " {\"AttributeName\": \"pk\", \"KeyType\": \"HASH\"}]}}}]}]");
	/* Throttled through all 3 attempts: -EAGAIN, and no claim result. */
	ck_assert_err(e.s->ops->claim(e.s, &claim1, &res, NULL, &ec), -EAGAIN, &ec);
	ck_assert_int_eq(res, _IDEM_CLAIM_MAX);
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 3);
	json_decref(log);
	ck_assert_err(e.s->ops->claim(e.s, &claim1, &res, NULL, &ec), -EINVAL, &ec);
	ck_assert_err(e.s->ops->preflight(e.s, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "event_id"));
	env_stop(&e);
}
END_TEST

static Suite *
dynamodb_suite(void)
{
	Suite *s = suite_create("dynamodb");
	TCase *tc = tcase_create("idem");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dynamodb_claim_requests);
	tcase_add_test(tc, test_dynamodb_owned_writes);
	tcase_add_test(tc, test_dynamodb_errors_fail_closed);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(dynamodb_suite)
