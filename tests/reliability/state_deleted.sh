#!/bin/sh
# The embedded state file deleted while the daemon runs under load. Wanted (the
# issue): errors logged, messages retried, no crash. The daemon must notice that
# its queue is gone: a message sent after the deletion (into the new state file
# that --send creates) must be handled, or the daemon must stop with an error
# naming the file. What it must not do is go on quietly with the unlinked inode,
# where everything it publishes from then on is lost when it exits.
. "$top_srcdir/tests/reliability/lib.sh"

CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = no"
k=1
while [ $k -le 40 ]; do
	"$BIN" -c "$CONF" --send --event "$(printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.orchestration","detail":{"event_id":"del-%d","correlation_id":"del-c%d","causation_id":"cause","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"rel","workflow_type":"trading","workflow_duration_ms":1,"success":true}}' $k $k)" || fail "--send"
	k=$((k + 1))
done
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"del-run-1"}' || fail "--send run"
start_daemon del "$CONF"
wait_until 20 grep -q 'EVENT_ID=del-.*OUTCOME=done' "$WORK/del.log" || fail "load did not start"
rm -f "$STATE/state.sqlite" "$STATE/state.sqlite-wal" "$STATE/state.sqlite-shm" "$STATE/state.sqlite-journal"
say "state file deleted under load"
sleep 2
# A new command after the deletion: --send creates a fresh state file.
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"del-after"}' 2>>"$WORK/send.log" || fail "--send after"
handled() { grep -q 'CORRELATION_ID=del-after.*OUTCOME=done' "$WORK/del.log"; }
stopped() { ! kill -0 "$DAEMON_PID" 2>/dev/null; }
end=$(($(date +%s) + 15))
while ! handled && ! stopped && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
errs=$(grep -c '^<[0-3]>' "$WORK/del.log" || true)
if stopped; then
	rc=0
	wait "$DAEMON_PID" || rc=$?
	[ "$rc" -lt 128 ] || fail "the daemon died by signal $((rc - 128)) after its state file was deleted"
	grep -q "$STATE/state.sqlite" "$WORK/del.log" || fail "the daemon stopped (exit $rc) without naming the state file"
	say "the daemon stopped with exit $rc and named the file"
else
	kill -TERM "$DAEMON_PID"
	rc=0
	wait "$DAEMON_PID" || rc=$?
	[ "$rc" -lt 128 ] || fail "the daemon died by signal $((rc - 128)) after its state file was deleted"
	handled || fail "15 s after the state file was deleted the daemon still runs on the unlinked file: " \
	    "the command sent afterwards was never received, $errs errors logged, nothing said about the file"
fi
echo "state_deleted: ok"
