# trading layer: sources, convenience library and unit tests (see Makefile.am).
# The strategy DSL (src/trading/dsl/) has its own fragment and library.
noinst_LIBRARIES += src/trading/libtrading.a
TRADING_LIB = src/trading/libtrading.a
src_trading_libtrading_a_SOURCES = \
	include/alchemiser/seams/broker.h \
	include/alchemiser/trading/broker_alpaca.h \
	include/alchemiser/trading/broker_alpaca_http.h \
	include/alchemiser/trading/broker_sim.h \
	include/alchemiser/trading/broker_sim_db.h \
	include/alchemiser/trading/calendar.h \
	include/alchemiser/trading/executor.h \
	include/alchemiser/trading/executor_run.h \
	include/alchemiser/trading/order_id.h \
	include/alchemiser/trading/planner.h \
	src/trading/broker.c \
	src/trading/broker_alpaca.c \
	src/trading/broker_alpaca_http.c \
	src/trading/broker_alpaca_orders.c \
	src/trading/broker_sim.c \
	src/trading/broker_sim_book.c \
	src/trading/broker_sim_db.c \
	src/trading/calendar.c \
	src/trading/executor.c \
	src/trading/executor_history.c \
	src/trading/executor_price.c \
	src/trading/executor_run.c \
	src/trading/order_id.c \
	src/trading/planner.c \
	src/trading/planner_broker.c \
	src/trading/planner_json.c
# backtest: the set over history with the planner (issue 15).
src_trading_libtrading_a_SOURCES += \
	include/alchemiser/trading/backtest.h \
	src/trading/backtest.c \
	src/trading/backtest_stats.c \
	src/trading/backtest_report.c \
	src/trading/backtest_cli.c

# helpers (in TEST_LIBS) call xalloc: core again after them for the static link.
TRADING_TEST_LDADD = $(TRADING_LIB) $(CORE_LIB) $(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)
TRADING_TESTS = \
	tests/unit/trading/test_broker_sim \
	tests/unit/trading/test_calendar \
	tests/unit/trading/test_executor \
	tests/unit/trading/test_planner

tests_unit_trading_test_broker_sim_SOURCES = tests/unit/trading/test_broker_sim.c
tests_unit_trading_test_broker_sim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_trading_test_broker_sim_LDADD = $(TRADING_TEST_LDADD)

tests_unit_trading_test_calendar_SOURCES = tests/unit/trading/test_calendar.c
tests_unit_trading_test_calendar_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_trading_test_calendar_LDADD = $(TRADING_TEST_LDADD)

tests_unit_trading_test_planner_SOURCES = tests/unit/trading/test_planner.c
tests_unit_trading_test_planner_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_trading_test_planner_LDADD = $(TRADING_TEST_LDADD)

tests_unit_trading_test_executor_SOURCES = tests/unit/trading/test_executor.c
tests_unit_trading_test_executor_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_trading_test_executor_LDADD = $(TRADING_TEST_LDADD)

# Alpaca adapter and executor against the node fixture server (skips without node).
TRADING_TESTS += tests/integration/trading/test_broker_alpaca
tests_integration_trading_test_broker_alpaca_SOURCES = \
	tests/integration/trading/test_broker_alpaca.c \
	tests/integration/trading/fixture.c \
	tests/integration/trading/fixture.h
tests_integration_trading_test_broker_alpaca_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit -I$(top_srcdir)/tests/integration/trading
tests_integration_trading_test_broker_alpaca_LDADD = $(TRADING_TEST_LDADD)
EXTRA_DIST += tests/data/trading/alpaca_fixture.js

# Both Alpaca adapters against the SDK-shaped contract fixture (issue 18).
TRADING_TESTS += tests/integration/trading/test_alpaca_contract
tests_integration_trading_test_alpaca_contract_SOURCES = \
	tests/integration/trading/test_alpaca_contract.c \
	tests/integration/trading/fixture.c \
	tests/integration/trading/fixture.h
tests_integration_trading_test_alpaca_contract_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit -I$(top_srcdir)/tests/integration/trading
tests_integration_trading_test_alpaca_contract_LDADD = $(TRADING_LIB) $(DSL_LIB) $(CORE_LIB) \
	$(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)
EXTRA_DIST += tests/alpaca/package.json tests/alpaca/package-lock.json tests/alpaca/sdk-dir.sh

check_PROGRAMS += $(TRADING_TESTS)
TESTS += $(TRADING_TESTS)

# Benchmark (not a test): make bench/bench_trading && bench/bench_trading [iterations]
EXTRA_PROGRAMS += bench/bench_trading
bench_bench_trading_SOURCES = bench/bench_trading.c
bench_bench_trading_LDADD = $(TRADING_LIB) $(CORE_LIB) $(DEPS_LIBS)

# backtest: hand-computed cases, statistics, no look-ahead, kept histories.
TRADING_TESTS += tests/unit/trading/test_backtest
tests_unit_trading_test_backtest_SOURCES = tests/unit/trading/test_backtest.c
tests_unit_trading_test_backtest_LDADD = $(TRADING_LIB) $(DSL_LIB) $(CORE_LIB) $(TEST_LIBS) \
	$(CORE_LIB) $(DEPS_LIBS)
