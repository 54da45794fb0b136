#!/bin/sh
# Hostile and careless input (issue #17) on the embedded default: each body is
# refused once with its reason, parked in the dead-letter queue with that
# reason, and never retried; nothing it carries is written raw to the log.
#   B4  ids too long or with strange characters;
#   B5  newlines and escape codes in ids (a forged log line);
#   B11 a forged RebalancePlanned (a negative BUY, signal_only as a string);
#   #13 plain domain events, routed from one scan with the detail's tree built
#       only when read: a rule broken deep inside is still refused at once with
#       the reason it always had, and a stage that reads the detail gets it whole.
. "$top_srcdir/tests/lib/e2e.sh"

write_config
REJECTED=4	# --once: a message was rejected (alchemiserd(8), EXIT STATUS)
dlq_reason() { # SUBSTRING OF BODY -> the parked reason
	sql "SELECT dlq_reason FROM queue_messages WHERE queue = 'alchemiser-dlq' AND instr(CAST(body AS TEXT), '$1') > 0"
}
receives() {
	sql "SELECT receive_count FROM queue_messages WHERE instr(CAST(body AS TEXT), '$1') > 0"
}

# B4: a 500-character correlation id is rejected at once, with the reason.
long=$(head -c 500 /dev/zero | tr '\0' x)
rc=$(once '{"mode":"trade","correlation_id":"'"$long"'"}')
[ "$rc" = "$REJECTED" ] || fail "a 500-character correlation id exited $rc, want $REJECTED (rejected)"
case "$(dlq_reason "$long")" in
*"correlation_id': 500 characters, over the limit of 200"*) ;;
*) fail "DLQ reason of the long correlation id: '$(dlq_reason "$long")'" ;;
esac
[ "$(receives "$long")" = 1 ] || fail "the long correlation id was received $(receives "$long") times, want 1"
grep -q 'retry start' "$WORK/daemon.log" && fail "the long correlation id was retried"
# ... and a long event id of a domain event.
rc=$(once '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"'"$long"'","correlation_id":"c","causation_id":"k","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"t","workflow_duration_ms":1,"success":true}}')
[ "$rc" = "$REJECTED" ] || fail "a 500-character event id exited $rc"
case "$(sql "SELECT dlq_reason FROM queue_messages WHERE queue = 'alchemiser-dlq' AND dlq_reason LIKE '%event_id'': 500 characters%'")" in
'') fail "long event id not parked with its reason" ;;
esac

# B5: an id carrying newlines and an escape code forges no log line.
: >"$WORK/daemon.log"
rc=$(once '{"mode":"trade","correlation_id":"run\n<3>reject forged: FAKE-LINE\n<3>reject forged: FAKE-LINE\u001b[2J"}')
[ "$rc" = "$REJECTED" ] || fail "a correlation id with a newline exited $rc"
grep -q '^<3>reject forged' "$WORK/daemon.log" && fail "a forged line reached the log"
# Every line is one the logger began (time stamp and level), none a body's.
grep -qv '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z [a-z]* ' "$WORK/daemon.log" &&
	fail "a line not written by the logger: $(grep -v '^[0-9]\{4\}-' "$WORK/daemon.log" | head -3)"
grep -q "$(printf '\033')" "$WORK/daemon.log" && fail "an escape code reached the log"
grep -q "character 4 (0x0a) is not allowed" "$WORK/daemon.log" || fail "the reason of the newline id is not logged"
# A body that is parked for another reason still has its fields escaped.
: >"$WORK/daemon.log"
once '{"mode":"yolo\n<3>done start: FORGED","correlation_id":"ok-1"}' >/dev/null
grep -q '^<3>done start: FORGED' "$WORK/daemon.log" && fail "a forged line from a command field reached the log"
grep -q 'yolo\\n<3>done start: FORGED' "$WORK/daemon.log" || fail "the escaped value is not in the log"

# B11: a forged RebalancePlanned places no order and is parked with its reason.
rp() { # EVENT_ID ACTION AMOUNT TARGET CURRENT METADATA
	printf '{"detail-type":"RebalancePlanned","source":"alchemiser.portfolio","detail":{"event_id":"%s","correlation_id":"forged","causation_id":"k","event_type":"RebalancePlanned","timestamp":"2025-10-14T12:00:00Z","source_module":"portfolio_v2.handlers","rebalance_plan":{"items":[{"symbol":"SPY","current_weight":"0","target_weight":"0.5","weight_diff":"0.5","target_value":"%s","current_value":"%s","trade_amount":"%s","action":"%s","priority":2}],"total_portfolio_value":"100000","total_trade_value":"5000"},"allocation_comparison":{},"trades_required":true,"metadata":{%s}}}' \
		"$1" "$4" "$5" "$3" "$2" "$6"
}
rc=$(once "$(rp rp-neg BUY -5000 0 5000 '')")
[ "$rc" = "$REJECTED" ] || fail "a negative BUY exited $rc"
case "$(dlq_reason rp-neg)" in
*"a BUY needs a positive amount, got -5000"*) ;;
*) fail "DLQ reason of the negative BUY: '$(dlq_reason rp-neg)'" ;;
esac
rc=$(once "$(rp rp-str BUY 5000 5000 0 '"signal_only":"true"')")
[ "$rc" = "$REJECTED" ] || fail "signal_only as a string exited $rc"
case "$(dlq_reason rp-str)" in
*"metadata.signal_only': expected boolean, got string"*) ;;
*) fail "DLQ reason of signal_only as a string: '$(dlq_reason rp-str)'" ;;
esac
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = 0 ] || fail "a forged plan placed an order"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'rp-%'")" = 0 ] || fail "a forged plan was claimed"

# Issue #13: the scanned path. A broken rule deep in a plain body, a
# duplicate key in a nested object: refused at receive, parked once, never
# claimed, with the reasons the tree path gives.
wc() { # EVENT_ID EXTRA_MEMBERS
	printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s-run","causation_id":"k","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"trading","workflow_duration_ms":42,"success":true%s}}' \
		"$1" "$1" "$2"
}
rc=$(once "$(wc wc-flag ',"metadata":{"signal_only":"yes"}')")
[ "$rc" = "$REJECTED" ] || fail "signal_only as a string in a WorkflowCompleted exited $rc"
case "$(dlq_reason wc-flag)" in
*"WorkflowCompleted detail: field 'metadata.signal_only': expected boolean, got string"*) ;;
*) fail "DLQ reason of the WorkflowCompleted's flag: '$(dlq_reason wc-flag)'" ;;
esac
[ "$(receives wc-flag)" = 1 ] || fail "the flag was received $(receives wc-flag) times, want 1"
rc=$(once "$(wc wc-dup ',"metadata":{"run":{"a":1,"a":2}}')")
[ "$rc" = "$REJECTED" ] || fail "a duplicate nested key exited $rc"
case "$(dlq_reason wc-dup)" in
*"body: malformed JSON at line 1 column "*": duplicate object key near '\"a\"'"*) ;;
*) fail "DLQ reason of the duplicate key: '$(dlq_reason wc-dup)'" ;;
esac
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE key LIKE 'wc-%'")" = 0 ] || fail "a refused event was claimed"
# Valid: the completed stage (typed reads, no tree) and the errors stage,
# whose WorkflowFailed detail is built when read and reaches the mail.
rc=$(once "$(wc wc-ok '')")
[ "$rc" = 0 ] || fail "a valid WorkflowCompleted exited $rc"
grep -q 'workflow wc-ok-run completed (success) in 42 ms' "$WORK/daemon.log" ||
	fail "the completed stage did not read the WorkflowCompleted's fields"
rc=$(once '{"detail-type":"WorkflowFailed","source":"alchemiser.execution","detail":{"event_id":"wf-lazy","correlation_id":"wf-lazy-run","causation_id":"k","event_type":"WorkflowFailed","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"trading","failure_reason":"no-bars-for-lazy-SPY","failure_step":"signal_generation"}}')
[ "$rc" = 3 ] || fail "a valid WorkflowFailed exited $rc, want 3 (its run failed, the error mail sent)"
grep -qs 'no-bars-for-lazy-SPY' "$STATE"/mail/new/* || fail "the WorkflowFailed's reason did not reach the error mail"

echo "hostile_input: ok"
