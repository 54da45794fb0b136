/*
 * stage: the interface every workflow step implements. A handler receives the
 * routed input (a validated event or command) and a context (config snapshot
 * and the seams), does its work, and returns an outcome plus the events to
 * publish. It never publishes itself and never waits for another event: the
 * pipeline publishes the output with the deterministic ids the handler gave
 * them, before the idempotency record is completed.
 * Thread:  handlers run on worker threads, several at once (different
 *          correlation ids); anything they share is in the context and
 *          thread-safe by the seams' contracts. A stage marked on_loop may
 *          also run on the loop thread (embedded backend, runtime/pipeline.h).
 * Memory:  the output owns the events it holds (stage_output_clear frees them).
 */
#ifndef ALCHEMISER_STAGES_STAGE_H
#define ALCHEMISER_STAGES_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "alchemiser/events/catalogue.h"
#include "alchemiser/router/outcome.h"

struct config;
struct domain_event;
struct route;
struct broker;
struct marketdata;
struct mailer;
struct idem_store;
struct storm_guard;

#define STAGE_MAX_OUTPUT 4

struct stage_ctx {
	const struct config	*cfg;		/* the snapshot this message started with */
	const struct route	*in;		/* routed input: in->event or in->command */
	const char		*key;		/* idempotency key of the input (cause of derived ids) */
	const char		*owner;		/* "host:pid" */
	int64_t			 now_usec;	/* wall clock at the start of the handler */
	struct broker		*broker;	/* NULL until a broker is configured */
	struct marketdata	*marketdata;
	struct mailer		*mailer;
	struct storm_guard	*storm;
	struct idem_store	*idem;		/* run keys, failure marks, the account lease */
};

struct stage_output {
	enum outcome	 outcome;
	char		 reason[384];
	struct domain_event	*events[STAGE_MAX_OUTPUT];
	size_t		 n_events;
	/* Correlation id to log for this message when the input had none (commands). */
	char		 correlation_id[64];
	/* With OUTCOME_RETRY: a dependency (mail server, broker, market data) is
	 * failing, so the message is retried in place instead of given back. */
	bool		 dependency_failure;
	/* With OUTCOME_RETRY: nothing failed, the handler asks to run again after
	 * this long; the message is held in place (no receive count spent). */
	int64_t		 hold_usec;
};

typedef void (*stage_handle_fn)(const struct stage_ctx *ctx, struct stage_output *out);

struct stage {
	const char	*name;		/* "start", "signals", ... (router/dispatch.c names) */
	stage_handle_fn	 handle;	/* NULL: not built into this daemon yet */
	bool		 may_publish_errors;	/* false for error-mail (the circuit breaker) */
	/* Short and pure: the handler does no I/O of its own and never blocks
	 * (no broker, market data, mail, storm store or idempotency call);
	 * its only output is the events it returns. On the embedded backend
	 * such a handler runs on the loop thread with its receive (no hand-off
	 * to a worker: issue #13); its events go to the embedded bus, the
	 * state file the loop writes anyway. */
	bool		 on_loop;
};

/* The run of ctx->in goes to the dead-letter queue from stage (the handler's
 * name) because of why: cancel its open orders and publish its WorkflowFailed
 * (stages/stage_deadletter.c). out ends OUTCOME_REJECT when that is done,
 * OUTCOME_RETRY when publishing must be tried again. */
void	stage_deadletter_handle(const struct stage_ctx *ctx, struct stage_output *out,
	    const char *stage, const char *why);

/* The stage of a name, or NULL if the name is unknown. */
const struct stage *stage_find(const char *name);

/* Set the outcome and reason; returns the outcome for "return stage_set(...)" style. */
void	stage_set(struct stage_output *out, enum outcome o, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Build event number index of type t caused by ctx->key with a deterministic id,
 * payload stolen; append it to out. Returns 0 or a negative errno (out->reason set). */
int	stage_emit(const struct stage_ctx *ctx, struct stage_output *out, enum event_type t,
	    unsigned index, const char *correlation_id, json_t *payload);
/* End the run: emit WorkflowFailed (failure_step step, the reason, details
 * stolen, plus the input event's type and id) and set the outcome to done,
 * since the failure itself was handled. */
void	stage_fail_workflow(const struct stage_ctx *ctx, struct stage_output *out,
	    const char *correlation_id, const char *step, json_t *details, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
void	stage_output_clear(struct stage_output *out);

#endif
