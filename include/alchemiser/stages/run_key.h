/*
 * run_key: a trading run is identified by its intent, not by its message.
 * A trade or signal-only command without correlation_id and without force has
 * the run key
 *     run:<account>/<mode>/<session>[#<n>]
 * account  the broker's account id (Alpaca's account id; the paper broker's
 *          "paper-<created>", shared by every daemon on one state file)
 * mode     "trade" or "signal-only"
 * session  the New York calendar date (YYYY-MM-DD) the command was sent on:
 *          the NYSE session it is for (SentTimestamp; receive time if unknown)
 * n        2, 3, ... : the next run after the run of the previous key failed
 *          (its correlation id has a "run-failed:<correlation id>" record)
 * The idempotency claim on the run key makes copies of one intent start at
 * most one run, on every backend and across daemons. The run's correlation id
 * is uuid5(key), as for every command without one.
 * Thread:  any worker thread. Memory: *ret strings are the caller's (free()).
 */
#ifndef ALCHEMISER_STAGES_RUN_KEY_H
#define ALCHEMISER_STAGES_RUN_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "alchemiser/router/command.h"

struct broker;
struct errctx;
struct idem_store;

#define RUN_KEY_MAX_RUNS 50	/* failed runs of one intent in one session */

/* The account identity of the broker (one get_account call): "<id>", or
 * "<broker>:default" when the broker names none, "no-broker" without one. */
int	run_key_account(struct broker *b, char *out, size_t size, struct errctx *ec);
/* The first key of an intent: run:<account>/<mode>/<YYYY-MM-DD of session_usec>. */
char	*run_key_base(const char *account, enum command_action a, int64_t session_usec);
/* The key to claim for a base: the first generation that has no record, is in
 * progress, or completed without failing. Store errors are returned. */
int	run_key_resolve(struct idem_store *s, const char *base, int64_t now_usec, char **ret,
	    struct errctx *ec);
/* All of it for a routed command: account, base, resolution. */
int	run_key_for_command(struct idem_store *s, struct broker *b, const struct command *cmd,
	    int64_t sent_usec, int64_t now_usec, char **ret, struct errctx *ec);
/* Record that run correlation_id ended without success, so the next copy of
 * its intent starts a new run (the errors stage, and start when the market is
 * closed). */
int	run_key_mark_failed(struct idem_store *s, const char *correlation_id, const char *owner,
	    int64_t now_usec, int64_t retention_usec, struct errctx *ec);
/* Record that run correlation_id ended superseded by a newer run of its
 * account ("run-superseded:<correlation id>", a step RunSuperseded of the
 * run: its run record's outcome is then "superseded"). */
int	run_key_mark_superseded(struct idem_store *s, const char *correlation_id, const char *owner,
	    int64_t now_usec, int64_t retention_usec, struct errctx *ec);
/* The outcome reason of a refused copy: the run it duplicates, how to force one. */
void	run_key_duplicate_reason(const char *key, char *buf, size_t size);
/* --explain: fill "run_key" with today's session and say where the parts come from. */
void	run_key_explain(json_t *explain, const struct command *cmd, int64_t now_usec);

#endif
