# core layer: errors, allocation, logging, JSON, config, secrets (numbers.mk adds
# decimal, timeutil and uuid).
noinst_LIBRARIES += src/core/libcore.a
CORE_LIB = src/core/libcore.a
src_core_libcore_a_SOURCES = \
	src/core/err.c \
	src/core/xalloc.c \
	src/core/secret.c \
	src/core/json.c \
	src/core/json_scan.c \
	src/core/log.c \
	src/core/fixbuf.c \
	src/core/queue_message.c \
	src/core/strlist.c \
	src/core/config.c \
	src/core/config_table.c \
	src/core/owner.c

CORE_TESTS = \
	tests/unit/core/test_json \
	tests/unit/core/test_secret \
	tests/unit/core/test_log
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)
tests_unit_core_test_json_SOURCES = tests/unit/core/test_json.c
tests_unit_core_test_json_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_core_test_secret_SOURCES = tests/unit/core/test_secret.c
tests_unit_core_test_secret_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_core_test_log_SOURCES = tests/unit/core/test_log.c
tests_unit_core_test_log_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
CORE_TESTS += tests/unit/core/test_config
tests_unit_core_test_config_SOURCES = tests/unit/core/test_config.c
tests_unit_core_test_config_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
CORE_TESTS += tests/unit/core/test_owner
CORE_TESTS += tests/unit/core/test_fixbuf
tests_unit_core_test_fixbuf_SOURCES = tests/unit/core/test_fixbuf.c
tests_unit_core_test_fixbuf_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_core_test_owner_SOURCES = tests/unit/core/test_owner.c
tests_unit_core_test_owner_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)

# svgchart: inline SVG charts for the backtest report and the dashboard.
src_core_libcore_a_SOURCES += src/core/svgchart.c
CORE_TESTS += tests/unit/core/test_svgchart
tests_unit_core_test_svgchart_SOURCES = tests/unit/core/test_svgchart.c
tests_unit_core_test_svgchart_LDADD = $(CORE_LIB) $(TEST_LIBS) $(CORE_LIB) $(DEPS_LIBS)

# file_watch: an inotify watch on a file's directory entry (the state file's health).
src_core_libcore_a_SOURCES += src/core/file_watch.c
CORE_TESTS += tests/unit/core/test_file_watch
tests_unit_core_test_file_watch_SOURCES = tests/unit/core/test_file_watch.c
tests_unit_core_test_file_watch_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)

# curl_lazy: libcurl loaded on first use (the daemon is linked without it; issue #13).
src_core_libcore_a_SOURCES += src/core/curl_lazy.c
# sdproto: sd_notify and the native journal protocol without libsystemd (issue #13).
src_core_libcore_a_SOURCES += src/core/sdproto.c
CORE_TESTS += tests/unit/core/test_sdproto
tests_unit_core_test_sdproto_SOURCES = tests/unit/core/test_sdproto.c
tests_unit_core_test_sdproto_LDADD = $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
