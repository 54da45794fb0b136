#!/bin/sh
# kill -9 soak on the embedded default (issue #9, #17): N trade workflows
# (correlation ids soak-1..soak-N) queued, the daemon killed with SIGKILL at
# random points and restarted at once (systemd restarts it) until every run is
# finished. The default configuration: limit orders, max_receive_count 5, the
# default ratio of idempotency lease to visibility timeout (5 min : 120 s,
# scaled to 10 s : 4 s); only timings the test must keep short are scaled
# (back-off, order polling and re-pricing); the paper broker fills limit
# orders slowly (slippage) so kills land mid-execution. At the end:
#   - nothing in the dead-letter queue, nothing left in the work queue,
#   - no duplicate order in the paper broker's ledger,
#   - exactly one trading email per run in the maildir,
#   - every failed run (a "workflow X failed" warning) has an error email,
#   - the daemon never died on its own;
# Each life after a kill lasts until the messages the killed one held are
# received again, then 0.2-2.5 s more (start-up, receive, any stage), so every
# kill's recovery is seen. It prints the recovery time from the daemon's own
# log (millisecond timestamps): kill to the redelivery of each message in
# flight at the kill (goal 10 s; the embedded queue gives a dead receiver's
# messages back at once).
#   REL_SOAK_LOCAL_N (default 20; make check-reliability-full: 100)
#   REL_SOAK_KILLS   most kills (default 3 per 10 runs, at least 6; full: 40)
#   REL_SEED         repeat a run's random kill points
. "$top_srcdir/tests/reliability/lib.sh"

N=${REL_SOAK_LOCAL_N:-20}
KILLS=${REL_SOAK_KILLS:-$((N * 3 / 10 > 6 ? N * 3 / 10 : 6))}
CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 1s" \
    "order_poll_interval = 100ms" "max_reprices = 1" "fill_timeout = 5s" "slippage_bps = 500"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^idempotency_lease = .*/idempotency_lease = 10s/;
    /^concurrency = /d' "$CONF"
now_usec() { echo $(($(date +%s%N) / 1000)); }
: >"$WORK/lives.txt"
: >"$WORK/daemon.log"

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
	echo "$(($(wc -l <"$WORK/daemon.log") + 1)) -" >>"$WORK/lives.txt"
	start_daemon daemon "$CONF"
	starts=$((starts + 1))
	# This life resumes what the killed one held (bounded), then a random
	# point 0.2 to 2.5 s later (receive, any stage).
	wait_until 30 "$PY" "$REL/tally.py" resumed "$WORK/daemon.log" "$WORK/lives.txt" || true
	sleep "$(rand 2 25 | sed 's/.$/.&/')"
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
tee_status "$WORK/mail.txt" "$PY" "$REL/tally.py" verify-mail "$STATE/mail" soak- "$N" "$WORK/dlq.txt" || ok=1
tee_status "$WORK/orders.txt" "$PY" "$REL/tally.py" orders-sim "$STATE/state.sqlite" || ok=1
tee_status "$WORK/failed.txt" "$PY" "$REL/tally.py" failed-mailed "$STATE/mail" "$WORK/daemon.log" soak- || ok=1
"$PY" "$REL/tally.py" recovery-log "$WORK/daemon.log" "$WORK/lives.txt" 0 10 | tee "$WORK/recovery-summary.txt"
left=$(work_left)
parked=$(grep -c . "$WORK/dlq.txt" || true)
grep -q 'Assertion\|AddressSanitizer\|runtime error' "$WORK/daemon.log" && fail "the daemon crashed (see daemon.log)"
takeovers=$(grep -c 'took over the' "$WORK/daemon.log" || true)
say "kill9_local: runs=$N kills=$kills lives=$((starts + 1)) takeovers=$takeovers parked=$parked left_in_queue=$left"
[ "$left" = 0 ] || fail "$left messages still in the work queue"
if [ "$parked" != 0 ]; then
	echo "dead-letter queue:" >&2
	sql "SELECT receive_count, dlq_reason, substr(CAST(body AS TEXT), 1, 160) FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
	[ "${REL_ALLOW_PARKED:-0}" = 1 ] || fail "$parked messages parked in the dead-letter queue by kills alone (max_receive_count 5)"
fi
[ $ok = 0 ] || fail "lost runs, duplicate orders or duplicate emails (above)"
echo "kill9_local: ok"
