#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/xalloc.h"

/* Credentials are small; a bigger file is a mistake (a key pasted into the wrong file). */
#define SECRET_MAX_BYTES 8192

struct secret {
	size_t	len;
	char	value[];	/* NUL-terminated for the APIs that want a C string */
};

struct secret *
secret_new(const char *value, size_t len)
{
	struct secret *s = xmalloc(sizeof *s + len + 1);

	s->len = len;
	memcpy(s->value, value, len);
	s->value[len] = '\0';
	return s;
}

int
secret_from_file(const char *path, struct secret **ret, struct errctx *ec)
{
	char buf[SECRET_MAX_BYTES + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errctx_set(ec, -errno, "credential file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = errctx_set(ec, -errno, "credential file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = errctx_set(ec, -EINVAL, "credential file '%s': not a regular file", path);
		goto out;
	}
	/* Why: a secret readable by others is already leaked (OpenSMTPD check_file_secrecy). */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = errctx_set(ec, -EACCES, "credential file '%s': readable by group or others "
		    "(mode %03o); chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	while ((n = read(fd, buf + len, sizeof buf - len)) > 0) {
		len += (size_t)n;
		if (len == sizeof buf)
			break;
	}
	if (n < 0) {
		r = errctx_set(ec, -errno, "credential file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (len > SECRET_MAX_BYTES) {
		r = errctx_set(ec, -E2BIG, "credential file '%s': larger than %d bytes", path,
		    SECRET_MAX_BYTES);
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		r = errctx_set(ec, -EINVAL, "credential file '%s': empty", path);
		goto out;
	}
	*ret = secret_new(buf, len);
out:
	explicit_bzero(buf, sizeof buf);
	(void)close(fd);
	return r;
}

int
secret_load(const char *name_or_path, struct secret **ret, struct errctx *ec)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	_cleanup_free_ char *path = NULL;
	struct stat st;

	/* systemd LoadCredential= puts "name" under $CREDENTIALS_DIRECTORY. */
	if (dir != NULL && *dir != '\0' && strchr(name_or_path, '/') == NULL) {
		path = xasprintf("%s/%s", dir, name_or_path);
		if (stat(path, &st) == 0)
			return secret_from_file(path, ret, ec);
	}
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
	return s == NULL ? NULL : secret_new(s->value, s->len);
}

void
secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->value, s->len);
	free(s);
}
