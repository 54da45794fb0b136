# local layer: the embedded default backend (SQLite queue, bus, idempotency
# store) and the EventBridge pattern matcher (see Makefile.am).
noinst_LIBRARIES += src/local/liblocal.a
LOCAL_LIB = src/local/liblocal.a
src_local_liblocal_a_SOURCES = \
	src/local/pattern.c \
	src/local/pattern_text.c \
	src/local/pattern_internal.h

LOCAL_TESTS = \
	tests/unit/local/test_pattern
tests_unit_local_test_pattern_LDADD = $(LOCAL_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)

check_PROGRAMS += $(LOCAL_TESTS)
TESTS += $(LOCAL_TESTS)
dist_noinst_DATA += tests/data/local/patterns.json
