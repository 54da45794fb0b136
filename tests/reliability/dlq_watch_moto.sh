#!/bin/sh
# A run whose message SQS parks by itself still ends cleanly (issue #17, B1,
# the AWS gap), backend = aws on moto + the Alpaca fixture (limit orders that
# never fill: fill mode "new"), redrive at 2 receives, lease : visibility
# 10 s : 4 s. The RebalancePlanned handler of run dlw-1 is killed (-9) on
# each of its two receives, so SQS moves the message to the DLQ at the next
# receive and no daemon sees it again. Two daemons then run with the
# dead-letter watch (aws.dlq_watch_interval 1 s): exactly one of them ends the
# run: its open orders cancelled, its claim no longer IN_PROGRESS, exactly one
# error mail naming the run, the stage and the reason, the message still in
# the DLQ, its account lease released, and its park record's reason in
# --dead-letters list. A second DLQ
# message, the RebalancePlanned of a run that completed (dlw-ok, taken from a
# tap on the bus), is only recorded: no error mail for it.
# Before the watch: the parked run kept its open orders and its IN_PROGRESS
# claim, and no mail was sent.
REL_BUDGET=${REL_BUDGET:-300}
. "$top_srcdir/tests/reliability/lib.sh"

start_moto
moto_resources 2
# The tap: every event of the bus also goes to a queue of the test's own.
aws $EP sqs create-queue --queue-name tap >/dev/null || fail "create tap queue"
TAP=$(aws $EP sqs get-queue-url --queue-name tap --query QueueUrl --output text)
TAPARN=$(aws $EP sqs get-queue-attributes --queue-url "$TAP" --attribute-names QueueArn \
    --query Attributes.QueueArn --output text)
aws $EP events put-rule --name tap --event-bus-name alchemiser \
    --event-pattern '{"source":[{"prefix":"alchemiser."}]}' >/dev/null || fail "put tap rule"
aws $EP events put-targets --rule tap --event-bus-name alchemiser --targets "Id=tap,Arn=$TAPARN" \
    >/dev/null || fail "put tap target"
start_fixture
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = yes" "reprice_interval = 30s" \
    "order_poll_interval = 100ms" "max_reprices = 1" "fill_timeout = 60s" "slippage_bps = 500"
{
	aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL"
	printf '%s\n' "runs_table = alchemiser-idempotency" "dlq_watch_interval = 1s"
	fixture_lines "$FIX_URL"
} >>"$CONF"
sed -i 's/^visibility_timeout = .*/visibility_timeout = 4s/; s/^idempotency_lease = .*/idempotency_lease = 10s/' "$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"

orders() { curl -sf "$FIX_URL/__orders"; }
# open_orders: orders of the fixture not yet in a final state.
open_orders() {
	orders | "$PY" -c 'import json, sys
print(sum(1 for o in json.load(sys.stdin) if o["status"] not in
    ("filled", "canceled", "rejected", "expired", "replaced")))'
}
all_orders() { orders | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
has_open() { [ "$(open_orders)" -gt 0 ]; }
more_orders_than() { [ "$(all_orders)" -gt "$1" ] && has_open; }
mail_for() { grep -l "$1" "$STATE"/mail/new/* 2>/dev/null | head -n 1 | grep -q .; }
error_mails() { grep -l 'Error Report' "$STATE"/mail/new/* 2>/dev/null || true; }
logs() { cat "$WORK"/d?.log "$WORK"/b.log "$WORK"/c.log 2>/dev/null || true; }

# 1. A run that completes (its orders fill), for the second DLQ message.
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"dlw-ok"}' || fail "--send dlw-ok"
start_daemon d0 "$CONF"
wait_until 90 mail_for dlw-ok || fail "run dlw-ok sent no trading email"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "SIGTERM: exit $?"
drain_bodies "$TAP" >"$WORK/tap.txt"
"$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    b = json.loads(line)
    e = json.loads(b)
    if e.get("detail-type") == "RebalancePlanned" and e["detail"].get("correlation_id") == "dlw-ok":
        print(b)
        break' "$WORK/tap.txt" >"$WORK/done-body.json"
[ -s "$WORK/done-body.json" ] || fail "no RebalancePlanned of dlw-ok on the tap"
say "dlw-ok completed; its RebalancePlanned taken from the tap"

# 2. Run dlw-1: limit orders that never fill; killed on each of its two receives.
curl -sf -X POST "$FIX_URL/__state" -d '{"fill": "new"}' >/dev/null || fail "fixture fill mode"
# Other targets than dlw-ok's (which the account now holds): legs to trade.
set_strategy "$CONF" 1
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"dlw-1"}' || fail "--send dlw-1"
start_daemon d1 "$CONF"
wait_until 90 has_open || fail "run dlw-1 placed no open order"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
# Counted after the kill: the handler was still placing legs until then.
first=$(all_orders)
say "killed on receive 1 with $(open_orders) open order(s) (of $first)"
start_daemon d2 "$CONF"
# The redelivery (receive 2, the last permitted) takes the dead holder's claim
# over and resumes: the old orders are cancelled and the legs placed again,
# then the handler waits for fills.
wait_until 60 grep -q 'took over the claim' "$WORK/d2.log" ||
	fail "receive 2 did not take the dead holder's claim over"
wait_until 60 more_orders_than "$first" || fail "receive 2 of dlw-1's RebalancePlanned placed no order"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "killed on receive 2 with $(open_orders) open order(s) (of $(all_orders))"

# 3. Two daemons with the watch; SQS parks the message at their first receive
#    after its visibility lapses. A completed stage's message is parked too,
#    once they run (sent earlier, the receive a killed daemon left waiting
#    at moto could take it and hide it for a minute: a dead long poll).
start_daemon b "$CONF"
B=$DAEMON_PID
start_daemon c "$CONF"
C=$DAEMON_PID
INJ=$(aws $EP sqs send-message --queue-url "$DLQ" --message-body "$(cat "$WORK/done-body.json")" \
    --query MessageId --output text) || fail "send the completed stage's message to the DLQ"
# watched KIND: "ID" per message the watch settled ("ended" or "recorded"),
# one line per time.
watched() {
	logs | sed -n "s/.*dead-letter watch: message \([^ ]*\) was parked by SQS$1.*/\1/p"
}
ended() { watched '; its run is ended' | grep -q .; }
recorded() { watched ' after its stage completed: recorded' | grep -qx "$INJ"; }
error_mail() { [ -n "$(error_mails)" ]; }
wait_until 120 error_mail || fail "no error mail; $(open_orders) open order(s) left"
wait_until 30 ended || fail "no daemon logged the end of the parked run"
wait_until 60 recorded || fail "the completed stage's message $INJ was not recorded"
# Several more sweeps of both daemons: nobody handles a message again.
sleep 6
for p in $B $C; do
	kill -TERM "$p"
	rc=0
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || fail "daemon $p exited $rc on SIGTERM"
done

# Exactly once per parked message across both daemons. (Besides the two, a
# kill right after a redelivered message's duplicate answer, before its
# delete, parks a message whose stage completed: recorded the same way.)
watched '; its run is ended' >"$WORK/ended.txt"
watched ' after its stage completed: recorded' >"$WORK/recorded.txt"
say "ended: $(wc -l <"$WORK/ended.txt"), recorded: $(wc -l <"$WORK/recorded.txt") (injected $INJ)"
[ -z "$(sort "$WORK/ended.txt" "$WORK/recorded.txt" | uniq -d)" ] ||
	fail "a parked message was handled twice: $(sort "$WORK/ended.txt" "$WORK/recorded.txt" | uniq -d)"
[ "$(grep -cx "$INJ" "$WORK/recorded.txt")" = 1 ] || fail "the completed stage's message was not recorded once"
[ "$(open_orders)" = 0 ] || fail "$(open_orders) open orders left behind"
# The run's claims (the account lease, account-lease:*, is the executor's: a
# dead holder's is taken over by the next run, a live one's lapses).
inprog=$(aws $EP dynamodb scan --table-name alchemiser-idempotency --consistent-read \
    --filter-expression '#s = :p AND correlation_id = :c AND NOT begins_with(event_id, :l)' \
    --expression-attribute-names '{"#s":"status"}' --expression-attribute-values \
    '{":p":{"S":"IN_PROGRESS"},":c":{"S":"dlw-1"},":l":{"S":"account-lease:"}}' --select COUNT \
    --query Count --output text)
[ "$inprog" = 0 ] || fail "$inprog claim(s) of dlw-1 still IN_PROGRESS"
# The ended run's account lease is released by the watch (the next run of the
# account must not wait for it to lapse).
leases=$(aws $EP dynamodb scan --table-name alchemiser-idempotency --consistent-read \
    --filter-expression 'begins_with(event_id, :l) AND correlation_id = :c' \
    --expression-attribute-values '{":l":{"S":"account-lease:"},":c":{"S":"dlw-1"}}' --select COUNT \
    --query Count --output text)
[ "$leases" = 0 ] || fail "the account lease of the ended run dlw-1 is still there"
logs | grep -q 'dead-letter watch: released the account lease of .* held by .*(run dlw-1)' ||
	fail "no log line of the released account lease"
mails=$(error_mails)
[ "$(echo "$mails" | wc -l)" = 1 ] || fail "$(echo "$mails" | wc -l) error mails"
"$PY" -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
text = " ".join(p.get_payload(decode=True).decode("utf-8", "replace")
    for p in m.walk() if p.get_content_type() == "text/plain")
text = " ".join(text.split())
for want in ("dlw-1", "execution", "parked by SQS after 2 receives"):
    if want not in text:
        sys.exit("the error mail does not say %r" % want)' "$mails" || fail "error mail: $mails"
# Every parked message is still there, and each was looked at.
parked=$(cat "$WORK/ended.txt" "$WORK/recorded.txt" | wc -l)
[ "$(queue_depth "$DLQ")" = "$parked" ] ||
	fail "the DLQ holds $(queue_depth "$DLQ") message(s); the watch settled $parked"
"$BIN" -c "$CONF" --dead-letters list >"$WORK/dead-letters.txt" 2>&1 || fail "--dead-letters list"
cat "$WORK/dead-letters.txt"
grep -Eq '^[^ ]+ +2 +.*parked by SQS after 2 receives.*run dlw-1 ended' "$WORK/dead-letters.txt" ||
	fail "--dead-letters does not show the parked run's reason"
grep -q 'stage (execution) had completed' "$WORK/dead-letters.txt" ||
	fail "--dead-letters does not show the completed stage's record"
echo "dlq_watch_moto: ok"
