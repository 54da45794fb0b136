/*
 * fuzz: the entry points of the fuzz targets, shared by the libFuzzer
 * binaries (tests/fuzz/fuzz_<target>, --enable-fuzzing with clang) and by the
 * replay program (tests/fuzz/replay, every build), which feeds the committed
 * corpus and the regression inputs through the same functions.
 * Each fuzz_<target>_one() takes any bytes, must never crash, leak or hang,
 * and returns 0 (libFuzzer's convention). A violated invariant aborts.
 * Thread:  one input at a time (targets keep a little static state).
 * Memory:  the input is borrowed; nothing survives a call except the static
 *          fixtures set up once.
 */
#ifndef ALCHEMISER_TESTS_FUZZ_H
#define ALCHEMISER_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	fuzz_router_one(const uint8_t *data, size_t size);
int	fuzz_event_one(const uint8_t *data, size_t size);
int	fuzz_dsl_one(const uint8_t *data, size_t size);
int	fuzz_config_one(const uint8_t *data, size_t size);
int	fuzz_sigv4_one(const uint8_t *data, size_t size);
int	fuzz_http_one(const uint8_t *data, size_t size);

/* An invariant of the code under test, checked in every build (assert() may
 * be compiled out). */
#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* In the libFuzzer build (-DFUZZ_LIBFUZZER) each target file also defines the
 * libFuzzer entry point; in the replay program it does not, so all five
 * targets link into one program. */
#ifdef FUZZ_LIBFUZZER
#define FUZZ_ENTRY(fn) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int \
	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{ \
		return fn(data, size); \
	}
#else
#define FUZZ_ENTRY(fn)
#endif

#endif
