# Batched claims and completions (issue #13), the whole daemon on backend =
# aws: SQS and EventBridge on moto (signatures checked), the idempotency table
# on moto (TransactWriteItems) and then on dynalite (no transactions: the
# one-call-per-message fallback is the path that runs there).
# 1. A full receive of 10 fresh messages costs under one HTTP request per
#    message (receive + claims + completions + deletes; 0.4 on an idle
#    machine, 2.2 unbatched), counted by the daemon's own request counter,
#    net of an empty run; printed.
# 2. A batch in which some keys are already completed, one is held by a dead
#    owner (a previous boot of this host) and the rest are fresh: the
#    completed ones are duplicates, the dead holder's is taken over, every
#    record ends COMPLETED, nothing is left in the queue.
. "$top_srcdir/tests/integration/aws/lib.sh"

BIN="$top_builddir/src/alchemiserd"
start_moto
start_dynalite
E="--endpoint-url $MOTO_URL"
HOST=$(python3 -c 'import socket; print(socket.gethostname())')
NOW=$(date +%s)

aws $E events create-event-bus --name alchemiser >/dev/null || fail "create bus"
aws $E dynamodb create-table --table-name idem --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=event_id,AttributeType=S \
    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null || fail "create table (moto)"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "$DYN_URL" dynamodb create-table \
    --table-name idem --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=event_id,AttributeType=S \
    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null || fail "create table (dynalite)"

# conf NAME DDB_URL: a queue of its own, the table on DDB_URL.
conf() {
	aws $E sqs create-queue --queue-name "$1-dlq" >/dev/null || fail "create dlq"
	aws $E sqs create-queue --queue-name "$1" --attributes \
	    "{\"VisibilityTimeout\":\"30\",\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:123456789012:$1-dlq\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"}" \
	    >/dev/null || fail "create queue"
	mkdir -p "$WORK/$1/mail"
	cat >"$WORK/$1.conf" <<CONF
[daemon]
backend = aws
state_dir = $WORK/$1
concurrency = 10
poll_wait = 1s
once_idle_wait = 1s
visibility_timeout = 30s
shutdown_timeout = 10s
log_level = info
[aws]
region = us-east-1
queue_url = $MOTO_URL/123456789012/$1
dead_letter_queue_url = $MOTO_URL/123456789012/$1-dlq
event_bus = alchemiser
idempotency_table = idem
sqs_endpoint = $MOTO_URL
events_endpoint = $MOTO_URL
dynamodb_endpoint = $2
request_timeout = 10s
[trading]
ignore_market_hours = yes
data_dir = $top_srcdir/etc/sample-data
strategy_set = $top_srcdir/etc/strategies/strategy.json
[mail]
maildir = $WORK/$1/mail
CONF
}

# send QUEUE ID...: one WorkflowCompleted per id, 10 to a SendMessageBatch.
send() {
	q=$1
	shift
	python3 - "$@" >"$WORK/batch.json" <<'PY'
import json, sys
ids = sys.argv[1:]
body = ('{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":'
        '{"event_id":"%s","correlation_id":"%s-run","causation_id":"itest",'
        '"event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z",'
        '"source_module":"itest","workflow_type":"trading","workflow_duration_ms":1,"success":true}}')
print(json.dumps([{"Id": str(i), "MessageBody": body % (e, e)} for i, e in enumerate(ids)]))
PY
	aws $E sqs send-message-batch --queue-url "$MOTO_URL/123456789012/$q" \
	    --entries "file://$WORK/batch.json" >/dev/null || fail "send batch"
}

# once NAME: run --once; prints the daemon's own AWS request count.
once() {
	timeout -s KILL 120 "$BIN" -c "$WORK/$1.conf" --once >"$WORK/$1-once.log" 2>&1 ||
	    fail "--once on $1 (rc $?)"
	sed -n 's/.*AWS requests: \([0-9]*\),.*/\1/p' "$WORK/$1-once.log" | tail -n 1
}

in_queue() {
	aws $E sqs get-queue-attributes --queue-url "$MOTO_URL/123456789012/$1" --attribute-names \
	    ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
	    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' \
	    --output text | awk '{print $1 + $2}'
}

# records DDB_URL: "KEY STATUS" lines of the whole table (one scan).
records() {
	if [ "$1" = "$MOTO_URL" ]; then
		aws $E dynamodb scan --table-name idem --consistent-read \
		    --query 'Items[].[event_id.S,status.S]' --output text
	else
		AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "$1" dynamodb scan \
		    --table-name idem --consistent-read --query 'Items[].[event_id.S,status.S]' --output text
	fi >"$WORK/records.txt" || fail "scan"
}
status() {
	awk -v k="$1" '$1 == k { print $2 }' "$WORK/records.txt"
}

# seed DDB_URL KEY STATUS OWNER
seed() {
	item="{\"event_id\":{\"S\":\"$2\"},\"status\":{\"S\":\"$3\"},\"owner\":{\"S\":\"$4\"},
	    \"lease_expires_at\":{\"N\":\"$((NOW + 3600))\"},\"expires_at\":{\"N\":\"$((NOW + 86400))\"}}"
	if [ "$1" = "$MOTO_URL" ]; then
		aws $E dynamodb put-item --table-name idem --item "$item" >/dev/null
	else
		AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "$1" dynamodb put-item \
		    --table-name idem --item "$item" >/dev/null
	fi || fail "seed $2"
}

for store in moto dynalite; do
	if [ $store = moto ]; then ddb=$MOTO_URL; else ddb=$DYN_URL; fi

	# 1. Requests per message in a full batch, net of an empty run.
	conf "count-$store" "$ddb"
	r0=$(once "count-$store")
	ids=""
	for i in 0 1 2 3 4 5 6 7 8 9; do ids="$ids $store-fresh-$i"; done
	# shellcheck disable=SC2086
	send "count-$store" $ids
	r10=$(once "count-$store")
	[ -n "$r0" ] && [ -n "$r10" ] || fail "no request count in the log"
	grep -c 'OUTCOME=done' "$WORK/count-$store-once.log" | grep -qx 10 ||
	    fail "$store: not 10 done: $(grep -c 'OUTCOME=done' "$WORK/count-$store-once.log")"
	[ "$(in_queue "count-$store")" = 0 ] || fail "$store: messages left in the queue"
	per=$(awk -v a="$r10" -v b="$r0" 'BEGIN { printf "%.2f", (a - b) / 10 }')
	echo "$store: $((r10 - r0)) HTTP requests for a batch of 10 ($per per message; empty run $r0, full run $r10)"
	if [ $store = moto ]; then
		# Unbatched, 10 messages cost 22 requests (a claim and a completion
		# each). Idle, a full batch costs 4 (receive, claims, completions,
		# deletes); on a loaded machine the workers reach each step further
		# apart than the batching window and the batches split. The goal of
		# 0.5 per message is measured by `make bench`; here, batching must
		# happen at all: under one request per message.
		[ $((r10 - r0)) -le 9 ] || fail "moto: $((r10 - r0)) requests for 10 messages (want <= 9)"
		grep -q 'no TransactWriteItems' "$WORK/count-$store-once.log" && fail "moto: transactions not used"
	else
		grep -q 'no TransactWriteItems' "$WORK/count-$store-once.log" ||
		    fail "dynalite: the fallback was not announced"
	fi
	records "$ddb"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		[ "$(status "$store-fresh-$i")" = COMPLETED ] || fail "$store-fresh-$i not COMPLETED"
	done

	# 2. A mixed batch: 2 completed before, 1 held by a dead owner, 7 fresh.
	conf "mixed-$store" "$ddb"
	seed "$ddb" "$store-done-1" COMPLETED "elsewhere:1:0"
	seed "$ddb" "$store-done-2" COMPLETED "elsewhere:2:0"
	seed "$ddb" "$store-dead" IN_PROGRESS "$HOST:4194000:00000000:1:1"
	ids="$store-done-1 $store-done-2 $store-dead"
	for i in 0 1 2 3 4 5 6; do ids="$ids $store-new-$i"; done
	# shellcheck disable=SC2086
	send "mixed-$store" $ids
	once "mixed-$store" >/dev/null
	log="$WORK/mixed-$store-once.log"
	[ "$(grep -c 'OUTCOME=done' "$log")" = 8 ] || fail "$store: want 8 done: $(grep 'OUTCOME=' "$log")"
	[ "$(grep -c 'OUTCOME=duplicate' "$log")" = 2 ] || fail "$store: want 2 duplicates"
	grep -q "took over the claim of $HOST:4194000" "$log" || fail "$store: the dead owner's claim was not taken over"
	[ "$(in_queue "mixed-$store")" = 0 ] || fail "$store: messages left in the queue"
	records "$ddb"
	for k in $ids; do
		[ "$(status "$k")" = COMPLETED ] || fail "$store: $k not COMPLETED"
	done
done
echo "daemon-batch: ok"
