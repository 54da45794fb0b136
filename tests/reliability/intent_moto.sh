#!/bin/sh
# One run per trading intent on moto with two daemons (issue #12): two, then
# five copies of {"mode":"trade"} sent at once to the SQS work queue, handled
# by two daemons sharing the DynamoDB idempotency table and one paper-broker
# state file (one account): exactly one run starts, one email goes out, and
# the paper broker holds what one run alone buys (computed first on the
# embedded backend with the same data and settings).
. "$top_srcdir/tests/reliability/lib.sh"

start_moto
moto_resources 5 yes
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL" >>"$CONF"
sed -i 's/^log_level = .*/log_level = info/' "$CONF"
positions() { sql "SELECT symbol || '=' || qty FROM broker_sim_positions WHERE qty > 0 ORDER BY symbol" | tr '\n' ' '; }
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
starts() { cat "$WORK"/d1.log "$WORK"/d2.log 2>/dev/null | grep -c "HANDLER=start OUTCOME=$1" || true; }

# One run alone, on the embedded backend: the reference.
REFSTATE="$WORK/ref"
sed -e "s|^backend = aws|backend = local|" -e "s|^state_dir = .*|state_dir = $REFSTATE|" \
    -e "s|^maildir = .*|maildir = $REFSTATE/mail|" "$CONF" >"$WORK/ref.conf"
timeout -s KILL 60 "$BIN" -c "$WORK/ref.conf" --once --event '{"mode":"trade"}' 2>>"$WORK/ref.log" ||
	fail "reference run"
ref=$(sqlite3 -batch -noheader "$REFSTATE/state.sqlite" "SELECT symbol || '=' || qty FROM broker_sim_positions WHERE qty > 0 ORDER BY symbol" | tr '\n' ' ')
[ -n "$ref" ] || fail "the reference run bought nothing"

copies() {
	n=$1
	rm -rf "$STATE" "$WORK"/d1.log "$WORK"/d2.log
	mkdir -p "$STATE"
	i=0
	pids=""
	while [ $i -lt "$n" ]; do
		"$BIN" -c "$CONF" --send --event '{"mode":"trade"}' 2>>"$WORK/send.log" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p" || fail "send failed"; done
	start_daemon d1 "$CONF"
	D1=$DAEMON_PID
	start_daemon d2 "$CONF"
	D2=$DAEMON_PID
	settled() { [ $(($(starts done) + $(starts duplicate))) -ge "$n" ] && [ "$(mails)" -ge 1 ] &&
	    [ "$(queue_depth "$Q")" = 0 ]; }
	wait_until 120 settled || fail "$n copies: $(starts done) started, $(starts duplicate) duplicates, $(mails) mails"
	kill -TERM $D1 $D2
	wait $D1 || fail "d1 exited $? on SIGTERM"
	wait $D2 || fail "d2 exited $? on SIGTERM"
	say "$n copies: started=$(starts done) duplicates=$(starts duplicate) mails=$(mails) d1=$(grep -c 'HANDLER=start OUTCOME=' "$WORK/d1.log" || true) d2=$(grep -c 'HANDLER=start OUTCOME=' "$WORK/d2.log" || true)"
	[ "$(starts done)" = 1 ] || fail "$n copies started $(starts done) runs"
	[ "$(starts duplicate)" = $((n - 1)) ] || fail "$n copies: $(starts duplicate) duplicates"
	[ "$(mails)" = 1 ] || fail "$n copies sent $(mails) emails"
	[ "$(positions)" = "$ref" ] || fail "$n copies: positions $(positions), one run's are $ref"
	[ "$(queue_depth "$DLQ")" = 0 ] || fail "$n copies: messages in the DLQ"
}
copies 2
copies 5
echo "intent_moto: ok"
