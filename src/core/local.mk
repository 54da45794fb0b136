# core layer: errors, allocation, logging, JSON, config, secrets, decimal, time, ids.
noinst_LIBRARIES += src/core/libcore.a
CORE_LIB = src/core/libcore.a
src_core_libcore_a_SOURCES = \
	src/core/err.c \
	src/core/xalloc.c

CORE_TESTS =
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)
