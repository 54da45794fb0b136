# SQS, EventBridge and DynamoDB against moto with signature checking on,
# cross-checked with the AWS CLI in both directions.
. "$top_srcdir/tests/integration/aws/lib.sh"

start_moto
E="--endpoint-url $MOTO_URL"
aws $E sqs create-queue --queue-name dlq >/dev/null || fail "create dlq"
DLQ_URL=$(aws $E sqs get-queue-url --queue-name dlq --query QueueUrl --output text)
aws $E sqs create-queue --queue-name work --attributes \
    '{"VisibilityTimeout":"30","RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:dlq\",\"maxReceiveCount\":\"5\"}"}' \
    >/dev/null || fail "create work queue"
WORK_URL=$(aws $E sqs get-queue-url --queue-name work --query QueueUrl --output text)
aws $E sqs create-queue --queue-name routed >/dev/null || fail "create routed queue"
ROUTED_URL=$(aws $E sqs get-queue-url --queue-name routed --query QueueUrl --output text)
ROUTED_ARN=$(aws $E sqs get-queue-attributes --queue-url "$ROUTED_URL" --attribute-names QueueArn \
    --query Attributes.QueueArn --output text)
aws $E events create-event-bus --name alchemiser-bus >/dev/null || fail "create bus"
aws $E events put-rule --name to-routed --event-bus-name alchemiser-bus \
    --event-pattern '{"source":["alchemiser.test"]}' >/dev/null || fail "put rule"
aws $E events put-targets --rule to-routed --event-bus-name alchemiser-bus \
    --targets "Id=q,Arn=$ROUTED_ARN" >/dev/null || fail "put targets"
aws $E dynamodb create-table --table-name idem --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=event_id,AttributeType=S \
    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null || fail "create table"
aws $E dynamodb update-time-to-live --table-name idem \
    --time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null || fail "ttl"
# A message the CLI sends, for the daemon to consume.
aws $E sqs send-message --queue-url "$WORK_URL" --message-body '{"from":"cli"}' \
    --message-attributes '{"kind":{"DataType":"String","StringValue":"cli"}}' >/dev/null || fail "cli send"

export ALC_ITEST=moto ALC_ENDPOINT="$MOTO_URL" ALC_QUEUE_URL="$WORK_URL" ALC_DLQ_URL="$DLQ_URL" \
    ALC_ROUTED_URL="$ROUTED_URL" ALC_BUS=alchemiser-bus ALC_TABLE=idem ALC_DDB_ENDPOINT="$MOTO_URL"
"$ITEST" || fail "itest_aws against moto"

# What the daemon parked, the CLI reads, reason included.
out=$(aws $E sqs receive-message --queue-url "$DLQ_URL" --message-attribute-names All \
    --attribute-names All --output json) || fail "cli receive from dlq"
echo "$out" | grep -q '"alchemiser.reject_reason"' || fail "no reject reason on the DLQ message: $out"
echo "$out" | grep -q 'parked by itest' || fail "reason text missing: $out"
# What the daemon claimed and completed, the CLI reads.
out=$(aws $E dynamodb get-item --table-name idem --key '{"event_id":{"S":"itest-complete"}}' \
    --consistent-read --output json) || fail "cli get-item"
echo "$out" | grep -q '"COMPLETED"' || fail "record not COMPLETED: $out"
echo "moto: ok"
