/*
 * backends_internal: the per-family constructors behind backends.c.
 * Thread: main thread.
 */
#ifndef ALCHEMISER_RUNTIME_BACKENDS_INTERNAL_H
#define ALCHEMISER_RUNTIME_BACKENDS_INTERNAL_H

struct backends;
struct bus;
struct transport;
struct config;
struct errctx;
struct event_base;

char	*backends_state_dir(const struct config *cfg);
char	*backends_state_file(const struct config *cfg);
int	backends_mkdirs(const char *path, struct errctx *ec);
int	backends_open_local_bus(const struct config *cfg, const char *state_file,
	    struct transport *transport, struct bus **ret, struct errctx *ec);
int	backends_open_aws(const struct config *cfg, struct event_base *base, struct backends *b,
	    struct errctx *ec);
void	backends_close_aws(struct backends *b);
/* Log how the idempotency store batches (after its preflight). */
void	backends_aws_note_store(struct backends *b);
/* Broker, market data and mailer (whatever of them this build has). */
int	backends_open_trading(const struct config *cfg, struct backends *b, struct errctx *ec);
void	backends_close_trading(struct backends *b);

#endif
