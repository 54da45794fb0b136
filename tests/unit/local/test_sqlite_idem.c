/*
 * test_sqlite_idem: the claim protocol of the SQLite idempotency store:
 * claim, busy, takeover after the lease, complete, duplicate, expiry, and
 * writes refused to an owner that no longer holds the record.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_idem.h"
#include "alchemiser/local/sqlite_state.h"
#include "local_test.h"

#define SEC INT64_C(1000000)
#define T0 (INT64_C(1767323045) * SEC)

static char *dir;
static char *path;
static struct idem_store *is;

static void
setup(void)
{
	struct sqlite_idem_options o = { 0 };
	struct errctx ec;

	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
	o.path = path;
	ck_assert_ok(sqlite_idem_new(&o, &is, &ec), &ec);
}

static void
teardown(void)
{
	is->ops->free(is);
	free(path);
	test_rmtree(dir);
	free(dir);
}

static enum idem_claim_result
claim(struct idem_store *s, const char *key, const char *owner, int64_t now, char *holder)
{
	struct idem_claim c = {
		.key = key, .owner = owner, .detail_type = "TradeExecuted", .correlation_id = "corr-1",
		.now_usec = now, .lease_usec = 60 * SEC, .retention_usec = 86400 * SEC,
	};
	enum idem_claim_result res = _IDEM_CLAIM_MAX;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_ok(s->ops->claim(s, &c, &res, holder, &ec), &ec);
	return res;
}

START_TEST(test_sqlite_idem_claim_busy_complete_duplicate)
{
	struct sqlite_idem_record rec;
	char holder[128] = "";
	struct errctx ec;

	ck_assert_int_eq(claim(is, "ev-1", "h:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(sqlite_idem_get(is, "ev-1", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_str_eq(rec.owner, "h:1:0");
	ck_assert_str_eq(rec.detail_type, "TradeExecuted");
	ck_assert_str_eq(rec.correlation_id, "corr-1");
	ck_assert_int_eq(rec.lease_expires_usec, T0 + 60 * SEC);
	ck_assert_int_eq(rec.expires_usec, T0 + 86400 * SEC);
	/* Another owner, live lease: busy, and told who holds it. */
	ck_assert_int_eq(claim(is, "ev-1", "h:2:0", T0 + SEC, holder), IDEM_BUSY);
	ck_assert_str_eq(holder, "h:1:0");
	/* The same owner again gets its own claim back (a retry after a lost
	 * answer), as the DynamoDB condition says. */
	ck_assert_int_eq(claim(is, "ev-1", "h:1:0", T0 + SEC, NULL), IDEM_CLAIMED);
	ck_assert_ok(is->ops->complete(is, "ev-1", "h:1:0", T0 + 2 * SEC, &ec), &ec);
	ck_assert_ok(sqlite_idem_get(is, "ev-1", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	ck_assert_int_eq(rec.completed_usec, T0 + 2 * SEC);
	ck_assert_int_eq(claim(is, "ev-1", "h:2:0", T0 + 3 * SEC, holder), IDEM_COMPLETED);
	ck_assert_str_eq(holder, "h:1:0");
	/* Long after the lease, a completed record is still a duplicate. */
	ck_assert_int_eq(claim(is, "ev-1", "h:2:0", T0 + 3600 * SEC, NULL), IDEM_COMPLETED);
	ck_assert_err(is->ops->complete(is, "ev-1", "h:1:0", T0, &ec), -EEXIST, &ec);
	ck_assert_err(sqlite_idem_get(is, "nope", &rec, &ec), -ENOENT, &ec);
}
END_TEST

START_TEST(test_sqlite_idem_takeover_after_lease_expiry)
{
	struct sqlite_idem_record rec;
	char holder[128] = "";
	struct errctx ec;

	ck_assert_int_eq(claim(is, "ev-2", "old:1:0", T0, NULL), IDEM_CLAIMED);
	/* Exactly at the lease end it is still held (lease < now is strict). */
	ck_assert_int_eq(claim(is, "ev-2", "new:2:0", T0 + 60 * SEC, NULL), IDEM_BUSY);
	ck_assert_int_eq(claim(is, "ev-2", "new:2:0", T0 + 61 * SEC, holder), IDEM_TAKEN_OVER);
	/* Issue #17 B12: the log names whose claim lapsed (it said "of  on"). */
	ck_assert_str_eq(holder, "old:1:0");
	ck_assert_ok(sqlite_idem_get(is, "ev-2", &rec, &ec), &ec);
	ck_assert_str_eq(rec.owner, "new:2:0");
	/* The stalled old owner can no longer renew, complete or release. */
	ck_assert_err(is->ops->renew(is, "ev-2", "old:1:0", T0 + 200 * SEC, &ec), -EEXIST, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "owned by new:2:0"));
	ck_assert_err(is->ops->complete(is, "ev-2", "old:1:0", T0 + 62 * SEC, &ec), -EEXIST, &ec);
	ck_assert_err(is->ops->release(is, "ev-2", "old:1:0", &ec), -EEXIST, &ec);
	ck_assert_ok(sqlite_idem_get(is, "ev-2", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_str_eq(rec.owner, "new:2:0");
	/* The new owner renews: the lease moves, so a third party stays out. */
	ck_assert_ok(is->ops->renew(is, "ev-2", "new:2:0", T0 + 300 * SEC, &ec), &ec);
	ck_assert_int_eq(claim(is, "ev-2", "third:3:0", T0 + 200 * SEC, NULL), IDEM_BUSY);
	ck_assert_ok(is->ops->complete(is, "ev-2", "new:2:0", T0 + 201 * SEC, &ec), &ec);
}
END_TEST

/* A holder proven dead (issue #17): its live claim is taken over at once,
 * but only while it is still the owner (fenced), and nobody else's. */
START_TEST(test_sqlite_idem_takeover_of_dead_owner)
{
	struct idem_claim c = {
		.key = "ev-d", .owner = "new:2:0", .detail_type = "TradeExecuted",
		.correlation_id = "corr-1", .now_usec = T0 + SEC, .lease_usec = 60 * SEC,
		.retention_usec = 86400 * SEC, .dead_owner = "old:1:0",
	};
	enum idem_claim_result res = _IDEM_CLAIM_MAX;
	struct sqlite_idem_record rec;
	char holder[128] = "";
	struct errctx ec;

	ck_assert_int_eq(claim(is, "ev-d", "old:1:0", T0, NULL), IDEM_CLAIMED);
	/* Without the verdict: busy, as before. */
	ck_assert_int_eq(claim(is, "ev-d", "new:2:0", T0 + SEC, holder), IDEM_BUSY);
	ck_assert_str_eq(holder, "old:1:0");
	/* With it: taken over within the lease, the holder named. */
	holder[0] = '\0';
	ck_assert_ok(is->ops->claim(is, &c, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_TAKEN_OVER);
	ck_assert_str_eq(holder, "old:1:0");
	ck_assert_ok(sqlite_idem_get(is, "ev-d", &rec, &ec), &ec);
	ck_assert_str_eq(rec.owner, "new:2:0");
	ck_assert_err(is->ops->complete(is, "ev-d", "old:1:0", T0 + 2 * SEC, &ec), -EEXIST, &ec);
	/* A stale verdict (the record moved on to a live owner) changes nothing. */
	c.owner = "third:3:0";
	ck_assert_ok(is->ops->claim(is, &c, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_BUSY);
	ck_assert_str_eq(holder, "new:2:0");
	/* And a completed record stays completed. */
	ck_assert_ok(is->ops->complete(is, "ev-d", "new:2:0", T0 + 3 * SEC, &ec), &ec);
	c.dead_owner = "new:2:0";
	ck_assert_ok(is->ops->claim(is, &c, &res, holder, &ec), &ec);
	ck_assert_int_eq(res, IDEM_COMPLETED);
}
END_TEST

START_TEST(test_sqlite_idem_release_by_owner_only)
{
	struct sqlite_idem_record rec;
	struct errctx ec;

	ck_assert_int_eq(claim(is, "ev-3", "a:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_err(is->ops->release(is, "ev-3", "b:1:0", &ec), -EEXIST, &ec);
	ck_assert_ok(sqlite_idem_get(is, "ev-3", &rec, &ec), &ec);
	ck_assert_ok(is->ops->release(is, "ev-3", "a:1:0", &ec), &ec);
	ck_assert_err(sqlite_idem_get(is, "ev-3", &rec, &ec), -ENOENT, &ec);
	/* Released: the next claim is a fresh one. */
	ck_assert_int_eq(claim(is, "ev-3", "b:1:0", T0 + SEC, NULL), IDEM_CLAIMED);
	/* A completed record cannot be released (it is no longer in progress). */
	ck_assert_ok(is->ops->complete(is, "ev-3", "b:1:0", T0 + 2 * SEC, &ec), &ec);
	ck_assert_err(is->ops->release(is, "ev-3", "b:1:0", &ec), -EEXIST, &ec);
	ck_assert_err(is->ops->release(is, "never", "b:1:0", &ec), -EEXIST, &ec);
}
END_TEST

START_TEST(test_sqlite_idem_expired_record_is_claimed_again)
{
	struct errctx ec;
	uint64_t removed;

	ck_assert_int_eq(claim(is, "ev-4", "a:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(is->ops->complete(is, "ev-4", "a:1:0", T0 + SEC, &ec), &ec);
	/* Past expires_at the record counts as absent, even though it is still stored. */
	ck_assert_int_eq(claim(is, "ev-4", "b:1:0", T0 + 86401 * SEC, NULL), IDEM_CLAIMED);
	ck_assert_int_eq(claim(is, "ev-5", "b:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(sqlite_idem_prune(is, T0 + 86401 * SEC, &removed, &ec), &ec);
	ck_assert_uint_eq(removed, 1);
}
END_TEST

START_TEST(test_sqlite_idem_rejects_bad_claims)
{
	struct idem_claim c = { .key = "", .owner = "x", .now_usec = T0, .lease_usec = SEC,
	    .retention_usec = SEC };
	enum idem_claim_result res;
	struct errctx ec;

	ck_assert_err(is->ops->claim(is, &c, &res, NULL, &ec), -EINVAL, &ec);
	c.key = "k";
	c.lease_usec = 0;
	ck_assert_err(is->ops->claim(is, &c, &res, NULL, &ec), -EINVAL, &ec);
	ck_assert_ok(is->ops->preflight(is, &ec), &ec);
}
END_TEST

struct racer {
	struct idem_store	*s;
	char			 owner[32];
	enum idem_claim_result	 res;
};

static void *
race_thread(void *arg)
{
	struct racer *rc = arg;
	struct idem_claim c = { .key = "contested", .owner = rc->owner, .now_usec = T0,
	    .lease_usec = 60 * SEC, .retention_usec = 3600 * SEC };
	struct errctx ec;

	if (rc->s->ops->claim(rc->s, &c, &rc->res, NULL, &ec) < 0)
		rc->res = _IDEM_CLAIM_MAX;
	return NULL;
}

START_TEST(test_sqlite_idem_one_winner_among_threads_and_connections)
{
	enum { N = 8 };
	struct sqlite_idem_options o = { .path = path };
	struct idem_store *other;
	struct racer rc[N];
	pthread_t th[N];
	struct errctx ec;
	int winners = 0, busy = 0, i;

	/* Half the threads share one store, half use a second connection (as a
	 * second daemon would). */
	ck_assert_ok(sqlite_idem_new(&o, &other, &ec), &ec);
	for (i = 0; i < N; i++) {
		rc[i].s = i % 2 == 0 ? is : other;
		(void)snprintf(rc[i].owner, sizeof rc[i].owner, "host:%d:0", i);
		ck_assert_int_eq(pthread_create(&th[i], NULL, race_thread, &rc[i]), 0);
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		winners += rc[i].res == IDEM_CLAIMED;
		busy += rc[i].res == IDEM_BUSY;
	}
	ck_assert_int_eq(winners, 1);
	ck_assert_int_eq(busy, N - 1);
	other->ops->free(other);
}
END_TEST

/* claim_batch / complete_batch: one transaction, each item answered as
 * claim() / complete() would have answered it alone. */
START_TEST(test_sqlite_idem_batches_answer_per_item)
{
	struct idem_claim_item ci[5];
	struct idem_complete_item co[3];
	struct sqlite_idem_record rec;
	struct errctx ec;
	const char *keys[5] = { "b-fresh", "b-done", "b-busy", "b-mine", "" };
	int i;

	ck_assert_int_eq(claim(is, "b-done", "host:9:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(is->ops->complete(is, "b-done", "host:9:0", T0, &ec), &ec);
	ck_assert_int_eq(claim(is, "b-busy", "host:9:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_int_eq(claim(is, "b-mine", "host:1:0", T0, NULL), IDEM_CLAIMED);
	memset(ci, 0, sizeof ci);
	for (i = 0; i < 5; i++)
		ci[i].c = (struct idem_claim){ .key = keys[i], .owner = "host:1:0",
		    .detail_type = "TradeExecuted", .now_usec = T0 + SEC, .lease_usec = 60 * SEC,
		    .retention_usec = 86400 * SEC };
	ck_assert_ptr_nonnull(is->ops->claim_batch);
	ck_assert_ok(is->ops->claim_batch(is, ci, 5, &ec), &ec);
	ck_assert_int_eq(ci[0].r, 0);
	ck_assert_int_eq(ci[0].res, IDEM_CLAIMED);
	ck_assert_int_eq(ci[1].r, 0);
	ck_assert_int_eq(ci[1].res, IDEM_COMPLETED);
	ck_assert_str_eq(ci[1].holder, "host:9:0");
	ck_assert_int_eq(ci[2].r, 0);
	ck_assert_int_eq(ci[2].res, IDEM_BUSY);
	ck_assert_str_eq(ci[2].holder, "host:9:0");
	ck_assert_int_eq(ci[3].r, 0);
	ck_assert_int_eq(ci[3].res, IDEM_CLAIMED);
	ck_assert_int_eq(ci[4].r, -EINVAL);
	ck_assert_ok(sqlite_idem_get(is, "b-fresh", &rec, &ec), &ec);
	ck_assert_str_eq(rec.owner, "host:1:0");
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_ok(sqlite_idem_get(is, "b-busy", &rec, &ec), &ec);
	ck_assert_str_eq(rec.owner, "host:9:0");

	co[0] = (struct idem_complete_item){ .key = "b-fresh", .owner = "host:1:0", .now_usec = T0 + 2 * SEC };
	co[1] = (struct idem_complete_item){ .key = "b-busy", .owner = "host:1:0", .now_usec = T0 + 2 * SEC };
	co[2] = (struct idem_complete_item){ .key = "b-mine", .owner = "host:1:0", .now_usec = T0 + 2 * SEC };
	ck_assert_ptr_nonnull(is->ops->complete_batch);
	ck_assert_ok(is->ops->complete_batch(is, co, 3, &ec), &ec);
	ck_assert_int_eq(co[0].r, 0);
	ck_assert_int_eq(co[1].r, -EEXIST);
	ck_assert_int_eq(co[2].r, 0);
	ck_assert_ok(sqlite_idem_get(is, "b-fresh", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	ck_assert_ok(sqlite_idem_get(is, "b-mine", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	/* The refused item changed nothing. */
	ck_assert_ok(sqlite_idem_get(is, "b-busy", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_str_eq(rec.owner, "host:9:0");
}
END_TEST

/* Issue #13: a completion given its queue message's receipt deletes that
 * message in the same transaction; a refused completion, or a receipt that
 * matches nothing (any more), leaves the deleting to the caller. */
static int
queue_rows(const char *message_id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM queue_messages WHERE message_id = ?",
	    -1, &s, NULL), SQLITE_OK);
	(void)sqlite3_bind_text(s, 1, message_id, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

START_TEST(test_sqlite_idem_complete_deletes_its_message)
{
	struct idem_complete_item co[3];
	struct sqlite_idem_record rec;
	struct errctx ec;
	sqlite3 *db = NULL;

	ck_assert_int_eq(claim(is, "d-mine", "host:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_int_eq(claim(is, "d-other", "host:9:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_int_eq(claim(is, "d-gone", "host:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO queue_messages (queue, message_id, body,"
	    " sent_usec, visible_usec, receipt) VALUES ('q', 'm-mine', x'7b7d', 1, 1, '1.aa.host:1:0'),"
	    " ('q', 'm-other', x'7b7d', 1, 1, '2.bb.host:1:0')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	co[0] = (struct idem_complete_item){ .key = "d-mine", .owner = "host:1:0",
	    .now_usec = T0 + SEC, .receipt = "1.aa.host:1:0" };
	co[1] = (struct idem_complete_item){ .key = "d-other", .owner = "host:1:0",
	    .now_usec = T0 + SEC, .receipt = "2.bb.host:1:0" };
	co[2] = (struct idem_complete_item){ .key = "d-gone", .owner = "host:1:0",
	    .now_usec = T0 + SEC, .receipt = "3.cc.host:1:0" };
	ck_assert_ok(is->ops->complete_batch(is, co, 3, &ec), &ec);
	ck_assert_int_eq(co[0].r, 0);
	ck_assert(co[0].deleted);
	ck_assert_int_eq(queue_rows("m-mine"), 0);
	ck_assert_ok(sqlite_idem_get(is, "d-mine", &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	/* Not ours: neither the record nor the message changed. */
	ck_assert_int_eq(co[1].r, -EEXIST);
	ck_assert(!co[1].deleted);
	ck_assert_int_eq(queue_rows("m-other"), 1);
	ck_assert_int_eq(co[2].r, 0);
	ck_assert(!co[2].deleted);
}
END_TEST

/* Group commit (issue #13): threads writing through one shared connection
 * have their writes committed in groups, yet none returns before its write
 * is committed: a second connection (another process, for SQLite) must see
 * each claim and completion the moment the call returned. */
struct grouper {
	struct idem_store	*s;		/* shared by every thread */
	int			 id;
	int			 bad;		/* writes not visible after they returned */
	int			 failed;
};

enum { GROUP_THREADS = 4, GROUP_WRITES = 60 };

static void *
group_thread(void *arg)
{
	struct grouper *g = arg;
	struct sqlite_idem_options po = { .path = path };
	struct idem_store *probe = NULL;
	struct sqlite_idem_record rec;
	struct errctx ec;
	int i;

	if (sqlite_idem_new(&po, &probe, &ec) < 0) {
		g->failed++;
		return NULL;
	}
	for (i = 0; i < GROUP_WRITES; i++) {
		char key[64], owner[32];
		struct idem_claim c = { .key = key, .owner = owner, .now_usec = T0,
		    .lease_usec = 60 * SEC, .retention_usec = 3600 * SEC };
		enum idem_claim_result res;

		(void)snprintf(key, sizeof key, "group-%d-%d", g->id, i);
		(void)snprintf(owner, sizeof owner, "host:%d:0", g->id);
		if (g->s->ops->claim(g->s, &c, &res, NULL, &ec) < 0 || res != IDEM_CLAIMED) {
			g->failed++;
			continue;
		}
		if (sqlite_idem_get(probe, key, &rec, &ec) < 0 || strcmp(rec.status, "IN_PROGRESS") != 0)
			g->bad++;
		if (g->s->ops->complete(g->s, key, owner, T0 + SEC, &ec) < 0) {
			g->failed++;
			continue;
		}
		if (sqlite_idem_get(probe, key, &rec, &ec) < 0 || strcmp(rec.status, "COMPLETED") != 0)
			g->bad++;
	}
	probe->ops->free(probe);
	return NULL;
}

START_TEST(test_sqlite_idem_group_commit_returns_committed)
{
	struct grouper g[GROUP_THREADS];
	pthread_t th[GROUP_THREADS];
	int i;

	for (i = 0; i < GROUP_THREADS; i++) {
		g[i] = (struct grouper){ .s = is, .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, group_thread, &g[i]), 0);
	}
	for (i = 0; i < GROUP_THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(g[i].failed, 0);
		ck_assert_int_eq(g[i].bad, 0);
	}
}
END_TEST

/* The queue, bus and store of a process share one connection: a store
 * built on the queue's state writes through it, and outlives nothing. */
START_TEST(test_sqlite_idem_shares_a_state)
{
	struct sqlite_state *st = NULL;
	struct sqlite_idem_options o = { .path = "/nonexistent/never-opened" };
	struct idem_store *shared = NULL;
	struct sqlite_idem_record rec;
	struct errctx ec;

	ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
	o.state = st;
	ck_assert_ok(sqlite_idem_new(&o, &shared, &ec), &ec);
	/* The store holds its own reference: the opener may let go first. */
	sqlite_state_free(st);
	ck_assert_int_eq(claim(shared, "shared-1", "host:1:0", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(sqlite_idem_get(is, "shared-1", &rec, &ec), &ec);
	ck_assert_str_eq(rec.owner, "host:1:0");
	shared->ops->free(shared);
}
END_TEST

/* Run keys read records back; the account lease admits one run at a time. */
static enum idem_lease_result
lease(struct idem_store *s, const char *owner, const char *run, int64_t now, int64_t len,
    char *holder)
{
	struct idem_lease l = { "account-lease:paper-1", owner, run, now, len };
	enum idem_lease_result res = _IDEM_LEASE_MAX;
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_ok(s->ops->lease_acquire(s, &l, &res, holder, &ec), &ec);
	return res;
}

START_TEST(test_sqlite_idem_lookup)
{
	struct idem_record rec;
	struct errctx ec;

	ck_assert_err(is->ops->lookup(is, "run:a/trade/2026-01-02", T0, &rec, &ec), -ENOENT, &ec);
	ck_assert_int_eq(claim(is, "run:a/trade/2026-01-02", "h:1", T0, NULL), IDEM_CLAIMED);
	ck_assert_ok(is->ops->lookup(is, "run:a/trade/2026-01-02", T0, &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	ck_assert_str_eq(rec.owner, "h:1");
	ck_assert_str_eq(rec.correlation_id, "corr-1");
	ck_assert_int_eq(rec.lease_expires_usec, T0 + 60 * SEC);
	ck_assert_ok(is->ops->complete(is, "run:a/trade/2026-01-02", "h:1", T0, &ec), &ec);
	ck_assert_ok(is->ops->lookup(is, "run:a/trade/2026-01-02", T0, &rec, &ec), &ec);
	ck_assert_str_eq(rec.status, "COMPLETED");
	/* Past its retention the record is gone for lookups, as for claims. */
	ck_assert_err(is->ops->lookup(is, "run:a/trade/2026-01-02", T0 + 86401 * SEC, &rec, &ec),
	    -ENOENT, &ec);
}
END_TEST

START_TEST(test_sqlite_idem_account_lease)
{
	char holder[128] = "";
	struct idem_record rec;
	struct errctx ec;

	ck_assert_int_eq(lease(is, "h:1", "run-A", T0, 60 * SEC, holder), IDEM_LEASE_ACQUIRED);
	/* Another run, on another daemon or in the same one, waits. */
	ck_assert_int_eq(lease(is, "h:2", "run-B", T0, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_str_eq(holder, "run run-A on h:1");
	ck_assert_int_eq(lease(is, "h:1", "run-B", T0, 60 * SEC, holder), IDEM_LEASE_BUSY);
	/* The holder again (a retry after a lost answer): still its own. */
	ck_assert_int_eq(lease(is, "h:1", "run-A", T0 + SEC, 60 * SEC, holder), IDEM_LEASE_ACQUIRED);
	/* Renew and release are fenced on (owner, run). */
	ck_assert_err(is->ops->lease_renew(is, "account-lease:paper-1", "h:2", "run-B", T0 + 90 * SEC, &ec),
	    -EEXIST, &ec);
	ck_assert_err(is->ops->lease_renew(is, "account-lease:paper-1", "h:1", "run-B", T0 + 90 * SEC, &ec),
	    -EEXIST, &ec);
	ck_assert_ok(is->ops->lease_renew(is, "account-lease:paper-1", "h:1", "run-A", T0 + 90 * SEC, &ec), &ec);
	ck_assert_ok(is->ops->lookup(is, "account-lease:paper-1", T0, &rec, &ec), &ec);
	ck_assert_int_eq(rec.lease_expires_usec, T0 + 90 * SEC);
	ck_assert_int_eq(lease(is, "h:2", "run-B", T0 + 80 * SEC, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_err(is->ops->lease_release(is, "account-lease:paper-1", "h:2", "run-B", &ec), -EEXIST, &ec);
	ck_assert_ok(is->ops->lease_release(is, "account-lease:paper-1", "h:1", "run-A", &ec), &ec);
	ck_assert_int_eq(lease(is, "h:2", "run-B", T0 + 80 * SEC, 60 * SEC, holder), IDEM_LEASE_ACQUIRED);
	/* A holder that died: its lapsed lease is taken over, and it can no
	 * longer renew or release what is now another run's. */
	ck_assert_int_eq(lease(is, "h:3", "run-C", T0 + 141 * SEC, 60 * SEC, holder), IDEM_LEASE_TAKEN_OVER);
	ck_assert_str_eq(holder, "run run-B on h:2");
	ck_assert_err(is->ops->lease_renew(is, "account-lease:paper-1", "h:2", "run-B", T0 + 200 * SEC, &ec),
	    -EEXIST, &ec);
	ck_assert_err(is->ops->lease_release(is, "account-lease:paper-1", "h:2", "run-B", &ec), -EEXIST, &ec);
	ck_assert_int_eq(lease(is, "h:2", "run-B", T0 + 150 * SEC, 60 * SEC, holder), IDEM_LEASE_BUSY);
	ck_assert_str_eq(holder, "run run-C on h:3");
}
END_TEST

/* The account's last execution keeps the latest plan time. */
START_TEST(test_sqlite_idem_account_done)
{
	const char *k = "account-done:paper-1";
	char run[128] = "";
	int64_t plan = 0;
	struct errctx ec;

	ck_assert_err(is->ops->done_get(is, k, T0, run, sizeof run, &plan, &ec), -ENOENT, &ec);
	ck_assert_ok(is->ops->done_put(is, k, "run-B", T0 - 30 * SEC, T0, 3600 * SEC, &ec), &ec);
	ck_assert_ok(is->ops->done_put(is, k, "run-A", T0 - 60 * SEC, T0, 3600 * SEC, &ec), &ec);
	ck_assert_ok(is->ops->done_put(is, k, "run-X", T0 - 30 * SEC, T0, 3600 * SEC, &ec), &ec);
	ck_assert_ok(is->ops->done_get(is, k, T0, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-B");
	ck_assert_int_eq(plan, T0 - 30 * SEC);
	ck_assert_ok(is->ops->done_put(is, k, "run-C", T0 - 10 * SEC, T0, 3600 * SEC, &ec), &ec);
	ck_assert_ok(is->ops->done_get(is, k, T0, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-C");
	ck_assert_int_eq(plan, T0 - 10 * SEC);
	/* No claim of any run, and past its retention it is gone. */
	ck_assert_err(is->ops->done_get(is, k, T0 + 7200 * SEC, run, sizeof run, &plan, &ec), -ENOENT,
	    &ec);
	ck_assert_ok(is->ops->done_put(is, k, "run-D", T0 - 90 * SEC, T0 + 7200 * SEC, 3600 * SEC, &ec),
	    &ec);
	ck_assert_ok(is->ops->done_get(is, k, T0 + 7200 * SEC, run, sizeof run, &plan, &ec), &ec);
	ck_assert_str_eq(run, "run-D");
}
END_TEST

static Suite *
suite_sqlite_idem(void)
{
	Suite *s = suite_create("sqlite_idem");
	TCase *tc;

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_idem_claim_busy_complete_duplicate);
	tcase_add_test(tc, test_sqlite_idem_takeover_after_lease_expiry);
	tcase_add_test(tc, test_sqlite_idem_takeover_of_dead_owner);
	tcase_add_test(tc, test_sqlite_idem_release_by_owner_only);
	tcase_add_test(tc, test_sqlite_idem_expired_record_is_claimed_again);
	tcase_add_test(tc, test_sqlite_idem_rejects_bad_claims);
	tcase_add_test(tc, test_sqlite_idem_batches_answer_per_item);
	tcase_add_test(tc, test_sqlite_idem_complete_deletes_its_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("intent");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_idem_lookup);
	tcase_add_test(tc, test_sqlite_idem_account_lease);
	tcase_add_test(tc, test_sqlite_idem_account_done);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_idem_one_winner_among_threads_and_connections);
	tcase_add_test(tc, test_sqlite_idem_group_commit_returns_committed);
	tcase_add_test(tc, test_sqlite_idem_shares_a_state);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_idem)
