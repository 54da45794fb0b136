#!/bin/sh
# run-valgrind.sh BUILD_DIR: memcheck over a plain (non-sanitizer) build.
#  1. the end-to-end embedded workflow: alchemiserd --once with a trade
#     command on the embedded default in a scratch state dir (SQLite queue,
#     paper broker, sample bars, maildir), which must end with its trading
#     email; then a signal-only run and a P&L command on the same state;
#  2. a few unit test programs (CK_FORK=no, so valgrind sees the tests
#     themselves) and the fuzz corpus replay (tests/fuzz/replay).
# Each runs under valgrind --error-exitcode=1 --leak-check=full
# --errors-for-leak-kinds=definite with tests/valgrind/alchemiserd.supp.
# Fails on any memcheck error or definite leak; prints one line per program
# and, for a failure, the valgrind report. Logs: $VALGRIND_LOGS (default
# BUILD_DIR/tests/valgrind/).
#   VALGRIND_UNITS="tests/unit/router/test_route ..."  override the unit list
set -u
if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
logs=${VALGRIND_LOGS:-$build/tests/valgrind}
bin="$build/src/alchemiserd"
supp="$src/tests/valgrind/alchemiserd.supp"

command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }
[ -x "$bin" ] || { echo "valgrind: $bin not built" >&2; exit 2; }
# ASan and valgrind cannot share a process.
if grep -q __asan_init "$bin" 2>/dev/null; then
	echo "valgrind: $build is a sanitizer or fuzzing build; use a plain one" >&2
	exit 2
fi
mkdir -p "$logs" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/alchemiser-valgrind.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# The environment make check gives the tests.
shared=$(sed -n 's/^SHARED_DIR = //p' "$build/Makefile" | sed "s|\$(abs_top_srcdir)|$src|")
top_srcdir=$src top_builddir=$build SHARED_DIR=${shared:-$src/../shared}
CK_DEFAULT_TIMEOUT=600 CK_FORK=no
export top_srcdir top_builddir SHARED_DIR CK_DEFAULT_TIMEOUT CK_FORK

VG="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --num-callers=30 --suppressions=$supp"
failed=0

# vg NAME TIMEOUT CMD...: run CMD under memcheck, print the verdict line.
vg() {
	name=$1 limit=$2
	shift 2
	log="$logs/$(echo "$name" | tr '/ ' '__').vg.log"
	out="$logs/$(echo "$name" | tr '/ ' '__').out"
	start=$(date +%s)
	rc=0
	timeout -s KILL "$limit" $VG --log-file="$log" "$@" >"$out" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	# Summed over the process and any child it forked (same log, other PIDs).
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d , | awk '{ n += $1 } END { print n + 0 }')
	if [ "$rc" -eq 0 ] && [ "${errs:-x}" = 0 ]; then
		printf 'valgrind %-28s ok    %3ss  0 errors, definitely lost %s bytes\n' "$name" "$secs" "${lost:-0}"
		return 0
	fi
	failed=$((failed + 1))
	printf 'valgrind %-28s FAIL  %3ss  exit %s, %s errors, definitely lost %s bytes (log %s)\n' \
		"$name" "$secs" "$rc" "${errs:-?}" "${lost:-0}" "$log"
	[ "$rc" -eq 137 ] && echo "  killed after ${limit}s"
	# The report itself, without the preamble.
	grep -v -E '^==[0-9]+== (Memcheck|Copyright|Using Valgrind|Command|Parent PID|$)' "$log" | head -n 80 | sed 's/^/  /'
	tail -n 15 "$out" | sed 's/^/  | /'
	return 1
}

# 1. The embedded workflow once (like tests/e2e/workflow_local.sh, run 1).
state="$work/state"
cat >"$work/alchemiserd.conf" <<CONF
[daemon]
backend = local
state_dir = $state
concurrency = 2
poll_wait = 1s
once_idle_wait = 1s
shutdown_timeout = 60s
log_level = debug
[trading]
mode = paper
broker = sim
market_data = csv
ignore_market_hours = yes
use_limit_orders = no
data_dir = $src/etc/sample-data
as_of = 2026-11-20
strategy_set = $src/etc/strategies/strategy.json
[mail]
transport = maildir
maildir = $state/mail
to = trader@localhost
CONF
# once NAME BODY EMAILS: one --once run of BODY, after which the maildir must
# hold EMAILS messages (so the workflow really ran to its email).
once() {
	if vg "$1" 300 "$bin" -c "$work/alchemiserd.conf" --once --event "$2"; then
		n=$(ls "$state/mail/new" 2>/dev/null | wc -l)
		if [ "$n" != "$3" ]; then
			echo "valgrind $1: expected $3 emails in the maildir, found $n"
			tail -n 20 "$logs/$1.out" | sed 's/^/  | /'
			failed=$((failed + 1))
		fi
	fi
}
once alchemiserd-once-trade '{"mode":"trade","correlation_id":"valgrind-1"}' 1
once alchemiserd-once-bot '{"mode":"bot","correlation_id":"valgrind-2"}' 2
once alchemiserd-once-pnl '{"action":"pnl_analysis","pnl_type":"weekly","correlation_id":"valgrind-3"}' 3
# --backtest with every output (CSV, JSON, the HTML report with its charts).
if vg alchemiserd-backtest 300 "$bin" -c "$work/alchemiserd.conf" --backtest \
    "$src/etc/strategies/strategy.json" --data "$src/etc/sample-data" --from 2026-06-01 \
    --to 2026-11-20 --out "$work/backtest"; then
	[ -s "$work/backtest/report.html" ] || { echo "valgrind --backtest: no report"; failed=$((failed + 1)); }
fi

# 2. Unit tests in-process, and the fuzz corpus.
# Programs that fork() are left out: their children inherit the test's heap
# and leave through _exit(), which memcheck reports as leaks of the child.
units=${VALGRIND_UNITS:-"tests/unit/core/test_config tests/unit/core/test_json
	tests/unit/core/test_decimal tests/unit/core/test_svgchart tests/unit/events/test_events tests/unit/router/test_route
	tests/unit/aws/test_sigv4 tests/unit/local/test_sqlite_bus tests/unit/local/test_sqlite_idem
	tests/unit/dsl/test_dsl_parse tests/unit/dsl/test_dsl_eval tests/unit/mail/test_mime
	tests/unit/mail/test_report tests/unit/trading/test_broker_sim tests/fuzz/replay"}
for u in $units; do
	if [ ! -x "$build/$u" ]; then
		echo "valgrind $u: not built (make check builds it)"
		failed=$((failed + 1))
		continue
	fi
	vg "$u" 300 "$build/$u" || true
done

[ "$failed" -eq 0 ]
