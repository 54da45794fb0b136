# strategy DSL: lexer, parser, evaluator, indicators, strategy sets (libdsl.a) and tests.
noinst_LIBRARIES += src/trading/dsl/libdsl.a
DSL_LIB = src/trading/dsl/libdsl.a
src_trading_dsl_libdsl_a_SOURCES = \
	include/alchemiser/seams/marketdata.h \
	include/alchemiser/trading/bars_freshness.h \
	include/alchemiser/trading/dsl.h \
	include/alchemiser/trading/dsl_cli.h \
	include/alchemiser/trading/dsl_sample.h \
	include/alchemiser/trading/indicators.h \
	include/alchemiser/trading/strategy_set.h \
	src/trading/dsl/dsl_internal.h \
	src/trading/dsl/dsl_arena.c \
	src/trading/dsl/dsl_lex.c \
	src/trading/dsl/dsl_parse.c \
	src/trading/dsl/dsl_compile.c \
	src/trading/dsl/dsl_canon.c \
	src/trading/dsl/dsl_value.c \
	src/trading/dsl/dsl_eval.c \
	src/trading/dsl/dsl_select.c \
	src/trading/dsl/dsl_sim.c \
	src/trading/dsl/dsl_bars.c \
	src/trading/dsl/dsl_run.c \
	src/trading/dsl/indicators.c
src_trading_dsl_libdsl_a_SOURCES += \
	src/trading/dsl/bars_freshness.c \
	src/trading/dsl/strindex.h \
	src/trading/dsl/strindex.c \
	src/trading/dsl/strategy_set.c \
	src/trading/dsl/strategy_set_json.c \
	src/trading/dsl/dsl_cli.c \
	src/trading/marketdata_csv.c
src_trading_dsl_libdsl_a_SOURCES += \
	src/trading/dsl/dsl_sample.c \
	src/trading/dsl/marketdata_alpaca.c

# Tools and the benchmark: built on demand (make tools/gen-sample-data,
# make bench/bench_dsl), never installed.
# EXTRA_PROGRAMS is set here with "=" because Makefile.am does not declare it
# yet; once it does, make this "+=".
EXTRA_PROGRAMS += tools/gen-sample-data bench/bench_dsl
tools_gen_sample_data_SOURCES = tools/gen-sample-data.c
tools_gen_sample_data_LDADD = $(DSL_LIB) $(TRADING_LIB) $(CORE_LIB) $(DEPS_LIBS)

DSL_TESTS = \
	tests/unit/dsl/test_indicators \
	tests/unit/dsl/test_dsl_parse \
	tests/unit/dsl/test_dsl_eval \
	tests/unit/dsl/test_dsl_sim \
	tests/unit/dsl/test_dsl_corpus \
	tests/unit/dsl/test_strategy_set \
	tests/unit/dsl/test_marketdata_alpaca
check_PROGRAMS += $(DSL_TESTS)
TESTS += $(DSL_TESTS)
# bars_freshness reads the NYSE calendar of libtrading.
DSL_TEST_LDADD = $(DSL_LIB) $(TRADING_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_dsl_test_indicators_SOURCES = tests/unit/dsl/test_indicators.c
tests_unit_dsl_test_indicators_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_dsl_parse_SOURCES = tests/unit/dsl/test_dsl_parse.c
tests_unit_dsl_test_dsl_parse_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_dsl_eval_SOURCES = tests/unit/dsl/test_dsl_eval.c
tests_unit_dsl_test_dsl_eval_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_dsl_sim_SOURCES = tests/unit/dsl/test_dsl_sim.c
tests_unit_dsl_test_dsl_sim_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_dsl_corpus_SOURCES = tests/unit/dsl/test_dsl_corpus.c
tests_unit_dsl_test_dsl_corpus_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_strategy_set_SOURCES = tests/unit/dsl/test_strategy_set.c
tests_unit_dsl_test_strategy_set_LDADD = $(DSL_TEST_LDADD)
tests_unit_dsl_test_marketdata_alpaca_SOURCES = tests/unit/dsl/test_marketdata_alpaca.c
tests_unit_dsl_test_marketdata_alpaca_LDADD = $(DSL_TEST_LDADD)

EXTRA_DIST += tests/data/dsl tools/gen-golden.mjs src/trading/dsl/README.md \
	tests/unit/dsl/alpaca-fixture.mjs
bench_bench_dsl_SOURCES = bench/bench_dsl.c
bench_bench_dsl_LDADD = $(DSL_LIB) $(TRADING_LIB) $(CORE_LIB) $(DEPS_LIBS)

# The example strategy set and its sample data: installed so the embedded default
# and the quick start need nothing from outside (PKGDATADIR/strategies/strategy.json,
# PKGDATADIR/sample-data). Regenerate the data with tools/gen-sample-data.
dslstrategiesdir = $(pkgdatadir)/strategies
dist_dslstrategies_DATA = \
	etc/strategies/strategy.json \
	etc/strategies/trend-guard.clj \
	etc/strategies/rotation.clj
dslsampledatadir = $(pkgdatadir)/sample-data
dist_dslsampledata_DATA = \
	etc/sample-data/BIL.csv \
	etc/sample-data/GLD.csv \
	etc/sample-data/IEF.csv \
	etc/sample-data/QQQ.csv \
	etc/sample-data/SOXL.csv \
	etc/sample-data/SPY.csv \
	etc/sample-data/SQQQ.csv \
	etc/sample-data/TLT.csv \
	etc/sample-data/TQQQ.csv \
	etc/sample-data/UVXY.csv \
	etc/sample-data/XLK.csv \
	etc/sample-data/XLP.csv
