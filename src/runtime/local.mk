# runtime layer: the loop, the workers, the pipeline, lifecycle and systemd notification.
noinst_LIBRARIES += src/runtime/libruntime.a
RUNTIME_LIB = src/runtime/libruntime.a
src_runtime_libruntime_a_SOURCES = \
	src/runtime/runtime_internal.h \
	src/runtime/backends.c \
	src/runtime/backends_internal.h \
	src/runtime/backends_aws.c \
	src/runtime/backends_local.c \
	src/runtime/backends_trading.c \
	src/runtime/dashboard.c \
	src/runtime/deadletters.c \
	src/runtime/dlq_watch.c \
	src/runtime/httpd.c \
	src/runtime/metrics.c \
	src/runtime/pages.c \
	src/runtime/pagework.c \
	src/runtime/runsource.c \
	src/runtime/notify.c \
	src/runtime/once.c \
	src/runtime/pipeline.c \
	src/runtime/workers.c \
	src/runtime/runtime.c \
	src/runtime/runtime_main.c

RUNTIME_TESTS = tests/unit/runtime/test_once tests/unit/runtime/test_dlq_watch
RUNTIME_TESTS += tests/unit/runtime/test_backends_trading
check_PROGRAMS += $(RUNTIME_TESTS)
TESTS += $(RUNTIME_TESTS)
tests_unit_runtime_test_once_SOURCES = tests/unit/runtime/test_once.c
tests_unit_runtime_test_once_LDADD = $(RUNTIME_LIB) $(ROUTER_LIB) $(TRADING_LIB) $(EVENTS_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_runtime_test_dlq_watch_SOURCES = tests/unit/runtime/test_dlq_watch.c
tests_unit_runtime_test_backends_trading_SOURCES = tests/unit/runtime/test_backends_trading.c
tests_unit_runtime_test_backends_trading_LDADD = $(ALL_LAYER_LIBS) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_runtime_test_dlq_watch_LDADD = $(ALL_LAYER_LIBS) $(TEST_LIBS) $(DEPS_LIBS)
