/*
 * stages_internal: the handler of each stage, for the table in stage.c.
 */
#ifndef ALCHEMISER_STAGES_INTERNAL_H
#define ALCHEMISER_STAGES_INTERNAL_H

#include "alchemiser/stages/stage.h"

void	stage_start_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_monitor_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_errors_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_completed_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_signals_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_portfolio_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_execution_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_notify_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_error_mail_handle(const struct stage_ctx *ctx, struct stage_output *out);
void	stage_pnl_handle(const struct stage_ctx *ctx, struct stage_output *out);


#endif
