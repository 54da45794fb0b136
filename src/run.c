/*
 * run: hands the parsed command line and configuration to the runtime.
 */
#include <stdio.h>
#include <stdlib.h>

#include "alchemiser/core/config.h"
#include "alchemiser/runtime/deadletters.h"
#include "alchemiser/runtime/runtime.h"
#include "cli.h"

int
main_run(const struct cli_args *a, struct config *cfg)
{
	struct runtime_options o = { .config_path = a->config_path_effective, .once = a->once };
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (a->command == CLI_DEAD_LETTERS)
		return deadletters_run(cfg, deadletters_action_from_string(a->dead_letters),
		    a->message_id, stdout, stderr);
	if (a->command == CLI_SEND || (a->once && a->event != NULL)) {
		if (cli_read_event(a->event, &body, &len) < 0)
			return EXIT_CONFIG;
	}
	if (a->command == CLI_SEND)
		rc = runtime_send(cfg, body, len);
	else {
		o.event_body = body;
		o.event_len = len;
		rc = runtime_run(cfg, &o);
	}
	free(body);
	return rc;
}
