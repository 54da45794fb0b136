#!/bin/sh
# A stop during start-up ends the daemon cleanly (exit 0, "stopping
# (SIGTERM)" in its log), not by the signal (143): systemctl stop, or a test's
# TERM, can come while the backends are still being built, before the loop's
# signal handlers exist. gdb stops the daemon inside backends_open() and
# sends it SIGTERM there, so the signal lands in that window every time;
# before the fix it killed the daemon on the spot. The same for --once, and
# SIGHUP there is a reload, not the end of the process. (SIGINT is held the
# same way; gdb keeps that one for itself, so it is not driven here.)
. "$top_srcdir/tests/lib/e2e.sh"
command -v gdb >/dev/null || fail "gdb is needed (scripts/deps.sh installs it)"
write_config

# in_startup SIGNAL [args]: runs the daemon under gdb, raises SIGNAL inside
# backends_open(), lets it go on; prints gdb's verdict on the exit.
in_startup() {
	sig=$1
	shift
	# Emptied here, before gdb starts: truncating it in the background job
	# raced the wait below, which could read the previous run's "started",
	# and TERM this daemon before it reached backends_open().
	: >"$WORK/daemon.log"
	: >"$WORK/gdb.log"
	# LeakSanitizer cannot run under ptrace (it exits 1 at the end): off for
	# this one process; the leak checks of the daemon are in the other tests.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout 120 gdb -q -batch -nx \
	    -ex 'set pagination off' -ex 'set confirm off' \
	    -ex 'handle SIGTERM SIGHUP SIGPIPE nostop noprint pass' \
	    -ex 'break backends_open' -ex 'run' \
	    -ex "python import os; os.kill(gdb.selected_inferior().pid, $sig)" \
	    -ex 'continue' -ex 'info inferiors' \
	    --args "$BIN" -c "$CONF" "$@" >>"$WORK/gdb.log" 2>>"$WORK/daemon.log" &
	g=$!
	# A HUP is not a stop: the daemon runs on until a TERM ends it.
	if [ "$sig" = 1 ]; then
		started() { grep -q 'alchemiserd started' "$WORK/daemon.log"; }
		wait_until 60 started || fail "SIGHUP during start-up: the daemon did not start"
		sleep 1
		pid=$(pgrep -f "^$BIN -c $CONF\$" | head -1 || true)	# the daemon, not gdb
		[ -n "$pid" ] && kill -0 "$pid" || fail "SIGHUP during start-up ended the daemon"
		kill -TERM "$pid"
	fi
	wait "$g" || true
	grep -q 'Breakpoint 1, backends_open' "$WORK/gdb.log" || fail "gdb never stopped in backends_open: $(cat "$WORK/gdb.log")"
	grep -E 'exited normally|exited with code|terminated with signal' "$WORK/gdb.log" | tail -1
}

verdict=$(in_startup 15)
echo "SIGTERM in start-up: $verdict"
case $verdict in *"exited normally"*) ;; *) fail "SIGTERM during start-up: $verdict (want exit 0)" ;; esac
grep -q 'stopping (SIGTERM)' "$WORK/daemon.log" || fail "no 'stopping (SIGTERM)' in the log"

"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"startup-once"}' 2>>"$WORK/send.log" >/dev/null || fail "--send"
verdict=$(in_startup 15 --once)
echo "SIGTERM in --once start-up: $verdict"
case $verdict in *"exited normally"*|*"exited with code"*) ;; *) fail "--once: $verdict" ;; esac

verdict=$(in_startup 1)
echo "SIGHUP in start-up, then SIGTERM: $verdict"
case $verdict in *"exited normally"*) ;; *) fail "SIGHUP during start-up: $verdict" ;; esac
grep -q 'reload' "$WORK/daemon.log" || fail "the SIGHUP held during start-up was not a reload"
echo "stop_during_startup: ok"
