/*
 * cli: the command line (argv -> struct cli_args). Nothing else happens here.
 * Thread: main thread, before anything starts. Memory: strings borrowed from argv.
 */
#ifndef ALCHEMISER_CLI_H
#define ALCHEMISER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_command {
	CLI_RUN,		/* daemon (or --once) */
	CLI_EXPLAIN,
	CLI_CHECK_CONFIG,
	CLI_PRINT_CONFIG,
	CLI_EVALUATE,
	CLI_BACKTEST,
	CLI_SEND,		/* put one body on the work queue and exit */
	CLI_TEST_PATTERN,	/* does an EventBridge pattern match an event? */
	CLI_DEAD_LETTERS,	/* list, show or redrive parked messages */
	CLI_VERSION,
	CLI_HELP,
	_CLI_COMMAND_MAX
};

struct cli_args {
	enum cli_command command;
	const char	*config_path;	/* NULL = default path */
	const char	*config_path_effective;	/* what was loaded (NULL = built-in defaults) */
	bool		 config_given;
	bool		 once;
	const char	*event;		/* JSON text or @FILE */
	/* --evaluate */
	const char	*evaluate_target;
	const char	*data_dir;
	const char	*as_of;
	bool		 trace;
	bool		 allow_stale;	/* --allow-stale (research) */
	/* --backtest (with --data) */
	const char	*backtest_target;
	const char	*from, *to, *out_dir, *fill, *cost_bps, *capital, *benchmark;
	bool		 whole_shares;
	uint64_t	 eval_budget;	/* --eval-budget (--evaluate, --backtest); 0: default */
	/* --test-pattern */
	const char	*pattern;
	/* --dead-letters ACTION [ID | --all] */
	const char	*dead_letters;
	const char	*message_id;
	bool		 all;
};

/* Exit codes, documented in alchemiserd(8). */
#define EXIT_OK		0
#define EXIT_FAILED	1	/* --once: some message was retried or rejected */
#define EXIT_CONFIG	2	/* bad command line or configuration */

/* Parse argv; on a usage error print it and return -EINVAL. */
int	cli_parse(int argc, char **argv, struct cli_args *ret);
void	cli_usage(FILE *out);
/* The body of --event: the text itself, "@FILE", or stdin when arg is NULL.
 * *ret is NUL-terminated and owned by the caller. */
int	cli_read_event(const char *arg, char **ret, size_t *ret_len);

struct config;
/* Run the daemon or --once (runtime/); returns the exit code. */
int	main_run(const struct cli_args *a, struct config *cfg);

#endif
