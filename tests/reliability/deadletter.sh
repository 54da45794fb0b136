#!/bin/sh
# A run whose message ends in the dead-letter queue still ends cleanly
# (issue #17, B1), embedded default: kill -9 during execution (limit orders
# that stay open), then the run's claim is held by a daemon on another host
# that never finishes (its lease far away, so it is not judged dead).
# max_receive_count 2: the restarted daemon's receive is the last permitted
# one; it waits two leases for the holder (held in place), then, instead of
# giving the message back to be parked without a word:
#   - the run's open orders are cancelled,
#   - one error mail says which run, which stage and why,
#   - the message is parked with that reason.
# Before: the message went to the DLQ silently, the limit orders stayed open
# and no mail was sent.
. "$top_srcdir/tests/reliability/lib.sh"

CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 30s" \
    "order_poll_interval = 100ms" "max_reprices = 1" "fill_timeout = 60s" "slippage_bps = 500" \
    "[daemon]" "max_receive_count = 2"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^idempotency_lease = .*/idempotency_lease = 10s/' "$CONF"
open_orders() { sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status IN ('new', 'partially_filled')"; }
has_open() { [ "$(open_orders)" -gt 0 ]; }

"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"dl-1"}' || fail "--send"
start_daemon daemon "$CONF"
wait_until 60 has_open || fail "no open order placed"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "killed with $(open_orders) open order(s); the claim goes to a holder elsewhere that never finishes"
far=$(($("$PY" -c 'import time; print(int(time.time() * 1e6))') + 3600000000))
sql "UPDATE idempotency SET owner = 'elsewhere:4242:0badb00t:1:1', lease_expires_usec = $far
     WHERE status = 'IN_PROGRESS' AND correlation_id = 'dl-1'"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE owner LIKE 'elsewhere:%'")" = 1 ] || fail "no claim to hand over"
start_daemon daemon "$CONF"
parked() { [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")" != 0 ]; }
error_mail() { grep -l 'Error Report' "$STATE"/mail/new/* >/dev/null 2>&1; }
wait_until 120 parked || fail "the message was not parked"
wait_until 30 error_mail || fail "no error mail"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "SIGTERM: exit $?"
reason=$(sql "SELECT dlq_reason FROM queue_messages WHERE queue = 'alchemiser-dlq'")
say "parked: $reason"
mail=$(grep -l 'Error Report' "$STATE"/mail/new/*)
[ "$(echo "$mail" | wc -l)" = 1 ] || fail "$(echo "$mail" | wc -l) error mails"
grep -q 'dl-1' "$mail" || fail "the error mail does not name the run"
grep -q 'execution' "$mail" || fail "the error mail does not name the stage"
grep -q 'dead-letter queue' "$mail" || fail "the error mail does not say why"
[ "$(open_orders)" = 0 ] || fail "$(open_orders) open orders left behind"
case $reason in *"run dl-1 ended"*) ;; *) fail "the DLQ reason does not say the run was ended: $reason" ;; esac
echo "deadletter: ok"
