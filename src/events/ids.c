#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/events/ids.h"

int
ids_check(const char *field, const char *s, size_t max, struct errctx *ec)
{
	size_t n, i;

	if (s == NULL || *s == '\0')
		return errctx_set(ec, -EBADMSG, "field '%s': must not be empty", field);
	n = strlen(s);
	if (n > max)
		return errctx_set(ec, -EBADMSG, "field '%s': %zu characters, over the limit of %zu",
		    field, n, max);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(IDS_PUNCT, c) != NULL)
			continue;
		/* The byte as a code, not as text: it may be a newline or an escape. */
		return errctx_set(ec, -EBADMSG, "field '%s': character %zu (0x%02x) is not allowed "
		    "(letters, digits and %s only)", field, i + 1, c, IDS_PUNCT);
	}
	return 0;
}

int
event_id_derive(const char *cause_id, enum event_type t, unsigned index, char out[UUID_STRLEN])
{
	char name[512];
	int n;

	n = snprintf(name, sizeof name, "%s/%s/%u", cause_id, event_type_name(t), index);
	if (n < 0 || (size_t)n >= sizeof name)
		return -E2BIG;
	return uuid_v5(UUID_NAMESPACE_ALCHEMISER, name, (size_t)n, out);
}
