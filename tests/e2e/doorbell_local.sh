#!/bin/sh
# The idle embedded daemon sleeps (issue #13): no periodic re-check of its
# queue, yet a --send from another process wakes it at once through the
# doorbell (an inotify watch on the state file's folder that sees the WAL
# written). The backstop (local.poll_interval) and the long poll
# (daemon.poll_wait) are set far above the bounded waits here, so only the
# doorbell can deliver in time. Then two daemons on one state file: every
# event is handled exactly once, and each daemon's doorbell works (the
# second one alone after the first stopped).
. "$top_srcdir/tests/lib/e2e.sh"

write_config "[local]" "poll_interval = 60s"
sed -i 's/^poll_wait = .*/poll_wait = 20s/; s/^log_level = debug/log_level = info/' "$CONF"

# Well under the 20 s long poll and the 60 s backstop; normally milliseconds.
PROMPT=12
event() {
	printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s-run","causation_id":"door","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"door","workflow_type":"trading","workflow_duration_ms":1,"success":true}}' "$1" "$1"
}
send() { "$BIN" -c "$CONF" --send --event "$(event "$1")" >/dev/null 2>>"$WORK/send.log" || fail "send $1"; }
handled() { cat "$WORK"/d1.log "$WORK"/d2.log 2>/dev/null | grep 'OUTCOME=done' | grep -c "EVENT_ID=$1 " || true; }
handled_once() { [ "$(handled "$1")" = 1 ]; }
handled_by() { grep 'OUTCOME=done' "$WORK/$2.log" | grep -q "EVENT_ID=$1 "; }
ready() { grep -q "$1" "$WORK/notify.out" 2>/dev/null; }

start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCKET "$BIN" -c "$CONF" 2>>"$WORK/d1.log" &
D1=$!
PIDS="$PIDS $D1"
( sleep 110; kill -9 "$D1" 2>/dev/null ) >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_until 20 ready "READY=1" || fail "daemon 1 not READY"
# Let its first receive go to sleep on the empty queue.
sleep 2

# 1. One daemon asleep: a --send from another process is picked up promptly.
send door-1
wait_until $PROMPT handled_once door-1 || fail "door-1 not handled within $PROMPT s by the sleeping daemon"
echo "doorbell: a sleeping daemon picked up a --send"

# 2. Two daemons on one state file: each event exactly once.
"$BIN" -c "$CONF" 2>>"$WORK/d2.log" &
D2=$!
PIDS="$PIDS $D2"
( sleep 100; kill -9 "$D2" 2>/dev/null ) >/dev/null 2>&1 &
PIDS="$PIDS $!"
wait_until 20 grep -q "started" "$WORK/d2.log" || fail "daemon 2 did not start"
sleep 2
for i in 2 3 4 5 6 7; do send door-$i; done
for i in 2 3 4 5 6 7; do
	wait_until $PROMPT handled_once door-$i || fail "door-$i not handled exactly once within $PROMPT s (handled $(handled door-$i) times)"
done
echo "doorbell: two daemons handled every event once"

# 3. The second daemon's own doorbell: the first one stops, a --send wakes it.
kill -TERM "$D1"
wait "$D1" || fail "daemon 1 exited $? on SIGTERM"
sleep 1
send door-8
wait_until $PROMPT handled_by door-8 d2 || fail "door-8 not handled within $PROMPT s by daemon 2"
handled_once door-8 || fail "door-8 handled $(handled door-8) times"
handled_by door-1 d1 || fail "door-1 was not handled by daemon 1"
kill -TERM "$D2"
wait "$D2" || fail "daemon 2 exited $? on SIGTERM"
[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'")" = 0 ] || fail "messages left in the work queue"
echo "doorbell_local: ok"
