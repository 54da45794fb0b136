/*
 * outcome: what happens to a message when its processing ends. The mapping
 * from errors to outcomes lives in router/dispatch.c, nowhere else.
 *   done       handled: delete it
 *   duplicate  already handled earlier: delete it, log
 *   retry      transient failure: leave it, back off with the visibility
 *              timeout; the queue's redrive moves it to the DLQ eventually
 *   reject     permanent: park it in the DLQ with the reason, then delete it
 * Thread: any. Memory: static strings.
 */
#ifndef ALCHEMISER_ROUTER_OUTCOME_H
#define ALCHEMISER_ROUTER_OUTCOME_H

enum outcome {
	OUTCOME_DONE,
	OUTCOME_DUPLICATE,
	OUTCOME_RETRY,
	OUTCOME_REJECT,
	_OUTCOME_MAX
};

const char *outcome_to_string(enum outcome o);
/* The outcome a failure of errno r deserves: -EBADMSG/-EINVAL/-E2BIG/-ENOENT of a
 * record are permanent (reject), everything else is transient (retry). */
enum outcome outcome_from_errno(int r);

#endif
