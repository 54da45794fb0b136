#!/bin/sh
# kill -9 soak on backend = aws: moto (signatures checked) for SQS, EventBridge
# and DynamoDB, the Alpaca broker fixture (market orders, each order answer held
# back 0.3-0.6 s by the proxy so kills land in the middle of execution). M runs
# (moto-1..moto-M), the daemon killed with SIGKILL at random points and restarted.
# At the end: every run has its trading report or its reason in the SQS DLQ, no
# leg ordered twice at the broker (one client_order_id per run, symbol and
# side), no duplicate email, the work queue empty.
#   REL_SOAK_MOTO_N (default 12; the issue's full size is 50)
#   REL_SOAK_KILLS  most kills (default M/2, at least 6)
. "$top_srcdir/tests/reliability/lib.sh"

N=${REL_SOAK_MOTO_N:-12}
KILLS=${REL_SOAK_KILLS:-$((N / 2 > 6 ? N / 2 : 6))}
start_moto
moto_resources 20
start_fixture
start_proxy broker "${FIX_URL##*:}" http 1 --faults slow --only "POST /v2/orders" --slow-ms 600
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
{
	aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL"
	fixture_lines "http://127.0.0.1:$PROXY_PORT"
} >>"$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"

BATCH=$(((N + KILLS - 1) / KILLS))
sent=0
send_batch() {
	k=0
	while [ $k -lt "$1" ] && [ $sent -lt "$N" ]; do
		sent=$((sent + 1))
		"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"moto-'$sent'"}' \
		    2>>"$WORK/send.log" || fail "--send moto-$sent"
		k=$((k + 1))
	done
}

say "$N workflows on moto + broker fixture, $KILLS kills, $BATCH runs queued per life"
kills=0 starts=0
while [ $kills -lt "$KILLS" ]; do
	send_batch "$BATCH"
	set_strategy "$CONF" $((starts % 3))
	start_daemon daemon "$CONF"
	starts=$((starts + 1))
	sleep "$(rand 5 40 | sed 's/.$/.&/')"
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		rc=0
		wait "$DAEMON_PID" || rc=$?
		fail "the daemon exited on its own (rc $rc) in life $starts"
	fi
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	kills=$((kills + 1))
done
send_batch "$N"
say "$kills kills in $starts lives; letting the last life finish the work"
start_daemon daemon "$CONF"
end=$(($(date +%s) + ${REL_DRAIN_SECONDS:-150}))
quiet=0
while [ $quiet -lt 3 ] && [ "$(date +%s)" -lt "$end" ]; do
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited on its own in the last life"
	if [ "$(queue_depth "$Q")" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
	sleep 1
done
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM at the end: exit $rc"
left=$(queue_depth "$Q")
drain_bodies "$DLQ" >"$WORK/dlq.txt"
parked=$(grep -c . "$WORK/dlq.txt" || true)

ok=0
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" moto- "$N" "$WORK/dlq.txt" | tee "$WORK/mail.txt" || ok=1
"$PY" "$REL/tally.py" orders-fixture "$FIX_URL" | tee "$WORK/orders.txt" || ok=1
takeovers=$(grep -c 'took over the' "$WORK/daemon.log" || true)
say "kill9_moto: runs=$N kills=$kills lives=$((starts + 1)) takeovers=$takeovers parked=$parked left_in_queue=$left"
[ "$left" = 0 ] || fail "$left messages still in the work queue"
if [ "$parked" != 0 ]; then
	head -c 2000 "$WORK/dlq.txt" >&2
	[ "${REL_ALLOW_PARKED:-0}" = 1 ] || fail "$parked messages parked in the DLQ by kills alone (maxReceiveCount 20)"
fi
[ $ok = 0 ] || fail "lost runs, duplicate orders or duplicate emails (above)"
echo "kill9_moto: ok"
