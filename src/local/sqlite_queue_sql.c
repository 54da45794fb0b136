/*
 * sqlite_queue_sql: the synchronous SQL side of the SQLite queue: insert,
 * claim (receive), delete, visibility, park in the DLQ, and the inspection
 * functions. sqlite_queue.c wraps the transport ops around these on the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/fixbuf.h"
#include "alchemiser/core/owner.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_queue.h"
#include "sqlite_internal.h"
#include "sqlite_queue_internal.h"

/* Merge the park attributes into the message's own (SQLite's JSON1 functions). */
#define PARK_SET \
	"queue = :dlq, source_queue = queue, dlq_reason = :reason, dlq_usec = :now," \
	" visible_usec = :now, receipt = NULL," \
	" attributes = json_set(coalesce(attributes, '{}')," \
	"   '$.ERROR_CODE', json_object('DataType', 'String', 'StringValue', :code)," \
	"   '$.ERROR_MESSAGE', json_object('DataType', 'String', 'StringValue', :reason)," \
	"   '$.SOURCE_QUEUE', json_object('DataType', 'String', 'StringValue', queue))"

static void
bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	(void)sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, name), v, -1, SQLITE_TRANSIENT);
}

static void
bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	(void)sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, name), v);
}

/* Run a prepared statement to completion; returns changes or a negative errno. */
static int
step_done(struct sqlite_state *st, sqlite3_stmt *s, struct errctx *ec, const char *what)
{
	sqlite3 *db = sqlite3_db_handle(s);
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqlite_state_err(db, rc, ec, what);
	(void)st;
	return sqlite3_changes(db);
}

int
sqlite_queue_insert_locked(struct sqlite_state *st, const char *queue, const char *body,
    size_t len, const char *attributes, int64_t delay_usec, char *message_id, struct errctx *ec)
{
	char id[LOCAL_ID_STRLEN];
	sqlite3_stmt *s = NULL;
	int64_t now = sqlite_state_now_usec(st);
	int r;

	r = sqlite_state_prepare_locked(st, "INSERT INTO queue_messages (queue, message_id, body,"
	    " attributes, sent_usec, visible_usec) VALUES (:q, :id, :body, :attrs, :now, :vis)", &s, ec);
	if (r < 0)
		return r;
	local_uuid_v4(id);
	bind_text(s, ":q", queue);
	bind_text(s, ":id", id);
	(void)sqlite3_bind_blob64(s, sqlite3_bind_parameter_index(s, ":body"), body, len,
	    SQLITE_TRANSIENT);
	if (attributes != NULL)
		bind_text(s, ":attrs", attributes);
	bind_int(s, ":now", now);
	bind_int(s, ":vis", now + delay_usec);
	r = step_done(st, s, ec, "send");
	sqlite_state_release_locked(st, s);
	if (r < 0)
		return r;
	if (message_id != NULL)
		memcpy(message_id, id, LOCAL_ID_STRLEN);
	return 0;
}

static char *
column_dup(sqlite3_stmt *s, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	char *out = xmalloc(n + 1);

	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	if (len != NULL)
		*len = n;
	return out;
}

/* "SEQ.RANDOM.OWNER" (RANDOM: the first 32 characters of rnd), without a
 * format string: vasprintf was a tenth of a receive's own work (issue #13). */
static char *
receipt_new(int64_t seq, const char *rnd, const char *owner)
{
	size_t size = 20 + 1 + 32 + 1 + strlen(owner) + 1;
	char *out = xmalloc(size);
	struct fixbuf fb;

	fixbuf_init(&fb, out, size);
	fixbuf_u64(&fb, seq < 0 ? 0 : (uint64_t)seq);
	fixbuf_catn(&fb, ".", 1);
	fixbuf_catn(&fb, rnd, 32);
	fixbuf_catn(&fb, ".", 1);
	fixbuf_cat(&fb, owner);
	return out;
}

static json_t *
column_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t != NULL ? json_loads(t, 0, NULL) : NULL;
}

/* Park the visible messages that used up their receives, as SQS does on the
 * receive after the last one. Bounded so one receive stays short. */
static int
park_exhausted_locked(struct sqlite_state *st, const struct sqlite_queue_conf *c, int64_t now,
    struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	char reason[96];
	int r;

	if (c->max_receive_count == 0)
		return 0;
	/* Why a look first: the UPDATE with its sub-select cost a receive
	 * ~48k instructions even with nothing to park (issue #13); this
	 * seek on queue_messages_exhausted costs a few. */
	r = sqlite_state_prepare_locked(st, "SELECT 1 FROM queue_messages WHERE queue = :q AND"
	    " receive_count >= :max AND visible_usec <= :now LIMIT 1", &s, ec);
	if (r < 0)
		return r;
	bind_text(s, ":q", c->queue);
	bind_int(s, ":max", c->max_receive_count);
	bind_int(s, ":now", now);
	r = sqlite3_step(s);
	r = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 :
	    sqlite_state_err(sqlite3_db_handle(s), r, ec, "move to the dead-letter queue");
	sqlite_state_release_locked(st, s);
	s = NULL;
	if (r <= 0)
		return r;
	r = sqlite_state_prepare_locked(st, "UPDATE queue_messages SET " PARK_SET
	    " WHERE seq IN (SELECT seq FROM queue_messages WHERE queue = :q AND"
	    " receive_count >= :max AND visible_usec <= :now LIMIT 100)", &s, ec);
	if (r < 0)
		return r;
	(void)snprintf(reason, sizeof reason, "received %u times without being deleted",
	    c->max_receive_count);
	bind_text(s, ":q", c->queue);
	bind_text(s, ":dlq", c->dlq);
	bind_text(s, ":reason", reason);
	bind_text(s, ":code", "MaxReceiveCountExceeded");
	bind_int(s, ":now", now);
	bind_int(s, ":max", c->max_receive_count);
	r = step_done(st, s, ec, "move to the dead-letter queue");
	sqlite_state_release_locked(st, s);
	return r < 0 ? r : 0;
}

/* A cheap read first: an idle poll must not take the write lock. */
static int
any_visible_locked(struct sqlite_state *st, const char *queue, int64_t now, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	r = sqlite_state_prepare_locked(st, "SELECT 1 FROM queue_messages WHERE queue = :q AND"
	    " visible_usec <= :now LIMIT 1", &s, ec);
	if (r < 0)
		return r;
	bind_text(s, ":q", queue);
	bind_int(s, ":now", now);
	rc = sqlite3_step(s);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 :
	    sqlite_state_err(sqlite3_db_handle(s), rc, ec, "receive");
	sqlite_state_release_locked(st, s);
	return r;
}

/* Read the batch first, then update its rows: an UPDATE between the steps
 * of the SELECT moves entries of the index the SELECT walks, so every step
 * re-seeks its cursor (issue #13: half the receive's instructions). */
static int
claim_rows_locked(struct sqlite_state *st, const struct sqlite_queue_conf *c, unsigned max,
    int64_t now, int64_t visibility_usec, struct queue_message **msgs, size_t *n,
    struct errctx *ec)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int64_t seqs[TRANSPORT_MAX_BATCH];
	char self[OWNER_MAX], rnd[32 * TRANSPORT_MAX_BATCH + 1];
	size_t i;
	int r, rc = SQLITE_DONE;

	if (max > TRANSPORT_MAX_BATCH)
		max = TRANSPORT_MAX_BATCH;
	r = sqlite_state_prepare_locked(st, "SELECT seq, message_id, body, attributes, receive_count,"
	    " sent_usec, first_receive_usec FROM queue_messages WHERE queue = :q AND"
	    " visible_usec <= :now ORDER BY visible_usec, seq LIMIT :max", &sel, ec);
	if (r == 0)
		r = sqlite_state_prepare_locked(st, "UPDATE queue_messages SET receive_count ="
		    " receive_count + 1, visible_usec = :vis, receipt = :receipt,"
		    " first_receive_usec = coalesce(first_receive_usec, :now) WHERE seq = :seq", &upd, ec);
	if (r < 0)
		goto out;
	/* The receiver's owner string last: after a kill -9 the next process
	 * can tell these are free (sqlite_queue_recover_dead). */
	owner_self(self, sizeof self);
	bind_text(sel, ":q", c->queue);
	bind_int(sel, ":now", now);
	bind_int(sel, ":max", max);
	/* The receipts' random parts, 16 bytes each, in one system call. */
	local_random_hex(rnd, 16 * (size_t)max);
	while (*n < max && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		struct queue_message *m = xcalloc(1, sizeof *m);

		seqs[*n] = sqlite3_column_int64(sel, 0);
		msgs[(*n)++] = m;
		m->receipt = receipt_new(seqs[*n - 1], rnd + 32 * (*n - 1), self);
		m->message_id = column_dup(sel, 1, NULL);
		m->body = column_dup(sel, 2, &m->body_len);
		m->attributes = column_json(sel, 3);
		m->receive_count = (unsigned)sqlite3_column_int64(sel, 4) + 1;
		m->sent_usec = sqlite3_column_int64(sel, 5);
		m->first_receive_usec = sqlite3_column_type(sel, 6) == SQLITE_NULL ? now :
		    sqlite3_column_int64(sel, 6);
	}
	if (*n < max && rc != SQLITE_DONE) {
		r = sqlite_state_err(sqlite3_db_handle(sel), rc, ec, "receive");
		goto out;
	}
	(void)sqlite3_reset(sel);
	bind_int(upd, ":vis", now + visibility_usec);
	bind_int(upd, ":now", now);
	for (i = 0; i < *n; i++) {
		(void)sqlite3_reset(upd);
		bind_text(upd, ":receipt", msgs[i]->receipt);
		bind_int(upd, ":seq", seqs[i]);
		if ((r = step_done(st, upd, ec, "receive")) < 0)
			goto out;
	}
out:
	sqlite_state_release_locked(st, sel);
	sqlite_state_release_locked(st, upd);
	return r < 0 ? r : 0;
}

/* A message held in place while it waits (transport mark_waiting) carries
 * its receipt of that moment in alchemiser.waiting: a flag left by an earlier
 * receive never matches the current receipt, so it cannot excuse a later
 * receiver's crash. */
#define WAITING_PATH "'$.\"alchemiser.waiting\"'"
#define WAITING_OF(receipt) "(json_extract(attributes, " WAITING_PATH ") IS " receipt ")"
#define WAITING_CLEAR "CASE WHEN attributes IS NULL THEN NULL ELSE json_remove(attributes, " \
	WAITING_PATH ") END"

/* Receives given back to messages whose receiver died (kept in the message's
 * attributes, SQS style): a kill -9 is not the message's fault, but a message
 * that kills its receiver every time must still reach the dead-letter queue,
 * so at most twice max_receive_count are given back. */
#define REFUNDS "coalesce(CAST(json_extract(attributes," \
	" '$.\"alchemiser.crash_refunds\".StringValue') AS INTEGER), 0)"

int
sqlite_queue_recover_dead(struct sqlite_state *st, const struct sqlite_queue_conf *c,
    struct errctx *ec)
{
	int64_t now = sqlite_state_now_usec(st);
	sqlite3_stmt *sel = NULL, *upd = NULL;
	int r, rc, freed = 0;

	sqlite_state_lock(st);
	if ((r = sqlite_state_begin_locked(st, ec)) < 0)
		goto out;
	r = sqlite_state_prepare_locked(st, "SELECT seq, receipt FROM queue_messages WHERE"
	    " queue = :q AND visible_usec > :now AND receipt IS NOT NULL", &sel, ec);
	if (r == 0)
		/* A receiver that died while the message waited spent nothing of
		 * it: that refund is not capped and not counted as a crash. */
		r = sqlite_state_prepare_locked(st, "UPDATE queue_messages SET visible_usec = :now,"
		    " receipt = NULL, receive_count = CASE WHEN receive_count > 0 AND"
		    " (" WAITING_OF("receipt") " OR " REFUNDS " < :cap)"
		    " THEN receive_count - 1 ELSE receive_count END,"
		    " attributes = json_remove(json_set(coalesce(attributes, '{}'),"
		    "   '$.\"alchemiser.crash_refunds\"', json_object('DataType', 'Number', 'StringValue',"
		    "   CAST(" REFUNDS " + (NOT " WAITING_OF("receipt") ") AS TEXT))), " WAITING_PATH ")"
		    " WHERE seq = :seq AND receipt = :r", &upd, ec);
	if (r < 0)
		goto done;
	bind_text(sel, ":q", c->queue);
	bind_int(sel, ":now", now);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *receipt = (const char *)sqlite3_column_text(sel, 1);
		const char *holder = receipt != NULL ? strchr(receipt, '.') : NULL;
		char why[128];

		/* "SEQ.RANDOM.OWNER"; older receipts have no owner: left alone. */
		holder = holder != NULL ? strchr(holder + 1, '.') : NULL;
		if (holder == NULL || !owner_is_dead(holder + 1, why, sizeof why))
			continue;
		(void)sqlite3_reset(upd);
		bind_int(upd, ":now", now);
		bind_int(upd, ":cap", 2 * (int64_t)c->max_receive_count);
		bind_int(upd, ":seq", sqlite3_column_int64(sel, 0));
		bind_text(upd, ":r", receipt);
		if ((r = step_done(st, upd, ec, "recover")) < 0)
			goto done;
		freed += r;
	}
	if (rc != SQLITE_DONE)
		r = sqlite_state_err(sqlite3_db_handle(sel), rc, ec, "recover");
done:
	sqlite_state_release_locked(st, sel);
	sqlite_state_release_locked(st, upd);
	if (r >= 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
out:
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "queue '%s': recovering the messages of dead receivers", c->queue);
	return freed;
}

int
sqlite_queue_claim(struct sqlite_state *st, const struct sqlite_queue_conf *c, unsigned max,
    int64_t visibility_usec, bool locked_check, struct queue_message **msgs, size_t *n,
    struct errctx *ec)
{
	int64_t now = sqlite_state_now_usec(st);
	size_t i;
	int r;

	*n = 0;
	sqlite_state_lock(st);
	/* locked_check: another process is writing (its WAL frames woke us):
	 * only its write lock makes sure its COMMIT is visible to our read. */
	r = locked_check ? 1 : any_visible_locked(st, c->queue, now, ec);
	if (r <= 0)
		goto out;
	if ((r = sqlite_state_begin_locked(st, ec)) < 0)
		goto out;
	r = park_exhausted_locked(st, c, now, ec);
	if (r == 0)
		r = claim_rows_locked(st, c, max, now, visibility_usec, msgs, n, ec);
	if (r == 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
out:
	sqlite_state_unlock(st);
	if (r < 0) {
		for (i = 0; i < *n; i++)
			queue_message_free(msgs[i]);
		*n = 0;
		return errctx_prefix(ec, "queue '%s'", c->queue);
	}
	return 0;
}

int
sqlite_queue_next_visible(struct sqlite_state *st, const char *queue, int64_t *ret,
    struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	*ret = 0;
	sqlite_state_lock(st);
	r = sqlite_state_prepare_locked(st, "SELECT min(visible_usec) FROM queue_messages"
	    " WHERE queue = :q", &s, ec);
	if (r == 0) {
		bind_text(s, ":q", queue);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
			*ret = sqlite3_column_int64(s, 0);
		else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "next visible");
	}
	sqlite_state_release_locked(st, s);
	sqlite_state_unlock(st);
	return r;
}

/* One statement per receipt in one transaction: per-entry results, atomic commit. */
int
sqlite_queue_apply(struct sqlite_state *st, const struct sqlite_queue_conf *c, enum queue_apply op,
    const char *const *receipts, const int64_t *timeouts, size_t n, const char *reason,
    int *results, struct errctx *ec)
{
	static const char *const sql[] = {
		[QUEUE_APPLY_DELETE] = "DELETE FROM queue_messages WHERE queue = :q AND receipt = :r",
		/* Released now (:release) while it waited: the receive is given back. */
		[QUEUE_APPLY_VISIBILITY] = "UPDATE queue_messages SET visible_usec = :vis,"
		    " receive_count = CASE WHEN :release AND receive_count > 0 AND " WAITING_OF(":r")
		    " THEN receive_count - 1 ELSE receive_count END,"
		    " attributes = CASE WHEN :release AND " WAITING_OF(":r") " THEN " WAITING_CLEAR
		    " ELSE attributes END WHERE queue = :q AND receipt = :r",
		[QUEUE_APPLY_WAIT] = "UPDATE queue_messages SET attributes = json_set(coalesce(attributes,"
		    " '{}'), " WAITING_PATH ", :r) WHERE queue = :q AND receipt = :r",
		[QUEUE_APPLY_RUN] = "UPDATE queue_messages SET attributes = " WAITING_CLEAR
		    " WHERE queue = :q AND receipt = :r",
		[QUEUE_APPLY_PARK] = "UPDATE queue_messages SET " PARK_SET
		    " WHERE queue = :q AND receipt = :r",
	};
	int64_t now = sqlite_state_now_usec(st);
	sqlite3_stmt *s = NULL;
	size_t i;
	int r;

	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = sqlite_state_prepare_locked(st, sql[op], &s, ec);
	for (i = 0; r == 0 && i < n; i++) {
		if (receipts[i] == NULL || strchr(receipts[i], '.') == NULL) {
			results[i] = -EINVAL;
			continue;
		}
		if (op == QUEUE_APPLY_VISIBILITY &&
		    (timeouts[i] < 0 || timeouts[i] > LOCAL_MAX_VISIBILITY_USEC)) {
			results[i] = -EINVAL;
			continue;
		}
		(void)sqlite3_reset(s);
		(void)sqlite3_clear_bindings(s);
		bind_text(s, ":q", c->queue);
		bind_text(s, ":r", receipts[i]);
		if (op == QUEUE_APPLY_VISIBILITY) {
			bind_int(s, ":vis", now + timeouts[i]);
			bind_int(s, ":release", timeouts[i] == 0);
		}
		if (op == QUEUE_APPLY_PARK) {
			bind_text(s, ":dlq", c->dlq);
			bind_text(s, ":reason", reason);
			bind_text(s, ":code", "Rejected");
			bind_int(s, ":now", now);
		}
		r = step_done(st, s, ec, "update");
		if (r >= 0) {
			results[i] = r > 0 ? 0 : -ENOENT;
			r = 0;
		}
	}
	sqlite_state_release_locked(st, s);
	if (r == 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "queue '%s'", c->queue);
	return 0;
}

int
sqlite_queue_count(struct sqlite_state *st, const char *queue, struct sqlite_queue_counts *ret,
    struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	memset(ret, 0, sizeof *ret);
	sqlite_state_lock(st);
	r = sqlite_state_prepare_locked(st, "SELECT"
	    " coalesce(sum(visible_usec <= :now), 0),"
	    " coalesce(sum(visible_usec > :now AND receive_count > 0), 0),"
	    " coalesce(sum(visible_usec > :now AND receive_count = 0), 0)"
	    " FROM queue_messages WHERE queue = :q", &s, ec);
	if (r == 0) {
		bind_text(s, ":q", queue);
		bind_int(s, ":now", sqlite_state_now_usec(st));
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			ret->visible = (uint64_t)sqlite3_column_int64(s, 0);
			ret->in_flight = (uint64_t)sqlite3_column_int64(s, 1);
			ret->delayed = (uint64_t)sqlite3_column_int64(s, 2);
		} else
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "count");
	}
	sqlite_state_release_locked(st, s);
	sqlite_state_unlock(st);
	return r < 0 ? errctx_prefix(ec, "queue '%s'", queue) : 0;
}

int
sqlite_queue_list_parked(struct sqlite_state *st, const char *dlq, size_t max,
    struct sqlite_queue_parked **ret, size_t *n, struct errctx *ec)
{
	struct sqlite_queue_parked *out = NULL;
	sqlite3_stmt *s = NULL;
	int r, rc = SQLITE_DONE;

	*ret = NULL;
	*n = 0;
	sqlite_state_lock(st);
	r = sqlite_state_prepare_locked(st, "SELECT message_id, body, dlq_reason, source_queue,"
	    " attributes, receive_count, sent_usec, dlq_usec FROM queue_messages WHERE queue = :q"
	    " ORDER BY seq LIMIT :max", &s, ec);
	if (r == 0) {
		bind_text(s, ":q", dlq);
		bind_int(s, ":max", (int64_t)max);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			struct sqlite_queue_parked *p;

			out = xreallocarray(out, *n + 1, sizeof *out);
			p = &out[(*n)++];
			p->message_id = column_dup(s, 0, NULL);
			p->body = column_dup(s, 1, NULL);
			p->reason = sqlite3_column_type(s, 2) == SQLITE_NULL ? NULL : column_dup(s, 2, NULL);
			p->source_queue = sqlite3_column_type(s, 3) == SQLITE_NULL ? NULL :
			    column_dup(s, 3, NULL);
			p->attributes = column_json(s, 4);
			p->receive_count = (unsigned)sqlite3_column_int64(s, 5);
			p->sent_usec = sqlite3_column_int64(s, 6);
			p->parked_usec = sqlite3_column_int64(s, 7);
		}
		if (rc != SQLITE_DONE)
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "list");
	}
	sqlite_state_release_locked(st, s);
	sqlite_state_unlock(st);
	if (r < 0) {
		sqlite_queue_parked_free(out, *n);
		*n = 0;
		return errctx_prefix(ec, "queue '%s'", dlq);
	}
	*ret = out;
	return 0;
}

void
sqlite_queue_parked_free(struct sqlite_queue_parked *p, size_t n)
{
	size_t i;

	for (i = 0; p != NULL && i < n; i++) {
		free(p[i].message_id);
		free(p[i].body);
		free(p[i].reason);
		free(p[i].source_queue);
		json_decref(p[i].attributes);
	}
	free(p);
}

int
sqlite_queue_redrive(struct sqlite_state *st, const char *dlq, uint64_t *moved,
    struct errctx *ec)
{
	return sqlite_queue_redrive_message(st, dlq, NULL, moved, ec);
}

int
sqlite_queue_redrive_message(struct sqlite_state *st, const char *dlq, const char *message_id,
    uint64_t *moved, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r;

	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = sqlite_state_prepare_locked(st, "UPDATE queue_messages SET queue = source_queue,"
	    " source_queue = NULL, dlq_reason = NULL, dlq_usec = NULL, receive_count = 0,"
	    " first_receive_usec = NULL, receipt = NULL, visible_usec = :now,"
	    " attributes = json_remove(attributes, '$.ERROR_CODE', '$.ERROR_MESSAGE', '$.SOURCE_QUEUE')"
	    " WHERE queue = :q AND source_queue IS NOT NULL AND (:id IS NULL OR message_id = :id)",
	    &s, ec);
	if (r == 0) {
		bind_text(s, ":q", dlq);
		if (message_id != NULL)
			bind_text(s, ":id", message_id);
		bind_int(s, ":now", sqlite_state_now_usec(st));
		r = step_done(st, s, ec, "redrive");
	}
	sqlite_state_release_locked(st, s);
	if (r >= 0) {
		int c = sqlite_state_commit_locked(st, ec);

		r = c < 0 ? c : r;
	} else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "queue '%s'", dlq);
	if (moved != NULL)
		*moved = (uint64_t)r;
	return 0;
}
