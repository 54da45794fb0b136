/*
 * deadletters: alchemiserd --dead-letters list|show ID|redrive ID|--all, the
 * operator's tool for parked messages on either backend: the embedded
 * queue's dead-letter rows (local/sqlite_queue.h) or the SQS dead-letter
 * queue (aws/sqs_dlq.h). Output is for people: one line per message, a
 * count per reason, untrusted text with its control characters escaped.
 * Thread:  main thread; opens its own backends (no daemon loop runs).
 * Memory:  nothing retained.
 */
#ifndef ALCHEMISER_RUNTIME_DEADLETTERS_H
#define ALCHEMISER_RUNTIME_DEADLETTERS_H

#include <stdio.h>

struct config;

enum deadletters_action {
	DEADLETTERS_LIST,
	DEADLETTERS_SHOW,
	DEADLETTERS_REDRIVE,
	_DEADLETTERS_ACTION_MAX
};

/* "list", "show", "redrive" -> the action; -EINVAL otherwise. */
int	deadletters_action_from_string(const char *s);
/* Run one command; id is the message for show and redrive (NULL with redrive
 * = every message). Returns the exit code: 0 done, 1 failed or no such message. */
int	deadletters_run(struct config *cfg, enum deadletters_action action, const char *id,
	    FILE *out, FILE *err);

#endif
