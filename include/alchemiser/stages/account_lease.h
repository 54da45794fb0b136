/*
 * account_lease: one executing run per broker account. Execution holds the
 * lease "account-lease:<account>" of the idempotency store (seams/idem_store.h
 * lease_* ops, conditional on owner and run) from before it reads positions
 * until its last order settled; a thread renews it every third of its length,
 * so a kill -9 frees the account one lease later. Another run's execution
 * waits for it: stage execution asks once (wait_usec 0) and, when busy, has
 * its message held in place (stage_output.hold_usec) rather than a worker
 * blocked; account_lease_acquire can also poll for up to wait_usec itself.
 * Fencing: account_lease_held() renews the lease at once and says whether it
 * is still this run's; execution asks before every new order. Once a renewal
 * finds the lease held by another run, or renewals failed until the lease
 * lapsed, it is lost for good: the run places no more orders.
 * The account's last completed execution ("account-done:<account>", the
 * store's done_* ops): the run and its plan time, written under the lease,
 * read after acquiring it, so a run planned before it never trades after it.
 * Thread:  a worker thread; the renewer is a thread of its own per lease.
 * Memory:  the lease is freed by account_lease_release().
 */
#ifndef ALCHEMISER_STAGES_ACCOUNT_LEASE_H
#define ALCHEMISER_STAGES_ACCOUNT_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errctx;
struct idem_store;
struct account_lease;

/* Acquire for run (its correlation id), waiting up to wait_usec while another
 * run holds it. -EBUSY when still held after the wait (holder names it),
 * store errors as they come. */
int	account_lease_acquire(struct idem_store *s, const char *account, const char *owner,
	    const char *run, int64_t lease_usec, int64_t wait_usec, struct account_lease **ret,
	    char *holder, size_t holder_size, struct errctx *ec);
/* Fencing: renew now; true while the lease is this run's. false once lost
 * (why says to whom) or when it could not be confirmed now. */
bool	account_lease_held(struct account_lease *l, char *why, size_t why_size);
/* The account's last completed execution: run (its correlation id) and its
 * plan time; -ENOENT when none is recorded or the store keeps none. */
int	account_lease_last_done(struct idem_store *s, const char *account, int64_t now_usec,
	    char *run, size_t run_size, int64_t *plan_usec, struct errctx *ec);
/* Record l's run as the account's last completed execution (kept for
 * retention_usec; an older plan time never replaces a newer one). */
int	account_lease_mark_done(struct account_lease *l, int64_t plan_usec, int64_t retention_usec,
	    struct errctx *ec);
/* A run was ended from outside (the dead-letter watch: its message parked
 * by SQS): free the account's lease if that run holds it, or if its holder
 * is proven dead (core/owner.h), so the next run of the account need not wait
 * for it to lapse. Conditional on the holder read (owner and run), so a lease
 * taken meanwhile stays; a live holder of that run that wakes up is fenced
 * (its renewal fails). 1 when released (holder says whose), 0 when there was
 * nothing to release (absent, or another live run's), or a store error. */
int	account_lease_release_ended(struct idem_store *s, const char *account, const char *run,
	    char *holder, size_t holder_size, struct errctx *ec);
/* Stop renewing and release (NULL-safe); a lost lease is left alone. A failed release is logged: the
 * lease then lapses by itself. */
void	account_lease_release(struct account_lease *l);

#endif
