#!/bin/sh
# One run per trading intent on the embedded default (issue #12):
#   two, then five copies of {"mode":"trade"} sent at once (one daemon, then
#   two daemons on one state file) start exactly one run and send one email,
#   and the paper broker ends with the positions of one run;
#   a forced second run in the same session trades nothing when at target;
#   after a failed run, the same command starts a new run without force.
. "$top_srcdir/tests/lib/e2e.sh"

# A short lease: a copy that finds the run key claimed by the other daemon
# comes back after it, and must then be a duplicate.
write_config "[trading]" "use_limit_orders = no"
printf '[daemon]\nidempotency_lease = 5s\n' >>"$CONF"
sed -i 's/^log_level = debug/log_level = info/' "$CONF"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
positions() { sql "SELECT symbol || '=' || qty FROM broker_sim_positions WHERE qty > 0 ORDER BY symbol" | tr '\n' ' '; }
starts() { cat "$WORK"/d*.log 2>/dev/null | grep -c "HANDLER=start OUTCOME=$1" || true; }
runs() { sql "SELECT COUNT(*) FROM idempotency WHERE detail_type = 'WorkflowStarted' AND status = 'COMPLETED'"; }

# The reference: one run, alone.
rc=$(once '{"mode":"trade","correlation_id":"reference"}')
[ "$rc" = 0 ] || fail "reference run exited $rc"
ref=$(positions)
[ -n "$ref" ] || fail "the reference run bought nothing"
echo "one run's positions: $ref"

# copies N DAEMONS: N copies sent at once, handled by DAEMONS daemons.
copies() {
	n=$1
	rm -rf "$STATE" "$WORK"/d*.log
	i=0
	pids=""
	while [ $i -lt "$n" ]; do
		"$BIN" -c "$CONF" --send --event '{"mode":"trade"}' 2>>"$WORK/send.log" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p" || fail "send failed"; done
	d=1
	dpids=""
	while [ $d -le "$2" ]; do
		"$BIN" -c "$CONF" 2>>"$WORK/d$d.log" &
		dpids="$dpids $!"
		PIDS="$PIDS $!"
		d=$((d + 1))
	done
	# Every daemon up too: a SIGTERM before its handlers are in place ends it
	# by the signal (143), which says nothing about the runs.
	up() { for f in "$WORK"/d*.log; do grep -q 'alchemiserd started' "$f" || return 1; done; }
	settled() { [ $(($(starts done) + $(starts duplicate))) -ge "$n" ] && [ "$(mails)" -ge 1 ] && up; }
	wait_until 90 settled || fail "$n copies: $(starts done) started, $(starts duplicate) duplicates, $(mails) mails"
	kill -TERM $dpids
	for p in $dpids; do wait "$p" || fail "daemon $p exited $? on SIGTERM"; done
	[ "$(starts done)" = 1 ] || fail "$n copies started $(starts done) runs"
	[ "$(starts duplicate)" = $((n - 1)) ] || fail "$n copies: $(starts duplicate) duplicates"
	[ "$(runs)" = 1 ] || fail "$n copies: $(runs) workflows started"
	[ "$(mails)" = 1 ] || fail "$n copies sent $(mails) emails"
	grep -l 'Trading Report' "$STATE"/mail/new/* >/dev/null || fail "$n copies: the email is not a trading report"
	got=$(positions)
	[ "$got" = "$ref" ] || fail "$n copies: positions $got, one run's are $ref"
	grep -h 'OUTCOME=duplicate' "$WORK"/d*.log | head -1 | grep -q 'duplicate start: duplicate of run [0-9a-f-]* (run key run:paper-[0-9]*/trade/[0-9-]*): .*"force": true' ||
		fail "the duplicate's reason does not name the run and how to force one"
	echo "$n copies, $2 daemon(s): one run, one email, positions of one run"
}
copies 2 1
copies 5 2

# A forced second run in the same session: at target, it trades nothing.
orders=$(sql "SELECT COUNT(*) FROM broker_sim_orders")
rc=$(once '{"mode":"trade","force":true}')
[ "$rc" = 0 ] || fail "forced run exited $rc"
[ "$(runs)" = 2 ] || fail "the forced run did not start ($(runs) workflows)"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = "$orders" ] || fail "a forced run at target placed orders"
[ "$(positions)" = "$ref" ] || fail "a forced run at target changed the positions: $(positions)"
[ "$(mails)" = 2 ] || fail "the forced run sent no report ($(mails) emails)"

# After a failed run the same command starts a new run, without force.
rm -rf "$STATE"
mkdir -p "$WORK/badset"
printf '(defsymphony "no data" {} (if (> (rsi "NODATA" {:window 10}) 50) [(asset "SPY")] [(asset "BIL")]))\n' >"$WORK/badset/nodata.clj"
printf '{"files":["nodata.clj"],"allocations":{"nodata.clj":1.0}}\n' >"$WORK/badset/set.json"
sed "s|^strategy_set = .*|strategy_set = $WORK/badset/set.json|" "$CONF" >"$WORK/bad.conf"
rc=0
timeout -s KILL 60 "$BIN" -c "$WORK/bad.conf" --once --event '{"mode":"trade"}' 2>>"$WORK/daemon.log" || rc=$?
[ "$(grep -l 'Error Report' "$STATE"/mail/new/* | wc -l)" = 1 ] || fail "the failed run sent no error email"
rc=$(once '{"mode":"trade"}')
[ "$(grep -l 'Trading Report' "$STATE"/mail/new/* | wc -l)" = 1 ] || fail "the command after a failed run did not run"
[ "$(positions)" = "$ref" ] || fail "the run after a failure: positions $(positions)"
rc=$(once '{"mode":"trade"}')
grep -q 'duplicate start: duplicate of run .*/trade/[0-9-]*#2)' "$WORK/daemon.log" || fail "a copy after the second run was not its duplicate"
[ "$(mails)" = 2 ] || fail "expected 2 emails after fail, run, duplicate; got $(mails)"
echo "run_intent_local: ok"
