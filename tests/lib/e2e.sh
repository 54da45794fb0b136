# Shared by the end-to-end tests: a scratch folder, a config for the embedded
# backend, the daemon started under a wall-clock limit and stopped by PID, and
# bounded waits on conditions (never a bare sleep for readiness).
set -eu
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
BIN="$top_builddir/src/alchemiserd"
PY=${PYTHON3:-python3}
WORK=$(mktemp -d /tmp/alchemiser-e2e.XXXXXX)
STATE="$WORK/state"
CONF="$WORK/alchemiserd.conf"
PIDS=""

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; } >&2; done
	exit 1
}

# write_config [extra INI lines...]: embedded backend in $STATE, quick timings.
write_config() {
	cat >"$CONF" <<CONF
[daemon]
backend = local
state_dir = $STATE
concurrency = 2
poll_wait = 1s
once_idle_wait = 300ms
retry_backoff_base = 1s
retry_backoff_max = 2s
shutdown_timeout = 5s
status_interval = 1s
log_level = debug
[trading]
ignore_market_hours = yes
data_dir = $top_srcdir/etc/sample-data
# The sample bars end on this session (alchemiserd.conf(5) trading.as_of).
as_of = 2026-11-20
strategy_set = $top_srcdir/etc/strategies/strategy.json
[mail]
maildir = $STATE/mail
CONF
	for line in "$@"; do printf '%s\n' "$line" >>"$CONF"; done
}

# wait_until SECONDS COMMAND...: run COMMAND until it succeeds or time runs out.
wait_until() {
	limit=$1
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# start_notify_listener: sets NOTIFY_SOCKET and NOTIFY_LOG.
start_notify_listener() {
	NOTIFY_SOCKET="$WORK/notify.sock"
	NOTIFY_LOG="$WORK/notify.out"
	: >"$NOTIFY_LOG"
	"$PY" "$top_srcdir/tests/lib/notify_listener.py" "$NOTIFY_SOCKET" "$NOTIFY_LOG" \
	    --timeout "${E2E_WALL_LIMIT:-120}" &
	PIDS="$PIDS $!"
	wait_until 10 grep -q LISTENING "$NOTIFY_LOG" || fail "notify listener did not start"
}

# start_daemon [args...]: runs the daemon in the background (stderr in $WORK/daemon.log),
# under a wall-clock limit (E2E_WALL_LIMIT seconds, 120 by default: a test whose own
# bounded waits add up to more sets it higher); sets DAEMON_PID.
start_daemon() {
	"$BIN" -c "$CONF" "$@" 2>>"$WORK/daemon.log" &
	DAEMON_PID=$!
	PIDS="$PIDS $DAEMON_PID"
	# Wall-clock limit: the daemon never outlives the test by more than that.
	( sleep "${E2E_WALL_LIMIT:-120}"; kill -9 "$DAEMON_PID" 2>/dev/null ) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
}

# once BODY: alchemiserd --once with BODY; prints the exit code.
once() {
	rc=0
	timeout -s KILL 60 "$BIN" -c "$CONF" --once --event "$1" 2>>"$WORK/daemon.log" || rc=$?
	echo "$rc"
}

# A busy timeout: the daemon (and its paper broker) hold the write lock for
# moments; without one a write here fails at once with "database is locked".
sql() {
	sqlite3 -batch -noheader -cmd ".timeout 10000" "$STATE/state.sqlite" "$1"
}
