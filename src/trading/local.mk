# trading layer: sources, convenience library and unit tests (see Makefile.am).
# The strategy DSL (src/trading/dsl/) has its own fragment and library.
noinst_LIBRARIES += src/trading/libtrading.a
TRADING_LIB = src/trading/libtrading.a
src_trading_libtrading_a_SOURCES = \
	include/alchemiser/seams/broker.h \
	include/alchemiser/trading/calendar.h \
	src/trading/broker.c \
	src/trading/calendar.c

# helpers (in TEST_LIBS) call xalloc: core again after them for the static link.
TRADING_TEST_LDADD = $(TRADING_LIB) $(CORE_LIB) $(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)
TRADING_TESTS = \
	tests/unit/trading/test_calendar

tests_unit_trading_test_calendar_SOURCES = tests/unit/trading/test_calendar.c
tests_unit_trading_test_calendar_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_trading_test_calendar_LDADD = $(TRADING_TEST_LDADD)

check_PROGRAMS += $(TRADING_TESTS)
TESTS += $(TRADING_TESTS)
