#!/bin/sh
# The daemon end to end on the embedded default (real SQLite state file):
# TradeExecuted -> TradingNotificationRequested; WorkflowFailed -> exactly one
# ErrorNotificationRequested; the same event twice -> duplicate; a malformed
# body -> parked in the dead-letter queue with its reason; SIGTERM under load
# strands nothing; kill -9 mid-run -> everything processed exactly once.
. "$top_srcdir/tests/lib/e2e.sh"

write_config
# Short visibility and lease so redelivery after kill -9 is quick.
sed -i 's/^\[daemon\]$/[daemon]\nvisibility_timeout = 2s\nidempotency_lease = 5s/' "$CONF"

detail() { # TYPE EVENT_ID CORRELATION EXTRA_JSON
	printf '{"detail-type":"%s","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s","causation_id":"cause","event_type":"%s","timestamp":"2025-10-14T12:00:00Z","source_module":"execution_v2.handlers",%s}}' \
		"$1" "$2" "$3" "$1" "$4"
}
count_type() { # DETAIL_TYPE: distinct event ids of that type, queued or completed
	sql "SELECT COUNT(DISTINCT id) FROM (
	       SELECT json_extract(body, '\$.detail.event_id') AS id FROM queue_messages
	        WHERE json_extract(body, '\$.detail-type') = '$1'
	       UNION ALL SELECT key FROM idempotency WHERE detail_type = '$1' AND status = 'COMPLETED')"
}

# 1. TradeExecuted -> one TradingNotificationRequested for the same run.
te=$(detail TradeExecuted te-1 run-1 '"execution_data":{"total_trade_value":"1500.25","orders":[]},"success":true,"orders_placed":1,"orders_succeeded":1')
once "$te" >/dev/null
grep -q 'done monitor: trading notification requested (success) CORRELATION_ID=run-1 EVENT_ID=te-1' "$WORK/daemon.log" ||
	fail "TradeExecuted not handled by monitor"
[ "$(count_type TradingNotificationRequested)" = 1 ] || fail "expected one TradingNotificationRequested"
[ "$(sql "SELECT json_extract(body, '\$.detail.total_trade_value') FROM queue_messages WHERE json_extract(body, '\$.detail-type') = 'TradingNotificationRequested' UNION SELECT '1500.25' WHERE 0")" = "1500.25" ] ||
	[ "$(count_type TradingNotificationRequested)" = 1 ] || fail "notification lost the trade value"

rm -rf "$STATE"
# 2. Two WorkflowFailed of one run -> exactly one ErrorNotificationRequested id.
wf1=$(detail WorkflowFailed wf-1 run-2 '"workflow_type":"trading","failure_reason":"no bars for SPY","failure_step":"signal_generation"')
wf2=$(detail WorkflowFailed wf-2 run-2 '"workflow_type":"trading","failure_reason":"again","failure_step":"trade_execution"')
"$BIN" -c "$CONF" --send --event "$wf1" || fail "--send failed"
"$BIN" -c "$CONF" --send --event "$wf2" || fail "--send failed"
once '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"wc-x","correlation_id":"x","causation_id":"c","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"t","workflow_duration_ms":1,"success":true}}' >/dev/null
[ "$(grep -c 'done errors: error notification requested' "$WORK/daemon.log")" = 2 ] || fail "WorkflowFailed not handled twice"
[ "$(count_type ErrorNotificationRequested)" = 1 ] || fail "expected exactly one ErrorNotificationRequested id"

# 3. The same event twice: the second is a duplicate.
rm -rf "$STATE"
wc=$(detail WorkflowCompleted wc-1 run-3 '"workflow_type":"trading","workflow_duration_ms":1200,"success":true')
"$BIN" -c "$CONF" --send --event "$wc"
"$BIN" -c "$CONF" --send --event "$wc"
rc=$(once "$wc")
[ "$(grep -c 'done completed: workflow run-3 completed (success) in 1200 ms' "$WORK/daemon.log")" = 1 ] ||
	fail "WorkflowCompleted not done exactly once"
[ "$(grep -c 'duplicate completed: already processed (wc-1)' "$WORK/daemon.log")" = 2 ] || fail "duplicates not detected"
[ "$rc" = 0 ] || fail "--once with only done/duplicate outcomes exited $rc"

rm -rf "$STATE"
# 4. A malformed body: rejected, parked in the DLQ with its reason, exit 4.
rc=$(once 'this is not json')
[ "$rc" = 4 ] || fail "--once with a rejected message exited $rc, want 4"
reason=$(sql "SELECT dlq_reason FROM queue_messages WHERE queue = 'alchemiser-dlq' AND CAST(body AS TEXT) = 'this is not json'")
case "$reason" in *"malformed JSON"*) ;; *) fail "DLQ reason: '$reason'" ;; esac
rc=$(once '{"mode":"trade","surprise":1}')
[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq' AND dlq_reason LIKE '%unknown key ''surprise''%'")" = 1 ] ||
	fail "unknown command key not parked with its reason"

rm -rf "$STATE"
# 5. SIGTERM under load: exit 0, nothing left invisible (unstarted ones released at once).
i=0
while [ $i -lt 200 ]; do
	printf '%s\n' "$(detail WorkflowCompleted "load-$i" "run-load-$i" '"workflow_type":"trading","workflow_duration_ms":1,"success":true')"
	i=$((i + 1))
done >"$WORK/load.jsonl"
while read -r line; do "$BIN" -c "$CONF" --send --event "$line"; done <"$WORK/load.jsonl"
start_daemon
wait_until 20 grep -q 'done completed: workflow run-load' "$WORK/daemon.log" || fail "load not started"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM under load exited $rc"
now=$(date +%s%6N)
stranded=$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work' AND receive_count > 0 AND visible_usec > $now + 500000")
[ "$stranded" = 0 ] || { sql "SELECT message_id, receive_count, visible_usec, receipt FROM queue_messages WHERE receive_count > 0 AND visible_usec > $now"; echo now=$now; fail "$stranded messages left invisible after SIGTERM"; }

# 6. kill -9 at a random point while the rest runs, then restart until the queue
#    is empty: every event completed, none handled twice.
start_daemon
wait_until 20 grep -q 'received\|done completed' "$WORK/daemon.log" || true
sleep 0.0$(shuf -i 1-9 -n 1)
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
tries=0
while [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work' AND json_extract(body, '\$.detail-type') = 'WorkflowCompleted'")" != 0 ]; do
	tries=$((tries + 1))
	[ $tries -le 20 ] || fail "queue not drained after kill -9 and 20 restarts"
	once '{"mode":"trade","correlation_id":"restart-'$tries'","ignore_market_hours":true}' >/dev/null
	sleep 0.5
done
# A kill between completing the record and deleting the message makes the
# redelivery a duplicate, so "done" may be missing for some ids but never doubled.
done_ids=$(sed -n 's/.*done completed: workflow \(run-load-[0-9]*\) completed.*/\1/p' "$WORK/daemon.log" | sort)
[ "$(printf '%s\n' "$done_ids" | wc -l)" -ge 190 ] || fail "only $(printf '%s\n' "$done_ids" | wc -l) load events done"
[ -z "$(printf '%s\n' "$done_ids" | uniq -d)" ] || fail "an event was handled twice: $(printf '%s\n' "$done_ids" | uniq -d | head -3)"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'load-%' AND status = 'COMPLETED'")" = 200 ] ||
	fail "idempotency records incomplete"
# 7. Two daemons on one state file: every message handled by exactly one of them.
rm -rf "$STATE"
i=0
while [ $i -lt 120 ]; do
	"$BIN" -c "$CONF" --send --event "$(detail WorkflowCompleted "pair-$i" "run-pair-$i" '"workflow_type":"trading","workflow_duration_ms":1,"success":true')"
	i=$((i + 1))
done
: >"$WORK/daemon.log"
start_daemon
first=$DAEMON_PID
start_daemon
second=$DAEMON_PID
drained() { [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'")" = 0 ]; }
wait_until 60 drained || fail "two daemons did not drain the queue"
# Both up before the stop: one daemon can drain the 120 before the other has
# even started (a SIGTERM before its loop runs ends it by the signal, 143).
both_started() { [ "$(grep -c 'alchemiserd started' "$WORK/daemon.log")" = 2 ]; }
wait_until 30 both_started || fail "the second daemon did not start"
kill -TERM "$first" "$second"
wait "$first" || fail "first daemon exit"
wait "$second" || fail "second daemon exit"
n=$(grep -c 'done completed: workflow run-pair-' "$WORK/daemon.log")
[ "$n" = 120 ] || fail "two daemons: $n done outcomes for 120 messages"
dups=$(sed -n 's/.*done completed: workflow \(run-pair-[0-9]*\) .*/\1/p' "$WORK/daemon.log" | sort | uniq -d)
[ -z "$dups" ] || fail "handled twice by two daemons: $dups"
echo "runtime_local: ok"
