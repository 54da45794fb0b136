/*
 * owner: who holds a claim, and whether that holder can be proven dead.
 * Why: after kill -9 and a restart (systemd: 5 s), the claims and in-flight
 * messages of the dead process would otherwise wait out their lease and
 * visibility timeout (minutes). The host, boot id and pid namespace make the
 * verdict safe: we only judge processes we can see.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/owner.h"

struct owner_id {
	char			host[64];
	long			pid;
	char			boot[9];
	unsigned long long	pidns;
	unsigned long long	start;
};

static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static struct owner_id self_id;
static char self_str[OWNER_MAX];
/* Set in a forked child (pthread_atfork): the cached identity is the
 * parent's. Why not getpid() on every call: owner_self runs more than once
 * per message (issue #13), and getpid is a system call. */
static volatile bool self_stale;

static void
read_boot(char out[9])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	char line[64] = "";
	size_t i, n = 0;

	if (f != NULL) {
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		(void)fclose(f);
	}
	for (i = 0; line[i] != '\0' && n < 8; i++)
		if ((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f'))
			out[n++] = line[i];
	while (n < 8)
		out[n++] = '0';
	out[8] = '\0';
}

/* Field 22 of /proc/PID/stat; 0 if the process does not exist (errno ENOENT)
 * or cannot be read. */
static unsigned long long
read_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f;
	int field;

	(void)snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count from the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

static void
child_after_fork(void)
{
	self_stale = true;
}

static void
init_self(void)
{
	struct stat st;

	if (gethostname(self_id.host, sizeof self_id.host) < 0)
		(void)snprintf(self_id.host, sizeof self_id.host, "localhost");
	self_id.host[sizeof self_id.host - 1] = '\0';
	self_id.pid = (long)getpid();
	read_boot(self_id.boot);
	self_id.pidns = stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long long)st.st_ino : 0;
	self_id.start = read_start(self_id.pid);
	(void)snprintf(self_str, sizeof self_str, "%s:%ld:%s:%llu:%llu", self_id.host, self_id.pid,
	    self_id.boot, self_id.pidns, self_id.start);
}

static void
init_once(void)
{
	(void)pthread_atfork(NULL, NULL, child_after_fork);
	init_self();
}

/* The identity is computed again in a forked child (single-threaded there:
 * another process). */
static void
self_current(void)
{
	(void)pthread_once(&self_once, init_once);
	if (self_stale) {
		self_stale = false;
		init_self();
	}
}

const char *
owner_self(char *buf, size_t size)
{
	size_t n;

	self_current();
	n = strlen(self_str);
	if (size == 0)
		return buf;
	if (n >= size)
		n = size - 1;
	memcpy(buf, self_str, n);
	buf[n] = '\0';
	return buf;
}

/* 0 when holder has the five fields. */
static int
parse(const char *holder, struct owner_id *o)
{
	const char *colon = strchr(holder, ':');
	size_t hl;
	int used = 0;

	memset(o, 0, sizeof *o);
	if (colon == NULL || (hl = (size_t)(colon - holder)) == 0 || hl >= sizeof o->host)
		return -1;
	memcpy(o->host, holder, hl);
	o->host[hl] = '\0';
	if (sscanf(colon + 1, "%ld:%8[0-9a-f]:%llu:%llu%n", &o->pid, o->boot, &o->pidns, &o->start,
	    &used) != 4 || colon[1 + used] != '\0' || o->pid <= 0)
		return -1;
	return 0;
}

bool
owner_is_dead(const char *holder, char *why, size_t why_size)
{
	struct owner_id o;
	unsigned long long start;

	self_current();
	if (holder == NULL || parse(holder, &o) < 0 || strcmp(o.host, self_id.host) != 0)
		return false;
	if (strcmp(o.boot, self_id.boot) != 0) {
		(void)snprintf(why, why_size, "a previous boot of this host");
		return true;
	}
	/* Another pid namespace (a container with our host name): we cannot see it. */
	if (o.pidns != self_id.pidns || self_id.pidns == 0)
		return false;
	if (o.pid == self_id.pid) {
		/* Our pid, but an earlier process (the pid came round again). */
		if (o.start == self_id.start || self_id.start == 0)
			return false;
		(void)snprintf(why, why_size, "an earlier process with this pid");
		return true;
	}
	if (kill((pid_t)o.pid, 0) < 0 && errno == ESRCH) {
		(void)snprintf(why, why_size, "process %ld of this host no longer exists", o.pid);
		return true;
	}
	start = read_start(o.pid);
	if (start != 0 && start != o.start) {
		(void)snprintf(why, why_size, "process %ld of this host no longer exists (its pid was reused)",
		    o.pid);
		return true;
	}
	return false;
}
