# core numbers: decimal, timeutil, uuid (appends to libcore.a) and their tests.
src_core_libcore_a_SOURCES += src/core/decimal.c

NUMBERS_TESTS = tests/unit/core/test_decimal
check_PROGRAMS += $(NUMBERS_TESTS)
TESTS += $(NUMBERS_TESTS)
tests_unit_core_test_decimal_SOURCES = tests/unit/core/test_decimal.c
tests_unit_core_test_decimal_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
