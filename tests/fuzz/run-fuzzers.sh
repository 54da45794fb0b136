#!/bin/sh
# run-fuzzers.sh BUILD_DIR [SECONDS] [TARGET...]: run each libFuzzer target of
# a build configured with --enable-fuzzing CC=clang for SECONDS (default 20)
# on a scratch copy of its committed seed corpus (the committed one never
# grows), with its dictionary, the regression inputs as extra seeds, and a
# bounded input size. Prints one line per target:
#     fuzz router  ok    20s  1234567 runs  61728 exec/s  cov 812  corpus 29->143
# and fails if any target crashed, leaked, timed out, ran out of memory or
# broke an invariant. A failing target's input is copied to
# $FUZZ_ARTIFACTS (default BUILD_DIR/tests/fuzz/artifacts/<target>/) and the
# tail of its log is printed: add the input under
# tests/fuzz/regressions/<target>/ so tests/fuzz/replay keeps checking it.
#   FUZZ_JOBS=N   targets run N at a time (default: number of CPUs)
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [SECONDS] [TARGET...]" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
secs=${2:-20}
shift
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-router event dsl config sigv4 http}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
artifacts=${FUZZ_ARTIFACTS:-$build/tests/fuzz/artifacts}
work=$(mktemp -d "${TMPDIR:-/tmp}/alchemiser-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# Largest input worth trying per target: bodies and requests are small, a
# strategy or a config file a little bigger.
max_len() {
	case $1 in
	router|event) echo 4096 ;;
	dsl|config) echo 8192 ;;
	sigv4) echo 2048 ;;
	http) echo 512 ;;
	*) echo 4096 ;;
	esac
}

run_one() {
	t=$1
	bin="$build/tests/fuzz/fuzz_$t"
	log="$work/$t.log"
	if [ ! -x "$bin" ]; then
		echo "fuzz $t  FAIL  $bin not built (configure --enable-fuzzing CC=clang; make check)" >"$work/$t.line"
		return
	fi
	mkdir -p "$work/$t/corpus" "$work/$t/crash"
	cp "$here/corpus/$t"/* "$work/$t/corpus/" 2>/dev/null
	regs=""
	for f in "$here/regressions/$t"/*; do
		[ -f "$f" ] && { regs="$here/regressions/$t"; break; }
	done
	start=$(date +%s)
	# -rss_limit_mb: the DSL keeps bar caches; 1 GiB is far above any sane input.
	# -timeout: one input taking over 10 s is a hang. Leaks are detected at the
	# end of each input (-detect_leaks=1 is libFuzzer's default with ASan).
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 -dict="$here/$t.dict" \
		-artifact_prefix="$work/$t/crash/" \
		"$work/$t/corpus" $regs >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+' "$log" | sed -n 's/.* cov: \([0-9]*\).*/\1/p' | tail -n 1)
	seeds=$(ls "$here/corpus/$t" | wc -l)
	grown=$(ls "$work/$t/corpus" | wc -l)
	if [ $rc -eq 0 ] && ! ls "$work/$t/crash"/* >/dev/null 2>&1; then
		status=ok
	else
		status=FAIL
		mkdir -p "$artifacts/$t"
		cp "$work/$t/crash"/* "$artifacts/$t/" 2>/dev/null
		cp "$log" "$artifacts/$t/fuzz.log"
	fi
	printf 'fuzz %-7s %-4s %4ss %9s runs %7s exec/s  cov %-5s corpus %s->%s\n' \
		"$t" "$status" "$((end - start))" "${runs:-?}" "${eps:-?}" "${cov:-?}" "$seeds" "$grown" \
		>"$work/$t.line"
	if [ "$status" = FAIL ]; then
		{
			echo "---- $t (exit $rc): inputs in $artifacts/$t/"
			grep -E 'ERROR|SUMMARY|invariant|Test unit written|#[0-9]+ in ' "$log" | head -n 40
		} >>"$work/$t.line"
	fi
}

# Run the targets $jobs at a time, then print in the order asked.
running=0
for t in $targets; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

failed=0
for t in $targets; do
	cat "$work/$t.line"
	head -n 1 "$work/$t.line" | grep -q ' ok ' || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
