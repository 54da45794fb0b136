/*
 * sqlite_idem: conditional claims over the idempotency table of the state file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/sqlite_idem.h"
#include "alchemiser/local/sqlite_state.h"
#include "sqlite_internal.h"

/* One literal (the statement cache keys on its address) for complete and
 * complete_batch. */
static const char COMPLETE_SQL[] = "UPDATE idempotency SET status = 'COMPLETED',"
    " completed_usec = ?3, lease_expires_usec = NULL"
    " WHERE key = ?1 AND owner = ?2 AND status = 'IN_PROGRESS'";

static int owner_write_locked(struct sqlite_state *st, const char *what, const char *sql,
    const char *key, const char *owner, const int64_t *ints, size_t ni, struct errctx *ec);

/* How long an abandoned account-lease row stays before housekeeping may drop it. */
#define SQLITE_LEASE_RETENTION_USEC (INT64_C(86400) * 1000000)

struct sqlite_idem {
	struct idem_store	 pub;	/* first: the seam pointer is this struct's */
	struct sqlite_state	*st;
};

static struct sqlite_idem *
to_sqlite(struct idem_store *s)
{
	return (struct sqlite_idem *)s;
}

/* Column i as text into out, cut to len - 1 bytes as snprintf would (four
 * of these per claim: snprintf's parsing was a tenth of the claim's own
 * work, issue #13). */
static void
copy_col(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = t != NULL ? strnlen((const char *)t, (size_t)sqlite3_column_bytes(s, i)) : 0;

	if (n >= len)
		n = len - 1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = '\0';
}

/* The current row, if any: 1 found, 0 absent, < 0 error. */
static int
read_locked(struct sqlite_state *st, const char *key, struct sqlite_idem_record *rec,
    struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	memset(rec, 0, sizeof *rec);
	r = sqlite_state_prepare_locked(st, "SELECT status, owner, coalesce(detail_type, ''),"
	    " coalesce(correlation_id, ''), coalesce(lease_expires_usec, 0), claimed_usec,"
	    " coalesce(completed_usec, 0), expires_usec FROM idempotency WHERE key = ?", &s, ec);
	if (r < 0)
		return r;
	(void)sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_col(s, 0, rec->status, sizeof rec->status);
		copy_col(s, 1, rec->owner, sizeof rec->owner);
		copy_col(s, 2, rec->detail_type, sizeof rec->detail_type);
		copy_col(s, 3, rec->correlation_id, sizeof rec->correlation_id);
		rec->lease_expires_usec = sqlite3_column_int64(s, 4);
		rec->claimed_usec = sqlite3_column_int64(s, 5);
		rec->completed_usec = sqlite3_column_int64(s, 6);
		rec->expires_usec = sqlite3_column_int64(s, 7);
		r = 1;
	} else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "read");
	sqlite_state_release_locked(st, s);
	return r;
}

/* Run one statement with text and integer arguments; returns changes or < 0. */
static int
run_locked(struct sqlite_state *st, const char *sql, const char *const *texts, size_t nt,
    const int64_t *ints, size_t ni, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int r, rc;

	r = sqlite_state_prepare_locked(st, sql, &s, ec);
	if (r < 0)
		return r;
	for (i = 0; i < nt; i++)
		(void)sqlite3_bind_text(s, (int)i + 1, texts[i], -1, SQLITE_STATIC);
	for (i = 0; i < ni; i++)
		(void)sqlite3_bind_int64(s, (int)(nt + i) + 1, ints[i]);
	rc = sqlite3_step(s);
	r = rc == SQLITE_DONE ? sqlite3_changes(sqlite3_db_handle(s)) :
	    sqlite_state_err(sqlite3_db_handle(s), rc, ec, "write");
	sqlite_state_release_locked(st, s);
	return r;
}

/* The claim protocol inside the caller's open transaction: one read, at most one write. */
static int
claim_locked(struct sqlite_state *st, const struct idem_claim *c, enum idem_claim_result *ret,
    char *holder, struct errctx *ec)
{
	struct sqlite_idem_record rec;
	const char *texts[4] = { c->key, c->owner, c->detail_type, c->correlation_id };
	int64_t ints[3] = { c->now_usec + c->lease_usec, c->now_usec, c->now_usec + c->retention_usec };
	int r, found;

	found = r = read_locked(st, c->key, &rec, ec);
	if (r < 0)
		return r;
	if (found && rec.expires_usec >= c->now_usec && strcmp(rec.status, "COMPLETED") == 0)
		*ret = IDEM_COMPLETED;
	else if (found && rec.expires_usec >= c->now_usec && rec.lease_expires_usec >= c->now_usec &&
	    strcmp(rec.owner, c->owner) != 0 &&
	    (c->dead_owner == NULL || strcmp(rec.owner, c->dead_owner) != 0))
		*ret = IDEM_BUSY;
	else {
		/* Absent, expired, a lapsed lease, or our own live claim (a retry
		 * whose first answer was lost): the key is ours. */
		*ret = found && rec.expires_usec >= c->now_usec && strcmp(rec.owner, c->owner) != 0 ?
		    IDEM_TAKEN_OVER : IDEM_CLAIMED;
		r = run_locked(st, "INSERT OR REPLACE INTO idempotency (key, owner, detail_type,"
		    " correlation_id, status, lease_expires_usec, claimed_usec, completed_usec,"
		    " expires_usec) VALUES (?, ?, ?, ?, 'IN_PROGRESS', ?, ?, NULL, ?)",
		    texts, 4, ints, 3, ec);
		if (r < 0)
			return r;
	}
	/* The previous owner of a takeover too: the log names whose claim lapsed. */
	if ((*ret == IDEM_BUSY || *ret == IDEM_COMPLETED || *ret == IDEM_TAKEN_OVER) && holder != NULL)
		(void)snprintf(holder, 128, "%s", rec.owner);
	return 0;
}

static int
claim_check(const struct idem_claim *c, struct errctx *ec)
{
	if (c->key == NULL || *c->key == '\0' || c->owner == NULL || *c->owner == '\0')
		return errctx_set(ec, -EINVAL, "idempotency claim: key and owner are required");
	if (c->lease_usec <= 0 || c->retention_usec < c->lease_usec)
		return errctx_set(ec, -EINVAL, "idempotency claim '%s': lease must be > 0 and within the retention", c->key);
	return 0;
}

static int
sqlite_idem_claim(struct idem_store *is, const struct idem_claim *c, enum idem_claim_result *ret,
    char *holder, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	int r;

	if ((r = claim_check(c, ec)) < 0)
		return r;
	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0) {
		r = claim_locked(st, c, ret, holder, ec);
		if (r == 0)
			r = sqlite_state_commit_locked(st, ec);
		else
			sqlite_state_rollback_locked(st);
	}
	sqlite_state_unlock(st);
	return r < 0 ? errctx_prefix(ec, "idempotency claim '%s'", c->key) : 0;
}

/*
 * The batch forms: every item of the batch in one transaction (one COMMIT,
 * one fsync); an item writes at most one statement, which SQLite undoes by
 * itself when it fails, so a failed item leaves the others (no SAVEPOINT
 * per item: issue #13); each item's answer is what claim() / complete() would have said,
 * and none is given before the COMMIT succeeded (if it fails, every item
 * fails with its reason).
 */
static int
sqlite_idem_claim_batch(struct idem_store *is, struct idem_claim_item *items, size_t n,
    struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct errctx sub;
	sqlite3 *db;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		items[i].r = 0;
		items[i].holder[0] = '\0';
	}
	db = sqlite_state_lock(st);
	/* No SAVEPOINT: each item is one statement, and the batch rolls back
	 * only when its transaction is gone. */
	r = sqlite_state_begin_items_locked(st, ec);
	for (i = 0; r == 0 && i < n; i++) {
		errctx_clear(&sub);
		if ((items[i].r = claim_check(&items[i].c, &sub)) < 0) {
			*ec = sub;
			continue;
		}
		/* No SAVEPOINT per item: an item writes at most one statement
		 * (claim_locked), which SQLite undoes by itself when it fails. */
		items[i].r = claim_locked(st, &items[i].c, &items[i].res, items[i].holder, &sub);
		if (items[i].r < 0) {
			errctx_prefix(&sub, "idempotency claim '%s'", items[i].c.key);
			*ec = sub;
		}
		/* The whole transaction gone (I/O error): every item fails below. */
		if (sqlite3_get_autocommit(db))
			r = errctx_set(ec, -EIO, "the transaction was rolled back: %s", sqlite3_errmsg(db));
	}
	if (r == 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0) {
		errctx_prefix(ec, "idempotency claims");
		for (i = 0; i < n; i++)
			items[i].r = r;
	}
	return 0;
}

/* Delete the queue message of receipt (unique over every queue) inside the
 * open transaction: 1 deleted, 0 not there (any more), < 0 an SQL error.
 * No SAVEPOINT: one statement is atomic by itself, and an error that ends
 * the whole transaction is caught by the caller's autocommit check. */
static int
delete_locked(struct sqlite_state *st, const char *receipt)
{
	const char *texts[1] = { receipt };
	struct errctx sub = { 0 };

	return run_locked(st, "DELETE FROM queue_messages WHERE receipt = ?", texts, 1, NULL, 0, &sub);
}

static int
sqlite_idem_complete_batch(struct idem_store *is, struct idem_complete_item *items, size_t n,
    struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct errctx sub;
	sqlite3 *db;
	size_t i;
	int r;

	db = sqlite_state_lock(st);
	/* Per item: a completion and its delete, each one statement on its own
	 * (a failed delete leaves the completion); no SAVEPOINT (as claims). */
	r = sqlite_state_begin_items_locked(st, ec);
	for (i = 0; r == 0 && i < n; i++) {
		errctx_clear(&sub);
		items[i].deleted = false;
		items[i].r = owner_write_locked(st, "complete", COMPLETE_SQL, items[i].key,
		    items[i].owner, &items[i].now_usec, 1, &sub);
		if (items[i].r < 0)
			*ec = sub;
		/* The finished message goes in the same commit as its completion
		 * (the queue lives in this file): a failed delete only leaves it
		 * to the caller's delete, as before. */
		else if (items[i].receipt != NULL && delete_locked(st, items[i].receipt) > 0)
			items[i].deleted = true;
		/* The whole transaction gone (I/O error): every item fails below. */
		if (sqlite3_get_autocommit(db))
			r = errctx_set(ec, -EIO, "the transaction was rolled back");
	}
	if (r == 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0) {
		errctx_prefix(ec, "idempotency completions");
		for (i = 0; i < n; i++)
			items[i].r = r;
	}
	return 0;
}

/* A conditional write on (key, owner, IN_PROGRESS); -EEXIST when not ours.
 * Inside the caller's transaction: the write is undone on any failure. */
static int
owner_write_locked(struct sqlite_state *st, const char *what, const char *sql, const char *key,
    const char *owner, const int64_t *ints, size_t ni, struct errctx *ec)
{
	struct sqlite_idem_record rec;
	const char *texts[2] = { key, owner };
	int r;

	if (key == NULL || owner == NULL)
		return errctx_set(ec, -EINVAL, "idempotency %s: key and owner are required", what);
	/* No SAVEPOINT: the one UPDATE is undone by SQLite itself if it fails,
	 * and when it changes nothing there is nothing to undo. */
	r = run_locked(st, sql, texts, 2, ints, ni, ec);
	if (r == 0) {
		/* Say who has it now, for the log line of a lost race. */
		int found = read_locked(st, key, &rec, ec);

		if (found > 0)
			r = errctx_set(ec, -EEXIST, "record is %s, owned by %s", rec.status, rec.owner);
		else if (found == 0)
			r = errctx_set(ec, -EEXIST, "no record");
		else
			r = found;
	}
	/* An I/O error or a full disk can end the whole transaction: what
	 * follows must not run outside it. */
	if (sqlite3_get_autocommit(sqlite_state_db_locked(st)))
		r = errctx_set(ec, -EIO, "the transaction was rolled back");
	return r < 0 ? errctx_prefix(ec, "idempotency %s '%s'", what, key) : 0;
}

static int
owner_write(struct idem_store *is, const char *what, const char *sql, const char *key,
    const char *owner, const int64_t *ints, size_t ni, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	int r;

	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0) {
		r = owner_write_locked(st, what, sql, key, owner, ints, ni, ec);
		if (r == 0)
			r = sqlite_state_commit_locked(st, ec);
		else
			sqlite_state_rollback_locked(st);
	}
	sqlite_state_unlock(st);
	return r;
}

static int
sqlite_idem_renew(struct idem_store *is, const char *key, const char *owner,
    int64_t lease_until_usec, struct errctx *ec)
{
	return owner_write(is, "renew", "UPDATE idempotency SET lease_expires_usec = ?3"
	    " WHERE key = ?1 AND owner = ?2 AND status = 'IN_PROGRESS'", key, owner,
	    &lease_until_usec, 1, ec);
}

static int
sqlite_idem_complete(struct idem_store *is, const char *key, const char *owner, int64_t now_usec,
    struct errctx *ec)
{
	return owner_write(is, "complete", COMPLETE_SQL, key, owner, &now_usec, 1, ec);
}

static int
sqlite_idem_release(struct idem_store *is, const char *key, const char *owner, struct errctx *ec)
{
	return owner_write(is, "release", "DELETE FROM idempotency"
	    " WHERE key = ?1 AND owner = ?2 AND status = 'IN_PROGRESS'", key, owner, NULL, 0, ec);
}

static int
sqlite_idem_preflight(struct idem_store *is, struct errctx *ec)
{
	return sqlite_state_check(to_sqlite(is)->st, ec);
}

static void
sqlite_idem_free(struct idem_store *is)
{
	struct sqlite_idem *s = to_sqlite(is);

	if (s == NULL)
		return;
	sqlite_state_free(s->st);
	free(s);
}

/* Run keys and the account lease (issue #12): new functions at the end. */
static int sqlite_idem_lookup(struct idem_store *is, const char *key, int64_t now_usec,
    struct idem_record *ret, struct errctx *ec);
static int sqlite_idem_lease_acquire(struct idem_store *is, const struct idem_lease *l,
    enum idem_lease_result *ret, char *holder, struct errctx *ec);
static int sqlite_idem_lease_renew(struct idem_store *is, const char *key, const char *owner,
    const char *run, int64_t lease_until_usec, struct errctx *ec);
static int sqlite_idem_done_put(struct idem_store *is, const char *key, const char *run,
    int64_t plan_usec, int64_t now_usec, int64_t retention_usec, struct errctx *ec);
static int sqlite_idem_done_get(struct idem_store *is, const char *key, int64_t now_usec,
    char *run, size_t run_size, int64_t *plan_usec, struct errctx *ec);
static int sqlite_idem_lease_release(struct idem_store *is, const char *key, const char *owner,
    const char *run, struct errctx *ec);

static const struct idem_ops sqlite_idem_ops = {
	.name = "sqlite",
	.claim = sqlite_idem_claim,
	.renew = sqlite_idem_renew,
	.complete = sqlite_idem_complete,
	.release = sqlite_idem_release,
	.preflight = sqlite_idem_preflight,
	.free = sqlite_idem_free,
	.lookup = sqlite_idem_lookup,
	.lease_acquire = sqlite_idem_lease_acquire,
	.lease_renew = sqlite_idem_lease_renew,
	.lease_release = sqlite_idem_lease_release,
	.done_put = sqlite_idem_done_put,
	.done_get = sqlite_idem_done_get,
	.claim_batch = sqlite_idem_claim_batch,
	.complete_batch = sqlite_idem_complete_batch,
};

int
sqlite_idem_new(const struct sqlite_idem_options *o, struct idem_store **ret, struct errctx *ec)
{
	struct sqlite_idem *s;
	int r;

	*ret = NULL;
	s = xcalloc(1, sizeof *s);
	s->pub.ops = &sqlite_idem_ops;
	if (o->state != NULL) {
		s->st = sqlite_state_ref(o->state);
		r = 0;
	} else
		r = sqlite_state_open(o->path, o->busy_timeout_usec, &s->st, ec);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = &s->pub;
	return 0;
}

int
sqlite_idem_get(struct idem_store *is, const char *key, struct sqlite_idem_record *ret,
    struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	int r;

	sqlite_state_lock(st);
	r = read_locked(st, key, ret, ec);
	sqlite_state_unlock(st);
	if (r == 0)
		return errctx_set(ec, -ENOENT, "idempotency record '%s' not found", key);
	return r < 0 ? r : 0;
}

int
sqlite_idem_prune(struct idem_store *is, int64_t now_usec, uint64_t *removed, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	int r;

	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = run_locked(st, "DELETE FROM idempotency WHERE expires_usec < ?", NULL, 0, &now_usec,
		    1, ec);
	if (r >= 0) {
		int c = sqlite_state_commit_locked(st, ec);

		r = c < 0 ? c : r;
	} else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "idempotency prune");
	if (removed != NULL)
		*removed = (uint64_t)r;
	return 0;
}

static int
sqlite_idem_lookup(struct idem_store *is, const char *key, int64_t now_usec,
    struct idem_record *ret, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct sqlite_idem_record rec;
	int r;

	memset(ret, 0, sizeof *ret);
	sqlite_state_lock(st);
	r = read_locked(st, key, &rec, ec);
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "idempotency lookup '%s'", key);
	/* Past its retention the record no longer counts (a claim would take it). */
	if (r == 0 || rec.expires_usec < now_usec)
		return errctx_set(ec, -ENOENT, "idempotency record '%s' not found", key);
	(void)snprintf(ret->status, sizeof ret->status, "%s", rec.status);
	(void)snprintf(ret->owner, sizeof ret->owner, "%s", rec.owner);
	/* A lease row keeps its run in detail_type (lease_acquire below): the
	 * run is what a reader of the lease wants, as DynamoDB's item gives it. */
	(void)snprintf(ret->correlation_id, sizeof ret->correlation_id, "%s",
	    rec.correlation_id[0] == '\0' && strncmp(key, "account-lease:", 14) == 0 ?
	    rec.detail_type : rec.correlation_id);
	ret->lease_expires_usec = rec.lease_expires_usec;
	return 0;
}

/* The lease row lives in the idempotency table (no schema change): status
 * IN_PROGRESS, detail_type = the holding run (correlation_id stays NULL, so
 * the row is no claim of that run's),
 * expires_usec a day past the lease so housekeeping removes abandoned ones. */
static int
sqlite_idem_lease_acquire(struct idem_store *is, const struct idem_lease *l,
    enum idem_lease_result *ret, char *holder, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct sqlite_idem_record rec;
	const char *texts[3];
	int64_t ints[3];
	int r, found;
	bool ours;

	if (l->key == NULL || *l->key == '\0' || l->owner == NULL || *l->owner == '\0' ||
	    l->run == NULL || *l->run == '\0' || l->lease_usec <= 0)
		return errctx_set(ec, -EINVAL, "account lease: key, owner, run and a positive lease are required");
	texts[0] = l->key;
	texts[1] = l->owner;
	texts[2] = l->run;
	ints[0] = l->now_usec + l->lease_usec;
	ints[1] = l->now_usec;
	ints[2] = l->now_usec + l->lease_usec + SQLITE_LEASE_RETENTION_USEC;
	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r < 0)
		goto out;
	found = r = read_locked(st, l->key, &rec, ec);
	if (r < 0)
		goto fail;
	ours = found && strcmp(rec.owner, l->owner) == 0 && strcmp(rec.detail_type, l->run) == 0;
	if (found && strcmp(rec.status, "IN_PROGRESS") == 0 && rec.lease_expires_usec >= l->now_usec &&
	    !ours)
		*ret = IDEM_LEASE_BUSY;
	else {
		*ret = found && !ours && strcmp(rec.status, "IN_PROGRESS") == 0 ? IDEM_LEASE_TAKEN_OVER :
		    IDEM_LEASE_ACQUIRED;
		r = run_locked(st, "INSERT OR REPLACE INTO idempotency (key, owner, detail_type,"
		    " correlation_id, status, lease_expires_usec, claimed_usec, completed_usec,"
		    " expires_usec) VALUES (?, ?, ?, NULL, 'IN_PROGRESS', ?, ?, NULL, ?)",
		    texts, 3, ints, 3, ec);
		if (r < 0)
			goto fail;
	}
	if (*ret != IDEM_LEASE_ACQUIRED && holder != NULL)
		(void)snprintf(holder, 128, "run %.56s on %.60s", rec.detail_type, rec.owner);
	r = sqlite_state_commit_locked(st, ec);
	goto out;
fail:
	sqlite_state_rollback_locked(st);
out:
	sqlite_state_unlock(st);
	return r < 0 ? errctx_prefix(ec, "account lease '%s'", l->key) : 0;
}

/* A write on the lease row conditional on (owner, run); -EEXIST when not ours. */
static int
lease_write(struct idem_store *is, const char *what, const char *sql, const char *key,
    const char *owner, const char *run, const int64_t *ints, size_t ni, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct sqlite_idem_record rec;
	const char *texts[3] = { key, owner, run };
	int r, found;

	if (key == NULL || owner == NULL || run == NULL)
		return errctx_set(ec, -EINVAL, "account lease %s: key, owner and run are required", what);
	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = run_locked(st, sql, texts, 3, ints, ni, ec);
	if (r == 0) {
		found = read_locked(st, key, &rec, ec);
		if (found > 0)
			r = errctx_set(ec, -EEXIST, "held by run %s on %s", rec.detail_type, rec.owner);
		else
			r = found < 0 ? found : errctx_set(ec, -EEXIST, "no lease");
	}
	if (r > 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	return r < 0 ? errctx_prefix(ec, "account lease %s '%s'", what, key) : 0;
}

static int
sqlite_idem_lease_renew(struct idem_store *is, const char *key, const char *owner,
    const char *run, int64_t lease_until_usec, struct errctx *ec)
{
	int64_t ints[2] = { lease_until_usec, lease_until_usec + SQLITE_LEASE_RETENTION_USEC };

	return lease_write(is, "renew", "UPDATE idempotency SET lease_expires_usec = ?4,"
	    " expires_usec = ?5 WHERE key = ?1 AND owner = ?2 AND detail_type = ?3"
	    " AND status = 'IN_PROGRESS'", key, owner, run, ints, 2, ec);
}

static int
sqlite_idem_lease_release(struct idem_store *is, const char *key, const char *owner,
    const char *run, struct errctx *ec)
{
	return lease_write(is, "release", "DELETE FROM idempotency WHERE key = ?1 AND owner = ?2"
	    " AND detail_type = ?3 AND status = 'IN_PROGRESS'", key, owner, run, NULL, 0, ec);
}

/* The account's last execution: a COMPLETED row owned by "account-done", the
 * run in detail_type (correlation_id stays NULL: no step of that run), the
 * plan time in claimed_usec. The upsert keeps the latest plan time. */
static int
sqlite_idem_done_put(struct idem_store *is, const char *key, const char *run, int64_t plan_usec,
    int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	const char *texts[2] = { key, run };
	int64_t ints[3] = { plan_usec, now_usec, now_usec + retention_usec };
	int r;

	if (key == NULL || *key == '\0' || run == NULL || *run == '\0' || retention_usec <= 0)
		return errctx_set(ec, -EINVAL, "account done: key, run and a positive retention are required");
	sqlite_state_lock(st);
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = run_locked(st, "INSERT INTO idempotency (key, status, owner, detail_type,"
		    " correlation_id, claimed_usec, completed_usec, expires_usec)"
		    " VALUES (?1, 'COMPLETED', 'account-done', ?2, NULL, ?3, ?4, ?5)"
		    " ON CONFLICT(key) DO UPDATE SET status = 'COMPLETED', owner = 'account-done',"
		    " detail_type = excluded.detail_type, claimed_usec = excluded.claimed_usec,"
		    " completed_usec = excluded.completed_usec, expires_usec = excluded.expires_usec,"
		    " lease_expires_usec = NULL"
		    " WHERE idempotency.claimed_usec < excluded.claimed_usec"
		    " OR idempotency.expires_usec < excluded.completed_usec", texts, 2, ints, 3, ec);
	if (r >= 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	return r < 0 ? errctx_prefix(ec, "account done '%s'", key) : 0;
}

static int
sqlite_idem_done_get(struct idem_store *is, const char *key, int64_t now_usec, char *run,
    size_t run_size, int64_t *plan_usec, struct errctx *ec)
{
	struct sqlite_state *st = to_sqlite(is)->st;
	struct sqlite_idem_record rec;
	int r;

	sqlite_state_lock(st);
	r = read_locked(st, key, &rec, ec);
	sqlite_state_unlock(st);
	if (r < 0)
		return errctx_prefix(ec, "account done '%s'", key);
	if (r == 0 || rec.expires_usec < now_usec || strcmp(rec.owner, "account-done") != 0)
		return errctx_set(ec, -ENOENT, "account done '%s': none recorded", key);
	(void)snprintf(run, run_size, "%s", rec.detail_type);
	*plan_usec = rec.claimed_usec;
	return 0;
}
