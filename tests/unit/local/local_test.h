/*
 * local_test: helpers shared by the tests of the embedded backend: a fake wall
 * clock and a loop runner with a bounded deadline.
 * Thread:  test main thread.
 */
#ifndef ALCHEMISER_TESTS_LOCAL_TEST_H
#define ALCHEMISER_TESTS_LOCAL_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <time.h>
#include <event2/event.h>

#include "../helpers.h"

/* The wall clock the state sees; tests move it to expire visibility. */
static int64_t fake_now_usec = INT64_C(1767323045) * 1000000;

static inline int64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now_usec;
}

static inline int64_t
test_monotonic_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Run base until *flag turns true; fails the test after 20 s (a hang, not a
 * timing assertion). */
static inline void
run_until(struct event_base *base, const bool *flag)
{
	int64_t deadline = test_monotonic_usec() + 20 * INT64_C(1000000);

	while (!*flag) {
		ck_assert_msg(test_monotonic_usec() < deadline, "loop did not reach the expected state");
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	}
}

static inline int
rmtree_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Remove a test's temporary directory (test_tmpdir leaves that to us). */
static inline void
test_rmtree(const char *dir)
{
	(void)nftw(dir, rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
