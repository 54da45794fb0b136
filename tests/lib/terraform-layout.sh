# The production layout in moto (issue #17): the resources the Terraform
# module defines, built from its parsed HCL (tests/ops/check-terraform.cjs
# writes them as a fixture), not a bus and catch-all rule of a test's own:
# the work queue and DLQ with the module's visibility, wait, retention and
# redrive, the bus with the module's rules (one per published event type) each
# targeting the work queue, and the idempotency table with its key and TTL.
# Sourced after a lib that defines WORK, fail, MOTO_URL (and the signed keys).
# Needs node and tests/ops's @cdktf/hcl2json (installed into the build tree
# under a lock when the source tree has none, as tests/ops/test-terraform.sh).

# tf_modules: the folder whose node_modules has @cdktf/hcl2json.
tf_modules() {
	for d in "$top_srcdir/tests/ops" "$top_builddir/tests/ops"; do
		if [ -f "$d/node_modules/@cdktf/hcl2json/package.json" ]; then
			echo "$d"
			return 0
		fi
	done
	d="$top_builddir/tests/ops"
	mkdir -p "$d"
	(
		flock 9
		if [ ! -f "$d/node_modules/@cdktf/hcl2json/package.json" ]; then
			cp "$top_srcdir/tests/ops/package.json" "$top_srcdir/tests/ops/package-lock.json" "$d/" &&
				chmod u+w "$d/package.json" "$d/package-lock.json" &&
				(cd "$d" && npm ci --no-audit --no-fund --loglevel=error) >&2
		fi
	) 9>"$d/.install.lock" || return 1
	echo "$d"
}

# tf_get KEY: a value of the fixture (objects and lists as JSON).
tf_get() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(v if isinstance(v, (str, int)) else json.dumps(v))' "$WORK/tf-fixture.json" "$1"
}

# tf_layout [MAX_RECEIVE] [VISIBILITY]: parse terraform/, create its resources
# in moto. MAX_RECEIVE and VISIBILITY (seconds) override the module's values
# only where a test must be short. Sets Q, DLQ, BUS, TABLE, TF_RULES (names).
tf_layout() {
	mods=$(tf_modules) || fail "cannot install @cdktf/hcl2json (cd tests/ops && npm ci)"
	"${NODE:-node}" "$top_srcdir/tests/ops/check-terraform.cjs" --tf-dir "$top_srcdir/terraform" \
	    --modules "$mods" --events "$top_srcdir/tests/ops/daemon-events.json" \
	    --fixture "$WORK/tf-fixture.json" >"$WORK/tf-check.out" 2>&1 ||
		fail "terraform/ does not parse or check: $(grep FAIL "$WORK/tf-check.out" | head -3)"
	E="--endpoint-url $MOTO_URL"
	BUS=$(tf_get bus)
	TABLE=$(tf_get table)
	aws $E sqs create-queue --queue-name "$(tf_get dlq)" \
	    --attributes "MessageRetentionPeriod=$(tf_get dlq_message_retention)" >/dev/null || fail "create dlq"
	DLQ=$(aws $E sqs get-queue-url --queue-name "$(tf_get dlq)" --query QueueUrl --output text)
	dlq_arn=$(aws $E sqs get-queue-attributes --queue-url "$DLQ" --attribute-names QueueArn \
	    --query Attributes.QueueArn --output text)
	python3 -c 'import json, sys
vt, wait, ret, dlq, mrc = sys.argv[1:]
print(json.dumps({"VisibilityTimeout": vt, "ReceiveMessageWaitTimeSeconds": wait,
    "MessageRetentionPeriod": ret,
    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq, "maxReceiveCount": int(mrc)})}))' \
	    "${2:-$(tf_get visibility_timeout)}" "$(tf_get receive_wait)" "$(tf_get message_retention)" \
	    "$dlq_arn" "${1:-$(tf_get max_receive_count)}" >"$WORK/tf-work-attrs.json"
	aws $E sqs create-queue --queue-name "$(tf_get work_queue)" \
	    --attributes "file://$WORK/tf-work-attrs.json" >/dev/null || fail "create work queue"
	Q=$(aws $E sqs get-queue-url --queue-name "$(tf_get work_queue)" --query QueueUrl --output text)
	qarn=$(aws $E sqs get-queue-attributes --queue-url "$Q" --attribute-names QueueArn \
	    --query Attributes.QueueArn --output text)
	aws $E events create-event-bus --name "$BUS" >/dev/null || fail "create bus $BUS"
	TF_RULES=""
	for key in $(tf_get rules | python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)))'); do
		name="$(tf_get rule_prefix)$key"
		aws $E events put-rule --name "$name" --event-bus-name "$BUS" \
		    --event-pattern "$(tf_get "rules.$key")" --state ENABLED >/dev/null || fail "put-rule $name"
		aws $E events put-targets --rule "$name" --event-bus-name "$BUS" \
		    --targets "Id=work-queue,Arn=$qarn" >/dev/null || fail "put-targets $name"
		TF_RULES="$TF_RULES $name"
	done
	aws $E dynamodb create-table --table-name "$TABLE" --billing-mode PAY_PER_REQUEST \
	    --attribute-definitions "AttributeName=$(tf_get hash_key),AttributeType=S" \
	    --key-schema "AttributeName=$(tf_get hash_key),KeyType=HASH" >/dev/null || fail "create table"
	aws $E dynamodb update-time-to-live --table-name "$TABLE" \
	    --time-to-live-specification "Enabled=true,AttributeName=$(tf_get ttl_attribute)" >/dev/null ||
		fail "table TTL"
}

# tf_shipped_names: the shipped configuration (etc/alchemiserd.conf) names the
# module's resources: queue and DLQ (last part of their URLs), bus and table.
tf_shipped_names() {
	c="$top_srcdir/etc/alchemiserd.conf"
	for pair in "queue_url:$(tf_get work_queue)" "dead_letter_queue_url:$(tf_get dlq)" \
	    "event_bus:$BUS" "idempotency_table:$TABLE"; do
		k=${pair%%:*}
		want=${pair#*:}
		got=$(sed -n "s/^$k = //p" "$c" | sed 's|.*/||')
		[ "$got" = "$want" ] || fail "etc/alchemiserd.conf: $k names '$got', the Terraform module '$want'"
	done
}
