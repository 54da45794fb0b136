#!/bin/sh
# Whole workflows on the embedded default, the way a user runs them:
#   trade command -> signals -> plan -> orders in the paper broker -> one email;
#   the same command again -> duplicate, still one email;
#   signal-only ("bot") -> plan but no orders;
#   every strategy failing -> WorkflowFailed -> exactly one error email, --once exits 3;
#   a P&L command -> one P&L email;
#   kill -9 in the middle of execution -> after restarts, no duplicate order.
. "$top_srcdir/tests/lib/e2e.sh"

write_config "[trading]" "use_limit_orders = no"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
mail_with() { grep -l -- "$1" "$STATE"/mail/new/* 2>/dev/null | wc -l; }

# 1. One trade run.
rc=$(once '{"mode":"trade","correlation_id":"run-A"}')
[ "$rc" = 0 ] || fail "trade run exited $rc"
[ "$(mails)" = 1 ] || fail "expected one email after a run, got $(mails)"
[ "$(mail_with 'Subject: \[SUCCESS\] The Alchemiser - PAPER Trading Report')" = 1 ] || fail "not a trading report"
for t in WorkflowStarted SignalGenerated RebalancePlanned TradeExecuted WorkflowCompleted TradingNotificationRequested; do
	n=$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = 'run-A' AND detail_type = '$t' AND status = 'COMPLETED'")
	[ "$n" = 1 ] || fail "the story of run-A lacks $t ($n)"
done
orders=$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status = 'filled'")
[ "$orders" -gt 0 ] || fail "no filled orders in the paper broker"
held=$(sql "SELECT COUNT(*) FROM broker_sim_positions WHERE qty > 0")
[ "$held" = "$orders" ] || fail "positions ($held) do not match the filled buys ($orders)"
grep -q 'done execution: SUCCESS' "$WORK/daemon.log" || fail "execution did not succeed"

# 2. The same command again: a duplicate, no new order, no new email.
rc=$(once '{"mode":"trade","correlation_id":"run-A"}')
[ "$rc" = 0 ] || fail "duplicate command exited $rc"
grep -q 'duplicate start: already processed (command:run-A)' "$WORK/daemon.log" || fail "command not deduplicated"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = "$orders" ] || fail "a duplicate command placed orders"
[ "$(mails)" = 1 ] || fail "a duplicate command sent email"

# 3. Signal-only: a plan, no orders, and the email says so.
before=$(sql "SELECT COUNT(*) FROM broker_sim_orders")
rc=$(once '{"mode":"bot","correlation_id":"run-B"}')
[ "$rc" = 0 ] || fail "signal-only run exited $rc"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = "$before" ] || fail "signal-only placed orders"
grep -q 'signal only: no orders' "$WORK/daemon.log" || fail "signal-only not reported"
[ "$(mails)" = 2 ] || fail "signal-only run sent $(mails) emails in total, want 2"

# 4. Every strategy fails: WorkflowFailed, exactly one error email.
mkdir -p "$WORK/badset"
printf '(defsymphony "no data" {} (if (> (rsi "NODATA" {:window 10}) 50) [(asset "SPY")] [(asset "BIL")]))\n' >"$WORK/badset/nodata.clj"
printf '{"files":["nodata.clj"],"allocations":{"nodata.clj":1.0}}\n' >"$WORK/badset/set.json"
sed -i "s|^strategy_set = .*|strategy_set = $WORK/badset/set.json|" "$CONF"
rc=$(once '{"mode":"trade","correlation_id":"run-C"}')
[ "$rc" = 3 ] || fail "failed run exited $rc, want 3 (a run that ended with WorkflowFailed)"
n=$(grep -l 'Subject: .*Error Report' "$STATE"/mail/new/* | wc -l)
[ "$n" = 1 ] || fail "expected exactly one error email, got $n"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = 'run-C' AND detail_type = 'ErrorNotificationRequested'")" = 1 ] ||
	fail "error notification not recorded once"

# 5. P&L: one email from the paper broker's equity history.
rc=$(once '{"action":"pnl_analysis","pnl_type":"weekly","correlation_id":"pnl-1"}')
[ "$rc" = 0 ] || fail "P&L command exited $rc"
[ "$(grep -l 'Portfolio P&L Report' "$STATE"/mail/new/* | wc -l)" = 1 ] || fail "no P&L email"
total=$(mails)
[ "$total" = 4 ] || fail "expected 4 emails in all, got $total"

# 6. kill -9 in the middle of execution, then restarts: no order placed twice.
sed -i "s|^strategy_set = .*|strategy_set = $top_srcdir/etc/strategies/strategy.json|" "$CONF"
# Limit orders the paper broker cannot fill (slippage beyond the spread) keep
# execution busy re-pricing for a few seconds: a window to kill it in.
sed -i 's/^use_limit_orders = no/use_limit_orders = yes\nreprice_interval = 3s\norder_poll_interval = 50ms\nfill_timeout = 10s\nmax_reprices = 2\nslippage_bps = 500/' "$CONF"
# Quick redelivery after the kill: short visibility and idempotency lease.
printf '[daemon]\nvisibility_timeout = 3s\nidempotency_lease = 5s\n' >>"$CONF"
rm -rf "$STATE"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"run-K"}' || fail "send"
start_daemon
wait_until 30 grep -q 'done portfolio: plan of' "$WORK/daemon.log" || fail "no plan before the kill"
has_orders() { [ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" -gt 0 ]; }
wait_until 10 has_orders || fail "no order before the kill"
# The handler outlives a third of its 5 s lease: the renewer must extend it.
lease() { sql "SELECT lease_expires_usec FROM idempotency WHERE detail_type = 'RebalancePlanned' AND status = 'IN_PROGRESS'"; }
l1=$(lease)
[ -n "$l1" ] || fail "no claim held during execution"
renewed() { l2=$(lease); [ -n "$l2" ] && [ "$l2" -gt "$l1" ]; }
wait_until 6 renewed || fail "the lease of a long handler was not renewed ($l1 -> $(lease))"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
tries=0
while [ "$(mail_with 'Trading Report')" = 0 ]; do
	tries=$((tries + 1))
	[ $tries -le 15 ] || fail "the run did not finish after kill -9 and 15 restarts"
	once '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"tick-'$tries'","correlation_id":"t","causation_id":"c","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"t","workflow_duration_ms":1,"success":true}}' >/dev/null
	sleep 1
done
dups=$(sql "SELECT client_order_id FROM broker_sim_orders GROUP BY client_order_id HAVING COUNT(*) > 1")
[ -z "$dups" ] || fail "duplicate client_order_id after kill -9: $dups"
# One chain per symbol: never two filled orders for one symbol and side.
twice=$(sql "SELECT symbol FROM broker_sim_orders WHERE status = 'filled' GROUP BY symbol, side HAVING COUNT(*) > 1")
[ -z "$twice" ] || fail "a symbol was bought twice after kill -9: $twice"
[ "$(mail_with 'Trading Report')" = 1 ] || fail "expected one trading email after the restarts"
echo "workflow_local: ok"
