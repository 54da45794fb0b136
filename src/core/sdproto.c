/* sdproto: see include/alchemiser/core/sdproto.h. */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "alchemiser/core/sdproto.h"
#include "alchemiser/core/xalloc.h"

#define SDPROTO_JOURNAL_SOCKET "/run/systemd/journal/socket"
/* Fields of one entry: the log module sends a dozen. */
#define SDPROTO_MAX_FIELDS 64

static const char *journal_path = SDPROTO_JOURNAL_SOCKET;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int journal_fd = -1;

/* An AF_UNIX address from a socket name: a path, or '@' for the abstract
 * namespace. -EINVAL for anything else (vsock: is for virtual machines). */
static int
unix_address(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof sa->sun_path)
		return -EINVAL;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
	return 0;
}

int
sdproto_notify(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t r;
	int fd, e;

	if (name == NULL || name[0] == '\0')
		return 0;
	if (unix_address(name, &sa, &len) < 0)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	e = errno;
	(void)close(fd);
	return r < 0 ? -e : 1;
}

int
sdproto_notifyf(const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		s = NULL;
		return -ENOMEM;
	}
	return sdproto_notify(s);
}

int64_t
sdproto_watchdog_usec(void)
{
	const char *u = getenv("WATCHDOG_USEC"), *p = getenv("WATCHDOG_PID");
	unsigned long long usec, pid;
	char *end;

	if (u == NULL)
		return 0;
	errno = 0;
	usec = strtoull(u, &end, 10);
	if (errno != 0 || end == u || *end != '\0' || usec == 0 || usec > INT64_MAX)
		return 0;
	if (p != NULL) {
		errno = 0;
		pid = strtoull(p, &end, 10);
		if (errno != 0 || end == p || *end != '\0' || pid != (unsigned long long)getpid())
			return 0;
	}
	return (int64_t)usec;
}

void
sdproto_set_journal_socket(const char *path)
{
	journal_path = path;
}

static void
journal_open(void)
{
	journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int
sdproto_journal_sendv(const struct iovec *iov, size_t n)
{
	/* Per field up to 5 pieces: "KEY" "\n" length value "\n". */
	struct iovec out[SDPROTO_MAX_FIELDS * 5];
	uint64_t lens[SDPROTO_MAX_FIELDS];
	struct sockaddr_un sa;
	struct msghdr mh;
	socklen_t salen;
	size_t i, k = 0;

	if (n > SDPROTO_MAX_FIELDS)
		return -E2BIG;
	if (unix_address(journal_path, &sa, &salen) < 0)
		return -EINVAL;
	(void)pthread_once(&journal_once, journal_open);
	if (journal_fd < 0)
		return -ENOTCONN;
	for (i = 0; i < n; i++) {
		const char *f = iov[i].iov_base, *eq = memchr(f, '=', iov[i].iov_len);
		size_t klen;

		if (eq == NULL || eq == f)
			return -EINVAL;
		if (memchr(eq + 1, '\n', iov[i].iov_len - (size_t)(eq + 1 - f)) == NULL) {
			out[k++] = iov[i];
			out[k++] = (struct iovec){ .iov_base = (void *)"\n", .iov_len = 1 };
			continue;
		}
		/* A value with a newline: its length, little-endian, before it. */
		klen = (size_t)(eq - f);
		lens[i] = htole64((uint64_t)(iov[i].iov_len - klen - 1));
		out[k++] = (struct iovec){ .iov_base = (void *)f, .iov_len = klen };
		out[k++] = (struct iovec){ .iov_base = (void *)"\n", .iov_len = 1 };
		out[k++] = (struct iovec){ .iov_base = &lens[i], .iov_len = sizeof lens[i] };
		out[k++] = (struct iovec){ .iov_base = (void *)(eq + 1), .iov_len = iov[i].iov_len - klen - 1 };
		out[k++] = (struct iovec){ .iov_base = (void *)"\n", .iov_len = 1 };
	}
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sa;
	mh.msg_namelen = salen;
	mh.msg_iov = out;
	mh.msg_iovlen = k;
	return sendmsg(journal_fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}
