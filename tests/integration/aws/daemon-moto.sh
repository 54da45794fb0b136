# The whole daemon on backend = aws against moto with signatures checked, on
# the production layout: the resources of the Terraform module, built from its
# parsed HCL (tests/lib/terraform-layout.sh: the module's queue and DLQ
# settings, its bus with one rule per event type, its table), and the names
# the shipped etc/alchemiserd.conf and the built-in defaults give them:
# 1. a command sent with the AWS CLI -> the start stage -> WorkflowStarted
#    through the bus and the module's rule -> the work queue -> the next stage;
#    idempotency records in DynamoDB;
# 2. two daemons on one queue process nothing twice;
# 3. kill -9 right after a receive loses nothing.
# Only the daemon's own timings (visibility it asks for, lease, poll) are
# scaled down, with the module's ratio of lease to visibility kept.
. "$top_srcdir/tests/integration/aws/lib.sh"
. "$top_srcdir/tests/lib/terraform-layout.sh"

BIN="$top_builddir/src/alchemiserd"
start_moto
E="--endpoint-url $MOTO_URL"
tf_layout
tf_shipped_names

CONF="$WORK/alchemiserd.conf"
mkdir -p "$WORK/state/mail"
# No event_bus or idempotency_table: the built-in defaults must name the module's.
cat >"$CONF" <<CONF
[daemon]
backend = aws
state_dir = $WORK/state
concurrency = 2
poll_wait = 1s
visibility_timeout = 4s
idempotency_lease = 10s
once_idle_wait = 2s
retry_backoff_base = 1s
retry_backoff_max = 2s
shutdown_timeout = 5s
log_level = debug
[aws]
region = us-east-1
queue_url = $Q
dead_letter_queue_url = $DLQ
sqs_endpoint = $MOTO_URL
events_endpoint = $MOTO_URL
dynamodb_endpoint = $MOTO_URL
request_timeout = 10s
[trading]
ignore_market_hours = yes
data_dir = $top_srcdir/etc/sample-data
as_of = 2026-11-20
strategy_set = $top_srcdir/etc/strategies/strategy.json
[mail]
maildir = $WORK/state/mail
CONF

"$BIN" -c "$CONF" --check-config >/dev/null || fail "config"
completed() {
	aws $E dynamodb scan --table-name "$TABLE" --consistent-read \
	    --filter-expression '#s = :c' --expression-attribute-names '{"#s":"status"}' \
	    --expression-attribute-values '{":c":{"S":"COMPLETED"}}' --select COUNT --query Count --output text
}
in_queue() {
	aws $E sqs get-queue-attributes --queue-url "$Q" --attribute-names ApproximateNumberOfMessages \
	    ApproximateNumberOfMessagesNotVisible --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' \
	    --output text | awk '{print $1 + $2}'
}

# 1. CLI command -> start -> WorkflowStarted via the bus and the rule -> next stage.
aws $E sqs send-message --queue-url "$Q" --message-body '{"mode":"trade"}' >/dev/null || fail "cli send"
rc=0
timeout -s KILL 120 "$BIN" -c "$CONF" --once >"$WORK/once.log" 2>&1 || rc=$?
grep -q 'published WorkflowStarted' "$WORK/once.log" || fail "WorkflowStarted not published (rc $rc)"
grep 'DETAIL_TYPE=WorkflowStarted' "$WORK/once.log" | grep -q 'HANDLER=' ||
	fail "the next stage never got WorkflowStarted from the queue"
grep -q 'done start' "$WORK/once.log" || fail "the command was not done"
n1=$(completed)
[ "$n1" -ge 1 ] || fail "no COMPLETED idempotency record"
aws $E dynamodb scan --table-name "$TABLE" --consistent-read --output json |
    grep -q '"COMPLETED"' || fail "the CLI sees no COMPLETED record"

# From here on only commands: the later stages may not be in this build.
for rule in $TF_RULES; do
	aws $E events remove-targets --rule "$rule" --event-bus-name "$BUS" --ids work-queue >/dev/null ||
		fail "remove targets of $rule"
done
aws $E sqs purge-queue --queue-url "$Q" >/dev/null || fail "purge"

# 2. Two daemons on one queue: every event is done once, at most.
"$BIN" -c "$CONF" >"$WORK/a.log" 2>&1 &
A=$!
PIDS="$PIDS $A"
"$BIN" -c "$CONF" >"$WORK/b.log" 2>&1 &
B=$!
PIDS="$PIDS $B"
for i in 1 2 3 4; do
	aws $E sqs send-message --queue-url "$Q" --message-body '{"mode":"trade"}' >/dev/null || fail "cli send $i"
done
i=0
quiet=0
while [ $i -lt 240 ] && [ $quiet -lt 6 ]; do
	sleep 0.5
	if [ "$(in_queue)" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
	i=$((i + 1))
done
[ $quiet -ge 6 ] || fail "queue never drained with two daemons"
kill -TERM "$A" "$B"
wait "$A" || true
wait "$B" || true
cat "$WORK/a.log" "$WORK/b.log" >"$WORK/ab.log"
starts=$(grep -c 'OUTCOME=done' "$WORK/ab.log" | head -1)
grep -o 'HANDLER=[a-z]* OUTCOME=done.*SQS_MESSAGE_ID=[0-9a-f-]*' "$WORK/ab.log" | sed 's/.*SQS_MESSAGE_ID=//' |
    sort | uniq -d >"$WORK/dups"
[ ! -s "$WORK/dups" ] || fail "a message was done twice: $(cat "$WORK/dups")"
[ "$(grep -c 'done start' "$WORK/ab.log")" -eq 4 ] || fail "expected 4 workflow starts, got $(grep -c 'done start' "$WORK/ab.log")"

# 3. kill -9 right after a receive; a restart finishes the work, nothing lost.
before=$(completed)
aws $E sqs send-message --queue-url "$Q" --message-body '{"mode":"trade"}' >/dev/null || fail "cli send"
"$BIN" -c "$CONF" >"$WORK/k.log" 2>&1 &
K=$!
PIDS="$PIDS $K"
i=0
while [ $i -lt 200 ] && ! grep -q 'received message' "$WORK/k.log" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -9 "$K"
wait "$K" 2>/dev/null || true
# The message comes back once the killed run's visibility timeout lapses; its
# claim (a dead process of this host) is taken over at once: --once runs until
# the command is done, within a bound.
: >"$WORK/after.log"
n=0
# Killed after completing the claim but before the delete, the restart finds a duplicate.
started() { grep -q -E '(done|duplicate) start' "$WORK/k.log" "$WORK/after.log"; }
while [ $n -lt 8 ] && ! started; do
	sleep 3
	timeout -s KILL 120 "$BIN" -c "$CONF" --once >>"$WORK/after.log" 2>&1 || true
	n=$((n + 1))
done
started || fail "the command was lost after kill -9"
after=$(completed)
[ "$after" -gt "$before" ] || fail "no new COMPLETED records after kill -9 and restart"
[ "$(aws $E sqs get-queue-attributes --queue-url "$DLQ" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)" = 0 ] || fail "something was parked"
# Under --enable-sanitizers every daemon run must be clean too.
! grep -l 'Sanitizer\|runtime error' "$WORK"/*.log || fail "sanitizer report in a daemon log"
echo "daemon on moto: ok ($n1 records after one command, $starts done outcomes with two daemons)"
