#!/bin/sh
# Scale-out: three daemons on one moto queue and one DynamoDB idempotency table
# under a burst of E events (WorkflowCompleted, ids burst-1..burst-E). Every
# event is handled exactly once: one "done" outcome per event id across the
# three logs, the others (if any) duplicates; E COMPLETED records in DynamoDB;
# every daemon did part of the work; SIGTERM stops each with exit 0.
#   REL_SCALE_EVENTS (default 300; the issue's full size is 1000)
. "$top_srcdir/tests/reliability/lib.sh"

E=${REL_SCALE_EVENTS:-300}
start_moto
moto_resources 5 no
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL" >>"$CONF"
sed -i 's/^concurrency = .*/concurrency = 4/; s/^log_level = .*/log_level = info/' "$CONF"

say "three daemons, burst of $E events"
start_daemon d1 "$CONF"
D1=$DAEMON_PID
start_daemon d2 "$CONF"
D2=$DAEMON_PID
start_daemon d3 "$CONF"
D3=$DAEMON_PID
i=1
while [ $i -le "$E" ]; do
	printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.orchestration","detail":{"event_id":"burst-%d","correlation_id":"burst-run-%d","causation_id":"cause","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"rel","workflow_type":"trading","workflow_duration_ms":1,"success":true}}\n' $i $i
	i=$((i + 1))
done >"$WORK/burst.jsonl"
# Four senders in parallel: a burst, not a trickle.
split -n l/4 "$WORK/burst.jsonl" "$WORK/part."
for part in "$WORK"/part.*; do
	( while IFS= read -r line; do "$BIN" -c "$CONF" --send --event "$line" 2>>"$WORK/send.log" || exit 1; done <"$part" ) &
	PIDS="$PIDS $!"
	SENDERS="${SENDERS:-} $!"
done
for p in $SENDERS; do wait "$p" || fail "a sender failed"; done
say "burst queued"
done_count() { cat "$WORK"/d1.log "$WORK"/d2.log "$WORK"/d3.log | grep 'HANDLER=completed OUTCOME=done' | grep -c 'EVENT_ID=burst-' || true; }
end=$(($(date +%s) + ${REL_DRAIN_SECONDS:-150}))
while [ "$(done_count)" -lt "$E" ] || [ "$(queue_depth "$Q")" != 0 ]; do
	[ "$(date +%s)" -lt "$end" ] || break
	for p in $D1 $D2 $D3; do kill -0 "$p" 2>/dev/null || fail "daemon $p exited under load"; done
	sleep 1
done
say "drained; stopping the three daemons"
kill -TERM $D1 $D2 $D3
for p in $D1 $D2 $D3; do
	rc=0
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || fail "daemon $p exited $rc on SIGTERM"
done
cat "$WORK"/d1.log "$WORK"/d2.log "$WORK"/d3.log | grep 'HANDLER=completed OUTCOME=done' |
    sed -n 's/.*EVENT_ID=\(burst-[0-9]*\) .*/\1/p' | sort >"$WORK/done.txt"
dups=$(uniq -d "$WORK/done.txt" | wc -l)
distinct=$(uniq "$WORK/done.txt" | wc -l)
duplicates=$(cat "$WORK"/d?.log | grep -c 'OUTCOME=duplicate' || true)
records=$(aws --endpoint-url "$MOTO_URL" dynamodb scan --table-name alchemiser-idempotency --consistent-read \
    --filter-expression '#s = :c AND begins_with(event_id, :b)' --expression-attribute-names '{"#s":"status"}' \
    --expression-attribute-values '{":c":{"S":"COMPLETED"},":b":{"S":"burst-"}}' --select COUNT \
    --query Count --output text)
per=""
for d in d1 d2 d3; do per="$per $d=$(grep 'HANDLER=completed OUTCOME=done' "$WORK/$d.log" | grep -c 'EVENT_ID=burst-' || true)"; done
say "scaleout: events=$E handled_once=$distinct handled_twice=$dups duplicates_absorbed=$duplicates records=$records per_daemon:$per queue_left=$(queue_depth "$Q") dlq=$(queue_depth "$DLQ")"
[ "$dups" = 0 ] || fail "$dups events handled twice: $(uniq -d "$WORK/done.txt" | head -5 | tr '\n' ' ')"
[ "$distinct" = "$E" ] || fail "only $distinct of $E events handled"
[ "$records" = "$E" ] || fail "$records COMPLETED idempotency records, want $E"
[ "$(queue_depth "$DLQ")" = 0 ] || fail "messages in the DLQ"
for d in d1 d2 d3; do
	[ "$(grep -c 'HANDLER=completed OUTCOME=done' "$WORK/$d.log" || true)" -gt 0 ] || fail "$d did no work"
done
echo "scaleout: ok"
