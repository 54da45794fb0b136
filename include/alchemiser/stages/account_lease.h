/*
 * account_lease: one executing run per broker account. Execution holds the
 * lease "account-lease:<account>" of the idempotency store (seams/idem_store.h
 * lease_* ops, conditional on owner and run) from before it reads positions
 * until its last order settled; a thread renews it every third of its length,
 * so a kill -9 frees the account one lease later. Another run's execution
 * waits for it: stage execution asks once (wait_usec 0) and, when busy, has
 * its message held in place (stage_output.hold_usec) rather than a worker
 * blocked; account_lease_acquire can also poll for up to wait_usec itself.
 * Thread:  a worker thread; the renewer is a thread of its own per lease.
 * Memory:  the lease is freed by account_lease_release().
 */
#ifndef ALCHEMISER_STAGES_ACCOUNT_LEASE_H
#define ALCHEMISER_STAGES_ACCOUNT_LEASE_H

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
/* Stop renewing and release (NULL-safe). A failed release is logged: the
 * lease then lapses by itself. */
void	account_lease_release(struct account_lease *l);

#endif
