# local layer: the embedded default backend (SQLite queue, bus, idempotency
# store) and the EventBridge pattern matcher (see Makefile.am).
noinst_LIBRARIES += src/local/liblocal.a
LOCAL_LIB = src/local/liblocal.a
src_local_liblocal_a_SOURCES = \
	src/local/pattern.c \
	src/local/pattern_text.c \
	src/local/pattern_internal.h \
	src/local/sqlite_state.c \
	src/local/sqlite_mem.c \
	src/local/sqlite_mem.h \
	src/local/sqlite_runs.c \
	src/local/sqlite_internal.h \
	src/local/sqlite_queue.c \
	src/local/sqlite_queue_sql.c \
	src/local/sqlite_queue_internal.h \
	src/local/sqlite_idem.c \
	src/local/sqlite_bus.c

LOCAL_TESTS = \
	tests/unit/local/test_pattern \
	tests/unit/local/test_sqlite_state \
	tests/unit/local/test_sqlite_queue \
	tests/unit/local/test_sqlite_idem \
	tests/unit/local/test_sqlite_bus \
	tests/unit/local/test_sqlite_runs \
	tests/unit/local/test_sqlite_mem
LOCAL_TEST_LDADD = $(LOCAL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
tests_unit_local_test_pattern_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_state_SOURCES = tests/unit/local/test_sqlite_state.c \
	tests/unit/local/local_test.h
tests_unit_local_test_sqlite_state_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_queue_SOURCES = tests/unit/local/test_sqlite_queue.c \
	tests/unit/local/local_test.h
tests_unit_local_test_sqlite_queue_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_idem_SOURCES = tests/unit/local/test_sqlite_idem.c \
	tests/unit/local/local_test.h
tests_unit_local_test_sqlite_idem_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_bus_SOURCES = tests/unit/local/test_sqlite_bus.c \
	tests/unit/local/local_test.h
tests_unit_local_test_sqlite_bus_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_runs_SOURCES = tests/unit/local/test_sqlite_runs.c \
	tests/unit/local/local_test.h
tests_unit_local_test_sqlite_runs_LDADD = $(LOCAL_TEST_LDADD)
tests_unit_local_test_sqlite_mem_LDADD = $(LOCAL_TEST_LDADD)

check_PROGRAMS += $(LOCAL_TESTS)
TESTS += $(LOCAL_TESTS)
dist_noinst_DATA += tests/data/local/patterns.json

# The floor of embedded dispatch (issue #13): one thread, one connection,
# cached statements, 10-32 messages per transaction; bench/run measures it
# beside the daemon. Built by `make bench`, never installed.
EXTRA_PROGRAMS += bench/floor_sqlite
bench_floor_sqlite_SOURCES = bench/floor_sqlite.c src/local/sqlite_mem.c src/local/sqlite_mem.h \
	src/core/owner.c src/core/fixbuf.c
bench_floor_sqlite_LDADD = $(SQLITE_LIBS)
CLEANFILES += bench/floor_sqlite
