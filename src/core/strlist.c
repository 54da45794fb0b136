#include <string.h>

#include "alchemiser/core/strlist.h"

bool
strlist_has(const char *list, const char *v)
{
	size_t n = strlen(v);
	const char *p = list;

	while (p != NULL) {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}
