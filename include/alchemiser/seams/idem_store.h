/*
 * idem_store: the idempotency seam (DynamoDB conditional writes in production,
 * SQLite in the embedded default). Claim-then-act:
 *   claim    conditional put: absent, or IN_PROGRESS with an expired lease, or
 *            past its expires_at, or IN_PROGRESS and already ours (a retry
 *            after a lost answer), or IN_PROGRESS owned by the claim's
 *            dead_owner -> IN_PROGRESS owned by us with a lease
 *   renew    extend our lease (conditional on owner) while a handler runs long
 *   complete IN_PROGRESS -> COMPLETED, conditional on owner
 *   release  delete our IN_PROGRESS record, conditional on owner (shutdown, retry)
 *   lookup   read the live record of a key (run keys: is that run done, did it fail?)
 *   claim_batch / complete_batch  the same for the messages of one receive, in
 *            as few store requests as the store allows (DynamoDB: one
 *            TransactWriteItems); each item's answer is exactly what claim() /
 *            complete() would have said. Optional: NULL = the caller loops.
 *   lease_*  the account lease (one executing run per broker account): a record
 *            keyed "account-lease:<account>" held by (owner, run), taken when
 *            absent, lapsed, or already ours; renew/release conditional on
 *            (owner, run), -EEXIST when it is no longer ours
 *   done_*   the account's last completed execution (issue #17 follow-up): a
 *            record keyed "account-done:<account>" holding the run and the
 *            time of the plan it executed; put keeps the latest plan time
 *            (an older one never overwrites it). Optional: NULL = not kept.
 * Errors fail closed: a store that cannot answer makes the message retry later,
 * never run unclaimed.
 * Thread:  any worker thread, concurrently.
 * Memory:  arguments are borrowed for the call.
 */
#ifndef ALCHEMISER_SEAMS_IDEM_STORE_H
#define ALCHEMISER_SEAMS_IDEM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct idem_store;

enum idem_claim_result {
	IDEM_CLAIMED,		/* new claim: run the handler */
	IDEM_TAKEN_OVER,	/* an expired lease of another owner was taken: run the handler */
	IDEM_COMPLETED,		/* already done: duplicate */
	IDEM_BUSY,		/* live lease held by another owner: retry later */
	_IDEM_CLAIM_MAX
};

struct idem_claim {
	const char	*key;		/* event id or command key */
	const char	*owner;		/* "host:pid" */
	const char	*detail_type;
	const char	*correlation_id;
	int64_t		 now_usec;	/* wall clock of the claim */
	int64_t		 lease_usec;	/* lease length */
	int64_t		 retention_usec;/* expires_at = now + retention (the dedup window) */
	/* NULL, or a holder proven dead (core/owner.h): its live IN_PROGRESS
	 * claim may be taken over now, conditional on it still being the owner. */
	const char	*dead_owner;
};

/* A record as lookup() reads it. */
struct idem_record {
	char		status[16];	/* "IN_PROGRESS" | "COMPLETED" */
	char		owner[128];
	char		correlation_id[128];
	int64_t		lease_expires_usec;	/* 0 once completed */
};

enum idem_lease_result {
	IDEM_LEASE_ACQUIRED,	/* free (or already ours): execute */
	IDEM_LEASE_TAKEN_OVER,	/* another holder's lease had lapsed: execute */
	IDEM_LEASE_BUSY,	/* another run holds a live lease: wait */
	_IDEM_LEASE_MAX
};

struct idem_lease {
	const char	*key;		/* "account-lease:<account>" */
	const char	*owner;		/* "host:pid" */
	const char	*run;		/* the holding run's correlation id */
	int64_t		 now_usec;
	int64_t		 lease_usec;
};

/* One item of claim_batch: c in; r (0 or a negative errno: this item fails
 * closed), and on r == 0 res and holder (as claim()'s) out. */
struct idem_claim_item {
	struct idem_claim	 c;
	int			 r;
	enum idem_claim_result	 res;
	char			 holder[128];
};

/* One item of complete_batch: key, owner, now_usec in; r out (as complete()'s).
 * receipt (may be NULL): the queue message this completion finishes. A store
 * that keeps the queue in its own database (the embedded one) deletes that
 * message in the transaction of the completion and sets deleted (issue #13:
 * one commit for both, and no window where one is durable without the
 * other); any other store leaves deleted false and the caller deletes. */
struct idem_complete_item {
	const char	*key;
	const char	*owner;
	int64_t		 now_usec;
	const char	*receipt;
	int		 r;
	bool		 deleted;
};

struct idem_ops {
	const char *name;
	/* On success *ret says what happened; if IDEM_BUSY/COMPLETED and holder is
	 * non-NULL, the current owner is copied there (up to 128 bytes); if
	 * IDEM_TAKEN_OVER, the previous owner. */
	int	(*claim)(struct idem_store *s, const struct idem_claim *c,
		    enum idem_claim_result *ret, char *holder, struct errctx *ec);
	/* -EEXIST if the record is no longer ours. */
	int	(*renew)(struct idem_store *s, const char *key, const char *owner,
		    int64_t lease_until_usec, struct errctx *ec);
	int	(*complete)(struct idem_store *s, const char *key, const char *owner,
		    int64_t now_usec, struct errctx *ec);
	int	(*release)(struct idem_store *s, const char *key, const char *owner,
		    struct errctx *ec);
	int	(*preflight)(struct idem_store *s, struct errctx *ec);
	void	(*free)(struct idem_store *s);
	/* -ENOENT when key has no record or it is past its expires_at. */
	int	(*lookup)(struct idem_store *s, const char *key, int64_t now_usec,
		    struct idem_record *ret, struct errctx *ec);
	/* On IDEM_LEASE_BUSY/TAKEN_OVER and holder non-NULL: "run <id> on <owner>"
	 * of the (previous) holder, up to 128 bytes. */
	int	(*lease_acquire)(struct idem_store *s, const struct idem_lease *l,
		    enum idem_lease_result *ret, char *holder, struct errctx *ec);
	int	(*lease_renew)(struct idem_store *s, const char *key, const char *owner,
		    const char *run, int64_t lease_until_usec, struct errctx *ec);
	int	(*lease_release)(struct idem_store *s, const char *key, const char *owner,
		    const char *run, struct errctx *ec);
	/* Batch forms (NULL = not offered): 0 when every item got its own r (ec
	 * holds the reason of the last failed item), a negative errno only for
	 * bad arguments. Keys should be distinct; a repeated key is still
	 * answered right (one by one). */
	int	(*claim_batch)(struct idem_store *s, struct idem_claim_item *items, size_t n,
		    struct errctx *ec);
	int	(*complete_batch)(struct idem_store *s, struct idem_complete_item *items, size_t n,
		    struct errctx *ec);
	/* Record run (a correlation id) as the last execution of key, unless a
	 * plan time >= plan_usec is recorded already (then 0, nothing written).
	 * Kept retention_usec from now_usec. */
	int	(*done_put)(struct idem_store *s, const char *key, const char *run, int64_t plan_usec,
		    int64_t now_usec, int64_t retention_usec, struct errctx *ec);
	/* The last execution of key: run (up to run_size bytes) and its plan
	 * time; -ENOENT when none is recorded (or it is past its retention). */
	int	(*done_get)(struct idem_store *s, const char *key, int64_t now_usec, char *run,
		    size_t run_size, int64_t *plan_usec, struct errctx *ec);
};

struct idem_store {
	const struct idem_ops *ops;
};

static inline const char *
idem_claim_result_to_string(enum idem_claim_result r)
{
	switch (r) {
	case IDEM_CLAIMED:	return "claimed";
	case IDEM_TAKEN_OVER:	return "taken-over";
	case IDEM_COMPLETED:	return "completed";
	case IDEM_BUSY:		return "busy";
	default:		return "invalid";
	}
}

static inline const char *
idem_lease_result_to_string(enum idem_lease_result r)
{
	switch (r) {
	case IDEM_LEASE_ACQUIRED:	return "acquired";
	case IDEM_LEASE_TAKEN_OVER:	return "taken-over";
	case IDEM_LEASE_BUSY:		return "busy";
	default:			return "invalid";
	}
}

#endif
