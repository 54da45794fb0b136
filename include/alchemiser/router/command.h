/*
 * command: the strict schema of a command body (the Python LambdaEvent):
 * every field typed, unknown keys rejected naming the key, the P&L rule.
 * Thread: any. Memory: a command owns its strings; command_free() (NULL-safe).
 */
#ifndef ALCHEMISER_ROUTER_COMMAND_H
#define ALCHEMISER_ROUTER_COMMAND_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct errctx;

enum command_action {
	COMMAND_TRADE,		/* {"mode":"trade"}, {} : full workflow with orders */
	COMMAND_SIGNAL_ONLY,	/* {"mode":"bot"}: signals and plan, no orders */
	COMMAND_PNL,		/* {"action":"pnl_analysis", ...} */
	_COMMAND_ACTION_MAX
};

struct command {
	enum command_action action;
	char	*correlation_id;	/* NULL if not given */
	char	*causation_id;
	char	*trading_mode;		/* "paper" | "live" | NULL (informational) */
	char	*pnl_type;		/* "weekly" | "monthly" | NULL */
	char	*pnl_period;		/* "3M" ... | NULL */
	int64_t	 pnl_periods;		/* 0 = not given */
	bool	 pnl_detailed;
	char	*month;
	char	*account_id;
	char	*to;			/* recipient override */
	char	*subject;
	bool	 dry_run;
	bool	 ignore_market_hours;	/* our extension: run on closed days too */
	bool	 force;			/* our extension: a deliberate extra run in the
					 * session (keyed by the message, not the run key) */
	json_t	*body;			/* the validated command object (owned) */
};

/* Validate obj (borrowed) strictly. -EBADMSG with the field or key named. */
int	command_parse(const json_t *obj, struct command **ret, struct errctx *ec);
const char *command_action_to_string(enum command_action a);
void	command_free(struct command *c);

#endif
