#!/bin/sh
# kill -9 soak on backend = aws: moto (signatures checked) for SQS, EventBridge
# and DynamoDB, the Alpaca broker fixture (market orders, each order answer held
# back 0.3-0.6 s by the proxy so kills land in the middle of execution). M runs
# (moto-1..moto-M), the daemon killed with SIGKILL at random points and restarted.
# At the end: every run has its trading report or its reason in the SQS DLQ, no
# leg ordered twice at the broker (a later attempt of a leg only after a short
# one or another run's trade on the symbol: a resumed run re-plans from the
# positions it finds; tally.py judge_chains), no message received twice in one
# life (a wait spends no receive), no duplicate email, every failed run mailed, the work queue empty,
# nothing in the DLQ (the module's redrive at 5 receives; lease : visibility
# at the default ratio, scaled to 10 s : 4 s). Each life after a kill lasts
# until the messages the killed one held are received again (on SQS: when the
# rest of their visibility timeout has passed), then 0.5-3 s more, so every
# kill's recovery is seen and the next kill lands mid-run (but not while a
# message is on its 4th receive or later: SQS counts each receive a kill
# spends, and parks a message at its 6th). Prints the recovery
# time from the daemon's own log (millisecond timestamps): kill to the
# redelivery of each message in flight at the kill, against the rest of its
# visibility timeout (before: DynamoDB's whole-second claim times, in lives
# shorter than the visibility timeout).
#   REL_SOAK_MOTO_N (default 12; the issue's full size is 50)
#   REL_SOAK_KILLS  most kills (default M/2, at least 6)
# Moto, the fixture and the AWS CLI start slowly on a loaded machine.
REL_BUDGET=${REL_BUDGET:-480}
. "$top_srcdir/tests/reliability/lib.sh"

N=${REL_SOAK_MOTO_N:-12}
KILLS=${REL_SOAK_KILLS:-$((N / 2 > 6 ? N / 2 : 6))}
start_moto
moto_resources 5
start_fixture
start_proxy broker "${FIX_URL##*:}" http 1 --faults slow --only "POST /v2/orders" --slow-ms 600
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
{
	aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL"
	fixture_lines "http://127.0.0.1:$PROXY_PORT"
} >>"$CONF"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^idempotency_lease = .*/idempotency_lease = 10s/' "$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"
now_usec() { echo $(($(date +%s%N) / 1000)); }
: >"$WORK/lives.txt"
: >"$WORK/daemon.log"
receives_below() { [ "$("$PY" "$REL/tally.py" inflight-receives "$WORK/daemon.log" "$WORK/lives.txt")" -lt "$1" ]; }
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
	echo "$(($(wc -l <"$WORK/daemon.log") + 1)) -" >>"$WORK/lives.txt"
	start_daemon daemon "$CONF"
	starts=$((starts + 1))
	# This life resumes what the killed one held (bounded: two visibility
	# timeouts and a restart), then the kill lands 0.5-3 s later.
	wait_until 30 "$PY" "$REL/tally.py" resumed "$WORK/daemon.log" "$WORK/lives.txt" || true
	sleep "$(rand 5 30 | sed 's/.$/.&/')"
	# SQS counts every receive (a kill cannot give one back) and parks a
	# message at its 6th: at most three kills per message, as the issue's
	# case, so no message is on its 4th receive or later at a kill (bounded).
	wait_until 60 receives_below 4 || true
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		rc=0
		wait "$DAEMON_PID" || rc=$?
		fail "the daemon exited on its own (rc $rc) in life $starts"
	fi
	killed=$(now_usec)
	kill -9 "$DAEMON_PID"
	sed -i "\$s/ -\$/ $killed/" "$WORK/lives.txt"
	wait "$DAEMON_PID" 2>/dev/null || true
	kills=$((kills + 1))
done
send_batch "$N"
say "$kills kills in $starts lives; letting the last life finish the work"
echo "$(($(wc -l <"$WORK/daemon.log") + 1)) -" >>"$WORK/lives.txt"
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
tee_status "$WORK/mail.txt" "$PY" "$REL/tally.py" verify-mail "$STATE/mail" moto- "$N" "$WORK/dlq.txt" || ok=1
tee_status "$WORK/orders.txt" "$PY" "$REL/tally.py" orders-fixture "$FIX_URL" || ok=1
tee_status "$WORK/failed.txt" "$PY" "$REL/tally.py" failed-mailed "$STATE/mail" "$WORK/daemon.log" moto- || ok=1
# On SQS the goal is the rest of the visibility timeout (4 s) plus 2 s: the
# heartbeat's 1 s tick (status_interval) and a poll.
"$PY" "$REL/tally.py" recovery-log "$WORK/daemon.log" "$WORK/lives.txt" 4 2 | tee "$WORK/recovery-summary.txt"
takeovers=$(grep -c 'took over the' "$WORK/daemon.log" || true)
say "kill9_moto: runs=$N kills=$kills lives=$((starts + 1)) takeovers=$takeovers parked=$parked left_in_queue=$left"
[ "$left" = 0 ] || fail "$left messages still in the work queue"
# Waits must not spend receives (issue #17 B1): no message is received twice in
# one life. (A kill does spend the receive of each message in flight: "spent_by_kills"
# counts the messages in flight at 5 kills, which the queue parks at the next.)
tee_status "$WORK/receives.txt" "$PY" "$REL/tally.py" receives "$WORK/daemon.log" 5 || ok=1
if [ "$parked" != 0 ]; then
	head -c 2000 "$WORK/dlq.txt" >&2
	[ "${REL_ALLOW_PARKED:-0}" = 1 ] || fail "$parked messages parked in the DLQ by kills alone (maxReceiveCount 5)"
fi
[ $ok = 0 ] || fail "lost runs, duplicate orders or duplicate emails (above)"
echo "kill9_moto: ok"
