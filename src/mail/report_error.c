#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/report_error.h"

static const char *nonempty(const char *s);

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

int
report_error_render(const json_t *detail, struct report *ret, struct errctx *ec)
{
	struct report_doc d;
	const char *severity, *priority, *title, *report, *code, *when;
	char *s_sev, *s_prio, *s_code = NULL, *banner, *status, *doc_title, *p;

	if (!json_is_object(detail))
		return errctx_set(ec, -EINVAL, "error report: detail is %s, not an object",
		    detail != NULL ? json_type_name(detail) : "missing");
	severity = nonempty(json_get_str(detail, "error_severity"));
	priority = nonempty(json_get_str(detail, "error_priority"));
	title = nonempty(json_get_str(detail, "error_title"));
	report = nonempty(json_get_str(detail, "error_report"));
	code = nonempty(json_get_str(detail, "error_code"));
	when = nonempty(json_get_str(detail, "timestamp"));

	/* The seed writes the severity lower-case and the priority upper-case. */
	s_sev = report_one_line(severity != NULL ? severity : REPORT_NA, 20);
	for (p = s_sev; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s_prio = report_one_line(priority != NULL ? priority : REPORT_NA, 20);
	for (p = s_prio; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	if (code != NULL)
		s_code = report_one_line(code, 40);
	*ret = (struct report){ 0 };
	ret->subject = xasprintf("[FAILURE][%s]%s%s%s The Alchemiser - %s Error Report", s_prio,
	    s_code != NULL ? "[" : "", s_code != NULL ? s_code : "", s_code != NULL ? "]" : "",
	    s_sev);

	banner = title != NULL ? xstrdup(title) : xasprintf("%s Alert - Trading System Errors",
	    s_sev);
	status = xasprintf("Status: Error | %s", when != NULL ? when : REPORT_NA);
	doc_title = xasprintf("The Alchemiser - %s", banner);
	report_doc_begin(&d, doc_title, banner, status, true);
	report_doc_section(&d, "Error Summary");
	report_doc_kv_begin(&d);
	report_doc_kv(&d, "Title", title);
	report_doc_kv(&d, "Severity", severity);
	report_doc_kv(&d, "Priority", priority);
	report_doc_kv(&d, "Error Code", code);
	report_doc_kv(&d, "Correlation ID", nonempty(json_get_str(detail, "correlation_id")));
	report_doc_kv(&d, "Time", when);
	report_doc_kv_end(&d);
	report_doc_section(&d, "Error Report");
	report_doc_para(&d, report != NULL ? report : "No error report was attached.");
	report_doc_finish(&d, ret);
	free(doc_title);
	free(banner);
	free(status);
	free(s_sev);
	free(s_prio);
	free(s_code);
	return 0;
}
