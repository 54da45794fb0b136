# events layer: catalogue, codec, envelope, deterministic ids.
noinst_LIBRARIES += src/events/libevents.a
EVENTS_LIB = src/events/libevents.a
src_events_libevents_a_SOURCES = \
	src/events/catalogue.c \
	src/events/domain_event.c \
	src/events/envelope.c \
	src/events/ids.c

EVENTS_TESTS = tests/unit/events/test_events
check_PROGRAMS += $(EVENTS_TESTS)
TESTS += $(EVENTS_TESTS)
tests_unit_events_test_events_SOURCES = tests/unit/events/test_events.c
tests_unit_events_test_events_LDADD = $(EVENTS_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
