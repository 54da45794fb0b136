# Fuzzing (issue #9, style.md §7.10). Five targets share their entry points
# (tests/fuzz/fuzz.h):
#   router  route_message(): a queue message body -> decision
#   event   domain_event_from_detail(): the event codec
#   dsl     dsl_program_parse() + dsl_evaluate() on fixed synthetic bars
#   config  config_load_string() and the getters
#   sigv4   sigv4_sign() and the canonical URI / query
# Every build: tests/fuzz/replay runs the committed corpus and every
# regression input of every target through them (under ASan/UBSan with
# --enable-sanitizers). With ./configure --enable-fuzzing CC=clang, the
# libFuzzer binaries tests/fuzz/fuzz_<target> are built by make check too,
# and tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS runs them (make fuzz-run).
FUZZ_TARGET_SOURCES = \
	tests/fuzz/fuzz.h \
	tests/fuzz/fuzz_router.c \
	tests/fuzz/fuzz_event.c \
	tests/fuzz/fuzz_dsl.c \
	tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_sigv4.c \
	tests/fuzz/fuzz_http.c
# Top-down static link order; the targets span the layers on purpose.
FUZZ_LINK_LIBS = $(RUNTIME_LIB) $(ROUTER_LIB) $(DSL_LIB) $(TRADING_LIB) $(MAIL_LIB) $(LOCAL_LIB) \
	$(AWS_LIB) $(EVENTS_LIB) $(CORE_LIB) $(DEPS_LIBS)

check_PROGRAMS += tests/fuzz/replay
TESTS += tests/fuzz/replay
tests_fuzz_replay_SOURCES = tests/fuzz/replay.c $(FUZZ_TARGET_SOURCES)
tests_fuzz_replay_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_fuzz_replay_LDADD = $(FUZZ_LINK_LIBS)

EXTRA_DIST += \
	tests/fuzz/README.md \
	tests/fuzz/run-fuzzers.sh \
	tests/fuzz/router.dict tests/fuzz/event.dict tests/fuzz/dsl.dict \
	tests/fuzz/config.dict tests/fuzz/sigv4.dict tests/fuzz/http.dict \
	tests/fuzz/corpus tests/fuzz/regressions \
	tests/valgrind/run-valgrind.sh tests/valgrind/alchemiserd.supp

if ENABLE_FUZZING
# Coverage instrumentation and the sanitizers for everything (the layer
# libraries are what is fuzzed), libFuzzer's main only for the fuzz binaries.
# UBSan findings abort, so libFuzzer reports them as crashes.
FUZZ_SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
AM_CFLAGS += -fsanitize=fuzzer-no-link $(FUZZ_SAN_FLAGS)
AM_LDFLAGS += $(FUZZ_SAN_FLAGS)

FUZZ_BINS = \
	tests/fuzz/fuzz_router \
	tests/fuzz/fuzz_event \
	tests/fuzz/fuzz_dsl \
	tests/fuzz/fuzz_config \
	tests/fuzz/fuzz_sigv4 \
	tests/fuzz/fuzz_http
check_PROGRAMS += $(FUZZ_BINS)
FUZZ_CPP_DEFS = $(AM_CPPFLAGS) -DFUZZ_LIBFUZZER
FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer

tests_fuzz_fuzz_router_SOURCES = tests/fuzz/fuzz_router.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_router_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_router_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_router_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_event_SOURCES = tests/fuzz/fuzz_event.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_event_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_event_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_event_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_dsl_SOURCES = tests/fuzz/fuzz_dsl.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_dsl_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_dsl_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_dsl_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_config_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_sigv4_SOURCES = tests/fuzz/fuzz_sigv4.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_sigv4_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_sigv4_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_sigv4_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_http_CPPFLAGS = $(FUZZ_CPP_DEFS)
tests_fuzz_fuzz_http_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_http_LDADD = $(FUZZ_LINK_LIBS)

# make fuzz-run [FUZZ_SECONDS=20]: every target for a bounded time.
fuzz-run: $(FUZZ_BINS)
	$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzzers.sh $(top_builddir) $${FUZZ_SECONDS:-20}
else
fuzz-run:
	@echo "fuzz-run: configure with --enable-fuzzing CC=clang" >&2; exit 1
endif

# make valgrind-check: the end-to-end workflow and some unit tests under memcheck.
valgrind-check: src/alchemiserd $(check_PROGRAMS)
	$(SHELL) $(top_srcdir)/tests/valgrind/run-valgrind.sh $(top_builddir)
.PHONY: fuzz-run valgrind-check
