#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"

void
errctx_clear(struct errctx *ec)
{
	if (ec == NULL)
		return;
	ec->code = 0;
	ec->msg[0] = '\0';
}

int
errctx_set(struct errctx *ec, int code, const char *fmt, ...)
{
	va_list ap;

	if (ec == NULL)
		return code;
	ec->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(ec->msg, sizeof ec->msg, fmt, ap);
	va_end(ap);
	return code;
}

int
errctx_prefix(struct errctx *ec, const char *fmt, ...)
{
	char prefix[ERRCTX_MSG_MAX], old[ERRCTX_MSG_MAX];
	va_list ap;
	size_t n;

	if (ec == NULL)
		return -EIO;
	if (ec->code == 0)
		ec->code = -EIO;
	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, ec->msg, sizeof old);
	/* Truncation is acceptable: the innermost detail is the least useful part. */
	n = strlen(prefix);
	if (n > sizeof ec->msg - 3)
		n = sizeof ec->msg - 3;
	memcpy(ec->msg, prefix, n);
	memcpy(ec->msg + n, ": ", 2);
	(void)strncpy(ec->msg + n + 2, old, sizeof ec->msg - n - 3);
	ec->msg[sizeof ec->msg - 1] = '\0';
	return ec->code;
}

const char *
errctx_msg(const struct errctx *ec)
{
	return ec == NULL ? "" : ec->msg;
}

const char *
errno_name(int code)
{
	const char *name;

	if (code < 0)
		code = -code;
	if (code == 0)
		return "OK";
	/* glibc >= 2.32 knows the symbolic names. */
	name = strerrorname_np(code);
	return name != NULL ? name : "E?";
}

bool
errno_is_transient(int code)
{
	switch (code) {
	case -EAGAIN:
	case -ETIMEDOUT:
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -ENETUNREACH:
	case -EHOSTUNREACH:
	case -EIO:
	case -EBUSY:
	case -EPROTO:
	case -ENOMEM:
		return true;
	default:
		return false;
	}
}
