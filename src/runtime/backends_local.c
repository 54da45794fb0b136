/*
 * backends_local: the embedded bus (SQLite + event-pattern rules).
 */
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/local/sqlite_bus.h"
#include "alchemiser/local/sqlite_queue.h"
#include "alchemiser/local/sqlite_runs.h"
#include "backends_internal.h"

/* The bus wakes the transport of the same process: the next stage starts as
 * soon as its event is committed, not at the queue's next re-check. */
static void
wake_transport(void *arg)
{
	sqlite_transport_wake(arg);
}

int
backends_open_local_bus(const struct config *cfg, const char *state_file,
    struct transport *transport, struct bus **ret, struct errctx *ec)
{
	const char *rules = config_str(cfg, "local.rules_file");
	/* Every run's events also go to an archive queue nobody receives from:
	 * the run records the dashboard reads, whichever daemon of the fleet
	 * sharing the file handled the run (docs/architecture.md). */
	static const struct sqlite_bus_rule archive = {
		.name = SQLITE_RUNS_RULE,
		.pattern = "{\"source\": [{\"prefix\": \"alchemiser.\"}]}",
		.queue = SQLITE_RUNS_QUEUE,
	};
	struct sqlite_bus_options o = {
		.path = state_file,
		.state = sqlite_transport_state(transport),
		.account = config_str(cfg, "local.account"),
		.region = config_str(cfg, "local.region"),
		/* No rules file: every alchemiser.* event goes to the work queue. */
		.default_queue = rules[0] == '\0' ? config_str(cfg, "local.queue") : NULL,
		.rules_file = rules[0] != '\0' ? rules : NULL,
		.rules = &archive,
		.n_rules = 1,
		.busy_timeout_usec = config_usec(cfg, "local.busy_timeout"),
		.published_cb = wake_transport,
		.published_arg = transport,
	};

	return sqlite_bus_new(&o, ret, ec);
}
