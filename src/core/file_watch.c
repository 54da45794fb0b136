/*
 * file_watch: see include/alchemiser/core/file_watch.h. Why the folder and
 * not the file: a watch on the file follows its inode, and a file replaced
 * by rename (or deleted while we hold it open: no IN_DELETE_SELF until the
 * last descriptor closes) would go unnoticed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/file_watch.h"
#include "alchemiser/core/xalloc.h"

#define FILE_WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_DELETE_SELF | IN_MOVE_SELF)

struct file_watch {
	int	 fd;
	char	*name;		/* the file's name in its folder */
};

int
file_watch_new(const char *path, struct file_watch **ret, struct errctx *ec)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash == NULL ? xstrdup(".") :
	    slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	struct file_watch *w;
	struct stat sb;
	int fd, e;

	*ret = NULL;
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
		return errctx_set(ec, -ENOTSUP, "'%s' is a symbolic link: its target is not watched", path);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return errctx_set(ec, -errno, "inotify: %s", strerror(errno));
	if (inotify_add_watch(fd, dir, FILE_WATCH_MASK) < 0) {
		e = errno;
		(void)close(fd);
		return errctx_set(ec, -e, "inotify watch on '%s': %s", dir, strerror(e));
	}
	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->name = xstrdup(slash != NULL ? slash + 1 : path);
	*ret = w;
	return 0;
}

int
file_watch_fd(const struct file_watch *w)
{
	return w->fd;
}

bool
file_watch_drain(struct file_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof buf)) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			/* The folder went (IN_IGNORED: the watch is gone with it), or
			 * events were lost: anything may have happened. */
			if ((ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0 ||
			    (ev->len > 0 && strcmp(ev->name, w->name) == 0))
				hit = true;
			p += sizeof *ev + ev->len;
		}
	}
	return hit;
}

void
file_watch_free(struct file_watch *w)
{
	if (w == NULL)
		return;
	(void)close(w->fd);
	free(w->name);
	free(w);
}
