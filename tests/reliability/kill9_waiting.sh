#!/bin/sh
# A run waiting for the account lease spends no receive count, however often
# the daemon holding it is killed (issue #17, B1), embedded default.
# Daemon H executes run A (wait-1) slowly (a slow paper broker) and holds the account
# lease; daemon W holds run B's RebalancePlanned in place, waiting for it.
# W is killed -9 and restarted 7 times during that wait. With
# max_receive_count 2 the queue gives back at most 4 receives of dead
# receivers, so before waits were marked, the 7th kill parked B in the
# dead-letter queue (found by the 100-run kill9_local soak: 4 runs parked
# while they queued behind one account). After H finishes, B must execute
# and complete, nothing parked, each run mailed once.
. "$top_srcdir/tests/reliability/lib.sh"

KILLS=${REL_WAIT_KILLS:-7}
CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = no" "paper_order_delay = 4s" \
    "[daemon]" "max_receive_count = 2"
# H takes one message at a time, so B's messages go to W while A executes.
sed "s/^concurrency = .*/concurrency = 1/" "$CONF" >"$WORK/holder.conf"
lease_owner() { sql "SELECT owner FROM idempotency WHERE key LIKE 'account-lease:%' AND status = 'IN_PROGRESS'"; }
parked() { sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'"; }

"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"wait-1"}' || fail "--send A"
start_daemon holder "$WORK/holder.conf"
H=$DAEMON_PID
h_holds() { lease_owner | grep -q ":$H:"; }
wait_until 60 h_holds || fail "the holder never took the account lease"
say "H ($H) executes run A; sending run B and starting W"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"wait-2"}' || fail "--send B"

kills=0
while :; do
	: >"$WORK/w.log"
	start_daemon w "$CONF"
	W=$DAEMON_PID
	waiting() { grep -q 'execution: waiting for account' "$WORK/w.log"; }
	if ! wait_until 60 waiting; then
		h_holds || break	# A finished before all the kills: too fast a machine? see below
		fail "W never waited for the account lease (life $((kills + 1)))"
	fi
	[ "$kills" -lt "$KILLS" ] || break
	h_holds || break
	sleep 0.5	# into the wait (its first held line is logged as the wait starts)
	kill -9 "$W"
	wait "$W" 2>/dev/null || true
	kills=$((kills + 1))
	cat "$WORK/w.log" >>"$WORK/w-lives.log"
done
say "W killed $kills times while B waited; receive count of B's execution now: $(sql "SELECT receive_count FROM queue_messages WHERE json_extract(body, '\$.\"detail-type\"') = 'RebalancePlanned'")"
[ "$kills" -ge 3 ] || fail "only $kills kills landed during the wait (A finished too soon)"
[ "$(parked)" = 0 ] || {
	sql "SELECT receive_count, dlq_reason FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
	fail "$(parked) message(s) parked by kills during a wait"
}
mailed() { "$PY" "$REL/tally.py" verify-mail "$STATE/mail" wait- 2 >/dev/null; }
wait_until 120 mailed || fail "runs A and B were not both mailed"
kill -TERM "$H" "$W"
wait "$H" || fail "H: exit $?"
wait "$W" || fail "W: exit $?"
[ "$(parked)" = 0 ] || fail "$(parked) message(s) parked"
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" wait- 2 || fail "mail tally"
"$PY" "$REL/tally.py" orders-sim "$STATE/state.sqlite" || fail "orders"
echo "kill9_waiting: ok ($kills kills during the wait)"
