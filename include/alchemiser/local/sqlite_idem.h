/*
 * sqlite_idem: the idempotency seam over the SQLite state file, with the
 * claim protocol of seams/idem_store.h and architecture.md: the claim reads
 * and writes in one BEGIN IMMEDIATE transaction, taking the key when it is
 * absent, past its expires_at (compared here: nothing deletes expired rows
 * behind our back), or IN_PROGRESS with a lease older than now; renew,
 * complete and release change the row only while it is IN_PROGRESS and ours
 * (-EEXIST otherwise), so a stalled worker cannot touch a newer claim.
 * A claim by the same owner of its own live lease succeeds again (IDEM_CLAIMED):
 * a retry after a lost answer must not wait out its own lease. The DynamoDB
 * condition says the same.
 * Thread:  any worker thread, concurrently (one connection behind a mutex).
 * Memory:  the constructor copies the options; arguments are borrowed.
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_IDEM_H
#define ALCHEMISER_LOCAL_SQLITE_IDEM_H

#include <stdint.h>

#include "alchemiser/seams/idem_store.h"

struct errctx;
struct sqlite_state;

struct sqlite_idem_options {
	const char	*path;			/* state file */
	int64_t		 busy_timeout_usec;	/* 0 = SQLITE_STATE_BUSY_TIMEOUT_USEC */
	struct sqlite_state *state;		/* or this open one, shared (sqlite_state_ref); NULL = open path */
};

int	sqlite_idem_new(const struct sqlite_idem_options *o, struct idem_store **ret,
	    struct errctx *ec);

/* ---- inspection (tests, e2e checks, --once) ---- */

struct sqlite_idem_record {
	char	status[16];		/* "IN_PROGRESS" | "COMPLETED" */
	char	owner[128];
	char	detail_type[128];
	char	correlation_id[128];
	int64_t	lease_expires_usec;	/* 0 once completed */
	int64_t	claimed_usec;
	int64_t	completed_usec;		/* 0 while in progress */
	int64_t	expires_usec;
};

/* -ENOENT when there is no record for key. */
int	sqlite_idem_get(struct idem_store *s, const char *key, struct sqlite_idem_record *ret,
	    struct errctx *ec);
/* Delete the records past their expires_at (housekeeping; claims ignore them
 * anyway). *removed may be NULL. */
int	sqlite_idem_prune(struct idem_store *s, int64_t now_usec, uint64_t *removed,
	    struct errctx *ec);

#endif
