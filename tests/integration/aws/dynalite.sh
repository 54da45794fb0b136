# DynamoDB idempotency protocol against dynalite (a second implementation:
# no ReturnValuesOnConditionCheckFailure, no TTL, signatures not checked).
. "$top_srcdir/tests/integration/aws/lib.sh"

start_dynalite
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
aws --endpoint-url "$DYN_URL" dynamodb create-table --table-name idem --billing-mode PAY_PER_REQUEST \
    --attribute-definitions AttributeName=event_id,AttributeType=S \
    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null || fail "create table"
export ALC_ITEST=dynalite ALC_DDB_ENDPOINT="$DYN_URL" ALC_TABLE=idem
"$ITEST" || fail "itest_aws against dynalite"
out=$(aws --endpoint-url "$DYN_URL" dynamodb get-item --table-name idem \
    --key '{"event_id":{"S":"itest-complete"}}' --consistent-read --output json) || fail "cli get-item"
echo "$out" | grep -q '"COMPLETED"' || fail "record not COMPLETED: $out"
echo "dynalite: ok"
