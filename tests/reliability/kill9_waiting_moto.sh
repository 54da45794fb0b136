#!/bin/sh
# A run waiting for the account on SQS survives kills during the wait
# (backend = aws on moto, paper broker): SQS counts every receive and cannot
# give one back, so before the fix each kill -9 during the wait cost one
# receive and the third (maxReceiveCount 3) parked a healthy run in the DLQ.
# The account lease is held by another run on another host (an item put in
# the table); run wait-m's RebalancePlanned waits for it in daemon W, which
# is killed -9 five times during that wait. When its receive count nears the
# limit, W sends a fresh copy of the waiting message (same body: the same
# idempotency key) and deletes the old one. Then the lease is freed: the run
# must execute and be mailed once, and nothing is parked.
. "$top_srcdir/tests/reliability/lib.sh"

KILLS=${REL_WAIT_KILLS:-5}
start_moto
moto_resources 3 yes
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
{
	aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL"
	printf '%s\n' "dlq_watch_interval = 0s"
} >>"$CONF"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^log_level = .*/log_level = info/' "$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
waiting() { grep -q 'execution: waiting for account' "$WORK/w.log"; }
lease_key() { echo "account-lease:paper-$(sql 'SELECT created_usec FROM broker_sim_account WHERE id = 1')"; }

# The paper account is made by the first daemon; then the lease is taken by
# a run of another host (never judged dead: only its lease decides).
start_daemon w "$CONF"
W=$DAEMON_PID
wait_until 30 sh -c "[ -n \"\$(sqlite3 -batch -noheader '$STATE/state.sqlite' 'SELECT created_usec FROM broker_sim_account' 2>/dev/null)\" ]" ||
	fail "the paper account was not created"
KEY=$(lease_key)
now=$(date +%s)
aws $EP dynamodb put-item --table-name alchemiser-idempotency --item \
    "{\"event_id\":{\"S\":\"$KEY\"},\"status\":{\"S\":\"IN_PROGRESS\"},\"owner\":{\"S\":\"otherhost:4711:deadbeef:4026531836:1\"},\"detail_type\":{\"S\":\"AccountLease\"},\"correlation_id\":{\"S\":\"blocker\"},\"lease_expires_at\":{\"N\":\"$((now + 3600))\"},\"expires_at\":{\"N\":\"$((now + 90000))\"}}" \
    >/dev/null || fail "put the blocking lease"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"wait-m"}' || fail "--send"

kills=0
while :; do
	if ! wait_until 60 waiting; then
		[ "$(queue_depth "$DLQ")" = 0 ] ||
			fail "the waiting run was parked in the DLQ after $kills kills during its wait"
		fail "W never waited for the account (life $((kills + 1)))"
	fi
	[ "$kills" -lt "$KILLS" ] || break
	sleep 0.5
	kill -9 "$W"
	wait "$W" 2>/dev/null || true
	kills=$((kills + 1))
	cat "$WORK/w.log" >>"$WORK/w-lives.log"
	: >"$WORK/w.log"
	start_daemon w "$CONF"
	W=$DAEMON_PID
done
fresh=$(cat "$WORK/w-lives.log" "$WORK/w.log" | grep -c 'sent again as a fresh message' || true)
say "W killed $kills times during the wait; $fresh fresh copies sent; DLQ depth $(queue_depth "$DLQ")"
[ "$(queue_depth "$DLQ")" = 0 ] || fail "the waiting run was parked by kills during its wait"
[ "$fresh" -ge 1 ] || fail "no fresh copy of the waiting message was sent"
# The other run ends: wait-m executes and is mailed.
aws $EP dynamodb delete-item --table-name alchemiser-idempotency \
    --key "{\"event_id\":{\"S\":\"$KEY\"}}" >/dev/null || fail "free the lease"
mailed() { [ "$(mails)" -ge 1 ]; }
wait_until 90 mailed || fail "run wait-m was not mailed after the account was free"
sleep 2
kill -TERM "$W"
wait "$W" || fail "W: exit $?"
[ "$(mails)" = 1 ] || fail "$(mails) mails, not one"
grep -l 'wait-m' "$STATE"/mail/new/* >/dev/null || fail "the mail is not run wait-m's"
[ "$(queue_depth "$DLQ")" = 0 ] || fail "$(queue_depth "$DLQ") message(s) parked"
echo "kill9_waiting_moto: ok ($kills kills during the wait, $fresh fresh copies)"
