/*
 * helpers: shared by every unit test program (linked as libtesthelpers.a).
 * Thread:  test main thread. Memory: paths returned are owned by the caller.
 */
#ifndef ALCHEMISER_TESTS_HELPERS_H
#define ALCHEMISER_TESTS_HELPERS_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"

/* Assert that r is 0 (or positive); on failure print the errno name and *ec. */
#define ck_assert_ok(r, ec) do { \
	int _r = (r); \
	ck_assert_msg(_r >= 0, "%s failed: %d (%s): %s", #r, _r, errno_name(_r), errctx_msg(ec)); \
} while (0)
/* Assert that r is exactly the negative errno want. */
#define ck_assert_err(r, want, ec) do { \
	int _r = (r); \
	ck_assert_msg(_r == (want), "%s: got %d (%s) want %d (%s): %s", #r, _r, errno_name(_r), \
	    (want), errno_name(want), errctx_msg(ec)); \
} while (0)

/* The decimal written s; fails the test when s is not one. */
struct decimal test_dec(const char *s);
/* Assert that decimal d is written exactly s. */
#define ck_assert_dec(d, s) do { \
	char _b[DECIMAL_STRLEN]; \
	ck_assert_str_eq(decimal_format((d), _b), (s)); \
} while (0)

/* Run one suite and return the process exit status (0 = all passed). */
int	test_run_suite(Suite *s);

/* Path of a file under the outside test data ($SHARED_DIR/testdata/...), or
 * NULL when ../shared is absent on a plain clone. Under CI=true an absent
 * SHARED_DIR is a hard failure, never a silent skip. */
char	*test_shared_path(const char *rel);

/* Path of a file under the project's own tests/data. */
char	*test_data_path(const char *rel);

/* Read a whole file (NUL-terminated); aborts the test on failure. */
char	*test_read_file(const char *path, size_t *len);

/* The owner string (core/owner.h) of a child process that has exited by the
 * time this returns: a lease or claim holder that is provably dead. */
void	test_dead_owner(char *out, size_t size);

/* A fresh temporary directory for this test (removed by the caller if wanted). */
char	*test_tmpdir(void);

/* Seedable test randomness (splitmix64). test_rng_seed() prints the seed it
 * uses, and takes SEED=n from the environment, so a failing property run can
 * be replayed exactly. */
void	test_rng_seed(const char *test);
uint64_t test_rng_next(void);

#define ALC_TEST_MAIN(suite_fn) \
	int main(void) { return test_run_suite(suite_fn()); }

#endif
