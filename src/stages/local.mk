# stages layer: one file per workflow step, behind the interface of stages/stage.h.
noinst_LIBRARIES += src/stages/libstages.a
STAGES_LIB = src/stages/libstages.a
src_stages_libstages_a_SOURCES = \
	src/stages/stages_internal.h \
	src/stages/stage.c \
	src/stages/stage_start.c \
	src/stages/stage_monitor.c \
	src/stages/stage_errors.c \
	src/stages/storm.c \
	src/stages/storm_store.c \
	src/stages/stage_deadletter.c \
	src/stages/stage_mail.c \
	src/stages/stage_signals.c \
	src/stages/stage_portfolio.c \
	src/stages/stage_execution.c \
	src/stages/run_key.c \
	src/stages/account_lease.c

STAGES_TESTS = tests/unit/stages/test_storm tests/unit/stages/test_stage_execution
check_PROGRAMS += $(STAGES_TESTS)
TESTS += $(STAGES_TESTS)
tests_unit_stages_test_storm_SOURCES = tests/unit/stages/test_storm.c
tests_unit_stages_test_storm_LDADD = $(STAGES_LIB) $(ROUTER_LIB) $(TRADING_LIB) $(DSL_LIB) $(TRADING_LIB) \
	$(MAIL_LIB) $(LOCAL_LIB) $(EVENTS_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_stages_test_stage_execution_SOURCES = tests/unit/stages/test_stage_execution.c
tests_unit_stages_test_stage_execution_LDADD = $(STAGES_LIB) $(ROUTER_LIB) $(TRADING_LIB) $(DSL_LIB) \
	$(TRADING_LIB) $(MAIL_LIB) $(LOCAL_LIB) $(EVENTS_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
