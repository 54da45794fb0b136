/*
 * report_trading: the trading email (subject, text, HTML) from the detail of a
 * TradingNotificationRequested event. Every field is optional: what is absent
 * renders as "n/a" or leaves its section out; only a non-object detail fails.
 * Fields read (seed-router-spec §3.2, §5.4, §6.2):
 *   trading_success (bool), trading_mode ("PAPER"/"LIVE"), correlation_id,
 *   timestamp, orders_placed, orders_succeeded, total_trade_value (decimal),
 *   error_message, error_code, and execution_data {
 *     rebalance_plan.items[] {symbol, target_weight, current_weight, action}, else
 *       consolidated_portfolio {SYM: weight} or {target_allocations: {...}} with
 *       current_allocations {SYM: weight};
 *     strategy_signals: {name: {signal|action, symbol|target|symbols, reason|reasoning}}
 *       or [{strategy|strategy_name, ...}];
 *     orders[] (else orders_executed[]) {side|action, symbol,
 *       quantity|shares|qty|filled_qty, status (Alpaca) or success (bool),
 *       average_price|avg_fill_price|filled_avg_price|price};
 *     total_trade_value, failure_reason, failed_symbols[] }.
 * Subject: "[SUCCESS] The Alchemiser - PAPER Trading Report", on failure
 * "[FAILURE] ..." or "[FAILURE][<error_code>] ...".
 * Thread:  any. Memory: *ret is filled with new strings (report_clear()).
 */
#ifndef ALCHEMISER_MAIL_REPORT_TRADING_H
#define ALCHEMISER_MAIL_REPORT_TRADING_H

#include <jansson.h>

#include "alchemiser/mail/report.h"

struct errctx;

/* -EINVAL when detail is not a JSON object; otherwise 0. */
int	report_trading_render(const json_t *detail, struct report *ret, struct errctx *ec);

#endif
