#!/bin/sh
# alchemiserd --dead-letters on backend = aws, both ways of moving messages:
#  - moto (signatures checked): the daemon parks two bad bodies (one sent by
#    the CLI with a message attribute); list, show by the original id, redrive
#    one by id and the rest with --all. moto has no StartMessageMoveTask (it
#    answers 500), so --all falls back to receive-and-send and says so; the
#    message comes back with its original attribute and without ours.
#  - local-aws-sqs: --all through a real message-move task.
. "$top_srcdir/tests/integration/aws/lib.sh"

BIN="$top_builddir/src/alchemiserd"
mkdir -p "$WORK/state"

# write_conf URL QUEUE_URL DLQ_URL
write_conf() {
	cat >"$WORK/aws.conf" <<CONF
[daemon]
backend = aws
state_dir = $WORK/state
concurrency = 2
poll_wait = 1s
once_idle_wait = 1s
log_level = debug
[aws]
region = us-east-1
queue_url = $2
dead_letter_queue_url = $3
event_bus = alchemiser
sqs_endpoint = $1
events_endpoint = $1
dynamodb_endpoint = $1
request_timeout = 10s
max_attempts = 2
[trading]
ignore_market_hours = yes
data_dir = $top_srcdir/etc/sample-data
strategy_set = $top_srcdir/etc/strategies/strategy.json
[mail]
maildir = $WORK/state/mail
CONF
}
dl() { "$BIN" -c "$WORK/aws.conf" --dead-letters "$@"; }

# ---- moto: the daemon parks, receive-and-send moves back ----
start_moto
E="--endpoint-url $MOTO_URL"
aws $E sqs create-queue --queue-name dlq >/dev/null || fail "create dlq"
DLQ=$(aws $E sqs get-queue-url --queue-name dlq --query QueueUrl --output text)
aws $E sqs create-queue --queue-name work --attributes '{"RedrivePolicy":'\
'"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:dlq\",\"maxReceiveCount\":\"5\"}"}' \
    >/dev/null || fail "create work queue"
Q=$(aws $E sqs get-queue-url --queue-name work --query QueueUrl --output text)
aws $E events create-event-bus --name alchemiser >/dev/null || fail "create bus"
aws $E dynamodb create-table --table-name alchemiser-idempotency --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=event_id,AttributeType=S \
    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null || fail "create table"
write_conf "$MOTO_URL" "$Q" "$DLQ"

orig=$(aws $E sqs send-message --queue-url "$Q" --message-body '{"mode":"bogus"}' \
    --message-attributes '{"kind":{"DataType":"String","StringValue":"cli"}}' \
    --query MessageId --output text) || fail "cli send"
"$BIN" -c "$WORK/aws.conf" --send --event 'not json' >"$WORK/id2" 2>"$WORK/send.log" || fail "--send"
[ -n "$(cat "$WORK/id2")" ] || fail "--send printed no message id"
rc=0; timeout -s KILL 120 "$BIN" -c "$WORK/aws.conf" --once >"$WORK/once.log" 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "--once with two bad bodies exited $rc, want 4 (rejected)"
[ "$(grep -c 'parked in the dead-letter queue' "$WORK/once.log")" = 2 ] || fail "not both parked"

dl list >"$WORK/list.out" 2>"$WORK/list.log" || fail "list"
grep -q '^2 message(s) in the dead-letter queue' "$WORK/list.out" || fail "count: $(cat "$WORK/list.out")"
grep -q "'bogus' is not one of trade|bot" "$WORK/list.out" || fail "reason missing"
grep -q 'body: malformed JSON' "$WORK/list.out" || fail "second reason missing"
# Looking did not move or hide them.
[ "$(aws $E sqs get-queue-attributes --queue-url "$DLQ" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)" = 2 ] || fail "list hid the messages"

dl show "$orig" >"$WORK/show.out" || fail "show by the original id"
grep -q "^original id: *$orig" "$WORK/show.out" || fail "show: original id"
grep -q '^{"mode":"bogus"}$' "$WORK/show.out" || fail "show: body"

dl redrive "$orig" >"$WORK/redrive1.out" || fail "redrive by id: $(cat "$WORK/redrive1.out")"
grep -q '^moved 1 message(s) back to .*(receive and send)' "$WORK/redrive1.out" || fail "redrive by id: $(cat "$WORK/redrive1.out")"
aws $E sqs receive-message --queue-url "$Q" --message-attribute-names All --output json >"$WORK/back.json" ||
	fail "cli receive"
grep -q 'bogus' "$WORK/back.json" || fail "the body is not back: $(cat "$WORK/back.json")"
grep -q '"StringValue": "cli"' "$WORK/back.json" || fail "the original attribute was lost"
! grep -q 'alchemiser.reject_reason' "$WORK/back.json" || fail "the parking attributes went back too"

dl redrive --all >"$WORK/redrive2.out" 2>&1 || fail "redrive --all: $(cat "$WORK/redrive2.out")"
grep -q '^no message-move task' "$WORK/redrive2.out" || fail "the fallback was not announced"
grep -q '^moved 1 message(s) back to .*(receive and send)' "$WORK/redrive2.out" || fail "redrive --all: $(cat "$WORK/redrive2.out")"
dl list | grep -q '^0 message(s)' || fail "moto dead-letter queue not empty"
rc=0; dl redrive no-such-id >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "redrive of an unknown id exited $rc"

# ---- local-aws-sqs: a message-move task ----
start_local_sqs
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
E="--endpoint-url $LSQS_URL"
aws $E sqs create-queue --queue-name dlq >/dev/null || fail "lsqs: create dlq"
DLQ=$(aws $E sqs get-queue-url --queue-name dlq --query QueueUrl --output text)
DLQ_ARN=$(aws $E sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn \
    --query Attributes.QueueArn --output text)
aws $E sqs create-queue --queue-name work --attributes "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}" \
    >/dev/null || fail "lsqs: create work queue"
Q=$(aws $E sqs get-queue-url --queue-name work --query QueueUrl --output text)
write_conf "$LSQS_URL" "$Q" "$DLQ"
for i in 1 2 3; do
	aws $E sqs send-message --queue-url "$DLQ" --message-body "{\"parked\":$i}" \
	    --message-attributes '{"alchemiser.reject_reason":{"DataType":"String","StringValue":"test"}}' \
	    >/dev/null || fail "lsqs: send $i"
done
dl list >"$WORK/lsqs-list.out" 2>&1 || fail "lsqs: list: $(cat "$WORK/lsqs-list.out")"
grep -q '^3 message(s)' "$WORK/lsqs-list.out" || fail "lsqs: count: $(cat "$WORK/lsqs-list.out")"
dl redrive --all >"$WORK/lsqs-redrive.out" 2>&1 || fail "lsqs: redrive --all: $(cat "$WORK/lsqs-redrive.out")"
grep -q '^moved 3 message(s) back to .*(message-move task)' "$WORK/lsqs-redrive.out" ||
	fail "lsqs: not by a move task: $(cat "$WORK/lsqs-redrive.out")"
[ "$(aws $E sqs get-queue-attributes --queue-url "$Q" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)" = 3 ] || fail "lsqs: not on the work queue"
# Under --enable-sanitizers every run must be clean too.
! grep -l 'Sanitizer\|runtime error' "$WORK"/*.log "$WORK"/*.out || fail "sanitizer report"
echo "ok: dead letters on SQS (moto: receive and send; local-aws-sqs: message-move task)"
