/*
 * report_error: the error email from the detail of an ErrorNotificationRequested
 * event (seed-router-spec §5.5, §6.1-6.2). Fields read, all optional:
 *   error_severity ("critical"/"high"/"medium"), error_priority ("URGENT"/...),
 *   error_title, error_report (multi-line text), error_code, correlation_id,
 *   timestamp. Absent ones render "n/a".
 * Subject: "[FAILURE][<priority>][<error_code>] The Alchemiser - <severity> Error
 * Report", without "[<error_code>]" when there is none.
 * Thread:  any. Memory: *ret is filled with new strings (report_clear()).
 */
#ifndef ALCHEMISER_MAIL_REPORT_ERROR_H
#define ALCHEMISER_MAIL_REPORT_ERROR_H

#include <jansson.h>

#include "alchemiser/mail/report.h"

struct errctx;

/* -EINVAL when detail is not a JSON object; otherwise 0. */
int	report_error_render(const json_t *detail, struct report *ret, struct errctx *ec);

#endif
