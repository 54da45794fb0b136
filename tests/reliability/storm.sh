#!/bin/sh
# The error-mail storm guard (issue #17, B2), embedded default, the default
# error_storm_limit (10 runs a minute): 30 distinct runs fail, each of them
# twice (two WorkflowFailed events). Every failed run must reach a person:
# 10 runs get their own error mail, the other 20 are listed in one summary
# mail once the minute is over, and every run is in the log at warning.
# Before: the duplicates of a run used up the limit (a run's second failure
# counted as a second mail) and the rest were dropped, logged at info.
# Then the daemon is killed (kill -9) while the summary is pending and
# restarted: the summary still names each of the 20 runs, once (before: the
# list lived in memory, and the restarted daemon mailed only the run that
# carried it).
. "$top_srcdir/tests/reliability/lib.sh"

RUNS=30
CONF="$WORK/alchemiserd.conf"
write_config "$CONF"
detail() { # EVENT_ID CORRELATION STEP
	printf '{"detail-type":"WorkflowFailed","source":"alchemiser.execution","detail":{"event_id":"%s","correlation_id":"%s","causation_id":"cause","event_type":"WorkflowFailed","timestamp":"2025-10-14T12:00:00Z","source_module":"execution_v2.handlers","workflow_type":"trading","failure_reason":"broker refused","failure_step":"%s"}}' \
	    "$1" "$2" "$3"
}
i=1
while [ $i -le $RUNS ]; do
	"$BIN" -c "$CONF" --send --event "$(detail "wf-$i-a" "storm-$i" trade_execution)" || fail "--send"
	"$BIN" -c "$CONF" --send --event "$(detail "wf-$i-b" "storm-$i" trade_execution)" || fail "--send"
	i=$((i + 1))
done
# The storm and the kill within one minute (the summary waits for its end).
sec=$(date +%S)
[ "${sec#0}" -le 30 ] || sleep $((61 - ${sec#0}))
start_daemon daemon "$CONF"
own_mails() { grep -l 'Correlation:  *storm-' "$STATE"/mail/new/* 2>/dev/null | wc -l; }
summaries() { grep -l '^Subject: .*error_storm' "$STATE"/mail/new/* 2>/dev/null | wc -l; }
work_left() { sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'"; }
# Every failure handled (each of the 60 done, or held: the two of the run that
# carries the summary), and the 10 error mails delivered.
handled() {
	kill -0 "$DAEMON_PID" 2>/dev/null || return 0
	n=$(($(grep -c 'HANDLER=errors OUTCOME=done' "$WORK/daemon.log") +
	    $(grep -c 'errors: storm guard: .*held, asking again' "$WORK/daemon.log")))
	[ "$n" -ge $((2 * RUNS)) ] && [ "$(own_mails)" = 10 ] && [ "$(work_left)" -le 2 ]
}
wait_until 100 handled || fail "the storm was not handled: $(own_mails) mails, $(work_left) messages left"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited"
[ "$(summaries)" = 0 ] || fail "the summary went out before the kill (the minute ended too soon)"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
say "killed with the summary pending; restarting"
start_daemon daemon "$CONF"
# error mails: one per run, or a summary naming the run (up to the minute's end).
named() {
	"$PY" - "$STATE/mail" "$RUNS" <<'PY'
import collections, glob, os, re, sys, email, email.policy
d, n = sys.argv[1], int(sys.argv[2])
named, own, summaries = collections.Counter(), 0, 0
for path in glob.glob(os.path.join(d, "new", "*")) + glob.glob(os.path.join(d, "cur", "*")):
    msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    if "Error storm" in str(msg["Subject"]) or "Error storm" in text:
        summaries += 1
        named.update(re.findall(r"^(storm-\d+) \(", text, re.M))
    else:
        own += 1
        named.update(re.findall(r"Correlation:\s+(storm-\d+)", text))
missing = ["storm-%d" % i for i in range(1, n + 1) if "storm-%d" % i not in named]
twice = sorted(r for r, k in named.items() if k > 1)
print("own=%d summaries=%d named=%d missing=%s twice=%s" % (own, summaries, len(named),
      " ".join(missing[:10]), " ".join(twice[:10])))
sys.exit(0 if not missing and not twice else 1)
PY
}
wait_until 100 named || true
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
	st=0
	wait "$DAEMON_PID" || st=$?
	fail "the restarted daemon exited by itself (status $st)"
fi
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "SIGTERM: exit $?"
res=$(named) || fail "failed runs without any mail: $res"
say "storm: $res"
own=$(echo "$res" | sed 's/.*own=\([0-9]*\).*/\1/')
sums=$(echo "$res" | sed 's/.*summaries=\([0-9]*\).*/\1/')
[ "$own" = 10 ] || fail "$own runs mailed one by one, not the limit of 10"
[ "$sums" = 1 ] || fail "$sums summary mails, not one"
warned=$(grep -E '(^<4>| warning )workflow storm-[0-9]* failed at' "$WORK/daemon.log" |
    sed 's/.*workflow \(storm-[0-9]*\) .*/\1/' | sort -u | wc -l)
[ "$warned" = "$RUNS" ] || fail "$warned of $RUNS failed runs logged at warning"
echo "storm: ok"
