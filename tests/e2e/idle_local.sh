#!/bin/sh
# An idle embedded daemon sleeps (issue #13). With nothing to do, its only
# wake-ups are the watchdog pings (every WATCHDOG_USEC / 2), the end of each
# long poll (daemon.poll_wait) and whatever is due: no one-second
# housekeeping tick. Counted as the voluntary context switches of all its
# threads (every sleep on a timer or a descriptor ends in one) over an idle
# window, with a bound far above what the schedule needs (about 0.25/s here)
# and far below what a 1 s tick costs (over 1/s): a count of timers, not a
# speed. It still does everything the tick did: pings systemd while idle,
# says a changed STATUS= at once (status_interval is 60 s here, so only the
# quiet-again transition can say it within the wait), sends the counters
# again after a reload, and stops at once when its state file is deleted
# (an inotify watch on the file's entry; the 20 s long poll cannot).
. "$top_srcdir/tests/lib/e2e.sh"

write_config
sed -i 's/^poll_wait = .*/poll_wait = 20s/; s/^status_interval = .*/status_interval = 60s/; s/^log_level = .*/log_level = info/' "$CONF"

PROMPT=12	# well under the 20 s long poll and the 60 s status interval
WINDOW=15	# seconds of idle counted
LIMIT=9		# 0.6 wake-ups per second over WINDOW
# vcsw: the voluntary context switches of every thread of the daemon.
vcsw() {
	cat /proc/"$DAEMON_PID"/task/*/status 2>/dev/null |
	    awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
# vcsw_others: the same for every thread but the loop's (the main thread):
# the workers, the claim renewer and the page workers wait on condition
# variables without a timeout while nothing is in flight, so an idle
# daemon's only wake-ups are its loop's (a thread that polled a condition
# variable would cost CPU on every wake-up without showing in strace of
# the loop).
vcsw_others() {
	for t in /proc/"$DAEMON_PID"/task/*; do
		[ "${t##*/}" = "$DAEMON_PID" ] || cat "$t/status" 2>/dev/null
	done | awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
pings() { grep -c '^WATCHDOG=1' "$NOTIFY_LOG" || true; }
event() {
	printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s-run","causation_id":"idle","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"idle","workflow_type":"trading","workflow_duration_ms":1,"success":true}}' "$1" "$1"
}

start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCKET WATCHDOG_USEC=10000000 start_daemon
wait_until 20 grep -q '^STATUS=running; received 0' "$NOTIFY_LOG" || fail "no STATUS=running"
# Start-up settles (the first receive goes to sleep on the empty queue).
sleep 2

# 1. Idle: few wake-ups, yet the watchdog is pinged.
p0=$(pings)
v0=$(vcsw)
o0=$(vcsw_others)
sleep $WINDOW
o1=$(vcsw_others)
v1=$(vcsw)
p1=$(pings)
kill -0 "$DAEMON_PID" || fail "the daemon died while idle"
wakeups=$((v1 - v0))
echo "idle: $wakeups wake-ups in $WINDOW s ($((o1 - o0)) outside the loop's thread), $((p1 - p0)) watchdog pings"
[ "$wakeups" -le $LIMIT ] || fail "$wakeups wake-ups in $WINDOW s of idle (at most $LIMIT): a periodic timer runs"
[ "$((o1 - o0))" -eq 0 ] || fail "$((o1 - o0)) wake-ups of threads other than the loop's in $WINDOW s of idle (want 0)"
[ "$((p1 - p0))" -ge 1 ] || fail "no WATCHDOG=1 in $WINDOW s of idle with WATCHDOG_USEC=10s"

# 2. A message handled: STATUS= says so once the daemon is quiet again.
"$BIN" -c "$CONF" --send --event "$(event idle-1)" >/dev/null 2>>"$WORK/send.log" || fail "--send"
wait_until $PROMPT grep -q '^STATUS=running; received 1, done 1,' "$NOTIFY_LOG" ||
	fail "STATUS did not say the message was done within $PROMPT s"

# 3. A reload replaces STATUS= with "running": the counters come back soon.
kill -HUP "$DAEMON_PID"
wait_until $PROMPT grep -q '^READY=1|STATUS=running$' "$NOTIFY_LOG" || fail "no READY=1 after the reload"
counters_after_reload() { sed -n '/^READY=1|STATUS=running$/,$p' "$NOTIFY_LOG" | grep -q '^STATUS=running; received 1,'; }
wait_until $PROMPT counters_after_reload || fail "STATUS did not show the counters again within $PROMPT s of the reload"

# 4. The state file deleted while idle: noticed at once, exit 1 naming it.
sleep 1
rm -f "$STATE/state.sqlite"
gone() { ! kill -0 "$DAEMON_PID" 2>/dev/null; }
wait_until $PROMPT gone || fail "the daemon still runs $PROMPT s after its state file was deleted"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc after the state file was deleted, want 1"
grep -q "state file '$STATE/state.sqlite' was deleted while in use" "$WORK/daemon.log" ||
	fail "the deletion is not logged with the file's name"
echo "idle_local: ok"
