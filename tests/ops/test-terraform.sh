#!/bin/sh
# The Terraform module, checked without the terraform binary or an AWS account:
#  1. every terraform/*.tf is parsed with @cdktf/hcl2json (tests/ops/package.json,
#     installed with `npm ci`), and check-terraform.cjs asserts the facts the daemon
#     relies on: one rule per published event type matching exactly its (source,
#     detail-type), queue policy on the rule ARNs, redrive, visibility, schedule,
#     table key and TTL, least-privilege IAM, alarms;
#  2. the same bus, rules (patterns taken from the parsed HCL), queue, DLQ, archive,
#     schedule and table are created in moto through the AWS CLI, and PutEvents
#     shows that every daemon event type lands in the work queue exactly once and
#     that unrelated events do not; a message received max_receive_count times
#     moves to the DLQ.
# Part 2 needs moto_server and aws on PATH; without them the test ends as SKIP
# after part 1 has passed.
# Env: top_srcdir, top_builddir (automake), NODE (optional), ALCHEMISERD_PATTERN_MATCHER
# (optional: the daemon's matcher, see pattern-match.cjs).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
ops_src="$top_srcdir/tests/ops"
node=${NODE:-node}
# The daemon's own event-pattern matcher decides, not a re-implementation.
ALCHEMISERD_PATTERN_MATCHER=${ALCHEMISERD_PATTERN_MATCHER:-"$top_builddir/src/alchemiserd --test-pattern"}
export ALCHEMISERD_PATTERN_MATCHER

if ! command -v "$node" >/dev/null 2>&1; then
	echo "SKIP: node not found"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/alchemiserd-tf.XXXXXX") || exit 1
moto_pid=
cleanup() {
	if [ -n "$moto_pid" ]; then
		kill "$moto_pid" 2>/dev/null
		wait "$moto_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- @cdktf/hcl2json ---------------------------------------------------------------
# Use tests/ops/node_modules if `npm ci` was run there; otherwise install the locked
# versions into the build tree (the source tree is read-only under distcheck).
modules=
for d in "$ops_src" "$top_builddir/tests/ops"; do
	if [ -f "$d/node_modules/@cdktf/hcl2json/package.json" ]; then
		modules=$d
		break
	fi
done
if [ -z "$modules" ]; then
	modules="$top_builddir/tests/ops"
	echo "# installing @cdktf/hcl2json into $modules (npm ci)"
	mkdir -p "$modules" && cp "$ops_src/package.json" "$ops_src/package-lock.json" "$modules/" &&
		chmod u+w "$modules/package.json" "$modules/package-lock.json"
	if ! (cd "$modules" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1; then
		sed 's/^/    /' "$work/npm.log"
		echo "SKIP: cannot install @cdktf/hcl2json (run: cd tests/ops && npm ci)"
		exit 77
	fi
fi

# --- part 1: structure ----------------------------------------------------------------
fixture="$work/fixture.json"
if ! "$node" "$ops_src/check-terraform.cjs" --tf-dir "$top_srcdir/terraform" --modules "$modules" \
	--events "$ops_src/daemon-events.json" --fixture "$fixture"; then
	echo "FAIL: structural checks of terraform/"
	exit 1
fi

# Canonical formatting, when a terraform binary happens to be installed (offline:
# fmt needs no providers). Not required.
if command -v terraform >/dev/null 2>&1; then
	if terraform fmt -check -recursive -list=true "$top_srcdir/terraform" >"$work/fmt" 2>/dev/null; then
		echo "ok   - terraform fmt -check"
	else
		echo "FAIL - terraform fmt -check: $(tr '\n' ' ' <"$work/fmt")"
		exit 1
	fi
fi

# --- part 2: the same resources in moto -------------------------------------------------
for tool in moto_server aws; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found: structural checks passed, emulator checks not run"
		exit 77
	fi
done

# Read a value from the fixture: jq-like path with dots (arrays/objects printed as JSON).
fx() {
	"$node" -e '
		let v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		for (const k of process.argv[2].split(".")) if (k) v = v[k];
		process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
	' "$fixture" "$1"
}

# Only the dummy credentials below, never the user's configuration or a real account.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_REGION \
	AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_PAGER

# Port 0: moto binds a free port and prints it.
moto_server -H 127.0.0.1 -p 0 >"$work/moto.log" 2>&1 &
moto_pid=$!
port=
i=0
while [ $i -lt 600 ]; do
	port=$(sed -n 's|.*Running on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$work/moto.log" | head -n 1)
	[ -n "$port" ] && break
	if ! kill -0 "$moto_pid" 2>/dev/null; then
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "FAIL: moto_server did not start"
	sed 's/^/    /' "$work/moto.log"
	exit 1
fi
echo "# moto_server pid $moto_pid on 127.0.0.1:$port"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }

# aws ARGS...: stdout to $work/out; on failure print stderr and stop the test.
awscli() {
	if ! aws --endpoint-url "http://127.0.0.1:$port" --output json "$@" >"$work/out" 2>"$work/err"; then
		echo "FAIL - aws $*"
		sed 's/^/    /' "$work/err"
		exit 1
	fi
}
# js EXPR: evaluate EXPR with `o` = the JSON of the last awscli call.
js() {
	"$node" -e '
		const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8") || "{}");
		const r = eval(process.argv[2]);
		process.stdout.write(typeof r === "string" ? r : JSON.stringify(r));
	' "$work/out" "$1"
}

bus=$(fx bus)
work_q=$(fx work_queue)
dlq_q=$(fx dlq)

# Queues: DLQ first, then the work queue with the module's attributes and redrive.
awscli sqs create-queue --queue-name "$dlq_q" \
	--attributes "MessageRetentionPeriod=$(fx dlq_message_retention)"
dlq_url=$(js o.QueueUrl)
awscli sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn
dlq_arn=$(js o.Attributes.QueueArn)
"$node" -e '
	const [vt, wait, ret, dlq, mrc] = process.argv.slice(1);
	process.stdout.write(JSON.stringify({VisibilityTimeout: vt, ReceiveMessageWaitTimeSeconds: wait,
		MessageRetentionPeriod: ret,
		RedrivePolicy: JSON.stringify({deadLetterTargetArn: dlq, maxReceiveCount: Number(mrc)})}));
' "$(fx visibility_timeout)" "$(fx receive_wait)" "$(fx message_retention)" "$dlq_arn" \
	"$(fx max_receive_count)" >"$work/work-attrs.json"
awscli sqs create-queue --queue-name "$work_q" --attributes "file://$work/work-attrs.json"
work_url=$(js o.QueueUrl)
awscli sqs get-queue-attributes --queue-url "$work_url" --attribute-names All
work_arn=$(js o.Attributes.QueueArn)
vt=$(js o.Attributes.VisibilityTimeout)
if [ "$vt" = "$(fx visibility_timeout)" ]; then ok "work queue visibility timeout $vt s"; else not_ok "work queue visibility timeout $vt"; fi
mrc=$(js 'JSON.parse(o.Attributes.RedrivePolicy).maxReceiveCount')
if [ "$mrc" = "$(fx max_receive_count)" ]; then ok "work queue redrive maxReceiveCount $mrc"; else not_ok "redrive policy: $mrc"; fi

# Bus, rules with the patterns from the HCL, targets, archive.
awscli events create-event-bus --name "$bus"
bus_arn=$(js o.EventBusArn)
rule_arns=
for key in $(fx rules | "$node" -e 'console.log(Object.keys(JSON.parse(require("fs").readFileSync(0, "utf8"))).join(" "))'); do
	name="$(fx rule_prefix)$key"
	awscli events put-rule --name "$name" --event-bus-name "$bus" --event-pattern "$(fx "rules.$key")" --state ENABLED
	rule_arns="$rule_arns $(js o.RuleArn)"
	awscli events put-targets --rule "$name" --event-bus-name "$bus" \
		--targets "Id=work-queue,Arn=$work_arn"
	if [ "$(js o.FailedEntryCount)" != 0 ]; then not_ok "put-targets $name"; fi
done
awscli events list-rules --event-bus-name "$bus"
n=$(js o.Rules.length)
if [ "$n" = "$(fx events.length)" ]; then ok "$n rules on $bus"; else not_ok "$n rules on $bus, want $(fx events.length)"; fi
awscli events create-archive --archive-name "$(fx archive)" --event-source-arn "$bus_arn" \
	--event-pattern "$(fx archive_pattern)" --retention-days "$(fx archive_retention_days)"
ok "archive $(fx archive) created"

# The queue policy of the module (EventBridge allowed, conditioned on the rule ARNs).
# moto stores but does not enforce it; this checks that it is well-formed for SQS.
"$node" -e '
	const [q, ...rules] = process.argv.slice(1);
	const policy = {Version: "2012-10-17", Statement: [{Sid: "AllowAlchemiserRules", Effect: "Allow",
		Principal: {Service: "events.amazonaws.com"}, Action: "sqs:SendMessage", Resource: q,
		Condition: {ArnEquals: {"aws:SourceArn": rules}}}]};
	process.stdout.write(JSON.stringify({Policy: JSON.stringify(policy)}));
' "$work_arn" $rule_arns >"$work/policy.json"
awscli sqs set-queue-attributes --queue-url "$work_url" --attributes "file://$work/policy.json"
awscli sqs get-queue-attributes --queue-url "$work_url" --attribute-names Policy
n=$(js 'JSON.parse(o.Attributes.Policy).Statement[0].Condition.ArnEquals["aws:SourceArn"].length')
if [ "$n" = "$(fx events.length)" ]; then ok "queue policy lists the $n rule ARNs"; else not_ok "queue policy: $n rule ARNs"; fi

# Idempotency table.
table=$(fx table)
hk=$(fx hash_key)
awscli dynamodb create-table --table-name "$table" --billing-mode PAY_PER_REQUEST \
	--attribute-definitions "AttributeName=$hk,AttributeType=S" --key-schema "AttributeName=$hk,KeyType=HASH"
awscli dynamodb update-time-to-live --table-name "$table" \
	--time-to-live-specification "Enabled=true,AttributeName=$(fx ttl_attribute)"
awscli dynamodb describe-time-to-live --table-name "$table"
if [ "$(js o.TimeToLiveDescription.AttributeName)" = "$(fx ttl_attribute)" ] &&
   [ "$(js o.TimeToLiveDescription.TimeToLiveStatus)" = ENABLED ]; then
	ok "table $table: TTL on $(fx ttl_attribute)"
else
	not_ok "table $table TTL: $(cat "$work/out")"
fi
awscli dynamodb put-item --table-name "$table" --item "{\"$hk\":{\"S\":\"e1\"},\"$(fx ttl_attribute)\":{\"N\":\"1795437197\"}}" \
	--condition-expression "attribute_not_exists($hk)"
ok "table $table takes a conditional claim on $hk"

# The schedule (moto does not fire it; this checks that the API accepts the values).
awscli scheduler create-schedule --name "$(fx rule_prefix)daily-trade" \
	--schedule-expression "$(fx schedule_expression)" \
	--schedule-expression-timezone "$(fx schedule_timezone)" --flexible-time-window Mode=OFF \
	--target "$("$node" -e 'process.stdout.write(JSON.stringify({Arn: process.argv[1],
		RoleArn: "arn:aws:iam::123456789012:role/alchemiser-scheduler", Input: process.argv[2],
		DeadLetterConfig: {Arn: process.argv[3]}}))' "$work_arn" "$(fx schedule_input)" "$dlq_arn")"
ok "schedule $(fx schedule_expression) $(fx schedule_timezone)"
# What the schedule delivers is its Input, verbatim: check the daemon would get the command.
awscli sqs send-message --queue-url "$work_url" --message-body "$(fx schedule_input)"
awscli sqs receive-message --queue-url "$work_url" --max-number-of-messages 1 --wait-time-seconds 1
body=$(js 'o.Messages[0].Body')
if [ "$body" = '{"mode":"trade"}' ]; then ok "schedule input arrives as $body"; else not_ok "schedule input: $body"; fi
awscli sqs delete-message --queue-url "$work_url" --receipt-handle "$(js 'o.Messages[0].ReceiptHandle')"

# PutEvents: every daemon event type, plus two that no rule may deliver.
"$node" -e '
	const [fxf, bus] = process.argv.slice(1);
	const f = JSON.parse(require("fs").readFileSync(fxf, "utf8"));
	const entries = f.events.map((e, i) => ({Source: e.source, DetailType: e.detail_type,
		Detail: JSON.stringify({correlation_id: "c-" + i}), EventBusName: bus}));
	entries.push({Source: "alchemiser.elsewhere", DetailType: "WorkflowStarted", Detail: "{}", EventBusName: bus});
	entries.push({Source: "alchemiser.strategy", DetailType: "SomethingElse", Detail: "{}", EventBusName: bus});
	if (entries.length > 10) throw new Error("PutEvents takes at most 10 entries");
	process.stdout.write(JSON.stringify(entries));
' "$fixture" "$bus" >"$work/entries.json"
awscli events put-events --entries "file://$work/entries.json"
if [ "$(js o.FailedEntryCount)" = 0 ]; then ok "PutEvents accepted $(js o.Entries.length) entries"; else not_ok "PutEvents: $(cat "$work/out")"; fi

# Collect what arrived (bounded: at most 10 receives).
: >"$work/bodies"
i=0
while [ $i -lt 10 ]; do
	awscli sqs receive-message --queue-url "$work_url" --max-number-of-messages 10 --wait-time-seconds 1
	n=$(js '(o.Messages || []).length')
	[ "$n" = 0 ] && break
	js '(o.Messages || []).map((m) => m.Body).join("\n") + "\n"' >>"$work/bodies"
	js '(o.Messages || []).map((m, i) => ({Id: "m" + i, ReceiptHandle: m.ReceiptHandle}))' >"$work/del.json"
	awscli sqs delete-message-batch --queue-url "$work_url" --entries "file://$work/del.json"
	i=$((i + 1))
done
"$node" -e '
	const fs = require("fs");
	const f = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
	const bodies = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((b) => JSON.parse(b));
	let bad = 0;
	const say = (ok, msg) => { console.log((ok ? "ok   - " : "FAIL - ") + msg); if (!ok) bad++; };
	for (const e of f.events) {
		const got = bodies.filter((b) => b.source === e.source && b["detail-type"] === e.detail_type);
		say(got.length === 1, `${e.detail_type} (${e.source}) delivered to the work queue ${got.length} time(s)`);
		if (got.length === 1)
			say(typeof got[0].id === "string" && typeof got[0].detail === "object" &&
			    got[0].detail.correlation_id !== undefined,
			    `${e.detail_type} arrives as the whole event envelope (id, detail)`);
	}
	const known = new Set(f.events.map((e) => e.source + " " + e.detail_type));
	const stray = bodies.filter((b) => !known.has(b.source + " " + b["detail-type"]));
	say(stray.length === 0, `no unrelated event delivered${stray.length ? ": " + JSON.stringify(stray) : ""}`);
	say(bodies.length === f.events.length, `${bodies.length} messages in all, want ${f.events.length}`);
	process.exit(bad ? 1 : 0);
' "$fixture" "$work/bodies" >"$work/deliveries" 2>&1
rc=$?
cat "$work/deliveries"
passed=$((passed + $(grep -c '^ok' "$work/deliveries")))
failed=$((failed + $(grep -c '^FAIL' "$work/deliveries")))
[ $rc -eq 0 ] || [ "$(grep -c '^FAIL' "$work/deliveries")" -gt 0 ] || not_ok "delivery check crashed"

# Redrive: a message received max_receive_count times (never deleted) moves to the DLQ.
awscli sqs send-message --queue-url "$work_url" --message-body '{"poison":true}'
mrc=$(fx max_receive_count)
i=0
while [ $i -le "$mrc" ]; do
	awscli sqs receive-message --queue-url "$work_url" --max-number-of-messages 1 --visibility-timeout 0 --wait-time-seconds 0
	i=$((i + 1))
done
awscli sqs receive-message --queue-url "$dlq_url" --max-number-of-messages 1 --wait-time-seconds 1
if [ "$(js '(o.Messages || []).map((m) => m.Body).join()')" = '{"poison":true}' ]; then
	ok "after $mrc receives the message is in the DLQ"
else
	not_ok "redrive to the DLQ after $mrc receives: $(cat "$work/out")"
fi

echo "# emulator: $passed passed, $failed failed"
[ $failed -eq 0 ]
