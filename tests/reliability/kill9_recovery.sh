#!/bin/sh
# Recovery after kill -9 (issue #17, B1 and "recovery in seconds"), embedded
# default, production ratio of lease to visibility (5 min : 120 s, scaled to
# 10 s : 4 s), max_receive_count 2, so a single wasted receive parks the run:
# Phase 1: kill -9 during execution, restart at once: the restarted daemon
#   gets the message back at once (its receiver is dead) and takes the dead
#   process's live claim over at once; the run finishes. Before: the message
#   waited out its visibility, met "being processed by <dead pid>", and the
#   retry cost the second receive: parked.
# Phase 2: kill -9 during execution, and the claim handed to a holder on
#   another host with a live lease (not judged dead): the restarted daemon
#   waits for that lease holding the message (no receive spent) and takes over
#   when it lapses. Before: the wait cost a receive: parked.
# Prints the recovery time (restart to takeover) of phase 1.
. "$top_srcdir/tests/reliability/lib.sh"

CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 1s" \
    "order_poll_interval = 100ms" "max_reprices = 2" "fill_timeout = 10s" "slippage_bps = 500" \
    "[daemon]" "max_receive_count = 2"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^idempotency_lease = .*/idempotency_lease = 10s/' "$CONF"

now_usec() { "$PY" -c 'import time; print(int(time.time() * 1e6))'; }
parked() { [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")" != 0 ]; }
executing() { [ "$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE client_order_id LIKE '%'")" -gt "$1" ]; }
orders() { sql "SELECT COUNT(*) FROM broker_sim_orders"; }
# finish RUN: wait (60 s) until RUN is mailed or something is parked.
finish() {
	end=$(($(date +%s) + 60))
	while ! "$PY" "$REL/tally.py" verify-mail "$STATE/mail" "$1" 1 >/dev/null && ! parked &&
	    [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.2
	done
}
verdict() {
	if parked; then
		sql "SELECT receive_count, dlq_reason, json_extract(body, '\$.detail-type') FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
		grep 'being processed by\|took over\|held' "$WORK/daemon.log" | cut -c1-200 >&2
		fail "$1: the run ended in the dead-letter queue"
	fi
	"$PY" "$REL/tally.py" verify-mail "$STATE/mail" "$2" 1 >/dev/null || fail "$1: $2 not finished within 60 s"
}

# ---- phase 1 ----
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"rec1-1"}' || fail "--send"
start_daemon daemon "$CONF"
wait_until 60 executing 0 || fail "no order placed"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
lines=$(wc -l <"$WORK/daemon.log")
t0=$(now_usec)
start_daemon daemon "$CONF"
resumed() { tail -n +"$((lines + 1))" "$WORK/daemon.log" | grep -q 'took over the claim .* at once'; }
wait_until 60 resumed || {
	tail -n +"$((lines + 1))" "$WORK/daemon.log" | grep 'processed by\|took over' | head -5 >&2
	fail "phase 1: the restarted daemon did not take the dead process's claim over"
}
t1=$(now_usec)
say "phase 1: kill -9 during execution; restart to resumed run: $(((t1 - t0) / 1000)) ms"
finish rec1-
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "SIGTERM after phase 1"
verdict "phase 1" rec1-

# ---- phase 2 ----
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"rec2-1"}' || fail "--send"
before=$(orders)
start_daemon daemon "$CONF"
wait_until 60 executing "$before" || fail "no order placed"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
# The run's live claim now belongs to a daemon on another host with 8 s left.
until_usec=$(($(now_usec) + 8000000))
sql "UPDATE idempotency SET owner = 'elsewhere:4242:0badb00t:1:1', lease_expires_usec = $until_usec
     WHERE status = 'IN_PROGRESS' AND correlation_id = 'rec2-1'"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE owner LIKE 'elsewhere:%'")" = 1 ] ||
	fail "phase 2: no claim of rec2-1 in progress to hand over"
lines=$(wc -l <"$WORK/daemon.log")
start_daemon daemon "$CONF"
finish rec2-
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "SIGTERM after phase 2"
held=$(tail -n +"$((lines + 1))" "$WORK/daemon.log" | grep -c 'being processed by elsewhere:.*held' || true)
say "phase 2: waited for another host's live lease holding the message ($held hold)"
verdict "phase 2" rec2-
[ "$held" -ge 1 ] || fail "phase 2: the wait for the live lease was not held in place"
"$PY" "$REL/tally.py" orders-sim "$STATE/state.sqlite" || fail "duplicate orders"
echo "kill9_recovery: ok"
