#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/maildir.h"
#include "alchemiser/mail/mime.h"

struct maildir_mailer {
	struct mailer	 base;		/* first: the seam pointer is this struct */
	char		*path;
	char		*from;
	char		**to;
	size_t		 n_to;
	char		 host[128];	/* sanitised host name for file names */
};

static int	maildir_send(struct mailer *m, const struct mail_message *msg, struct errctx *ec);
static void	maildir_free(struct mailer *m);
static int	maildir_mkdirs(const char *path, struct errctx *ec);
static int	maildir_write_all(int fd, const char *data, size_t len);
static int	maildir_fsync_dir(const char *path);
static char	*maildir_id_name(const char *id, const char *host);
static bool	maildir_delivered(const struct maildir_mailer *d, const char *name);
static void	maildir_clean_tmp(const char *path, const char *host);

static const struct mailer_ops maildir_ops = {
	.name = "maildir",
	.send = maildir_send,
	.free = maildir_free,
};

/* Several deliveries in the same microsecond from one process must differ. */
static atomic_ulong maildir_seq;

static int
maildir_mkdirs(const char *path, struct errctx *ec)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	size_t i;

	for (i = 0; i < ELEMENTSOF(sub); i++) {
		char *p = xasprintf("%s%s", path, sub[i]);
		struct stat st;
		int r = 0;

		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = errctx_set(ec, -errno, "maildir: mkdir %s: %s", p, strerror(errno));
		else if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			r = errctx_set(ec, -ENOTDIR, "maildir: %s is not a directory", p);
		free(p);
		if (r < 0)
			return r;
	}
	return 0;
}

int
maildir_mailer_new(const struct maildir_mailer_options *o, struct mailer **ret,
    struct errctx *ec)
{
	struct maildir_mailer *d;
	char host[128];
	const char *p;
	size_t n = 0;
	int r;

	if (o->path == NULL || *o->path == '\0')
		return errctx_set(ec, -EINVAL, "maildir: path missing");
	r = mime_check_envelope(o->from, o->to, o->n_to, ec);
	if (r < 0)
		return r;
	r = maildir_mkdirs(o->path, ec);
	if (r < 0)
		return r;

	d = xcalloc(1, sizeof(*d));
	d->base.ops = &maildir_ops;
	d->path = xstrdup(o->path);
	d->from = xstrdup(o->from);
	d->to = mime_copy_addresses(o->to, o->n_to);
	d->n_to = o->n_to;
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	/* The maildir spec escapes '/' and ':' in the host part. */
	for (p = host; *p != '\0' && n + 5 < sizeof(d->host); p++) {
		if (*p == '/')
			n += (size_t)snprintf(d->host + n, sizeof(d->host) - n, "\\057");
		else if (*p == ':')
			n += (size_t)snprintf(d->host + n, sizeof(d->host) - n, "\\072");
		else
			d->host[n++] = *p;
	}
	d->host[n] = '\0';
	maildir_clean_tmp(d->path, d->host);
	*ret = &d->base;
	return 0;
}

/* Why: a process killed while writing leaves a partial file in tmp/ that no
 * one will ever finish. Ours (this host's name) from a process that no longer
 * exists are removed; another live process's files are left alone. */
static void
maildir_clean_tmp(const char *path, const char *host)
{
	char *dir = xasprintf("%s/tmp", path);
	DIR *dp = opendir(dir);
	struct dirent *e;

	while (dp != NULL && (e = readdir(dp)) != NULL) {
		const char *dot = strrchr(e->d_name, '.'), *p = strstr(e->d_name, "P");
		long pid;
		char *f;

		/* <...>P<pid>Q<n>.<host> (both name forms end so). */
		while (p != NULL && !(p[1] >= '0' && p[1] <= '9'))
			p = strstr(p + 1, "P");
		if (dot == NULL || p == NULL || strcmp(dot + 1, host) != 0)
			continue;
		pid = strtol(p + 1, NULL, 10);
		if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		f = xasprintf("%s/%s", dir, e->d_name);
		(void)unlink(f);
		free(f);
	}
	if (dp != NULL)
		(void)closedir(dp);
	free(dir);
}

/* The file name of a message with an id: the same id always gives the same
 * name, so a redelivery finds the first copy (issue #17, B3). The id keeps
 * letters, digits, '-' and '_' ('.' would break the maildir's host part);
 * the hash of the raw id keeps two ids that read the same apart. */
static char *
maildir_id_name(const char *id, const char *host)
{
	char token[201];
	uint32_t h = 2166136261u;
	size_t i, n = 0;

	for (i = 0; id[i] != '\0'; i++) {
		char c = id[i];

		h = (h ^ (unsigned char)c) * 16777619u;
		if (n + 1 < sizeof token)
			token[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '_';
	}
	token[n] = '\0';
	return xasprintf("%s-%08x.%s", token, (unsigned)h, host);
}

/* Already in new/, or in cur/ (a reader moved it there and may have added
 * ":2,<flags>"). */
static bool
maildir_delivered(const struct maildir_mailer *d, const char *name)
{
	char *p = xasprintf("%s/new/%s", d->path, name);
	size_t len = strlen(name);
	bool found = access(p, F_OK) == 0;
	struct dirent *e;
	DIR *dp;

	free(p);
	if (found)
		return true;
	p = xasprintf("%s/cur", d->path);
	dp = opendir(p);
	free(p);
	while (dp != NULL && !found && (e = readdir(dp)) != NULL)
		found = strncmp(e->d_name, name, len) == 0 && (e->d_name[len] == '\0' ||
		    e->d_name[len] == ':');
	if (dp != NULL)
		(void)closedir(dp);
	return found;
}

static void
maildir_free(struct mailer *m)
{
	struct maildir_mailer *d = (struct maildir_mailer *)m;

	if (d == NULL)
		return;
	mime_free_addresses(d->to, d->n_to);
	free(d->path);
	free(d->from);
	free(d);
}

static int
maildir_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Without this the rename may be lost on power failure even though the file
 * data was synced. */
static int
maildir_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	(void) close(fd);
	return r;
}

static int
maildir_send(struct mailer *m, const struct mail_message *msg, struct errctx *ec)
{
	struct maildir_mailer *d = (struct maildir_mailer *)m;
	struct mail_message full = *msg;
	struct timeval tv;
	char *data = NULL, *tmp = NULL, *dst = NULL, *newdir = NULL, *w;
	const char *rd;
	size_t len, i;
	int fd = -1, r;

	if (full.from == NULL)
		full.from = d->from;
	if (full.to == NULL || full.n_to == 0) {
		full.to = (const char *const *)d->to;
		full.n_to = d->n_to;
	}
	r = mime_build(&full, &data, &len, ec);
	if (r < 0)
		return r;
	/* CRLF -> LF in place: QP bodies hold no other CR. */
	for (rd = w = data, i = 0; i < len; i++, rd++)
		if (!(rd[0] == '\r' && rd[1] == '\n'))
			*w++ = *rd;
	*w = '\0';
	len = (size_t)(w - data);

	gettimeofday(&tv, NULL);
	{
		char *name = xasprintf("%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
		    (long)tv.tv_usec, (long)getpid(),
		    (unsigned long)atomic_fetch_add(&maildir_seq, 1) + 1, d->host);

		tmp = xasprintf("%s/tmp/%s", d->path, name);
		if (msg->id != NULL && msg->id[0] != '\0') {
			free(name);
			name = maildir_id_name(msg->id, d->host);
			if (maildir_delivered(d, name)) {
				/* Delivered before a crash kept the claim from completing. */
				free(name);
				r = 0;
				goto out;
			}
		}
		dst = xasprintf("%s/new/%s", d->path, name);
		free(name);
	}
	newdir = xasprintf("%s/new", d->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errctx_set(ec, -errno, "maildir: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = maildir_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r < 0) {
		errctx_set(ec, r, "maildir: write %s: %s", tmp, strerror(-r));
		goto out_unlink;
	}
	/* link, not rename: it never replaces, so two deliveries of one id (two
	 * workers, or a retry racing a slow first attempt) leave one file. */
	if (link(tmp, dst) < 0 && errno != EEXIST) {
		r = errctx_set(ec, -errno, "maildir: link into %s: %s", dst, strerror(errno));
		goto out_unlink;
	}
	(void) unlink(tmp);
	r = maildir_fsync_dir(newdir);
	if (r < 0)
		errctx_set(ec, r, "maildir: fsync %s: %s", newdir, strerror(-r));
	goto out;
out_unlink:
	(void) unlink(tmp);
out:
	free(newdir);
	free(tmp);
	free(dst);
	free(data);
	return r;
}
