#!/bin/sh
# DynamoDB (the idempotency store) down for REL_OUTAGE_SECONDS while workflows
# are in flight on backend = aws (moto; work queue redrive at 5 receives).
# Wanted (issue #9): polling pauses while a dependency is failing instead of
# burning receive counts, so no message reaches the DLQ because of the outage,
# and every run finishes once DynamoDB is back.
#   REL_OUTAGE_SECONDS (default 12), REL_OUTAGE_N (default 6 runs)
. "$top_srcdir/tests/reliability/lib.sh"

OUT=${REL_OUTAGE_SECONDS:-12}
N=${REL_OUTAGE_N:-6}
start_moto
moto_resources 5
start_proxy dynamodb "${MOTO_URL##*:}" http 0 --outage "$WORK/dynamodb.down"
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "http://127.0.0.1:$PROXY_PORT" >>"$CONF"
sed -i 's/^request_timeout = .*/request_timeout = 5s/' "$CONF"
i=1
while [ $i -le "$N" ]; do
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"ddb-'$i'"}' 2>>"$WORK/send.log" || fail "--send"
	i=$((i + 1))
done
start_daemon daemon "$CONF"
wait_until 30 grep -q 'OUTCOME=done' "$WORK/daemon.log" || fail "no progress before the outage"
: >"$WORK/dynamodb.down"
say "DynamoDB down for $OUT s"
sleep "$OUT"
rm -f "$WORK/dynamodb.down"
say "DynamoDB back"
end=$(($(date +%s) + 90))
until "$PY" "$REL/tally.py" verify-mail "$STATE/mail" ddb- "$N" >/dev/null; do
	[ "$(date +%s)" -lt "$end" ] || break
	[ "$(queue_depth "$DLQ")" = 0 ] || break
	sleep 1
done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
failed_claims=$(grep -c 'idempotency store unavailable' "$WORK/daemon.log" || true)
receives=$(grep -c '"op": "DynamoDB' "$WORK/dynamodb.jsonl" || true)
drain_bodies "$DLQ" >"$WORK/dlq.txt"
parked=$(grep -c . "$WORK/dlq.txt" || true)
say "outage ${OUT}s: $failed_claims handler attempts refused for want of a claim, $receives DynamoDB requests, $parked messages in the DLQ"
if [ "$parked" != 0 ]; then
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    b = json.loads(json.loads(l)); d = b.get("detail", b)
    print("  parked:", b.get("detail-type", "command"), d.get("correlation_id"))' "$WORK/dlq.txt" >&2
	fail "$parked messages reached the DLQ because DynamoDB was down for $OUT s"
fi
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" ddb- "$N" || fail "runs lost or duplicated"
echo "dynamodb_outage: ok"
