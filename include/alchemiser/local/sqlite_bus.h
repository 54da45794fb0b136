/*
 * sqlite_bus: the bus seam of the embedded backend. publish() stamps each
 * entry with the EventBridge envelope (version "0", a v4 id, detail-type,
 * source, account, time as RFC 3339 UTC seconds, region, resources [],
 * detail) and puts the envelope JSON, as the message body, on every queue
 * whose rule pattern (pattern.h) matches it: once per queue, however many of
 * its rules match (EventBridge would deliver once per rule). An event no
 * rule matches is accepted and dropped, as EventBridge does. All the entries
 * of one publish are written in one transaction.
 *
 * Rules come from the options: a default rule "alchemiser-default"
 * ({"source": [{"prefix": "alchemiser."}]} -> default_queue), the rules
 * given inline, and a rules file, a JSON array of
 *   {"name": "errors", "pattern": {"detail-type": ["WorkflowFailed"]}, "queue": "errors"}
 * Names are unique; queue names are SQS names ([A-Za-z0-9_-]{1,80}).
 *
 * Entry errors (result < 0, error "Code: message"): -EINVAL "InvalidArgument"
 * (missing source or detail-type), -EBADMSG "MalformedDetail" (detail is not a
 * JSON object), -E2BIG "EntryTooLarge" (over 256 KB); then publish returns
 * that errno. A state-file failure fails every entry (-EAGAIN when locked).
 *
 * Thread:  publish from any worker thread concurrently (rules are immutable,
 *          the state's connection is behind its mutex).
 * Memory:  the constructor copies the options; entries belong to the caller.
 */
#ifndef ALCHEMISER_LOCAL_SQLITE_BUS_H
#define ALCHEMISER_LOCAL_SQLITE_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alchemiser/local/sqlite_state.h"
#include "alchemiser/seams/bus.h"

struct errctx;

#define SQLITE_BUS_DEFAULT_RULE "alchemiser-default"
#define SQLITE_BUS_DEFAULT_ACCOUNT "000000000000"
#define SQLITE_BUS_DEFAULT_REGION "us-east-1"

struct sqlite_bus_rule {
	const char	*name;
	const char	*pattern;	/* event pattern, JSON text */
	const char	*queue;		/* target queue */
};

struct sqlite_bus_options {
	const char	*path;			/* state file */
	struct sqlite_state *state;		/* or this open one, shared (sqlite_state_ref); NULL = open path */
	const char	*account;		/* NULL = SQLITE_BUS_DEFAULT_ACCOUNT */
	const char	*region;		/* NULL = SQLITE_BUS_DEFAULT_REGION */
	const char	*default_queue;		/* target of the default rule; NULL = no default rule */
	const struct sqlite_bus_rule *rules;	/* inline rules, may be NULL */
	size_t		 n_rules;
	const char	*rules_file;		/* JSON rules file, NULL = none */
	int64_t		 busy_timeout_usec;	/* 0 = SQLITE_STATE_BUSY_TIMEOUT_USEC */
	sqlite_state_clock_cb clock;		/* NULL = CLOCK_REALTIME (tests inject) */
	void		*clock_arg;
	/* Called (on the publishing thread) after a publish committed messages,
	 * so a consumer in the same process can look at once; may be NULL. */
	void		(*published_cb)(void *arg);
	void		*published_arg;
};

int	sqlite_bus_new(const struct sqlite_bus_options *o, struct bus **ret, struct errctx *ec);

/* Which rules match an event (an envelope as JSON text): one line per rule,
 * "<rule> -> <queue>", on out. Returns the number of matching rules, or < 0
 * when the event is not a JSON object. For a --test-event CLI and tests. */
int	sqlite_bus_test_event(struct bus *b, const char *event_json, FILE *out, struct errctx *ec);

#endif
