/* DynamoDB idempotency store against moto (signatures checked) and dynalite. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/dynamodb.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/stages/storm_store.h"
#include "../../unit/helpers.h"
#include "itest.h"

#define SEC INT64_C(1000000)

static struct idem_store *
make(struct aws_credentials *creds, const char *table)
{
	struct idem_store *s;
	struct errctx ec;

	ck_assert_ok(dynamodb_idem_store_new(&(struct dynamodb_options){ .region = "us-east-1",
	    .endpoint = itest_env("ALC_DDB_ENDPOINT"), .table_name = table }, creds, &s, &ec), &ec);
	return s;
}

static enum idem_claim_result
claim(struct idem_store *s, const char *key, const char *owner, int64_t now, int64_t lease,
    int64_t retention, char *holder)
{
	struct idem_claim c = { key, owner, "SignalGenerated", "corr-1", now, lease, retention, NULL };
	enum idem_claim_result res = _IDEM_CLAIM_MAX;
	struct errctx ec;

	ck_assert_ok(s->ops->claim(s, &c, &res, holder, &ec), &ec);
	return res;
}

START_TEST(test_itest_dynamodb_protocol)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	struct dynamodb_table_info info;
	int64_t now = aws_now_usec();
	char holder[128];
	struct errctx ec;

	ck_assert_ok(s->ops->preflight(s, &ec), &ec);
	ck_assert_int_eq(dynamodb_table_info(s, &info), 0);
	if (strcmp(itest_env("ALC_ITEST"), "moto") == 0)
		ck_assert_msg(info.ttl_enabled, "TTL %s on '%s'", info.ttl_status, info.ttl_attribute);

	/* A holder proven dead (issue #17): its live lease is taken over at once,
	 * fenced on it still being the owner. */
	{
		struct idem_claim c = { "itest-dead", "host:5:0", "SignalGenerated", "corr-1", now,
			60 * SEC, 3600 * SEC, "host:4:0" };
		enum idem_claim_result res = _IDEM_CLAIM_MAX;

		ck_assert_int_eq(claim(s, "itest-dead", "host:4:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
		ck_assert_int_eq(claim(s, "itest-dead", "host:5:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_BUSY);
		ck_assert_ok(s->ops->claim(s, &c, &res, holder, &ec), &ec);
		ck_assert_int_eq(res, IDEM_TAKEN_OVER);
		ck_assert_str_eq(holder, "host:4:0");
		ck_assert_err(s->ops->renew(s, "itest-dead", "host:4:0", now + 120 * SEC, &ec), -EEXIST, &ec);
		/* The verdict is stale now: host:5:0 holds it, so host:6:0 waits. */
		c.owner = "host:6:0";
		ck_assert_ok(s->ops->claim(s, &c, &res, holder, &ec), &ec);
		ck_assert_int_eq(res, IDEM_BUSY);
		ck_assert_str_eq(holder, "host:5:0");
	}

	/* claim, busy for others, complete only by the owner, then duplicate. */
	ck_assert_int_eq(claim(s, "itest-complete", "host:1:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
	ck_assert_int_eq(claim(s, "itest-complete", "host:2:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_BUSY);
	ck_assert_str_eq(holder, "host:1:0");
	ck_assert_err(s->ops->complete(s, "itest-complete", "host:2:0", now, &ec), -EEXIST, &ec);
	ck_assert_ok(s->ops->renew(s, "itest-complete", "host:1:0", now + 120 * SEC, &ec), &ec);
	ck_assert_err(s->ops->renew(s, "itest-complete", "host:2:0", now + 120 * SEC, &ec), -EEXIST, &ec);
	ck_assert_ok(s->ops->complete(s, "itest-complete", "host:1:0", now, &ec), &ec);
	ck_assert_int_eq(claim(s, "itest-complete", "host:2:0", now, 60 * SEC, 3600 * SEC, holder),
	    IDEM_COMPLETED);
	ck_assert_str_eq(holder, "host:1:0");
	/* Completed records cannot be released or renewed. */
	ck_assert_err(s->ops->release(s, "itest-complete", "host:1:0", &ec), -EEXIST, &ec);

	/* An expired lease is taken over; the old owner can no longer release. */
	ck_assert_int_eq(claim(s, "itest-lease", "host:1:0", now - 10 * SEC, 1 * SEC, 3600 * SEC, holder),
	    IDEM_CLAIMED);
	ck_assert_int_eq(claim(s, "itest-lease", "host:2:0", now, 60 * SEC, 3600 * SEC, holder),
	    IDEM_TAKEN_OVER);
	ck_assert_str_eq(holder, "host:1:0");
	ck_assert_err(s->ops->release(s, "itest-lease", "host:1:0", &ec), -EEXIST, &ec);
	ck_assert_ok(s->ops->release(s, "itest-lease", "host:2:0", &ec), &ec);
	ck_assert_int_eq(claim(s, "itest-lease", "host:3:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);

	/* Past expires_at (the dedup window), a completed record is claimable
	 * again: emulators never delete expired items, so we compare. */
	ck_assert_int_eq(claim(s, "itest-expired", "host:1:0", now - 7200 * SEC, 60 * SEC, 3600 * SEC,
	    holder), IDEM_CLAIMED);
	ck_assert_ok(s->ops->complete(s, "itest-expired", "host:1:0", now - 7100 * SEC, &ec), &ec);
	ck_assert_int_eq(claim(s, "itest-expired", "host:2:0", now, 60 * SEC, 3600 * SEC, holder),
	    IDEM_CLAIMED);

	/* Validation errors from the service are -EINVAL; nothing is claimed. */
	{
		char *key = xmalloc(4096);
		struct idem_claim c = { key, "host:1:0", "T", "c", now, SEC, SEC, NULL };
		enum idem_claim_result res;

		memset(key, 'k', 4095);
		key[4095] = '\0';
		ck_assert_err(s->ops->claim(s, &c, &res, NULL, &ec), -EINVAL, &ec);
		free(key);
	}
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

struct racer {
	struct idem_store	*s;
	char			 owner[32];
	enum idem_claim_result	 res;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	r->res = claim(r->s, "itest-race", r->owner, aws_now_usec(), 60 * SEC, 3600 * SEC, NULL);
	return NULL;
}

START_TEST(test_itest_dynamodb_race_and_failures)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	struct idem_store *missing = make(creds, "no-such-table");
	struct racer r[4];
	pthread_t t[4];
	int i, claimed = 0;
	struct errctx ec;

	/* Concurrent claims of one key from threads sharing the store: one wins. */
	for (i = 0; i < 4; i++) {
		r[i].s = s;
		snprintf(r[i].owner, sizeof r[i].owner, "host:%d:0", i);
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		claimed += r[i].res == IDEM_CLAIMED;
		ck_assert(r[i].res == IDEM_CLAIMED || r[i].res == IDEM_BUSY);
	}
	ck_assert_int_eq(claimed, 1);

	ck_assert_err(missing->ops->preflight(missing, &ec), -ENOENT, &ec);
	{
		/* Fail closed: no table, no claim. */
		struct idem_claim c = { "k", "o", "T", "c", aws_now_usec(), SEC, SEC, NULL };
		enum idem_claim_result res;

		ck_assert_int_lt(missing->ops->claim(missing, &c, &res, NULL, &ec), 0);
	}
	if (strcmp(itest_env("ALC_ITEST"), "moto") == 0) {
		struct aws_credentials *bad = itest_creds("wrong-secret");
		struct idem_store *b = make(bad, itest_env("ALC_TABLE"));

		ck_assert_err(b->ops->preflight(b, &ec), -EACCES, &ec);
		b->ops->free(b);
		aws_credentials_free(bad);
	}
	missing->ops->free(missing);
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

/* Run keys read records back; the account lease admits one run at a time. */
static enum idem_lease_result
lease(struct idem_store *s, const char *owner, const char *run, int64_t now, int64_t len,
    char *holder)
{
	struct idem_lease l = { "account-lease:itest", owner, run, now, len };
	enum idem_lease_result res = _IDEM_LEASE_MAX;
	struct errctx ec;

	ck_assert_ok(s->ops->lease_acquire(s, &l, &res, holder, &ec), &ec);
	return res;
}

struct lease_racer {
	struct idem_store	*s;
	char			 run[32];
	enum idem_lease_result	 res;
};

static void *
lease_race(void *arg)
{
	struct lease_racer *r = arg;
	struct idem_lease l = { "account-lease:itest-race", "host:9:0", r->run, aws_now_usec(), 60 * SEC };
	struct errctx ec;

	ck_assert_ok(r->s->ops->lease_acquire(r->s, &l, &r->res, NULL, &ec), &ec);
	return NULL;
}

START_TEST(test_itest_dynamodb_intent)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	const char *k = "account-lease:itest";
	int64_t now = aws_now_usec();
	struct lease_racer r[4];
	struct idem_record rec;
	char holder[128] = "";
	pthread_t t[4];
	struct errctx ec;
	int won = 0;

	/* lookup: absent, in progress, completed, past retention. */
	ck_assert_err(s->ops->lookup(s, "run:itest/trade/2026-01-02", now, &rec, &ec), -ENOENT, &ec);
	ck_assert_int_eq(claim(s, "run:itest/trade/2026-01-02", "host:1:0", now, 60 * SEC, 3600 * SEC, NULL),
	    IDEM_CLAIMED);
	ck_assert_ok(s->ops->lookup(s, "run:itest/trade/2026-01-02", now, &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_str_eq(rec.owner, "host:1:0");
	ck_assert_str_eq(rec.correlation_id, "corr-1");
	ck_assert_ok(s->ops->complete(s, "run:itest/trade/2026-01-02", "host:1:0", now, &ec), &ec);
	ck_assert_ok(s->ops->lookup(s, "run:itest/trade/2026-01-02", now, &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	ck_assert_err(s->ops->lookup(s, "run:itest/trade/2026-01-02", now + 7200 * SEC, &rec, &ec), -ENOENT,
	    &ec);

	/* The lease: one run at a time, fenced on (owner, run). */
	ck_assert_int_eq(lease(s, "host:1:0", "run-A", now, 60 * SEC, holder), IDEM_LEASE_ACQUIRED);
	ck_assert_int_eq(lease(s, "host:2:0", "run-B", now, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_str_eq(holder, "run run-A on host:1:0");
	ck_assert_int_eq(lease(s, "host:1:0", "run-B", now, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_int_eq(lease(s, "host:1:0", "run-A", now, 60 * SEC, holder), IDEM_LEASE_ACQUIRED);
	ck_assert_err(s->ops->lease_renew(s, k, "host:2:0", "run-B", now + 90 * SEC, &ec), -EEXIST, &ec);
	ck_assert_ok(s->ops->lease_renew(s, k, "host:1:0", "run-A", now + 90 * SEC, &ec), &ec);
	ck_assert_ok(s->ops->lookup(s, k, now, &rec, &ec), &ec);
	ck_assert_int_ge(rec.lease_expires_usec, now + 89 * SEC);
	ck_assert_err(s->ops->lease_release(s, k, "host:2:0", "run-B", &ec), -EEXIST, &ec);
	ck_assert_ok(s->ops->lease_release(s, k, "host:1:0", "run-A", &ec), &ec);
	ck_assert_err(s->ops->lookup(s, k, now, &rec, &ec), -ENOENT, &ec);
	/* A dead holder's lapsed lease is taken over; the dead one is fenced out. */
	ck_assert_int_eq(lease(s, "host:2:0", "run-B", now - 10 * SEC, 1 * SEC, holder), IDEM_LEASE_ACQUIRED);
	ck_assert_int_eq(lease(s, "host:3:0", "run-C", now, 60 * SEC, holder), IDEM_LEASE_TAKEN_OVER);
	ck_assert_str_eq(holder, "run run-B on host:2:0");
	ck_assert_err(s->ops->lease_renew(s, k, "host:2:0", "run-B", now + 90 * SEC, &ec), -EEXIST, &ec);
	ck_assert_err(s->ops->lease_release(s, k, "host:2:0", "run-B", &ec), -EEXIST, &ec);
	ck_assert_int_eq(lease(s, "host:2:0", "run-B", now, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_str_eq(holder, "run run-C on host:3:0");

	/* Four runs at once: one holds the lease. */
	for (int i = 0; i < 4; i++) {
		r[i].s = s;
		snprintf(r[i].run, sizeof r[i].run, "run-%d", i);
		ck_assert_int_eq(pthread_create(&t[i], NULL, lease_race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		won += r[i].res == IDEM_LEASE_ACQUIRED;
		ck_assert(r[i].res == IDEM_LEASE_ACQUIRED || r[i].res == IDEM_LEASE_BUSY);
	}
	ck_assert_int_eq(won, 1);
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

/* The storm guard's pending summaries (issue #17) on DynamoDB: slots taken in
 * order (past a power of two), read back in order, a run's mark found. */
/* The account's last execution: the latest plan time stays; an older one
 * never replaces it; past its retention it is gone. */
START_TEST(test_itest_dynamodb_account_done)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	const char *k = "account-done:itest";
	int64_t now = aws_now_usec(), plan = 0;
	char run[128] = "";
	struct errctx ec;

	ck_assert_err(s->ops->done_get(s, k, now, run, sizeof run, &plan, &ec), -ENOENT, &ec);
	ck_assert_ok(s->ops->done_put(s, k, "run-B", now - 30 * SEC, now, 3600 * SEC, &ec), &ec);
	ck_assert_ok(s->ops->done_get(s, k, now, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-B");
	ck_assert_int_eq(plan, now - 30 * SEC);
	/* An older plan (A, resumed) does not replace it; an equal one neither. */
	ck_assert_ok(s->ops->done_put(s, k, "run-A", now - 60 * SEC, now, 3600 * SEC, &ec), &ec);
	ck_assert_ok(s->ops->done_put(s, k, "run-X", now - 30 * SEC, now, 3600 * SEC, &ec), &ec);
	ck_assert_ok(s->ops->done_get(s, k, now, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-B");
	ck_assert_int_eq(plan, now - 30 * SEC);
	/* A newer one does. */
	ck_assert_ok(s->ops->done_put(s, k, "run-C", now - 10 * SEC, now, 3600 * SEC, &ec), &ec);
	ck_assert_ok(s->ops->done_get(s, k, now, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-C");
	ck_assert_int_eq(plan, now - 10 * SEC);
	/* Past its retention: none, and any plan may be recorded again. */
	ck_assert_err(s->ops->done_get(s, k, now + 7200 * SEC, run, sizeof run, &plan, &ec), -ENOENT,
	    &ec);
	ck_assert_ok(s->ops->done_put(s, k, "run-D", now - 90 * SEC, now + 7200 * SEC, 3600 * SEC, &ec),
	    &ec);
	ck_assert_ok(s->ops->done_get(s, k, now + 7200 * SEC, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-D");
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

START_TEST(test_itest_dynamodb_storm_store)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	int64_t now = aws_now_usec(), minute = now / (60 * SEC), got = 0;
	char run[32], want[96], **lines = NULL;
	bool bearer = false;
	size_t n = 0;
	struct errctx ec;

	errctx_clear(&ec);
	for (int i = 1; i <= 5; i++) {
		snprintf(run, sizeof run, "itest-storm-%d", i);
		ck_assert_ok(storm_store_note(s, minute, run, "(trade_execution: broker refused)", i == 1,
		    "host:1:0", now, 3600 * SEC, &ec), &ec);
	}
	ck_assert_ok(storm_store_list(s, minute, now, &lines, &n, &ec), &ec);
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof want, "itest-storm-%zu (trade_execution: broker refused)", i + 1);
		ck_assert_str_eq(lines[i], want);
		free(lines[i]);
	}
	free(lines);
	ck_assert_ok(storm_store_find(s, "itest-storm-1", now, &got, &bearer, &ec), &ec);
	ck_assert_int_eq(got, minute);
	ck_assert(bearer);
	ck_assert_ok(storm_store_find(s, "itest-storm-3", now, &got, &bearer, &ec), &ec);
	ck_assert(!bearer);
	ck_assert_err(storm_store_find(s, "itest-storm-9", now, &got, &bearer, &ec), -ENOENT, &ec);
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

/* Batches (issue #13): one TransactWriteItems on moto, one call per item on
 * dynalite (no transactions: the fallback is what runs there); each item
 * answered as claim()/complete() would. */
static void
batch_item(struct idem_claim_item *it, const char *key, const char *owner, int64_t now,
    const char *dead)
{
	memset(it, 0, sizeof *it);
	it->c = (struct idem_claim){ key, owner, "SignalGenerated", "corr-b", now, 60 * SEC, 3600 * SEC, dead };
	it->res = _IDEM_CLAIM_MAX;
}

START_TEST(test_itest_dynamodb_batch)
{
	struct aws_credentials *creds = itest_creds(NULL);
	struct idem_store *s = make(creds, itest_env("ALC_TABLE"));
	bool tx = strcmp(itest_env("ALC_ITEST"), "moto") == 0;
	struct dynamodb_table_info info;
	struct idem_claim_item it[10];
	struct idem_complete_item done[10];
	int64_t now = aws_now_usec();
	const char *me = "host:7:0";
	char holder[128], key[32];
	uint64_t before, used;
	struct errctx ec;
	size_t i;

	ck_assert_ok(s->ops->preflight(s, &ec), &ec);
	ck_assert_int_eq(dynamodb_table_info(s, &info), 0);
	ck_assert_int_eq(info.transactions, tx);
	ck_assert_ptr_nonnull(s->ops->claim_batch);
	ck_assert_ptr_nonnull(s->ops->complete_batch);

	/* A full receive of fresh keys: one request with transactions, ten without. */
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "itest-b-fresh-%zu", i);
		batch_item(&it[i], xstrdup(key), me, now, NULL);
	}
	before = dynamodb_requests(s);
	ck_assert_ok(s->ops->claim_batch(s, it, 10, &ec), &ec);
	used = dynamodb_requests(s) - before;
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(it[i].r, 0);
		ck_assert_int_eq(it[i].res, IDEM_CLAIMED);
		done[i] = (struct idem_complete_item){ .key = it[i].c.key, .owner = me, .now_usec = now, .r = -1 };
	}
	ck_assert_uint_eq(used, tx ? 1 : 10);
	printf("dynamodb batch (%s): 10 claims in %llu request(s)\n", itest_env("ALC_ITEST"),
	    (unsigned long long)used);
	/* Another owner sees them busy; we complete all ten at once. */
	ck_assert_int_eq(claim(s, "itest-b-fresh-3", "host:8:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_BUSY);
	ck_assert_str_eq(holder, me);
	before = dynamodb_requests(s);
	ck_assert_ok(s->ops->complete_batch(s, done, 10, &ec), &ec);
	used = dynamodb_requests(s) - before;
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(done[i].r, 0);
	ck_assert_uint_eq(used, tx ? 1 : 10);
	printf("dynamodb batch (%s): 10 completions in %llu request(s)\n", itest_env("ALC_ITEST"),
	    (unsigned long long)used);
	ck_assert_int_eq(claim(s, "itest-b-fresh-7", "host:8:0", now, 60 * SEC, 3600 * SEC, holder),
	    IDEM_COMPLETED);
	for (i = 0; i < 10; i++)
		free((char *)it[i].c.key);

	/* A mixed batch: fresh, already completed, a live holder, an expired
	 * lease, our own live claim, a dead holder (fenced takeover), and a key
	 * twice. */
	ck_assert_int_eq(claim(s, "itest-b-done", "host:1:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
	ck_assert_ok(s->ops->complete(s, "itest-b-done", "host:1:0", now, &ec), &ec);
	ck_assert_int_eq(claim(s, "itest-b-busy", "host:2:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
	ck_assert_int_eq(claim(s, "itest-b-lapsed", "host:3:0", now - 10 * SEC, 1 * SEC, 3600 * SEC, holder),
	    IDEM_CLAIMED);
	ck_assert_int_eq(claim(s, "itest-b-mine", me, now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
	ck_assert_int_eq(claim(s, "itest-b-dead", "host:4:0", now, 60 * SEC, 3600 * SEC, holder), IDEM_CLAIMED);
	batch_item(&it[0], "itest-b-new-1", me, now, NULL);
	batch_item(&it[1], "itest-b-done", me, now, NULL);
	batch_item(&it[2], "itest-b-busy", me, now, NULL);
	batch_item(&it[3], "itest-b-lapsed", me, now, NULL);
	batch_item(&it[4], "itest-b-mine", me, now, NULL);
	batch_item(&it[5], "itest-b-dead", me, now, "host:4:0");
	batch_item(&it[6], "itest-b-new-2", me, now, NULL);
	batch_item(&it[7], "itest-b-new-1", me, now, NULL);
	before = dynamodb_requests(s);
	ck_assert_ok(s->ops->claim_batch(s, it, 8, &ec), &ec);
	used = dynamodb_requests(s) - before;
	for (i = 0; i < 8; i++)
		ck_assert_msg(it[i].r == 0, "item %zu (%s): %d", i, it[i].c.key, it[i].r);
	ck_assert_int_eq(it[0].res, IDEM_CLAIMED);
	ck_assert_int_eq(it[1].res, IDEM_COMPLETED);
	ck_assert_str_eq(it[1].holder, "host:1:0");
	ck_assert_int_eq(it[2].res, IDEM_BUSY);
	ck_assert_str_eq(it[2].holder, "host:2:0");
	ck_assert_int_eq(it[3].res, IDEM_TAKEN_OVER);
	ck_assert_str_eq(it[3].holder, "host:3:0");
	ck_assert_int_eq(it[4].res, IDEM_CLAIMED);
	ck_assert_int_eq(it[5].res, IDEM_TAKEN_OVER);
	ck_assert_str_eq(it[5].holder, "host:4:0");
	ck_assert_int_eq(it[6].res, IDEM_CLAIMED);
	ck_assert_int_eq(it[7].res, IDEM_CLAIMED);	/* ours since it[0] */
	printf("dynamodb batch (%s): mixed batch of 8 in %llu request(s)\n", itest_env("ALC_ITEST"),
	    (unsigned long long)used);
	if (tx)	/* 2 transactions (the second without the refused), then 1 dead + 1 repeat + 1 lapsed alone */
		ck_assert_uint_le(used, 6);
	/* The fenced ones are ours now; the old holders are fenced out. */
	ck_assert_err(s->ops->renew(s, "itest-b-lapsed", "host:3:0", now + 120 * SEC, &ec), -EEXIST, &ec);
	ck_assert_err(s->ops->renew(s, "itest-b-dead", "host:4:0", now + 120 * SEC, &ec), -EEXIST, &ec);

	/* Completions: ours pass, the busy one (host:2's) and the completed one
	 * are refused item by item, without failing the others. */
	{
		const char *keys[] = { "itest-b-new-1", "itest-b-busy", "itest-b-lapsed", "itest-b-mine",
			"itest-b-done", "itest-b-dead", "itest-b-new-2" };
		int want[] = { 0, -EEXIST, 0, 0, -EEXIST, 0, 0 };

		for (i = 0; i < 7; i++)
			done[i] = (struct idem_complete_item){ .key = keys[i], .owner = me, .now_usec = now, .r = -1 };
		ck_assert_ok(s->ops->complete_batch(s, done, 7, &ec), &ec);
		for (i = 0; i < 7; i++)
			ck_assert_msg(done[i].r == want[i], "%s: %d, wanted %d", keys[i], done[i].r, want[i]);
		ck_assert_int_eq(claim(s, "itest-b-mine", "host:8:0", now, 60 * SEC, 3600 * SEC, holder),
		    IDEM_COMPLETED);
		ck_assert_int_eq(claim(s, "itest-b-busy", "host:8:0", now, 60 * SEC, 3600 * SEC, holder),
		    IDEM_BUSY);
		ck_assert_str_eq(holder, "host:2:0");
	}

	/* Fail closed: a missing table fails every item of the batch. */
	{
		struct idem_store *missing = make(creds, "no-such-table");

		batch_item(&it[0], "itest-b-x1", me, now, NULL);
		batch_item(&it[1], "itest-b-x2", me, now, NULL);
		ck_assert_ok(missing->ops->claim_batch(missing, it, 2, &ec), &ec);
		ck_assert_int_lt(it[0].r, 0);
		ck_assert_int_lt(it[1].r, 0);
		missing->ops->free(missing);
	}
	s->ops->free(s);
	aws_credentials_free(creds);
}
END_TEST

TCase *
itest_dynamodb_tcase(void)
{
	TCase *tc = tcase_create("dynamodb");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_itest_dynamodb_protocol);
	tcase_add_test(tc, test_itest_dynamodb_race_and_failures);
	tcase_add_test(tc, test_itest_dynamodb_intent);
	tcase_add_test(tc, test_itest_dynamodb_account_done);
	tcase_add_test(tc, test_itest_dynamodb_storm_store);
	tcase_add_test(tc, test_itest_dynamodb_batch);
	return tc;
}
