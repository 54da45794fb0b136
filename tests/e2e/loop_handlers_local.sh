#!/bin/sh
# Issue #13, the loop and its doorbell on the embedded backend:
# 1. Stages marked on_loop (monitor, completed) run on the loop thread with
#    their receive, every other stage on a worker: a whole trade run still
#    ends in one email with every step completed once, and the debug lines
#    name exactly the on_loop stages.
# 2. A backlog drained with on_loop handlers: every message done once, none
#    left, and their outcome lines whole (they are written in batches).
# 3. The doorbell exists only while a receive sleeps: the daemon's inotify
#    descriptor has no watch while a backlog flows, and has one again once
#    the queue is empty (and a --send then still wakes it).
. "$top_srcdir/tests/lib/e2e.sh"

write_config "[trading]" "use_limit_orders = no" "[local]" "poll_interval = 60s"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
# A WorkflowCompleted body (on_loop); printf arguments: event id, correlation id.
COMPLETED='{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s","causation_id":"t","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"t","workflow_type":"trading","workflow_duration_ms":1,"success":true}}'
# backlog N TAG IDTAIL: N WorkflowCompleted messages written straight into the
# work queue, visible now (event ids TAG-1..N, runs TAG-run-1..N, message ids
# ending in IDTAIL, 12 hex digits).
backlog() {
	sqlite3 -batch "$STATE/state.sqlite" <<SQL
PRAGMA busy_timeout = 10000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
INSERT INTO queue_messages (queue, message_id, body, sent_usec, visible_usec)
SELECT 'alchemiser-work', printf('%08x-0000-4000-8000-$3', i),
       CAST(printf('$COMPLETED', '$2-' || i, '$2-run-' || i) AS BLOB),
       CAST(strftime('%s','now') AS INTEGER) * 1000000, CAST(strftime('%s','now') AS INTEGER) * 1000000
FROM n;
SQL
}

# 1. A whole run: the loop takes monitor and completed, the workers the rest.
rc=$(once '{"mode":"trade","correlation_id":"loop-A"}')
[ "$rc" = 0 ] || fail "trade run exited $rc"
[ "$(mails)" = 1 ] || fail "expected one email after a run, got $(mails)"
for t in WorkflowStarted SignalGenerated RebalancePlanned TradeExecuted WorkflowCompleted TradingNotificationRequested; do
	n=$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = 'loop-A' AND detail_type = '$t' AND status = 'COMPLETED'")
	[ "$n" = 1 ] || fail "run loop-A lacks a completed $t ($n)"
done
on_loop=$(grep 'handled on the loop thread' "$WORK/daemon.log" | sed -n 's/.* HANDLER=\([a-z-]*\).*/\1/p' | sort | tr '\n' ' ')
[ "$on_loop" = "completed monitor " ] || fail "stages handled on the loop: '$on_loop', want 'completed monitor '"
for h in start signals portfolio execution notify; do
	grep -q "done $h: .*HANDLER=$h " "$WORK/daemon.log" || fail "stage $h did not run"
done
echo "loop_handlers: monitor and completed ran on the loop, the rest on workers"

# 2. A backlog of WorkflowCompleted: all on the loop, each done once.
N=600
backlog $N bl 00000000abcd
: >"$WORK/daemon.log"
sed -i 's/^log_level = debug/log_level = info/' "$CONF"
rc=0
timeout -s KILL 60 "$BIN" -c "$CONF" --once 2>>"$WORK/daemon.log" || rc=$?
[ "$rc" = 0 ] || fail "--once over the backlog exited $rc"
done_n=$(grep -c 'OUTCOME=done' "$WORK/daemon.log")
[ "$done_n" = "$N" ] || fail "$done_n of $N done"
distinct=$(grep 'OUTCOME=done' "$WORK/daemon.log" | sed -n 's/.* EVENT_ID=\(bl-[0-9]*\) .*/\1/p' | sort -u | wc -l)
[ "$distinct" = "$N" ] || fail "$distinct distinct events done, want $N"
# Whole lines: each outcome line starts with its time stamp and ends with its duration.
bad=$(grep 'OUTCOME=' "$WORK/daemon.log" | grep -cv '^[0-9-]*T[0-9:.]*Z info done completed: .* DURATION_MS=[0-9]*$' || true)
[ "$bad" = 0 ] || fail "$bad outcome lines are not whole"
[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'")" = 0 ] || fail "messages left"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'bl-%' AND status = 'COMPLETED'")" = "$N" ] ||
	fail "not every claim of the backlog completed"
echo "loop_handlers: a backlog of $N handled on the loop, each once"

# 3. The doorbell's watch: none while a backlog flows, one while asleep.
N=20000
backlog $N fl 00000000dcba
left() { sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'"; }
# The daemon's inotify descriptor and its watches ("inotify wd:" lines).
bell_fdinfo() {
	for fd in /proc/$DAEMON_PID/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:inotify" ] && { cat "/proc/$DAEMON_PID/fdinfo/${fd##*/}"; return 0; }
	done
	return 1
}
watches() { bell_fdinfo | grep -c '^inotify wd:' || true; }
seen_none=no
start_daemon
while kill -0 "$DAEMON_PID" 2>/dev/null && [ "$(left)" -gt 1000 ]; do
	if bell_fdinfo >/dev/null && [ "$(watches)" = 0 ]; then seen_none=yes; break; fi
	sleep 0.02
done
[ "$seen_none" = yes ] || fail "the doorbell kept its watch while a backlog flowed"
wait_until 90 sh -c "[ \"\$(sqlite3 -batch -noheader '$STATE/state.sqlite' \"SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'\")\" = 0 ]" ||
	fail "backlog not drained: $(left) left"
asleep() { [ "$(watches)" = 1 ]; }
wait_until 20 asleep || fail "no doorbell watch once the queue was empty ($(watches))"
"$BIN" -c "$CONF" --send --event "$(printf "$COMPLETED" wake-1 wake-run)" >/dev/null 2>>"$WORK/send.log" || fail "send"
woke() { grep -q 'EVENT_ID=wake-1 .*OUTCOME=done' "$WORK/daemon.log"; }
# Far below the 60 s backstop: only the doorbell delivers in time.
wait_until 12 woke || fail "the re-armed doorbell did not wake the daemon"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "daemon exited $? on SIGTERM"
echo "loop_handlers_local: ok"
