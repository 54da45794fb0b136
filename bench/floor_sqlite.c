/*
 * floor_sqlite: the physical floor of embedded dispatch on this machine
 * (issue #13), for bench/run to compare alchemiserd against. One thread, one
 * SQLite connection, statements prepared once, the daemon's schema and
 * pragmas (WAL, synchronous=FULL, no memory statistics), and per batch of B messages two
 * transactions: receive + idempotency claims, then completions + deletes.
 * Per message: receive (select, receipt update) -> claim (read, insert) ->
 * no-op handler -> complete (update) -> delete. No JSON, no routing, no
 * threads: what remains is what SQLite and the file system cost. The
 * values are the daemon's too, so the SQL does the same work: its queue
 * name, event ids as keys ("floor-<n>"), correlation ids ("...-run"), its
 * owner string (core/owner.c) in the claims and in receipts of its shape
 * ("<seq>.<32 hex>.<owner>"), the columns it selects, its CHECK.
 *
 *   floor_sqlite DIR N [B]   N messages (pre-filled, not timed), B per
 *                            transaction (default 10); prints one line of
 *                            JSON: n, batch, wall_s, user_s, sys_s,
 *                            cpu_us_per_msg.
 * Bench only (never installed); exits 1 with the reason on any SQLite error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "alchemiser/core/fixbuf.h"
#include "alchemiser/core/owner.h"
#include "../src/local/sqlite_mem.h"

#define BODY "{\"detail-type\":\"WorkflowCompleted\",\"source\":\"alchemiser.execution\"," \
	"\"detail\":{\"event_id\":\"floor-%d\",\"correlation_id\":\"floor-%d-run\"," \
	"\"causation_id\":\"bench\",\"event_type\":\"WorkflowCompleted\"," \
	"\"timestamp\":\"2025-10-14T12:00:00Z\",\"source_module\":\"bench\"," \
	"\"workflow_type\":\"trading\",\"workflow_duration_ms\":1,\"success\":true}}"

static sqlite3 *db;

static void
die(const char *what)
{
	fprintf(stderr, "floor_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		die(sql);
	return s;
}

static void
run(sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		die(what);
	(void)sqlite3_reset(s);
}

/* v as 16 lowercase hex digits at p; the end. */
static char *
put_hex(char *p, uint64_t v)
{
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		p[i] = "0123456789abcdef"[v & 15];
	return p + 16;
}

static int64_t
now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
mono_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	sqlite3_stmt *ins, *sel, *upd, *get, *claim, *done, *del, *begin, *commit;
	char path[4096], body[1024], keys[32][64], corrs[32][72], receipts[32][24 + 34 + OWNER_MAX], owner[OWNER_MAX];
	uint64_t rnd = 0x9e3779b97f4a7c15u;
	struct fixbuf fb;
	char hex[32];
	int64_t seqs[32];
	struct rusage r0, r1;
	double w0, w1;
	int n, b, i, k, got, handled = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: floor_sqlite DIR N [B]\n");
		return 2;
	}
	n = atoi(argv[2]);
	b = argc > 3 ? atoi(argv[3]) : 10;
	if (n < 1 || b < 1 || b > 32) {
		fprintf(stderr, "floor_sqlite: N >= 1, B in 1..32\n");
		return 2;
	}
	/* As the daemon (src/local/sqlite_state.c): no memory statistics, whose
	 * global mutex every allocation would take, and its allocator
	 * (src/local/sqlite_mem.c: per-thread lists of small blocks). */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite_mem_install();
	(void)snprintf(path, sizeof path, "%s/floor.sqlite", argv[1]);
	(void)unlink(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL) != SQLITE_OK)
		die("open");
	/* The daemon's schema and pragmas (src/local/sqlite_state.c). */
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    "PRAGMA wal_autocheckpoint = 256; PRAGMA journal_size_limit = 1048576;"
	    "CREATE TABLE queue_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,"
	    " message_id TEXT NOT NULL, body BLOB NOT NULL, attributes TEXT, sent_usec INTEGER NOT NULL,"
	    " visible_usec INTEGER NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,"
	    " first_receive_usec INTEGER, receipt TEXT UNIQUE, source_queue TEXT, dlq_reason TEXT,"
	    " dlq_usec INTEGER);"
	    "CREATE INDEX queue_messages_ready ON queue_messages(queue, visible_usec);"
	    "CREATE INDEX queue_messages_exhausted ON queue_messages(queue, receive_count, visible_usec);"
	    "CREATE TABLE idempotency (key TEXT PRIMARY KEY, status TEXT NOT NULL"
	    " CHECK (status IN ('IN_PROGRESS', 'COMPLETED')), owner TEXT NOT NULL,"
	    " lease_expires_usec INTEGER, detail_type TEXT, correlation_id TEXT,"
	    " claimed_usec INTEGER NOT NULL, completed_usec INTEGER, expires_usec INTEGER NOT NULL);"
	    "CREATE INDEX idempotency_expires ON idempotency(expires_usec);", NULL, NULL, NULL) != SQLITE_OK)
		die("schema");
	ins = prep("INSERT INTO queue_messages (queue, message_id, body, sent_usec, visible_usec)"
	    " VALUES ('alchemiser-work', ?1, ?2, ?3, ?3)");
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		die("begin");
	for (i = 0; i < n; i++) {
		char id[40];
		int len = snprintf(body, sizeof body, BODY, i, i);

		(void)snprintf(id, sizeof id, "%08x-0000-4000-8000-000000000000", i);
		(void)sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
		(void)sqlite3_bind_blob(ins, 2, body, len, SQLITE_STATIC);
		(void)sqlite3_bind_int64(ins, 3, now_usec());
		run(ins, "fill");
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die("commit");
	/* The daemon starts on a file another process filled, its page cache
	 * empty: so does the drain here (a new connection, the same pragmas). */
	sqlite3_finalize(ins);
	if (sqlite3_close(db) != SQLITE_OK ||
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    "PRAGMA wal_autocheckpoint = 256; PRAGMA journal_size_limit = 1048576;", NULL, NULL,
	    NULL) != SQLITE_OK)
		die("reopen");

	begin = prep("BEGIN IMMEDIATE");
	commit = prep("COMMIT");
	sel = prep("SELECT seq, message_id, body, attributes, receive_count, sent_usec, first_receive_usec"
	    " FROM queue_messages WHERE queue = 'alchemiser-work' AND"
	    " visible_usec <= ?1 ORDER BY visible_usec, seq LIMIT ?2");
	upd = prep("UPDATE queue_messages SET receive_count = receive_count + 1, visible_usec = ?1,"
	    " receipt = ?2, first_receive_usec = coalesce(first_receive_usec, ?3) WHERE seq = ?4");
	get = prep("SELECT status, owner, coalesce(detail_type, ''), coalesce(correlation_id, ''),"
	    " coalesce(lease_expires_usec, 0), claimed_usec, coalesce(completed_usec, 0), expires_usec"
	    " FROM idempotency WHERE key = ?1");
	claim = prep("INSERT OR REPLACE INTO idempotency (key, owner, detail_type, correlation_id, status,"
	    " lease_expires_usec, claimed_usec, completed_usec, expires_usec)"
	    " VALUES (?1, ?5, ?6, ?7, 'IN_PROGRESS', ?2, ?3, NULL, ?4)");
	done = prep("UPDATE idempotency SET status = 'COMPLETED', completed_usec = ?3,"
	    " lease_expires_usec = NULL WHERE key = ?1 AND owner = ?2 AND status = 'IN_PROGRESS'");
	del = prep("DELETE FROM queue_messages WHERE queue = 'alchemiser-work' AND receipt = ?1");
	(void)owner_self(owner, sizeof owner);

	(void)getrusage(RUSAGE_SELF, &r0);
	w0 = mono_s();
	for (;;) {
		int64_t now = now_usec();

		/* Transaction 1: receive a batch and claim each message. */
		run(begin, "begin");
		(void)sqlite3_bind_int64(sel, 1, now);
		(void)sqlite3_bind_int(sel, 2, b);
		got = 0;
		while (sqlite3_step(sel) == SQLITE_ROW) {
			seqs[got] = sqlite3_column_int64(sel, 0);
			/* Read what the daemon reads (SQLite decodes a column only
			 * when asked); the copies it makes are its own cost. */
			(void)sqlite3_column_text(sel, 1);
			(void)sqlite3_column_blob(sel, 2);
			(void)sqlite3_column_bytes(sel, 2);
			(void)sqlite3_column_text(sel, 3);
			(void)sqlite3_column_int64(sel, 4);
			(void)sqlite3_column_int64(sel, 5);
			(void)sqlite3_column_type(sel, 6);
			/* The body's event id (fill: row i is "floor-<i>", seq i + 1),
			 * and a receipt of the daemon's shape; no printf, as the
			 * daemon has none here (it would be the floor's own cost). */
			fixbuf_init(&fb, keys[got], sizeof keys[got]);
			fixbuf_cat(&fb, "floor-");
			fixbuf_i64(&fb, seqs[got] - 1);
			fixbuf_init(&fb, corrs[got], sizeof corrs[got]);
			fixbuf_cat(&fb, keys[got]);
			fixbuf_cat(&fb, "-run");
			rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
			put_hex(put_hex(hex, rnd), rnd * 0x2545f4914f6cdd1du);
			fixbuf_init(&fb, receipts[got], sizeof receipts[got]);
			fixbuf_i64(&fb, seqs[got]);
			fixbuf_cat(&fb, ".");
			fixbuf_catn(&fb, hex, 32);
			fixbuf_cat(&fb, ".");
			fixbuf_cat(&fb, owner);
			got++;
		}
		(void)sqlite3_reset(sel);
		for (k = 0; k < got; k++) {
			(void)sqlite3_bind_int64(upd, 1, now + 30000000);
			(void)sqlite3_bind_text(upd, 2, receipts[k], -1, SQLITE_STATIC);
			(void)sqlite3_bind_int64(upd, 3, now);
			(void)sqlite3_bind_int64(upd, 4, seqs[k]);
			run(upd, "receive");
			(void)sqlite3_bind_text(get, 1, keys[k], -1, SQLITE_STATIC);
			(void)sqlite3_step(get);
			(void)sqlite3_reset(get);
			(void)sqlite3_bind_text(claim, 1, keys[k], -1, SQLITE_STATIC);
			(void)sqlite3_bind_int64(claim, 2, now + 30000000);
			(void)sqlite3_bind_int64(claim, 3, now);
			(void)sqlite3_bind_int64(claim, 4, now + INT64_C(86400000000));
			(void)sqlite3_bind_text(claim, 5, owner, -1, SQLITE_STATIC);
			(void)sqlite3_bind_text(claim, 6, "WorkflowCompleted", -1, SQLITE_STATIC);
			(void)sqlite3_bind_text(claim, 7, corrs[k], -1, SQLITE_STATIC);
			run(claim, "claim");
		}
		run(commit, "commit");
		if (got == 0)
			break;
		/* The no-op handler; then transaction 2: completions and deletes. */
		run(begin, "begin");
		for (k = 0; k < got; k++) {
			(void)sqlite3_bind_text(done, 1, keys[k], -1, SQLITE_STATIC);
			(void)sqlite3_bind_text(done, 2, owner, -1, SQLITE_STATIC);
			(void)sqlite3_bind_int64(done, 3, now_usec());
			run(done, "complete");
			(void)sqlite3_bind_text(del, 1, receipts[k], -1, SQLITE_STATIC);
			run(del, "delete");
		}
		run(commit, "commit");
		handled += got;
	}
	w1 = mono_s();
	(void)getrusage(RUSAGE_SELF, &r1);
	printf("{\"n\": %d, \"batch\": %d, \"wall_s\": %.4f, \"user_s\": %.4f, \"sys_s\": %.4f, "
	    "\"cpu_us_per_msg\": %.2f}\n", handled, b, w1 - w0,
	    tv_s(r1.ru_utime) - tv_s(r0.ru_utime), tv_s(r1.ru_stime) - tv_s(r0.ru_stime),
	    (tv_s(r1.ru_utime) - tv_s(r0.ru_utime) + tv_s(r1.ru_stime) - tv_s(r0.ru_stime)) * 1e6 /
	    (handled > 0 ? handled : 1));
	/* It did the work, or it is no floor: every message deleted (its
	 * receipt found again) and every claim completed by this owner. */
	{
		sqlite3_stmt *left = prep("SELECT (SELECT count(*) FROM queue_messages),"
		    " (SELECT count(*) FROM idempotency WHERE status = 'COMPLETED' AND owner = ?1"
		    " AND correlation_id = key || '-run')");

		(void)sqlite3_bind_text(left, 1, owner, -1, SQLITE_STATIC);
		if (sqlite3_step(left) != SQLITE_ROW || sqlite3_column_int(left, 0) != 0 ||
		    sqlite3_column_int(left, 1) != n) {
			fprintf(stderr, "floor_sqlite: %d messages left, %d of %d claims completed\n",
			    sqlite3_column_int(left, 0), sqlite3_column_int(left, 1), n);
			return 1;
		}
		sqlite3_finalize(left);
	}
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(get);
	sqlite3_finalize(claim);
	sqlite3_finalize(done);
	sqlite3_finalize(del);
	if (sqlite3_close(db) != SQLITE_OK)
		return 1;
	(void)unlink(path);
	return handled == n ? 0 : 1;
}
