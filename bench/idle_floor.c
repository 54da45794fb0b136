/*
 * idle_floor: what an idle wake-up costs this machine when the woken program
 * does almost nothing (issue #13), for bench/run to measure beside an idle
 * alchemiserd in the same window. It sleeps as the embedded daemon does (in
 * epoll_wait on an inotify doorbell, with a long timeout as the backstop)
 * and at each wake-up makes the system calls of the daemon's empty long-poll
 * end (seen with strace: the doorbell read, three read-lock pairs on a file,
 * epoll_ctl out and in, a stat), but none of its user-space work (SQLite,
 * libevent, STATUS= text). On a VM the kernel and the host may charge a
 * woken thread for more than its own instructions (interrupt work run
 * while it is current, cold caches and page tables); this program pays the
 * same environment and nothing else, so the daemon's CPU beyond it is ours.
 *
 *   idle_floor FILE FIRST_MS PERIOD_MS [PAGES]
 *        FILE is created if missing (its own file: never the daemon's state
 *        file, whose locks it must not touch); the first wake-up after
 *        FIRST_MS, then every PERIOD_MS. With PAGES, each wake-up also reads
 *        10 cache lines in each of PAGES pages of its own memory: the
 *        daemon's footprint per wake-up (valgrind lackey, HEAD of issue
 *        #13: about 290 pages, 2,900 lines, 60 % of the code in SQLite)
 *        without its instructions, to tell a cost per page touched from a
 *        cost per wake-up. Prints "ready" once set up; runs until killed
 *        (bench/lib/alchbench.py stops it by PID).
 * Bench only (never installed); exits 1 with the reason on a setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "idle_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

#define PAGE 4096
#define LINES_PER_PAGE 10

/* Read LINES_PER_PAGE cache lines of each page; volatile: the reads happen. */
static unsigned
touch(const volatile unsigned char *mem, long pages)
{
	unsigned sum = 0;
	long i, j;

	for (i = 0; i < pages; i++)
		for (j = 0; j < LINES_PER_PAGE; j++)
			sum += mem[i * PAGE + j * 64 * 6];
	return sum;
}

/* One empty long-poll end, as the daemon's: nothing rang, the queue is
 * looked at under a shared lock (three times), the doorbell re-armed. */
static void
wake_up(int ep, int bell, int fd, const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = bell };
	struct flock l = { .l_whence = SEEK_SET, .l_start = 124, .l_len = 1 };
	char buf[4096];
	struct stat st;
	int i;

	(void)read(bell, buf, sizeof buf);
	for (i = 0; i < 3; i++) {
		l.l_type = F_RDLCK;
		(void)fcntl(fd, F_SETLK, &l);
		l.l_type = F_UNLCK;
		(void)fcntl(fd, F_SETLK, &l);
	}
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, bell, &ev);
	(void)stat(path, &st);
	(void)read(bell, buf, sizeof buf);
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, bell, &ev);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, got[4];
	unsigned char *mem = NULL;
	int ep, bell, fd, first, period;
	long pages = 0;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: idle_floor FILE FIRST_MS PERIOD_MS [PAGES]\n");
		return 2;
	}
	first = atoi(argv[2]);
	period = atoi(argv[3]);
	if (argc == 5)
		pages = atol(argv[4]);
	if (first < 0 || period <= 0 || pages < 0 || pages > 65536) {
		fprintf(stderr, "idle_floor: FIRST_MS >= 0, PERIOD_MS > 0, 0 <= PAGES <= 65536\n");
		return 2;
	}
	if (pages > 0) {
		mem = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
		if (mem == MAP_FAILED)
			die("mmap");
		/* Resident before the first wake-up, as the daemon's memory is. */
		memset(mem, 1, (size_t)pages * PAGE);
	}
	fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die(argv[1]);
	bell = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (bell < 0 || ep < 0)
		die("inotify or epoll");
	if (inotify_add_watch(bell, argv[1], IN_MODIFY) < 0)
		die("inotify_add_watch");
	ev.data.fd = bell;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, bell, &ev) < 0)
		die("epoll_ctl");
	printf("ready\n");
	fflush(stdout);
	/* A timeout-driven schedule, as the daemon's backstop: no ring comes. */
	for (;;) {
		if (epoll_wait(ep, got, 4, first) < 0 && errno != EINTR)
			die("epoll_wait");
		wake_up(ep, bell, fd, argv[1]);
		if (mem != NULL && touch(mem, pages) == 0)
			fprintf(stderr, "idle_floor: memory lost its contents\n");
		first = period;
	}
}
