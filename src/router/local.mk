# router layer: decision path of a message (parse, breaker, classify, schema), dispatch tables.
noinst_LIBRARIES += src/router/librouter.a
ROUTER_LIB = src/router/librouter.a
src_router_librouter_a_SOURCES = \
	src/router/command.c \
	src/router/dispatch.c \
	src/router/route.c

ROUTER_TESTS = tests/unit/router/test_route
check_PROGRAMS += $(ROUTER_TESTS)
TESTS += $(ROUTER_TESTS)
tests_unit_router_test_route_SOURCES = tests/unit/router/test_route.c
tests_unit_router_test_route_LDADD = $(ROUTER_LIB) $(TRADING_LIB) $(EVENTS_LIB) $(CORE_LIB) $(TEST_LIBS) $(DEPS_LIBS)
