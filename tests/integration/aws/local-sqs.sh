# The SQS transport against local-aws-sqs (a second implementation; its
# deviations, handled by the transport: an empty 200 body for an empty
# receive, ApproximateReceiveCount only for the legacy AttributeNames).
. "$top_srcdir/tests/integration/aws/lib.sh"

start_local_sqs
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
E="--endpoint-url $LSQS_URL"
aws $E sqs create-queue --queue-name dlq >/dev/null || fail "create dlq"
DLQ_URL=$(aws $E sqs get-queue-url --queue-name dlq --query QueueUrl --output text)
aws $E sqs create-queue --queue-name work >/dev/null || fail "create work queue"
WORK_URL=$(aws $E sqs get-queue-url --queue-name work --query QueueUrl --output text)
export ALC_ITEST=local-sqs ALC_ENDPOINT="$LSQS_URL" ALC_QUEUE_URL="$WORK_URL" ALC_DLQ_URL="$DLQ_URL"
"$ITEST" || fail "itest_aws against local-aws-sqs"
# Debian's CLI v2 speaks the query protocol: a second client reading the DLQ.
out=$(PATH=$(getconf PATH) aws $E sqs receive-message --queue-url "$DLQ_URL" \
    --message-attribute-names All --output json 2>/dev/null || \
    aws $E sqs receive-message --queue-url "$DLQ_URL" --message-attribute-names All --output json) \
    || fail "cli receive from dlq"
echo "$out" | grep -q 'parked by itest' || fail "reason missing on the DLQ message: $out"
echo "local-aws-sqs: ok"
