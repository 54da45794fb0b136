# core numbers: decimal, timeutil, uuid (appends to libcore.a) and their tests.
src_core_libcore_a_SOURCES += src/core/decimal.c src/core/timeutil.c

NUMBERS_TESTS = tests/unit/core/test_decimal tests/unit/core/test_timeutil
check_PROGRAMS += $(NUMBERS_TESTS)
TESTS += $(NUMBERS_TESTS)
tests_unit_core_test_decimal_SOURCES = tests/unit/core/test_decimal.c
tests_unit_core_test_decimal_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_core_test_timeutil_SOURCES = tests/unit/core/test_timeutil.c
# libtesthelpers.a needs xalloc from libcore; a test that does not use it itself
# must list libcore again after the helpers or the static link misses it.
tests_unit_core_test_timeutil_LDADD = $(CORE_LIB) $(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)
