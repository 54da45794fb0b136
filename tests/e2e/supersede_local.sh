#!/bin/sh
# Never trade on a stale intent, and never beside the run that has the
# account (alchemiserd(8) TRADING INTENT), on the embedded default with the
# daemon itself:
#   superseded  run old-A is killed -9 mid-execution; a position its plan
#               never named appears (bought by hand after it planned), and
#               old-A, resumed, sells it whole before a second kill -9; its
#               RebalancePlanned is then kept out of reach (moved in the queue
#               file) while run new-B, planned later with another strategy
#               set, executes and completes; then old-A comes back. It must
#               place no order, change no position, and end "superseded by run
#               new-B": one email ([SUPERSEDED] trading report) and a warning
#               in the log that list every order old-A placed before, the
#               whole sale of the position nothing names any more included.
#   fenced      run fence-C executes with a slow paper broker; once it placed
#               an order, the account lease is taken in the store by another
#               owner. The run must place no order after that (at most the one
#               already on its way), cancel its open ones, wait, and resume once
#               the lease is free, ending with no position above its target.
. "$top_srcdir/tests/lib/e2e.sh"

write_config "[trading]" "use_limit_orders = no" "paper_order_delay = 700ms" "cash_reserve = 0.05"
printf '[daemon]\nidempotency_lease = 5s\nvisibility_timeout = 3s\n' >>"$CONF"
sed -i 's/^log_level = debug/log_level = info/' "$CONF"
E2E_WALL_LIMIT=150
positions() { sql "SELECT symbol || '=' || qty FROM broker_sim_positions WHERE qty > 0 ORDER BY symbol" | tr '\n' ' '; }
orders() { sql "SELECT COUNT(*) FROM broker_sim_orders"; }
ended() { [ "$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = '$1' AND detail_type IN ('WorkflowCompleted', 'WorkflowFailed') AND status = 'COMPLETED'")" -ge 1 ]; }
mail_list() { "$PY" "$top_srcdir/tests/reliability/tally.py" mail "$STATE/mail"; }
mails_of() { mail_list | grep -c "^$1 " || true; }
stop_daemon() { kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; }

# Run new-B's strategy set: one file of the sample set, so its targets differ.
mkdir -p "$WORK/setb"
printf '{"files":["%s/etc/strategies/rotation.clj"],"allocations":{"%s/etc/strategies/rotation.clj":1.0}}\n' \
    "$top_srcdir" "$top_srcdir" >"$WORK/setb/set.json"
sed "s|^strategy_set = .*|strategy_set = $WORK/setb/set.json|" "$CONF" >"$WORK/b.conf"

# ---- superseded -------------------------------------------------------------
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"old-A"}' 2>>"$WORK/send.log" || fail "send"
start_daemon
wait_until 60 sh -c "[ \$(sqlite3 -batch -noheader '$STATE/state.sqlite' 'SELECT COUNT(*) FROM broker_sim_orders') -gt 0 ]" ||
	fail "old-A placed no order"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
A_MSG="queue = 'alchemiser-work' AND CAST(body AS TEXT) LIKE '%RebalancePlanned%' AND CAST(body AS TEXT) LIKE '%old-A%'"
# A position old-A's plan never named (bought by hand after it planned): on
# resume its live plan sells it whole; once sold, only the broker's record of
# old-A's orders names it.
X=""
for f in "$top_srcdir"/etc/sample-data/*.csv; do
	sym=$(basename "$f" .csv)
	[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE $A_MSG AND instr(CAST(body AS TEXT), '\"$sym\"') > 0")" = 0 ] &&
		{ X=$sym; break; }
done
[ -n "$X" ] || fail "test setup: old-A's plan names every sample symbol; none to hold besides it"
sql "INSERT INTO broker_sim_positions(symbol, qty, avg_entry_price) VALUES('$X', 1000000000, 10000000000)"
start_daemon
sold_x() { [ "$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE symbol = '$X' AND side = 'sell'")" -gt 0 ]; }
wait_until 60 sold_x || fail "old-A, resumed, did not sell $X (held, no target of it)"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
a_orders=$(orders)
# old-A's plan out of reach until new-B is done (as if its redelivery came
# late): moved aside in the queue file, put back afterwards.
sql "CREATE TABLE held_aside AS SELECT * FROM queue_messages WHERE $A_MSG; DELETE FROM queue_messages WHERE $A_MSG"
[ "$(sql "SELECT COUNT(*) FROM held_aside")" = 1 ] || fail "old-A's RebalancePlanned is not in the queue"
[ "$(positions | grep -c "$X=")" = 0 ] || fail "old-A sold $X, but not whole: $(positions)"
echo "superseded: old-A killed after $a_orders order(s), the whole sale of $X among them; new-B runs now"
rc=0
timeout -s KILL 90 "$BIN" -c "$WORK/b.conf" --once --event '{"mode":"trade","correlation_id":"new-B"}' \
    2>>"$WORK/daemon.log" || rc=$?
[ "$rc" = 0 ] || fail "new-B exited $rc"
b_pos=$(positions)
b_orders=$(orders)
[ "$b_orders" -gt "$a_orders" ] || fail "new-B placed no order (its targets equal old-A's?)"
sql "UPDATE held_aside SET visible_usec = 0, receipt = NULL; INSERT INTO queue_messages SELECT * FROM held_aside; DROP TABLE held_aside"
start_daemon
wait_until 60 ended old-A || fail "old-A did not end after it came back"
# The run's end and its email are two stages that may finish in either order.
wait_until 30 sh -c "[ \$(\"$PY\" '$top_srcdir/tests/reliability/tally.py' mail '$STATE/mail' | grep -c '^old-A ') -ge 1 ]" ||
	fail "old-A ended but sent no email"
stop_daemon
[ "$(orders)" = "$b_orders" ] || fail "old-A traded toward its old intent after new-B: $(($(orders) - b_orders)) order(s)"
[ "$(positions)" = "$b_pos" ] || fail "old-A changed the positions: $(positions), new-B left $b_pos"
grep -q 'warning run old-A superseded by run new-B' "$WORK/daemon.log" || fail "no warning naming the newer run"
# It traded before the kill: the warning says what, and that it places no more.
grep -Eq "warning run old-A superseded by run new-B: .*this run placed [1-9][0-9]* orders? earlier \(.*\) before it was stopped and places no further orders" \
    "$WORK/daemon.log" || fail "the warning does not list old-A's earlier orders"
grep 'warning run old-A superseded by run new-B' "$WORK/daemon.log" | grep -q "sell $X [0-9.]* of [0-9.]* filled" ||
	fail "the warning does not list old-A's whole sale of $X (no position, target or open order names it)"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = 'old-A' AND detail_type = 'RunSuperseded'")" = 1 ] ||
	fail "old-A's run record has no RunSuperseded step"
[ "$(mails_of 'old-A')" = 1 ] || fail "old-A has $(mails_of old-A) emails, not one"
grep -q '^Subject: \[SUPERSEDED\]' "$(mail_list | awk '$1 == "old-A" { print $4 }')" ||
	fail "old-A's email does not say superseded"
# The email as its reader sees it (headless Chromium, tests/lib/mail_render.py).
command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || fail "chromium not installed (scripts/deps.sh TEST_PACKAGES)"
"$PY" "$top_srcdir/tests/lib/mail_render.py" superseded "$(mail_list | awk '$1 == "old-A" { print $4 }')" \
    "$top_builddir/tests/artifacts" email-superseded newer=new-B correlation=old-A as_of=2026-11-20 \
    earlier="$a_orders" >"$WORK/render.log" 2>&1 || { cat "$WORK/render.log" >&2; fail "old-A's email does not tell the truth"; }
cat "$WORK/render.log"
open=$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status IN ('new', 'accepted', 'partially_filled')")
[ "$open" = 0 ] || fail "$open order(s) left open"
echo "superseded: old-A placed nothing after new-B ($b_orders orders in all), one email"

# ---- fenced -----------------------------------------------------------------
rm -rf "$STATE"
rc=$(once '{"mode":"trade","correlation_id":"reference"}')
[ "$rc" = 0 ] || fail "reference run exited $rc"
ref=$(positions)
legs=$(orders)
[ "$legs" -ge 3 ] || fail "the reference run placed $legs orders; the test needs 3 or more"
rm -rf "$STATE"
sed -i 's/^paper_order_delay = .*/paper_order_delay = 1500ms/' "$CONF"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"fence-C"}' 2>>"$WORK/send.log" || fail "send"
start_daemon
wait_until 60 sh -c "[ \$(sqlite3 -batch -noheader '$STATE/state.sqlite' 'SELECT COUNT(*) FROM broker_sim_orders') -gt 0 ]" ||
	fail "fence-C placed no order"
sql "UPDATE idempotency SET owner = 'otherhost:77:1', detail_type = 'run-thief', lease_expires_usec = $(($(date +%s) + 3600))000000 WHERE key LIKE 'account-lease:%'"
at_loss=$(orders)
wait_until 30 grep -q 'run fence-C places no more orders' "$WORK/daemon.log" || fail "the run never noticed the lost lease"
sleep 4
after=$(orders)
echo "fenced: $at_loss order(s) when the lease was taken, $after once the run stopped ($legs legs)"
[ "$after" -le $((at_loss + 1)) ] || fail "orders placed after the lease was lost: $at_loss then $after"
[ "$after" -lt "$legs" ] || fail "the run placed every leg although it lost the lease"
ended fence-C && fail "the run ended while another run held the account"
sql "DELETE FROM idempotency WHERE key LIKE 'account-lease:%'"
wait_until 60 ended fence-C || fail "fence-C did not resume after the lease was free"
wait_until 30 sh -c "[ \$(\"$PY\" '$top_srcdir/tests/reliability/tally.py' mail '$STATE/mail' | grep -c '^fence-C ') -ge 1 ]" ||
	fail "fence-C ended but sent no email"
stop_daemon
for kv in $(positions); do
	sym=${kv%%=*}
	qty=${kv#*=}
	want=$(echo " $ref " | sed -n "s/.* $sym=\([0-9]*\) .*/\1/p")
	[ -n "$want" ] || fail "$sym held but not a target"
	[ "$qty" -le $((want + want / 1000)) ] || fail "$sym is $qty, above its target $want"
done
[ "$(mails_of 'fence-C')" = 1 ] || fail "fence-C has $(mails_of fence-C) emails, not one"
echo "fenced: positions $(positions) (one run's: $ref)"
echo "supersede_local: ok"
