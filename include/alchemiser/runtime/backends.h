/*
 * backends: the one place that knows which implementation of each seam runs
 * (style.md §7.1): from the configuration it builds the transport, bus and
 * idempotency store (embedded SQLite or AWS), the broker, market data and
 * mailer. Nothing above this file knows the backend.
 * Thread:  built and freed on the main thread; the seams' own contracts say
 *          which thread may call what.
 * Memory:  backends_open() returns a struct the caller frees with backends_close().
 */
#ifndef ALCHEMISER_RUNTIME_BACKENDS_H
#define ALCHEMISER_RUNTIME_BACKENDS_H

struct config;
struct errctx;
struct event_base;

struct backends {
	struct transport	*transport;
	struct bus		*bus;
	struct idem_store	*idem;
	struct broker		*broker;	/* NULL when not built in */
	struct marketdata	*marketdata;
	struct mailer		*mailer;
	struct storm_guard	*storm;
	struct aws_credentials	*aws_credentials;	/* AWS backend only */
	struct price_memo	*price_memo;	/* the paper broker's prices (backends_trading.c) */
	const char		*kind;		/* "local" | "aws" */
};

int	backends_open(const struct config *cfg, struct event_base *base, struct backends **ret,
	    struct errctx *ec);
/* The same without broker, market data and mailer: what --send needs to put
 * one body on the queue (it must not fail, or wait, on a trading dependency). */
int	backends_open_queue(const struct config *cfg, struct event_base *base,
	    struct backends **ret, struct errctx *ec);
/* Start-up and reload check of every dependency (queue, bus, table). */
int	backends_preflight(struct backends *b, struct errctx *ec);
/* Cheap periodic check that the backends can go on (the embedded state file
 * still exists); 0 or a negative errno with the reason. Loop thread. */
int	backends_health(struct backends *b, struct errctx *ec);
/* The embedded state file's path (the loop watches its entry, so that an
 * idle daemon need not poll backends_health); NULL on AWS. */
const char *backends_state_path(struct backends *b);
/* Every tick: 0 when the backends can write; -ENOSPC with the reason while
 * the embedded state file cannot (its file system is full), after trying to
 * give space back; 1 on the tick it recovered. Loop thread. */
int	backends_degraded(struct backends *b, struct errctx *ec);
void	backends_close(struct backends *b);

#endif
