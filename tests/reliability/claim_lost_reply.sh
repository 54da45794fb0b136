#!/bin/sh
# A lost reply on the idempotency claim: the first PutItem of every claim
# reaches DynamoDB (moto) and takes effect, but the daemon gets a 5xx back; the
# retry of the same request then fails its condition because the record is
# there, held by this very worker. Wanted: the daemon knows its own claim
# (same owner) and goes on. Seen: "being processed by <itself>; retry after its
# lease", so every stage waits out a whole lease (5 min by default) and spends
# receives. The runs must finish well within one lease per stage.
. "$top_srcdir/tests/reliability/lib.sh"

N=2
start_moto
moto_resources 5
start_proxy dynamodb "${MOTO_URL##*:}" http 1 --faults 5xx-after --only PutItem --first-per-body
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "http://127.0.0.1:$PROXY_PORT" >>"$CONF"
sed -i 's/^idempotency_lease = .*/idempotency_lease = 60s/' "$CONF"
i=1
while [ $i -le $N ]; do
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"claim-'$i'"}' 2>>"$WORK/send.log" || fail "--send"
	i=$((i + 1))
done
start_daemon daemon "$CONF"
# Seven stages per run; a run without the bug takes a few seconds.
end=$(($(date +%s) + 30))
until "$PY" "$REL/tally.py" verify-mail "$STATE/mail" claim- $N >/dev/null; do
	[ "$(date +%s)" -lt "$end" ] || break
	sleep 1
done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
self=$(grep -c "being processed by [^ ]*:$DAEMON_PID:[0-9]*" "$WORK/daemon.log" || true)
lost=$(grep -c '"fault": "5xx-after"' "$WORK/dynamodb.jsonl" || true)
say "claim replies lost after the write: $lost; retries waiting on the daemon's own claim: $self"
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" claim- $N ||
	fail "runs not finished in 30 s: $self retries waited for the daemon's own lease (lease 60 s)"
[ "$self" = 0 ] || fail "$self retries waited for the daemon's own claim"
echo "claim_lost_reply: ok"
