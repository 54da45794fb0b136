/* eventbridge: batching limits and per-entry retries against the fixture. */
#include <stdlib.h>
#include <string.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/eventbridge.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"
#include "../helpers.h"
#include "fixture.h"

struct env {
	struct fixture		*f;
	struct aws_credentials	*creds;
	struct bus		*bus;
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
	ck_assert_ok(eventbridge_bus_new(&(struct eventbridge_options){ .region = "us-east-1",
	    .endpoint = e->f->url, .bus_name = "alc-bus" }, e->creds, &e->bus, &ec), &ec);
}

static void
env_stop(struct env *e)
{
	e->bus->ops->free(e->bus);
	aws_credentials_free(e->creds);
	fixture_free(e->f);
}

static json_t *
sent_entries(json_t *log, size_t i)
{
	json_t *body = json_loads(json_string_value(json_object_get(json_array_get(log, i), "body")), 0, NULL);
	json_t *entries = json_incref(json_object_get(body, "Entries"));

	json_decref(body);
	return entries;
}

START_TEST(test_eventbridge_batches)
{
	struct env e;
	struct bus_entry entries[23];
	char *big = xmalloc(100 * 1024);
	char *huge = xmalloc(BUS_MAX_BATCH_BYTES + 10);
	struct errctx ec;
	json_t *log, *sent;
	size_t i;

	env_start(&e, "[{\"path\": \"/\", \"responses\": [{\"status\": 200, \"body\": {\"FailedEntryCount\": 0,"
	    "\"Entries\": [{\"EventId\": \"1\"}, {\"EventId\": \"2\"}, {\"EventId\": \"3\"}, {\"EventId\": \"4\"},"
	    "{\"EventId\": \"5\"}, {\"EventId\": \"6\"}, {\"EventId\": \"7\"}, {\"EventId\": \"8\"},"
	    "{\"EventId\": \"9\"}, {\"EventId\": \"10\"}]}}]}]");
	/* 20 small entries, 2 of ~100 KB after them, then one over the limit. */
	memset(big, 'x', 100 * 1024 - 1);
	big[0] = '"';
	big[100 * 1024 - 2] = '"';
	big[100 * 1024 - 1] = '\0';
	memset(huge, 'y', BUS_MAX_BATCH_BYTES + 9);
	huge[BUS_MAX_BATCH_BYTES + 9] = '\0';
	for (i = 0; i < 23; i++)
		entries[i] = (struct bus_entry){ .source = "alchemiser.test", .detail_type = "T",
		    .detail = i < 20 ? "{\"i\":1}" : i < 22 ? big : huge };
	ck_assert_err(e.bus->ops->publish(e.bus, entries, 23, &ec), -E2BIG, &ec);
	for (i = 0; i < 22; i++)
		ck_assert_msg(entries[i].result == 0, "entry %zu: %s", i, entries[i].error);
	ck_assert_int_eq(entries[22].result, -E2BIG);
	log = fixture_requests(e.f);
	/* 10 + 10 + (2 x 100 KB would pass 256 KB with nothing else: they fit
	 * together at 200 KB) = 3 requests. */
	ck_assert_uint_eq(json_array_size(log), 3);
	sent = sent_entries(log, 0);
	ck_assert_uint_eq(json_array_size(sent), 10);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sent, 0), "EventBusName")), "alc-bus");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sent, 0), "Detail")), "{\"i\":1}");
	json_decref(sent);
	sent = sent_entries(log, 2);
	ck_assert_uint_eq(json_array_size(sent), 2);
	json_decref(sent);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log, 0), "headers"),
	    "x-amz-target")), "AWSEvents.PutEvents");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(log, 0), "headers"),
	    "content-type")), "application/x-amz-json-1.1");
	json_decref(log);
	free(big);
	free(huge);
	env_stop(&e);
}
END_TEST

START_TEST(test_eventbridge_entry_retries)
{
	struct env e;
	struct bus_entry entries[3];
	struct errctx ec;
	json_t *log, *sent;
	size_t i;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"FailedEntryCount\": 2, \"Entries\": [{\"EventId\": \"a\"},"
	    " {\"ErrorCode\": \"ThrottlingException\", \"ErrorMessage\": \"Rate exceeded\"},"
	    " {\"ErrorCode\": \"MalformedDetail\", \"ErrorMessage\": \"Detail is malformed.\"}]}},"
	    "{\"status\": 200, \"body\": {\"FailedEntryCount\": 0, \"Entries\": [{\"EventId\": \"b\"}]}}]}]");
	for (i = 0; i < 3; i++)
		entries[i] = (struct bus_entry){ .source = "alchemiser.test", .detail_type = "T",
		    .detail = i == 1 ? "{\"retry\":true}" : "{}" };
	ck_assert_err(e.bus->ops->publish(e.bus, entries, 3, &ec), -EINVAL, &ec);
	ck_assert_int_eq(entries[0].result, 0);
	ck_assert_int_eq(entries[1].result, 0);	/* retried alone, then accepted */
	ck_assert_int_eq(entries[2].result, -EINVAL);
	ck_assert_ptr_nonnull(strstr(entries[2].error, "MalformedDetail"));
	log = fixture_requests(e.f);
	ck_assert_uint_eq(json_array_size(log), 2);
	sent = sent_entries(log, 1);
	ck_assert_uint_eq(json_array_size(sent), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(sent, 0), "Detail")), "{\"retry\":true}");
	json_decref(sent);
	json_decref(log);
	env_stop(&e);
}
END_TEST

START_TEST(test_eventbridge_transient_and_preflight)
{
	struct env e;
	struct bus_entry entry = { .source = "s", .detail_type = "T", .detail = "{}" };
	struct errctx ec;

	env_start(&e, "[{\"path\": \"/\", \"responses\": ["
	    "{\"status\": 200, \"body\": {\"FailedEntryCount\": 1, \"Entries\": [{\"ErrorCode\": \"InternalFailure\"}]}},"
	    "{\"status\": 200, \"body\": {\"FailedEntryCount\": 1, \"Entries\": [{\"ErrorCode\": \"InternalFailure\"}]}},"
	    "{\"status\": 200, \"body\": {\"FailedEntryCount\": 1, \"Entries\": [{\"ErrorCode\": \"InternalFailure\"}]}},"
	    "{\"status\": 400, \"body\": {\"__type\": \"ResourceNotFoundException\", \"message\": \"Event bus alc-bus does not exist.\"}}]}]");
	/* Still failing after the entry attempts: -EAGAIN, the caller retries later. */
	ck_assert_err(e.bus->ops->publish(e.bus, &entry, 1, &ec), -EAGAIN, &ec);
	ck_assert_int_eq(entry.result, -EAGAIN);
	ck_assert_err(e.bus->ops->preflight(e.bus, &ec), -ENOENT, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "alc-bus"));
	env_stop(&e);
}
END_TEST

static Suite *
eventbridge_suite(void)
{
	Suite *s = suite_create("eventbridge");
	TCase *tc = tcase_create("putevents");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_eventbridge_batches);
	tcase_add_test(tc, test_eventbridge_entry_retries);
	tcase_add_test(tc, test_eventbridge_transient_and_preflight);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(eventbridge_suite)
