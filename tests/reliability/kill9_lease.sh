#!/bin/sh
# One kill -9 in the middle of execution, then a normal restart: the run must
# finish (one trading report), not end in the dead-letter queue.
# The timings keep the production ratios (defaults: visibility 120 s, lease
# 5 min, back-off 5 s doubling, 5 receives): the idempotency lease of the killed
# process outlives the redeliveries, so every redelivery before the lease
# expires meets "being processed by <dead pid>" and is retried with the usual
# back-off, each retry costing a receive. Scaled down here: visibility 2 s,
# lease 20 s, back-off 1-2 s, max_receive_count 5.
. "$top_srcdir/tests/reliability/lib.sh"

CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 1s" \
    "order_poll_interval = 100ms" "max_reprices = 2" "fill_timeout = 10s" "slippage_bps = 500" \
    "[daemon]" "max_receive_count = 5"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 2s/; s/^idempotency_lease = .*/idempotency_lease = 20s/' "$CONF"

"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"lease-1"}' || fail "--send"
start_daemon daemon "$CONF"
has_orders() { [ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" -gt 0 ]; }
wait_until 30 has_orders || fail "no order placed"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "killed during execution; restarting once"
start_daemon daemon "$CONF"
mailed() { "$PY" "$REL/tally.py" verify-mail "$STATE/mail" lease- 1 >/dev/null; }
parked() { [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")" != 0 ]; }
end=$(($(date +%s) + 60))
while ! mailed && ! parked && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
busy=$(grep -c 'retry execution: being processed by' "$WORK/daemon.log" || true)
say "retries while the dead process's lease was live: $busy"
if parked; then
	sql "SELECT receive_count, dlq_reason, json_extract(body, '\$.detail-type') FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
	grep 'being processed by\|took over' "$WORK/daemon.log" | cut -c1-160 >&2
	fail "one kill -9 sent the run's execution to the dead-letter queue ($busy receives spent on a dead lease)"
fi
mailed || fail "the run did not finish within 60 s of the restart"
"$PY" "$REL/tally.py" orders-sim "$STATE/state.sqlite" || fail "duplicate orders"
echo "kill9_lease: ok"
