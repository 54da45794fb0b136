/*
 * stage_mail: the three stages that end in an email.
 *   notify      TradingNotificationRequested -> trading report
 *   error-mail  ErrorNotificationRequested   -> error report (the circuit
 *               breaker: this stage may never publish an error event, and a
 *               failure here is retried like any message, nothing more)
 *   pnl         {"action":"pnl_analysis"}    -> P&L report from the broker's history
 * Idempotency is the pipeline's claim on the event or command: a redelivered
 * notification finds its record completed and sends nothing. The event id is
 * also the Message-ID token, so a resend after a crash between sending and
 * completing is recognisable as the same email.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/mail/report_error.h"
#include "alchemiser/mail/report_pnl.h"
#include "alchemiser/mail/report_trading.h"
#include "alchemiser/router/route.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/seams/mailer.h"
#include "stages_internal.h"

/* Send rep; a recipient_override (a single address) replaces the configured list. */
static void
send_report(const struct stage_ctx *ctx, struct stage_output *out, const struct report *rep,
    const char *token, const char *recipient_override, const char *what)
{
	struct errctx ec = { 0 };
	const char *to[1] = { recipient_override };
	struct mail_message msg = {
		.subject = rep->subject, .text = rep->text, .html = rep->html,
		.id = token, .date_usec = ctx->now_usec,
		.to = recipient_override != NULL ? to : NULL,
		.n_to = recipient_override != NULL ? 1 : 0,
	};

	if (ctx->mailer == NULL) {
		stage_set(out, OUTCOME_RETRY, "no mailer configured for the %s", what);
		return;
	}
	if (ctx->mailer->ops->send(ctx->mailer, &msg, &ec) < 0) {
		/* A bad address never gets better; everything else (connection, TLS,
		 * authentication, throttling) may. */
		stage_set(out, ec.code == -EINVAL ? OUTCOME_REJECT : OUTCOME_RETRY,
		    "sending the %s failed: %s", what, errctx_msg(&ec));
		out->dependency_failure = out->outcome == OUTCOME_RETRY;
		return;
	}
	stage_set(out, OUTCOME_DONE, "%s sent: %s", what, rep->subject);
}

static void
render_and_send(const struct stage_ctx *ctx, struct stage_output *out,
    int (*render)(const json_t *, struct report *, struct errctx *), const char *what)
{
	const struct domain_event *e = ctx->in->event;
	struct report rep = { 0 };
	struct errctx ec = { 0 };

	if (render(domain_event_detail(e), &rep, &ec) < 0) {
		stage_set(out, OUTCOME_REJECT, "rendering the %s: %s", what, errctx_msg(&ec));
		return;
	}
	send_report(ctx, out, &rep, e->event_id,
	    json_string_value(domain_event_get(e, "recipient_override")), what);
	report_clear(&rep);
}

void
stage_notify_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	render_and_send(ctx, out, report_trading_render, "trading report");
}

void
stage_error_mail_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	render_and_send(ctx, out, report_error_render, "error report");
}

/* Alpaca's portfolio-history shape from the broker seam's daily points. */
static json_t *
history_json(const struct broker_history_point *p, size_t n)
{
	json_t *ts = json_array(), *eq = json_array(), *pl = json_array();
	char buf[DECIMAL_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		json_array_append_new(ts, json_integer(p[i].timestamp_usec / USEC_PER_SEC));
		json_array_append_new(eq, json_string(decimal_format(p[i].equity, buf)));
		json_array_append_new(pl, json_string(decimal_format(p[i].profit_loss, buf)));
	}
	return json_pack("{s:o, s:o, s:o}", "timestamp", ts, "equity", eq, "profit_loss", pl);
}

void
stage_pnl_handle(const struct stage_ctx *ctx, struct stage_output *out)
{
	const struct command *cmd = ctx->in->command;
	int64_t today = ctx->now_usec / USEC_PER_DAY;
	int periods = cmd->pnl_periods > 0 ? (int)cmd->pnl_periods : 1;
	struct broker_history_point *points = NULL;
	struct report_pnl_period period;
	struct report rep = { 0 };
	struct errctx ec = { 0 };
	_cleanup_free_ char *token = NULL;
	json_t *history;
	size_t n = 0;
	int r;

	if (cmd->pnl_period != NULL)
		r = report_pnl_alpaca_period(today, cmd->pnl_period, &period, &ec);
	else if (strcmp(cmd->pnl_type, "weekly") == 0)
		r = report_pnl_weekly(today, periods, &period, &ec);
	else
		r = report_pnl_monthly(today, periods, &period, &ec);
	if (r < 0) {
		stage_set(out, OUTCOME_REJECT, "P&L period: %s", errctx_msg(&ec));
		return;
	}
	if (ctx->broker == NULL) {
		stage_set(out, OUTCOME_RETRY, "no broker configured for the P&L report");
		return;
	}
	/* One extra day so the first day of the period has a previous close. */
	r = ctx->broker->ops->portfolio_history(ctx->broker, (int)(today - period.start_days + 2),
	    &points, &n, &ec);
	if (r < 0) {
		stage_set(out, outcome_from_errno(r) == OUTCOME_REJECT ? OUTCOME_REJECT : OUTCOME_RETRY,
		    "portfolio history: %s", errctx_msg(&ec));
		return;
	}
	history = history_json(points, n);
	free(points);
	r = report_pnl_render(history, &period, cmd->pnl_detailed, &rep, &ec);
	json_decref(history);
	if (r < 0) {
		stage_set(out, OUTCOME_REJECT, "rendering the P&L report: %s", errctx_msg(&ec));
		return;
	}
	/* Message-ID token: letters, digits and a few symbols only. */
	token = xstrdup(ctx->key);
	for (char *c = token; *c != '\0'; c++)
		if (*c == ':')
			*c = '.';
	send_report(ctx, out, &rep, token, cmd->to, "P&L report");
	report_clear(&rep);
}
