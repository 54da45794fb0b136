#!/bin/sh
# kill -9 soak on the embedded default: N trade workflows (correlation ids
# soak-1..soak-N) queued, the daemon killed with SIGKILL at random points and
# restarted until every run is finished. At the end: no run lost (each has its
# trading report, or its reason in the dead-letter queue), no duplicate order in
# the paper broker's ledger, no duplicate email in the maildir, nothing left in
# the work queue, and the daemon never died on its own.
#   REL_SOAK_LOCAL_N (default 40; the full size is 200)
#   REL_SOAK_KILLS   most kills (default 3 per 10 runs, at least 10)
#   REL_SEED         repeat a run's random kill points
. "$top_srcdir/tests/reliability/lib.sh"

N=${REL_SOAK_LOCAL_N:-40}
KILLS=${REL_SOAK_KILLS:-$((N * 3 / 10 > 10 ? N * 3 / 10 : 10))}
CONF="$WORK/alchemiserd.conf"
# Limit orders the paper broker cannot fill at once (slippage beyond the
# spread) are re-priced and escalated to market: execution takes a second or
# two, so many kills land in the middle of it (orders placed, run unfinished).
write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 1s" \
    "order_poll_interval = 100ms" "max_reprices = 1" "fill_timeout = 5s" "slippage_bps = 500" \
    "[daemon]" "max_receive_count = 20"

BATCH=$(((N + KILLS - 1) / KILLS))
sent=0
# send_batch K: queue the next K runs (soak-<sent+1>...).
send_batch() {
	k=0
	while [ $k -lt "$1" ] && [ $sent -lt "$N" ]; do
		sent=$((sent + 1))
		"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"soak-'$sent'"}' \
		    2>>"$WORK/send.log" || fail "--send soak-$sent"
		k=$((k + 1))
	done
}

work_left() { sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'"; }
finished() {
	[ $sent = "$N" ] && [ "$(work_left)" = 0 ] &&
		"$PY" "$REL/tally.py" verify-mail "$STATE/mail" soak- "$N" "$WORK/dlq.txt" >/dev/null
}
dlq_dump() { sql "SELECT CAST(body AS TEXT) FROM queue_messages WHERE queue = 'alchemiser-dlq'" >"$WORK/dlq.txt"; }

say "$N workflows, $KILLS kills, $BATCH runs queued per daemon life"
kills=0 starts=0
while [ $kills -lt "$KILLS" ]; do
	send_batch "$BATCH"
	set_strategy "$CONF" $((starts % 3))
	start_daemon daemon "$CONF"
	starts=$((starts + 1))
	# A random point: 0.2 to 2.5 s into this life (start-up, receive, any stage).
	sleep "$(rand 2 25 | sed 's/.$/.&/')"
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
end=$(($(date +%s) + ${REL_DRAIN_SECONDS:-120}))
until { dlq_dump; finished; }; do
	[ "$(date +%s)" -lt "$end" ] || break
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited on its own in the last life"
	sleep 1
done
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM at the end: exit $rc"
dlq_dump

# The verdict.
ok=0
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" soak- "$N" "$WORK/dlq.txt" | tee "$WORK/mail.txt" || ok=1
"$PY" "$REL/tally.py" orders-sim "$STATE/state.sqlite" | tee "$WORK/orders.txt" || ok=1
left=$(work_left)
parked=$(grep -c . "$WORK/dlq.txt" || true)
grep -q 'Assertion\|AddressSanitizer\|runtime error' "$WORK/daemon.log" && fail "the daemon crashed (see daemon.log)"
takeovers=$(grep -c 'took over the' "$WORK/daemon.log" || true)
say "kill9_local: runs=$N kills=$kills lives=$((starts + 1)) takeovers=$takeovers parked=$parked left_in_queue=$left"
[ "$left" = 0 ] || fail "$left messages still in the work queue"
if [ "$parked" != 0 ]; then
	echo "dead-letter queue:" >&2
	sql "SELECT receive_count, dlq_reason, substr(CAST(body AS TEXT), 1, 160) FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
	[ "${REL_ALLOW_PARKED:-0}" = 1 ] || fail "$parked messages parked in the dead-letter queue by kills alone (max_receive_count 20)"
fi
[ $ok = 0 ] || fail "lost runs, duplicate orders or duplicate emails (above)"
echo "kill9_local: ok"
