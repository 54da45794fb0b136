/*
 * test_sqlite_queue: SQS semantics of the SQLite transport, driven through a
 * real libevent base and a real state file; the fake wall clock expires
 * visibility without sleeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "alchemiser/core/owner.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "local_test.h"

#define SEC INT64_C(1000000)

static char *dir;
static char *path;
static struct event_base *base;
static struct transport *tr;

struct recv_result {
	bool			 done;
	int			 r;
	size_t			 n;
	struct queue_message	*msgs[TRANSPORT_MAX_BATCH];
	char			 err[256];
};

struct batch_result {
	bool	done;
	int	r;
	size_t	n;
	int	results[TRANSPORT_MAX_BATCH];
};

static void
open_transport(unsigned max_receive_count)
{
	struct sqlite_queue_options o = {
		.path = path, .queue = "main", .max_receive_count = max_receive_count,
		.poll_interval_usec = 10000, .clock = fake_clock,
	};
	struct errctx ec;

	errctx_clear(&ec);
	ck_assert_ok(sqlite_transport_new(base, &o, &tr, &ec), &ec);
}

static void
setup(void)
{
	dir = test_tmpdir();
	path = xasprintf("%s/state.db", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	open_transport(3);
}

static void
teardown(void)
{
	if (tr != NULL)
		tr->ops->free(tr);
	event_base_free(base);
	free(path);
	test_rmtree(dir);
	free(dir);
}

static void
recv_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct recv_result *res = arg;
	size_t i;

	ck_assert(!res->done);
	res->done = true;
	res->r = r;
	res->n = n;
	for (i = 0; i < n; i++)
		res->msgs[i] = msgs[i];
	(void)snprintf(res->err, sizeof res->err, "%s", errctx_msg(ec));
}

static void
recv_clear(struct recv_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		queue_message_free(res->msgs[i]);
	memset(res, 0, sizeof *res);
}

/* Receive and wait for the callback; asserts it did not run inside the call. */
static void
receive(unsigned max, int64_t wait, int64_t vis, struct recv_result *res)
{
	struct errctx ec;

	memset(res, 0, sizeof *res);
	errctx_clear(&ec);
	ck_assert_ok(tr->ops->receive(tr, max, wait, vis, recv_cb, res, &ec), &ec);
	ck_assert(!res->done);
	run_until(base, &res->done);
}

static void
batch_cb(const int *results, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct batch_result *res = arg;

	(void)ec;
	ck_assert(!res->done);
	res->done = true;
	res->r = r;
	res->n = n;
	memcpy(res->results, results, n * sizeof *results);
}

static void
delete(const char *const *receipts, size_t n, struct batch_result *res)
{
	struct errctx ec;

	memset(res, 0, sizeof *res);
	ck_assert_ok(tr->ops->delete_batch(tr, receipts, n, batch_cb, res, &ec), &ec);
	ck_assert(!res->done);
	run_until(base, &res->done);
}

static void
visibility(const char *receipt, int64_t timeout, struct batch_result *res)
{
	struct transport_visibility v = { .receipt = receipt, .timeout_usec = timeout };
	struct errctx ec;

	memset(res, 0, sizeof *res);
	ck_assert_ok(tr->ops->change_visibility(tr, &v, 1, batch_cb, res, &ec), &ec);
	run_until(base, &res->done);
}

static void
send_body(const char *body)
{
	struct errctx ec;

	ck_assert_ok(tr->ops->send(tr, body, NULL, &ec), &ec);
}

static struct sqlite_queue_counts
counts(const char *queue)
{
	struct sqlite_queue_counts c;
	struct errctx ec;

	ck_assert_ok(sqlite_queue_count(sqlite_transport_state(tr), queue, &c, &ec), &ec);
	return c;
}

START_TEST(test_sqlite_queue_send_receive_attributes)
{
	json_t *attrs = json_pack("{s{ss ss}}", "kind", "DataType", "String", "StringValue", "rebalance");
	struct recv_result res;
	struct errctx ec;
	char id[37];

	ck_assert_ok(sqlite_transport_send(tr, "{\"a\":1}", 0, attrs, id, &ec), &ec);
	receive(10, 0, 30 * SEC, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_str_eq(res.msgs[0]->message_id, id);
	ck_assert_str_eq(res.msgs[0]->body, "{\"a\":1}");
	ck_assert_uint_eq(res.msgs[0]->body_len, 7);
	ck_assert_uint_eq(res.msgs[0]->receive_count, 1);
	ck_assert_int_eq(res.msgs[0]->sent_usec, fake_now_usec);
	ck_assert_int_eq(res.msgs[0]->first_receive_usec, fake_now_usec);
	ck_assert(json_equal(res.msgs[0]->attributes, attrs));
	ck_assert_ptr_nonnull(res.msgs[0]->receipt);
	ck_assert_uint_eq(counts("main").in_flight, 1);
	recv_clear(&res);
	json_decref(attrs);
}
END_TEST

/* Issue #13: a held receive is committed by its callback (or after it),
 * never before: another connection sees the receive only then. */
struct hold_check {
	bool	done;
	bool	commit;		/* the callback commits itself */
	int	seen_before, seen_after;
	int	r;
};

static int
committed_receives(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int n;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT coalesce(sum(receive_count), 0) FROM"
	    " queue_messages", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
hold_cb(struct queue_message **msgs, size_t n, int r, const struct errctx *ec, void *arg)
{
	struct hold_check *h = arg;
	struct errctx sub;
	size_t i;

	(void)ec;
	h->done = true;
	h->r = r;
	ck_assert_uint_eq(n, 2);
	h->seen_before = committed_receives();
	if (h->commit) {
		errctx_clear(&sub);
		ck_assert_ok(sqlite_transport_commit_receive(tr, &sub), &sub);
		h->seen_after = committed_receives();
	}
	for (i = 0; i < n; i++)
		queue_message_free(msgs[i]);
}

START_TEST(test_sqlite_queue_held_receive_commits_with_its_callback)
{
	struct hold_check h = { .commit = true };
	struct errctx ec;

	sqlite_transport_hold_receives(tr);
	send_body("one");
	send_body("two");
	errctx_clear(&ec);
	ck_assert_ok(tr->ops->receive(tr, 10, 0, 30 * SEC, hold_cb, &h, &ec), &ec);
	run_until(base, &h.done);
	ck_assert_int_eq(h.r, 0);
	ck_assert_int_eq(h.seen_before, 0);
	ck_assert_int_eq(h.seen_after, 2);
	/* A callback that does not commit: the transport does after it. */
	memset(&h, 0, sizeof h);
	fake_now_usec += 60 * SEC;
	ck_assert_ok(tr->ops->receive(tr, 10, 0, 30 * SEC, hold_cb, &h, &ec), &ec);
	run_until(base, &h.done);
	ck_assert_int_eq(h.seen_before, 2);
	ck_assert_int_eq(committed_receives(), 4);
}
END_TEST

START_TEST(test_sqlite_queue_visibility_expiry_redelivers)
{
	struct recv_result a, b;
	struct batch_result d;
	const char *stale;

	send_body("one");
	receive(10, 0, 30 * SEC, &a);
	ck_assert_uint_eq(a.n, 1);
	receive(10, 0, 30 * SEC, &b);
	ck_assert_uint_eq(b.n, 0);
	fake_now_usec += 31 * SEC;
	receive(10, 0, 30 * SEC, &b);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_str_eq(b.msgs[0]->message_id, a.msgs[0]->message_id);
	ck_assert_uint_eq(b.msgs[0]->receive_count, 2);
	ck_assert_str_ne(b.msgs[0]->receipt, a.msgs[0]->receipt);
	ck_assert_int_eq(b.msgs[0]->first_receive_usec, a.msgs[0]->first_receive_usec);
	/* The first receipt is stale: it must not delete the redelivered message. */
	stale = a.msgs[0]->receipt;
	delete(&stale, 1, &d);
	ck_assert_int_eq(d.r, 0);
	ck_assert_int_eq(d.results[0], -ENOENT);
	ck_assert_uint_eq(counts("main").in_flight, 1);
	delete((const char *const *)&b.msgs[0]->receipt, 1, &d);
	ck_assert_int_eq(d.results[0], 0);
	ck_assert_uint_eq(counts("main").in_flight + counts("main").visible, 0);
	recv_clear(&a);
	recv_clear(&b);
}
END_TEST

START_TEST(test_sqlite_queue_dlq_after_max_receive_count)
{
	struct sqlite_queue_parked *p;
	struct recv_result res;
	struct errctx ec;
	size_t n, i;

	send_body("poison");
	for (i = 1; i <= 3; i++) {
		receive(10, 0, 30 * SEC, &res);
		ck_assert_uint_eq(res.n, 1);
		ck_assert_uint_eq(res.msgs[0]->receive_count, i);
		recv_clear(&res);
		fake_now_usec += 31 * SEC;
	}
	/* The receive after the last one moves it to the DLQ instead. */
	receive(10, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(counts("main").visible + counts("main").in_flight, 0);
	ck_assert_uint_eq(counts("main-dlq").visible, 1);
	ck_assert_ok(sqlite_queue_list_parked(sqlite_transport_state(tr), "main-dlq", 10, &p, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].body, "poison");
	ck_assert_str_eq(p[0].source_queue, "main");
	ck_assert_uint_eq(p[0].receive_count, 3);
	ck_assert_ptr_nonnull(strstr(p[0].reason, "received 3 times"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p[0].attributes,
	    "ERROR_CODE"), "StringValue")), "MaxReceiveCountExceeded");
	sqlite_queue_parked_free(p, n);
}
END_TEST

/* Issue #17: after kill -9, what the dead receiver held is visible again at
 * the next process's first receive, with the dead one's receive given back
 * (at most 2 x max_receive_count times); a live receiver's messages stay. */
START_TEST(test_sqlite_queue_dead_receiver_freed_at_once)
{
	struct recv_result a, b;
	char owner[OWNER_MAX], *sql;
	sqlite3 *db;
	int i;

	send_body("held-by-dead");
	send_body("held-by-live");
	receive(1, 0, 300 * SEC, &a);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_str_eq(a.msgs[0]->body, "held-by-dead");
	ck_assert_ptr_nonnull(strstr(a.msgs[0]->receipt, owner_self(owner, sizeof owner)));
	recv_clear(&a);
	receive(1, 0, 300 * SEC, &b);
	ck_assert_uint_eq(b.n, 1);
	/* The first one's receiver dies (its receipt names an exited process). */
	test_dead_owner(owner, sizeof owner);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (i = 0; i < 8; i++) {
		sql = sqlite3_mprintf("UPDATE queue_messages SET receipt = '1.x.%q' WHERE CAST(body AS TEXT) = 'held-by-dead'",
		    owner);
		ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_changes(db), 1);
		sqlite3_free(sql);
		/* A restart: a new transport sweeps on its first receive. */
		tr->ops->free(tr);
		open_transport(3);
		receive(10, 0, 300 * SEC, &a);
		ck_assert_uint_eq(a.n, 1);
		ck_assert_str_eq(a.msgs[0]->body, "held-by-dead");
		/* Given back 6 times (2 x 3), then each death counts. */
		ck_assert_uint_eq(a.msgs[0]->receive_count, i < 6 ? 1 : (unsigned)i - 4);
		recv_clear(&a);
	}
	sqlite3_close(db);
	ck_assert_uint_eq(counts("main").in_flight, 2);	/* the live one still held */
	recv_clear(&b);
}
END_TEST

static void
mark_waiting(const char *receipt, bool waiting)
{
	struct batch_result res = { 0 };
	struct errctx ec;

	ck_assert_ok(tr->ops->mark_waiting(tr, receipt, waiting, batch_cb, &res, &ec), &ec);
	run_until(base, &res.done);
	ck_assert_int_eq(res.r, 0);
	ck_assert_int_eq(res.results[0], 0);
}

/* One column of one message, read by plain SQL (NULL: no row or NULL). */
static char *
message_sql(sqlite3 *db, const char *body, const char *expr)
{
	char *sql = sqlite3_mprintf("SELECT %s FROM queue_messages WHERE CAST(body AS TEXT) = %Q",
	    expr, body), *ret = NULL;
	sqlite3_stmt *s;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		ret = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_free(sql);
	return ret;
}

/* The message's receiver dies: its receipt now names an exited process. A
 * receiver that was waiting had marked it with that same receipt. */
static void
receiver_dies(sqlite3 *db, const char *body, bool was_waiting)
{
	char owner[OWNER_MAX], *sql;

	test_dead_owner(owner, sizeof owner);
	sql = sqlite3_mprintf("UPDATE queue_messages SET receipt = '1.x.%q'%s WHERE CAST(body AS TEXT) = %Q",
	    owner, was_waiting ? ", attributes = json_set(coalesce(attributes, '{}'),"
	    " '$.\"alchemiser.waiting\"', '1.x.' || ?1)" : "", body);
	{
		sqlite3_stmt *s;

		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
		if (was_waiting)
			ck_assert_int_eq(sqlite3_bind_text(s, 1, owner, -1, SQLITE_TRANSIENT), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
		sqlite3_finalize(s);
	}
	ck_assert_int_eq(sqlite3_changes(db), 1);
	sqlite3_free(sql);
}

/* Issue #17, B1: a message held in place while it waits for another
 * holder's lease spends no receive count, however many receivers die during
 * its waits or stop and release it; a flag left by an earlier receive does
 * not excuse a later receiver's crash, and a running message counts again. */
START_TEST(test_sqlite_queue_waiting_spends_no_receive)
{
	struct recv_result a;
	struct batch_result v;
	sqlite3 *db;
	char *got;
	int i;

	send_body("waiter");
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	receive(1, 0, 300 * SEC, &a);
	ck_assert_uint_eq(a.n, 1);
	mark_waiting(a.msgs[0]->receipt, true);
	got = message_sql(db, "waiter", "json_extract(attributes, '$.\"alchemiser.waiting\"')");
	ck_assert_str_eq(got, a.msgs[0]->receipt);
	free(got);
	/* Released at a stop while waiting: the receive is given back. */
	visibility(a.msgs[0]->receipt, 0, &v);
	ck_assert_int_eq(v.results[0], 0);
	recv_clear(&a);
	/* Ten deaths while waiting: more than the 2 x 3 crash refunds. */
	for (i = 0; i < 10; i++) {
		receive(1, 0, 300 * SEC, &a);
		ck_assert_uint_eq(a.n, 1);
		ck_assert_uint_eq(a.msgs[0]->receive_count, 1);
		mark_waiting(a.msgs[0]->receipt, true);
		recv_clear(&a);
		receiver_dies(db, "waiter", true);
		tr->ops->free(tr);
		open_transport(3);
	}
	got = message_sql(db, "waiter", "coalesce(json_extract(attributes,"
	    " '$.\"alchemiser.crash_refunds\".StringValue'), '0')");
	ck_assert_str_eq(got, "0");
	free(got);
	/* Running again (the wait is over): a release now counts. */
	receive(1, 0, 300 * SEC, &a);
	ck_assert_uint_eq(a.msgs[0]->receive_count, 1);
	mark_waiting(a.msgs[0]->receipt, true);
	mark_waiting(a.msgs[0]->receipt, false);
	visibility(a.msgs[0]->receipt, 0, &v);
	recv_clear(&a);
	receive(1, 0, 300 * SEC, &a);
	ck_assert_uint_eq(a.msgs[0]->receive_count, 2);
	/* A stale flag (an earlier receipt) does not make a crash free. */
	mark_waiting(a.msgs[0]->receipt, true);
	recv_clear(&a);
	receiver_dies(db, "waiter", false);
	tr->ops->free(tr);
	open_transport(3);
	receive(1, 0, 300 * SEC, &a);
	ck_assert_uint_eq(a.msgs[0]->receive_count, 2);	/* a crash refund: 1 of 6 */
	recv_clear(&a);
	got = message_sql(db, "waiter", "json_extract(attributes,"
	    " '$.\"alchemiser.crash_refunds\".StringValue')");
	ck_assert_str_eq(got, "1");
	free(got);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_sqlite_queue_batch_delete_reports_bad_receipts)
{
	struct recv_result res;
	struct batch_result d;
	const char *receipts[4];

	send_body("a");
	send_body("b");
	send_body("c");
	receive(10, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 3);
	ck_assert_str_eq(res.msgs[0]->body, "a");
	receipts[0] = res.msgs[0]->receipt;
	receipts[1] = "999.0123456789abcdef";
	receipts[2] = res.msgs[2]->receipt;
	receipts[3] = "garbage";
	delete(receipts, 4, &d);
	ck_assert_int_eq(d.r, 0);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_int_eq(d.results[0], 0);
	ck_assert_int_eq(d.results[1], -ENOENT);
	ck_assert_int_eq(d.results[2], 0);
	ck_assert_int_eq(d.results[3], -EINVAL);
	ck_assert_uint_eq(counts("main").in_flight, 1);
	recv_clear(&res);
}
END_TEST

START_TEST(test_sqlite_queue_change_visibility)
{
	struct recv_result a, b;
	struct batch_result v;

	send_body("x");
	receive(1, 0, 30 * SEC, &a);
	ck_assert_uint_eq(a.n, 1);
	/* 0 = visible again now: the fast release. */
	visibility(a.msgs[0]->receipt, 0, &v);
	ck_assert_int_eq(v.results[0], 0);
	receive(1, 0, 30 * SEC, &b);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(b.msgs[0]->receive_count, 2);
	/* Extending counts from now: past the old timeout it stays hidden. */
	visibility(b.msgs[0]->receipt, 60 * SEC, &v);
	ck_assert_int_eq(v.results[0], 0);
	fake_now_usec += 45 * SEC;
	recv_clear(&a);
	receive(1, 0, 30 * SEC, &a);
	ck_assert_uint_eq(a.n, 0);
	visibility(b.msgs[0]->receipt, 43201 * SEC, &v);
	ck_assert_int_eq(v.results[0], -EINVAL);
	visibility("1.nope", 10 * SEC, &v);
	ck_assert_int_eq(v.results[0], -ENOENT);
	recv_clear(&b);
}
END_TEST

START_TEST(test_sqlite_queue_delay)
{
	struct recv_result res;
	struct errctx ec;

	ck_assert_ok(sqlite_transport_send(tr, "later", 10 * SEC, NULL, NULL, &ec), &ec);
	ck_assert_uint_eq(counts("main").delayed, 1);
	receive(1, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 0);
	fake_now_usec += 11 * SEC;
	receive(1, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_str_eq(res.msgs[0]->body, "later");
	recv_clear(&res);
	ck_assert_err(sqlite_transport_send(tr, "x", 901 * SEC, NULL, NULL, &ec), -EINVAL, &ec);
}
END_TEST

START_TEST(test_sqlite_queue_reject_parks_with_reason_and_redrive)
{
	struct sqlite_queue_parked *p;
	struct recv_result res;
	struct batch_result b;
	struct errctx ec;
	uint64_t moved;
	size_t n;

	send_body("bad body");
	receive(1, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 1);
	memset(&b, 0, sizeof b);
	ck_assert_ok(tr->ops->reject(tr, res.msgs[0], "malformed: expected JSON", batch_cb, &b, &ec), &ec);
	ck_assert(!b.done);
	run_until(base, &b.done);
	ck_assert_int_eq(b.results[0], 0);
	ck_assert_uint_eq(counts("main").in_flight + counts("main").visible, 0);
	ck_assert_ok(sqlite_queue_list_parked(sqlite_transport_state(tr), "main-dlq", 10, &p, &n, &ec), &ec);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p[0].reason, "malformed: expected JSON");
	ck_assert_str_eq(p[0].message_id, res.msgs[0]->message_id);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p[0].attributes,
	    "ERROR_MESSAGE"), "StringValue")), "malformed: expected JSON");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p[0].attributes,
	    "ERROR_CODE"), "StringValue")), "Rejected");
	sqlite_queue_parked_free(p, n);
	/* Its receipt is gone with it. */
	memset(&b, 0, sizeof b);
	ck_assert_ok(tr->ops->reject(tr, res.msgs[0], "again", batch_cb, &b, &ec), &ec);
	run_until(base, &b.done);
	ck_assert_int_eq(b.results[0], -ENOENT);
	recv_clear(&res);
	/* By id: an unknown one moves nothing. */
	ck_assert_ok(sqlite_queue_redrive_message(sqlite_transport_state(tr), "main-dlq", "no-such-id",
	    &moved, &ec), &ec);
	ck_assert_uint_eq(moved, 0);
	ck_assert_ok(sqlite_queue_redrive(sqlite_transport_state(tr), "main-dlq", &moved, &ec), &ec);
	ck_assert_uint_eq(moved, 1);
	receive(1, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_uint_eq(res.msgs[0]->receive_count, 1);
	ck_assert_ptr_null(json_object_get(res.msgs[0]->attributes, "ERROR_CODE"));
	recv_clear(&res);
}
END_TEST

static void
send_later_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	send_body("arrived");
}

START_TEST(test_sqlite_queue_long_poll_wakes_and_expires)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	struct recv_result res;

	/* An empty poll ends with n = 0 once its wait passed. */
	receive(10, 50000, 30 * SEC, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.n, 0);
	/* A message sent while the poll waits is delivered to it. */
	ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, send_later_cb, NULL, &tv), 0);
	receive(10, 15 * SEC, 30 * SEC, &res);
	ck_assert_int_eq(res.r, 0);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_str_eq(res.msgs[0]->body, "arrived");
	recv_clear(&res);
}
END_TEST

START_TEST(test_sqlite_queue_cancel_receive)
{
	struct recv_result res;
	struct errctx ec;

	memset(&res, 0, sizeof res);
	ck_assert_ok(tr->ops->receive(tr, 10, 60 * SEC, 30 * SEC, recv_cb, &res, &ec), &ec);
	ck_assert_err(tr->ops->receive(tr, 10, 0, 30 * SEC, recv_cb, &res, &ec), -EINVAL, &ec);
	tr->ops->cancel_receive(tr);
	ck_assert(!res.done);
	run_until(base, &res.done);
	ck_assert_int_eq(res.r, -ECANCELED);
	ck_assert_uint_eq(res.n, 0);
	/* The next receive may start again. */
	send_body("y");
	receive(10, 0, 30 * SEC, &res);
	ck_assert_uint_eq(res.n, 1);
	recv_clear(&res);
}
END_TEST

START_TEST(test_sqlite_queue_rejects_bad_arguments)
{
	struct sqlite_queue_options o = { .path = path, .queue = "bad name!" };
	struct transport *t2 = NULL;
	json_t *bad = json_pack("{s{ss}}", "k", "DataType", "Date");
	struct recv_result res;
	struct errctx ec;

	ck_assert_err(tr->ops->receive(tr, 0, 0, SEC, recv_cb, &res, &ec), -EINVAL, &ec);
	ck_assert_err(tr->ops->receive(tr, 11, 0, SEC, recv_cb, &res, &ec), -EINVAL, &ec);
	ck_assert_err(tr->ops->send(tr, "", NULL, &ec), -EINVAL, &ec);
	ck_assert_err(sqlite_transport_send(tr, "x", 0, bad, NULL, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(errctx_msg(&ec), "message attribute 'k'"));
	ck_assert_err(sqlite_transport_new(base, &o, &t2, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(t2);
	ck_assert_ok(tr->ops->preflight(tr, &ec), &ec);
	json_decref(bad);
}
END_TEST

/* A child process: receive and delete until the queue is drained, writing
 * every message id it got to its own file. */
static int
drain_child(const char *out_path, int go_fd)
{
	struct sqlite_queue_options o = {
		.path = path, .queue = "main", .poll_interval_usec = 5000,
	};
	struct recv_result res;
	struct batch_result d;
	struct errctx ec;
	FILE *out = fopen(out_path, "w");
	int idle = 0;
	size_t i;

	char go;

	if (out == NULL)
		return 10;
	/* Start together, so the children really compete for the messages. */
	if (read(go_fd, &go, 1) != 1)
		return 13;
	base = event_base_new();
	if (sqlite_transport_new(base, &o, &tr, &ec) < 0) {
		fprintf(stderr, "child: %s\n", errctx_msg(&ec));
		return 11;
	}
	while (idle < 3) {
		receive(1 + (unsigned)(getpid() % 10), 20000, 600 * SEC, &res);
		if (res.r < 0) {
			/* Lock contention past the busy timeout: try again. */
			if (res.r != -EAGAIN)
				return 12;
			continue;
		}
		if (res.n == 0) {
			idle++;
			continue;
		}
		idle = 0;
		for (i = 0; i < res.n; i++)
			fprintf(out, "%s\n", res.msgs[i]->message_id);
		{
			const char *receipts[TRANSPORT_MAX_BATCH];

			for (i = 0; i < res.n; i++)
				receipts[i] = res.msgs[i]->receipt;
			delete(receipts, res.n, &d);
		}
		recv_clear(&res);
	}
	fclose(out);
	tr->ops->free(tr);
	event_base_free(base);
	return 0;
}

START_TEST(test_sqlite_queue_two_processes_never_share_a_message)
{
	enum { N = 1000, CHILDREN = 3 };
	char *outs[CHILDREN], line[64];
	int go[2];
	pid_t pids[CHILDREN];
	json_t *seen = json_object();
	size_t total = 0, i;
	int st;

	for (i = 0; i < N; i++) {
		char body[32];

		(void)snprintf(body, sizeof body, "m%zu", i);
		send_body(body);
	}
	/* No SQLite connection may cross fork(). */
	tr->ops->free(tr);
	tr = NULL;	/* teardown must not free it again if an assertion fails below */
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < CHILDREN; i++) {
		outs[i] = xasprintf("%s/child%zu.txt", dir, i);
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			_exit(drain_child(outs[i], go[0]));
	}
	ck_assert_int_eq(write(go[1], "GGG", CHILDREN), CHILDREN);
	close(go[0]);
	close(go[1]);
	for (i = 0; i < CHILDREN; i++) {
		size_t mine = 0;
		FILE *f;

		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %zu failed: %d", i, st);
		f = fopen(outs[i], "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof line, f) != NULL) {
			ck_assert_msg(json_object_get(seen, line) == NULL, "message %s received twice", line);
			json_object_set_new(seen, line, json_true());
			total++;
			mine++;
		}
		/* How the work spread is informative, not asserted (it is timing). */
		fprintf(stderr, "child %zu received %zu messages\n", i, mine);
		fclose(f);
		free(outs[i]);
	}
	ck_assert_uint_eq(total, N);
	json_decref(seen);
	open_transport(3);
	ck_assert_uint_eq(counts("main").visible + counts("main").in_flight, 0);
}
END_TEST

static Suite *
suite_sqlite_queue(void)
{
	Suite *s = suite_create("sqlite_queue");
	TCase *tc;

	tc = tcase_create("semantics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_queue_send_receive_attributes);
	tcase_add_test(tc, test_sqlite_queue_held_receive_commits_with_its_callback);
	tcase_add_test(tc, test_sqlite_queue_visibility_expiry_redelivers);
	tcase_add_test(tc, test_sqlite_queue_dlq_after_max_receive_count);
	tcase_add_test(tc, test_sqlite_queue_dead_receiver_freed_at_once);
	tcase_add_test(tc, test_sqlite_queue_waiting_spends_no_receive);
	tcase_add_test(tc, test_sqlite_queue_batch_delete_reports_bad_receipts);
	tcase_add_test(tc, test_sqlite_queue_change_visibility);
	tcase_add_test(tc, test_sqlite_queue_delay);
	tcase_add_test(tc, test_sqlite_queue_reject_parks_with_reason_and_redrive);
	tcase_add_test(tc, test_sqlite_queue_rejects_bad_arguments);
	suite_add_tcase(s, tc);
	tc = tcase_create("loop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sqlite_queue_long_poll_wakes_and_expires);
	tcase_add_test(tc, test_sqlite_queue_cancel_receive);
	suite_add_tcase(s, tc);
	tc = tcase_create("processes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sqlite_queue_two_processes_never_share_a_message);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sqlite_queue)
