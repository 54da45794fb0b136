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
 * Errors fail closed: a store that cannot answer makes the message retry later,
 * never run unclaimed.
 * Thread:  any worker thread, concurrently.
 * Memory:  arguments are borrowed for the call.
 */
#ifndef ALCHEMISER_SEAMS_IDEM_STORE_H
#define ALCHEMISER_SEAMS_IDEM_STORE_H

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

#endif
