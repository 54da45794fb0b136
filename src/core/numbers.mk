# core numbers: decimal, timeutil, uuid (appends to libcore.a) and their tests.
src_core_libcore_a_SOURCES += \
	src/core/decimal.c \
	src/core/timeutil.c \
	src/core/uuid.c

# libtesthelpers.a calls xalloc from libcore, so libcore is listed again after the
# helpers: a test that uses no xalloc itself would otherwise fail the static link.
NUMBERS_TEST_LDADD = $(CORE_LIB) $(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)
NUMBERS_TESTS = \
	tests/unit/core/test_decimal \
	tests/unit/core/test_timeutil \
	tests/unit/core/test_uuid
check_PROGRAMS += $(NUMBERS_TESTS)
TESTS += $(NUMBERS_TESTS)
tests_unit_core_test_decimal_SOURCES = tests/unit/core/test_decimal.c
tests_unit_core_test_decimal_LDADD = $(NUMBERS_TEST_LDADD)
tests_unit_core_test_timeutil_SOURCES = tests/unit/core/test_timeutil.c
tests_unit_core_test_timeutil_LDADD = $(NUMBERS_TEST_LDADD)
tests_unit_core_test_uuid_SOURCES = tests/unit/core/test_uuid.c
tests_unit_core_test_uuid_LDADD = $(NUMBERS_TEST_LDADD)
