/*
 * The systemd protocols against sockets this test binds, as systemd would,
 * and against libsystemd itself: the daemon no longer links it (README,
 * "Dependencies"), but the test links it as the reference implementation,
 * so sd_notify and sd_watchdog_enabled must agree with sdproto byte for
 * byte and case for case.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "alchemiser/core/sdproto.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

/* A datagram socket bound to name ('@' = abstract namespace). */
static int
bind_dgram(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1))), 0);
	/* Bounded: a datagram that never comes fails the test, not hangs it. */
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want, size_t len)
{
	char buf[1024];
	ssize_t n = recv(fd, buf, sizeof buf, 0);

	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_msg(memcmp(buf, want, len) == 0, "got '%.*s'", (int)n, buf);
}

START_TEST(test_sdproto_notify_path_and_abstract)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *path = xasprintf("%s/notify", dir);
	_cleanup_free_ char *abstract = xasprintf("@alchemiser-test-%ld", (long)getpid());
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(sdproto_notify("READY=1"), 0);
	fd = bind_dgram(path);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(sdproto_notify("READY=1\nSTATUS=x"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=x", 16);
	ck_assert_int_eq(sdproto_notifyf("STATUS=%s %d", "done", 3), 1);
	expect_datagram(fd, "STATUS=done 3", 13);
	close(fd);
	fd = bind_dgram(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	ck_assert_int_eq(sdproto_notify("WATCHDOG=1"), 1);
	expect_datagram(fd, "WATCHDOG=1", 10);
	close(fd);
	/* Not a socket name it knows. */
	setenv("NOTIFY_SOCKET", "relative/name", 1);
	ck_assert_int_eq(sdproto_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
	unlink(path);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_sdproto_watchdog)
{
	char pid[32];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	ck_assert_int_eq(sdproto_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	ck_assert_int_eq(sdproto_watchdog_usec(), 30000000);
	(void)snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(sdproto_watchdog_usec(), 30000000);
	/* Meant for another process (the main one of a forking service). */
	(void)snprintf(pid, sizeof pid, "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_int_eq(sdproto_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "30s", 1);
	ck_assert_int_eq(sdproto_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "0", 1);
	ck_assert_int_eq(sdproto_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

/* Plain fields as "KEY=value\n"; a value with a newline as KEY, newline,
 * its 64-bit little-endian length, the value, newline. */
START_TEST(test_sdproto_journal_fields)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *path = xasprintf("%s/journal", dir);
	struct iovec iov[3] = {
		{ .iov_base = (void *)"PRIORITY=6", .iov_len = 10 },
		{ .iov_base = (void *)"MESSAGE=hello", .iov_len = 13 },
		{ .iov_base = (void *)"MULTI=a\nb", .iov_len = 9 },
	};
	static const char want[] = "PRIORITY=6\nMESSAGE=hello\nMULTI\n\3\0\0\0\0\0\0\0a\nb\n";
	struct iovec bad = { .iov_base = (void *)"NOEQUALS", .iov_len = 8 };
	int fd = bind_dgram(path);

	sdproto_set_journal_socket(path);
	ck_assert_int_eq(sdproto_journal_sendv(iov, 3), 0);
	expect_datagram(fd, want, sizeof want - 1);
	ck_assert_int_eq(sdproto_journal_sendv(&bad, 1), -EINVAL);
	close(fd);
	unlink(path);
	/* No journal listening: an error, for the caller to write elsewhere. */
	ck_assert_int_lt(sdproto_journal_sendv(iov, 2), 0);
	rmdir(dir);
	free(dir);
}
END_TEST

/* The same datagram from libsystemd's sd_notify and from ours. */
static void
expect_same_as_libsystemd(int fd, const char *state)
{
	char a[1024], b[1024];
	ssize_t na, nb;

	ck_assert_int_gt(sd_notify(0, state), 0);
	na = recv(fd, a, sizeof a, 0);
	ck_assert_int_eq(sdproto_notify(state), 1);
	nb = recv(fd, b, sizeof b, 0);
	ck_assert_int_gt(na, 0);
	ck_assert_int_eq(na, nb);
	ck_assert_msg(memcmp(a, b, (size_t)na) == 0, "libsystemd sent '%.*s', sdproto '%.*s'",
	    (int)na, a, (int)nb, b);
}

START_TEST(test_sdproto_notify_matches_libsystemd)
{
	char *dir = test_tmpdir();
	_cleanup_free_ char *path = xasprintf("%s/notify", dir);
	_cleanup_free_ char *abstract = xasprintf("@alchemiser-ref-%ld", (long)getpid());
	static const char *const states[] = {
		"READY=1\nSTATUS=running", "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping: SIGTERM",
		"RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading configuration",
		"STATUS=received 12 done 11 failed 1 | last run r-1 succeeded",
	};
	const char *names[2] = { path, abstract };

	for (size_t i = 0; i < 2; i++) {
		int fd = bind_dgram(names[i]);

		setenv("NOTIFY_SOCKET", names[i], 1);
		for (size_t k = 0; k < sizeof states / sizeof states[0]; k++)
			expect_same_as_libsystemd(fd, states[k]);
		close(fd);
	}
	unsetenv("NOTIFY_SOCKET");
	unlink(path);
	rmdir(dir);
	free(dir);
}
END_TEST

/* sdproto_watchdog_usec is sd_watchdog_enabled's answer (0 where it says
 * "off" or "invalid") over the environments systemd can give. */
START_TEST(test_sdproto_watchdog_matches_libsystemd)
{
	char self[32], other[32];
	struct {
		const char *usec, *pid;
	} cases[] = {
		{ NULL, NULL }, { "30000000", NULL }, { "30000000", self }, { "30000000", other },
		{ "30s", NULL }, { "0", NULL }, { "", NULL }, { "15000000", "x" }, { "1", self },
	};

	(void)snprintf(self, sizeof self, "%ld", (long)getpid());
	(void)snprintf(other, sizeof other, "%ld", (long)getpid() + 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t ref = 0;
		int r;

		if (cases[i].usec != NULL)
			setenv("WATCHDOG_USEC", cases[i].usec, 1);
		else
			unsetenv("WATCHDOG_USEC");
		if (cases[i].pid != NULL)
			setenv("WATCHDOG_PID", cases[i].pid, 1);
		else
			unsetenv("WATCHDOG_PID");
		r = sd_watchdog_enabled(0, &ref);
		ck_assert_msg(sdproto_watchdog_usec() == (r > 0 ? (int64_t)ref : 0),
		    "case %zu (WATCHDOG_USEC=%s WATCHDOG_PID=%s): libsystemd %d/%llu, sdproto %lld", i,
		    cases[i].usec ? cases[i].usec : "-", cases[i].pid ? cases[i].pid : "-", r,
		    (unsigned long long)ref, (long long)sdproto_watchdog_usec());
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}
END_TEST

static Suite *
suite_sdproto(void)
{
	Suite *s = suite_create("sdproto");
	TCase *tc = tcase_create("protocols");

	tcase_add_test(tc, test_sdproto_notify_path_and_abstract);
	tcase_add_test(tc, test_sdproto_watchdog);
	tcase_add_test(tc, test_sdproto_journal_fields);
	tcase_add_test(tc, test_sdproto_notify_matches_libsystemd);
	tcase_add_test(tc, test_sdproto_watchdog_matches_libsystemd);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_sdproto)
