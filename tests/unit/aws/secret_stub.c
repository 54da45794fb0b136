/*
 * Stand-in for core/secret.c until it lands on main: the same API, minimal
 * behaviour, linked only into the aws tests. Remove when libcore has it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"

struct secret {
	size_t	 len;
	char	*value;
};

struct secret *
secret_new(const char *value, size_t len)
{
	struct secret *s = xmalloc(sizeof *s);

	s->len = len;
	s->value = xmalloc(len + 1);
	memcpy(s->value, value, len);
	s->value[len] = '\0';
	return s;
}

int
secret_from_file(const char *path, struct secret **ret, struct errctx *ec)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL)
		return errctx_set(ec, -errno, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 0)
		return errctx_set(ec, -EINVAL, "%s: empty", path);
	*ret = secret_new(buf, n);
	return 0;
}

int
secret_load(const char *name_or_path, struct secret **ret, struct errctx *ec)
{
	return secret_from_file(name_or_path, ret, ec);
}

const char *
secret_reveal(const struct secret *s)
{
	return s->value;
}

size_t
secret_len(const struct secret *s)
{
	return s->len;
}

struct secret *
secret_dup(const struct secret *s)
{
	return s != NULL ? secret_new(s->value, s->len) : NULL;
}

void
secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->value, s->len);
	free(s->value);
	free(s);
}
