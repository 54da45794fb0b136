#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alchemiser/core/owner.h"
#include "helpers.h"

START_TEST(test_owner_self_format)
{
	char buf[OWNER_MAX], host[64], why[128] = "";
	long pid;

	owner_self(buf, sizeof buf);
	ck_assert_int_eq(gethostname(host, sizeof host), 0);
	ck_assert_msg(strncmp(buf, host, strlen(host)) == 0 && buf[strlen(host)] == ':', "%s", buf);
	ck_assert_int_eq(sscanf(buf + strlen(host) + 1, "%ld:", &pid), 1);
	ck_assert_int_eq(pid, (long)getpid());
	/* We are alive. */
	ck_assert(!owner_is_dead(buf, why, sizeof why));
}
END_TEST

/* The identity is cached (issue #13: no getpid per call), but a forked
 * child must still name itself, not the parent it was cached in. */
START_TEST(test_owner_self_after_fork)
{
	char mine[OWNER_MAX], child[OWNER_MAX], host[64];
	long pid;

	owner_self(mine, sizeof mine);
	test_dead_owner(child, sizeof child);
	ck_assert_str_ne(mine, child);
	ck_assert_int_eq(gethostname(host, sizeof host), 0);
	ck_assert_int_eq(sscanf(child + strlen(host) + 1, "%ld:", &pid), 1);
	ck_assert_int_ne(pid, (long)getpid());
	/* And the parent's stays its own. */
	owner_self(child, sizeof child);
	ck_assert_str_eq(mine, child);
}
END_TEST

START_TEST(test_owner_dead_process_of_this_host)
{
	char dead[OWNER_MAX], why[128] = "";

	test_dead_owner(dead, sizeof dead);
	ck_assert_msg(owner_is_dead(dead, why, sizeof why), "%s judged alive", dead);
	ck_assert_msg(strstr(why, "no longer exists") != NULL, "%s", why);
}
END_TEST

START_TEST(test_owner_previous_boot)
{
	char self[OWNER_MAX], other[OWNER_MAX + 16], why[128] = "";
	char *p, *boot;

	owner_self(self, sizeof self);
	/* HOST:PID:BOOT:... with another boot id: a previous boot, dead. */
	p = strchr(self, ':');
	boot = strchr(p + 1, ':') + 1;
	(void)snprintf(other, sizeof other, "%s", self);
	other[boot - self] = boot[0] == 'f' ? 'e' : 'f';
	ck_assert(owner_is_dead(other, why, sizeof why));
	ck_assert_str_eq(why, "a previous boot of this host");
}
END_TEST

START_TEST(test_owner_not_judged)
{
	char self[OWNER_MAX], dead[OWNER_MAX], other[OWNER_MAX + 32], why[128] = "";
	char *p;

	owner_self(self, sizeof self);
	test_dead_owner(dead, sizeof dead);
	/* Another host: only its lease can tell. */
	(void)snprintf(other, sizeof other, "another-host%s", strchr(dead, ':'));
	ck_assert(!owner_is_dead(other, why, sizeof why));
	/* The old "host:pid" format, and garbage. */
	p = strchr(dead, ':');
	p = strchr(p + 1, ':');
	*p = '\0';
	ck_assert(!owner_is_dead(dead, why, sizeof why));
	ck_assert(!owner_is_dead("", why, sizeof why));
	ck_assert(!owner_is_dead(NULL, why, sizeof why));
	ck_assert(!owner_is_dead("x:1:zz:1:1", why, sizeof why));
	/* Another pid namespace of this host (a container with our host name). */
	test_dead_owner(dead, sizeof dead);
	p = strrchr(dead, ':');
	*p = '\0';
	p = strrchr(dead, ':');
	(void)snprintf(other, sizeof other, "%.*s:12345:1", (int)(p - dead), dead);
	ck_assert(!owner_is_dead(other, why, sizeof why));
}
END_TEST

static Suite *
suite_owner(void)
{
	Suite *s = suite_create("owner");
	TCase *tc = tcase_create("liveness");

	tcase_add_test(tc, test_owner_self_format);
	tcase_add_test(tc, test_owner_self_after_fork);
	tcase_add_test(tc, test_owner_dead_process_of_this_host);
	tcase_add_test(tc, test_owner_previous_boot);
	tcase_add_test(tc, test_owner_not_judged);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_owner)
