# Benchmarks: `make bench` builds every bench program and runs bench/run, which
# prints one table per area and writes bench/results/<date>-<shortsha>.md.
# Measures, never asserts; bounded to 15 minutes of wall clock; loopback only.
# The bench programs are EXTRA_PROGRAMS of their layers' fragments.
bench_binaries = bench/bench_dsl$(EXEEXT) bench/bench_aws$(EXEEXT) bench/bench_trading$(EXEEXT) \
	tools/gen-sample-data$(EXEEXT) bench/floor_sqlite$(EXEEXT) bench/idle_floor$(EXEEXT)
# The idle floor: an idle wake-up with the daemon's system calls and no work.
EXTRA_PROGRAMS += bench/idle_floor
bench_idle_floor_SOURCES = bench/idle_floor.c
CLEANFILES += bench/idle_floor

dist_noinst_SCRIPTS += bench/run
# The workflow bench counts only runs that end in the trading report (rows, not times).
TESTS += bench/workflow_check.sh
EXTRA_DIST += bench/workflow_check.sh
EXTRA_DIST += bench/README.md bench/lib bench/peers/package.json bench/peers/package-lock.json \
	bench/peers/consumer.mjs

# The whole run takes 15-25 minutes on 2 cores (limit 30); each part alone
# stays under 15: bench-embedded (embedded dispatch, idle, workflow latency),
# bench-moto (moto and the peers), bench-other (microbenchmarks, backtest).
BENCH_ENV = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	SHARED_DIR='$(SHARED_DIR)' PYTHON3='$(PYTHON3)' NODE='$(NODE)'

.PHONY: bench bench-embedded bench-moto bench-other
bench: $(sbin_PROGRAMS) $(bench_binaries)
	$(BENCH_ENV) timeout -s TERM -k 30 1800 bash '$(abs_top_srcdir)/bench/run'
bench-embedded: $(sbin_PROGRAMS) $(bench_binaries)
	$(BENCH_ENV) BENCH_SECTIONS='embedded workflow' \
	timeout -s TERM -k 30 900 bash '$(abs_top_srcdir)/bench/run'
bench-moto: $(sbin_PROGRAMS) $(bench_binaries)
	$(BENCH_ENV) BENCH_SECTIONS='moto' timeout -s TERM -k 30 900 bash '$(abs_top_srcdir)/bench/run'
bench-other: $(sbin_PROGRAMS) $(bench_binaries)
	$(BENCH_ENV) BENCH_SECTIONS='micro backtest' \
	timeout -s TERM -k 30 900 bash '$(abs_top_srcdir)/bench/run'
