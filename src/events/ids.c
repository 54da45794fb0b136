#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alchemiser/events/ids.h"

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
