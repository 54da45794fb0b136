#!/bin/sh
# Two runs forced to overlap on one account (issue #12): distinct correlation
# ids sent together, a slow paper broker (trading.paper_order_delay) so their
# executions would coincide. One account, one executing run: the second waits
# for the account lease and plans from the broker's positions then, so no
# position ever ends above its target (one run's quantity); a kill -9 of the
# daemon executing, and a restart, keep that true. The paper broker's
# positions are checked after every run has finished.
. "$top_srcdir/tests/lib/e2e.sh"

# A cash reserve that keeps the buying-power cap out of the way: one run then
# buys exactly its targets, and "one run's positions" are the targets.
write_config "[trading]" "use_limit_orders = no" "paper_order_delay = 400ms" "cash_reserve = 0.05"
printf '[daemon]\nidempotency_lease = 5s\nvisibility_timeout = 3s\n' >>"$CONF"
sed -i 's/^log_level = debug/log_level = info/; s/^concurrency = 2/concurrency = 4/' "$CONF"
positions() { sql "SELECT symbol || '=' || qty FROM broker_sim_positions WHERE qty > 0 ORDER BY symbol" | tr '\n' ' '; }
completed() { sql "SELECT COUNT(*) FROM idempotency WHERE detail_type IN ('WorkflowCompleted', 'WorkflowFailed') AND status = 'COMPLETED'"; }

# The target: one run alone.
rc=$(once '{"mode":"trade","correlation_id":"reference"}')
[ "$rc" = 0 ] || fail "reference run exited $rc"
ref=$(positions)
[ -n "$ref" ] || fail "the reference run bought nothing"

# never_above: every position at most its target (+0.1 %, share rounding).
never_above() {
	for kv in $(positions); do
		sym=${kv%%=*}
		qty=${kv#*=}
		want=$(echo " $ref " | sed -n "s/.* $sym=\([0-9]*\) .*/\1/p")
		[ -n "$want" ] || fail "$1: $sym held but not a target"
		[ "$qty" -le $((want + want / 1000)) ] || fail "$1: $sym is $qty, above its target $want (positions: $(positions))"
	done
}

# overlap LABEL KILL: runs A and B sent together; KILL=yes kills the daemon
# holding the account lease once it has placed an order, then restarts one.
overlap() {
	rm -rf "$STATE" "$WORK"/d*.log
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"'"$1"'-A"}' 2>>"$WORK/send.log" &
	s1=$!
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"'"$1"'-B"}' 2>>"$WORK/send.log" &
	s2=$!
	wait $s1 && wait $s2 || fail "send"
	"$BIN" -c "$CONF" 2>>"$WORK/d1.log" &
	d1=$!
	"$BIN" -c "$CONF" 2>>"$WORK/d2.log" &
	d2=$!
	PIDS="$PIDS $d1 $d2"
	( sleep 110; kill -9 $d1 $d2 2>/dev/null ) >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	if [ "$2" = yes ]; then
		ordered() { [ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" -gt 0 ]; }
		wait_until 60 ordered || fail "$1: no order placed"
		holder=$(sql "SELECT owner FROM idempotency WHERE key LIKE 'account-lease:%'")
		pid=$(echo "$holder" | cut -d: -f2)	# owner = host:pid:...
		[ "$pid" = "$d1" ] || [ "$pid" = "$d2" ] || fail "$1: the account lease is held by '$holder', not a daemon"
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
		echo "$1: killed $pid while it executed ($(sql "SELECT COUNT(*) FROM broker_sim_orders") orders placed)"
		"$BIN" -c "$CONF" 2>>"$WORK/d3.log" &
		d3=$!
		PIDS="$PIDS $d3"
		[ "$pid" = "$d1" ] && d1=$d3 || d2=$d3
	fi
	both() { [ "$(completed)" -ge 2 ]; }
	wait_until 100 both || fail "$1: runs not finished ($(completed) of 2)"
	kill -TERM $d1 $d2
	wait $d1 2>/dev/null || true
	wait $d2 2>/dev/null || true
	never_above "$1"
	dups=$(sql "SELECT client_order_id FROM broker_sim_orders GROUP BY client_order_id HAVING COUNT(*) > 1")
	[ -z "$dups" ] || fail "$1: client_order_id used twice: $dups"
	[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE detail_type = 'WorkflowCompleted'")" = 2 ] ||
		fail "$1: not both runs completed"
	echo "$1: positions $(positions)"
}
overlap plain no
# The executions did coincide: one run waited for the other's account lease.
grep -q 'execution: waiting for account paper-[0-9]*: .*run plain-[AB] on .*; held, asking again' "$WORK"/d*.log ||
	fail "plain: the two executions never overlapped (no wait for the account lease)"
# Without a kill the second run found the account at target: it ordered nothing.
[ "$(positions)" = "$ref" ] || fail "plain: positions $(positions), one run's are $ref"
overlap killed yes
echo "overlap_local: ok"
