/*
 * start: a trade or signal-only command becomes WorkflowStarted, after the
 * market-calendar check. A closed market is a logged "done", not an error.
 */
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/err.h"
#include "alchemiser/router/route.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/trading/calendar.h"
#include "stages_internal.h"

/* Why derived: a re-run of the same command after a crash must start the same
 * workflow (same correlation id), so everything downstream deduplicates. */
static void
derive_correlation_id(const struct stage_ctx *ctx, char out[UUID_STRLEN])
{
	if (uuid_v5(UUID_NAMESPACE_ALCHEMISER, ctx->key, strlen(ctx->key), out) < 0)
		(void)snprintf(out, UUID_STRLEN, "%s", "00000000-0000-0000-0000-000000000000");
}

void
stage_start_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct command *cmd = ctx->in->command;
	char derived[UUID_STRLEN];
	const char *corr;
	struct calendar_day day;
	bool signal_only = cmd->action == COMMAND_SIGNAL_ONLY;
	json_t *payload;

	if (cmd->correlation_id != NULL)
		corr = cmd->correlation_id;
	else {
		derive_correlation_id(ctx, derived);
		corr = derived;
	}
	(void)snprintf(out->correlation_id, sizeof out->correlation_id, "%s", corr);

	calendar_day_info(calendar_new_york_days(ctx->now_usec), &day);
	if (day.kind != CALENDAR_TRADING && day.kind != CALENDAR_EARLY_CLOSE &&
	    !cmd->ignore_market_hours && !config_bool(ctx->cfg, "trading.ignore_market_hours")) {
		struct errctx ec = { 0 };

		/* No run started: a later command for this session (say with
		 * ignore_market_hours) must not be its duplicate. */
		if (ctx->in->key_source == IDEM_KEY_RUN && ctx->idem != NULL &&
		    run_key_mark_failed(ctx->idem, corr, ctx->owner, ctx->now_usec,
		    config_usec(ctx->cfg, "daemon.dedup_window"), &ec) < 0) {
			stage_set(out, OUTCOME_RETRY, "recording that no run started: %s", errctx_msg(&ec));
			out->dependency_failure = true;
			return;
		}
		stage_set(out, OUTCOME_DONE, "market closed today (%s): no workflow started; "
		    "send \"ignore_market_hours\": true to run anyway",
		    day.kind == CALENDAR_WEEKEND ? "weekend" : day.name != NULL ? day.name : "holiday");
		return;
	}
	payload = json_pack("{s:s, s:s, s:{s:b, s:b, s:b, s:s*}}",
	    "workflow_type", signal_only ? "signal_only" : "trading",
	    "requested_by", "alchemiserd",
	    "configuration",
	      "live_trading", strcmp(config_str(ctx->cfg, "trading.mode"), "live") == 0,
	      "signal_only", signal_only,
	      "ignore_market_hours", cmd->ignore_market_hours,
	      "early_close", day.kind == CALENDAR_EARLY_CLOSE ? day.name : NULL);
	if (stage_emit(ctx, out, EVENT_WORKFLOW_STARTED, 0, corr, payload) < 0)
		return;
	stage_set(out, OUTCOME_DONE, "%s workflow %s started", signal_only ? "signal-only" : "trading",
	    corr);
}
