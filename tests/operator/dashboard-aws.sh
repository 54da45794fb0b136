#!/bin/sh
# The dashboard on backend = aws shows the same runs whichever daemon of a
# fleet handled them (run records in DynamoDB, aws/dynamodb_runs.h), and the
# SQS dead letters without receiving them. On moto (signatures checked), the
# idempotency table doubling as aws.runs_table:
#  - daemon d1 alone handles run aws-run-1, then d2 alone handles aws-run-2;
#  - with both running, each one's /runs lists both runs and /runs/ID of the
#    run the other handled shows its signals, orders and email, in headless
#    chromium (DOM asserted, screenshots kept as artifacts);
#  - a bad body parked by d2 is on d1's /dead-letters with its reason; the
#    page never received it (its receive count in the DLQ is still 0 when the
#    test itself receives it last);
#  - --dead-letters redrive --all forgets the park record.
. "$top_srcdir/tests/reliability/lib.sh"
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null || fail "chromium missing (Debian package chromium; scripts/check installs it)"
command -v curl >/dev/null || fail "curl missing"
SHOTS="$top_builddir/tests/operator/screenshots"
mkdir -p "$SHOTS"

start_moto
moto_resources 5 yes
E="--endpoint-url $MOTO_URL"
P1=$(pick_port)
P2=$(pick_port)
while [ "$P2" = "$P1" ]; do P2=$(pick_port); done
BACKEND=aws write_config "$WORK/d1.conf" "[trading]" "use_limit_orders = no"
sed -i 's/^log_level = .*/log_level = info/' "$WORK/d1.conf"
{
	aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL"
	# The dead-letter watch must receive from the DLQ (runtime/dlq_watch.h);
	# off here, where the point is that the pages never do.
	printf '%s\n' "runs_table = alchemiser-idempotency" "dlq_watch_interval = 0s" "[http]" \
	    "listen = 127.0.0.1:$P1"
} >>"$WORK/d1.conf"
sed "s/^listen = .*/listen = 127.0.0.1:$P2/" "$WORK/d1.conf" >"$WORK/d2.conf"
# d2 runs rotation.clj alone: other targets than d1's two strategies, so its run trades too.
set_strategy "$WORK/d2.conf" 2
"$BIN" -c "$WORK/d1.conf" --check-config >"$WORK/check.log" 2>&1 || fail "config"
U1="http://127.0.0.1:$P1"
U2="http://127.0.0.1:$P2"

mails_are() { [ "$(ls "$STATE/mail/new" 2>/dev/null | wc -l)" = "$1" ]; }
queue_empty() { [ "$(queue_depth "$Q")" = 0 ]; }
# run_alone NAME CONF URL CORR MAILS: only this daemon runs while CORR goes through.
run_alone() {
	start_daemon "$1" "$2"
	pid=$DAEMON_PID
	wait_until 30 curl -sf "$3/metrics" || fail "$1: the listener did not come up"
	"$BIN" -c "$2" --send --event '{"mode":"trade","correlation_id":"'"$4"'"}' >/dev/null 2>>"$WORK/send.log" ||
		fail "--send $4"
	wait_until 120 sh -c "curl -s '$3/runs' | grep -q '>$4</a>.*>success<'" || fail "$4 did not complete on $1"
	# ... and its email went out: nothing of it is left for the next daemon.
	wait_until 60 mails_are "$5" || fail "$4: no email"
	wait_until 60 queue_empty || fail "$4: messages left on the queue"
	kill -TERM "$pid"
	wait "$pid" || fail "$1 exited $? on SIGTERM"
}
run_alone d1 "$WORK/d1.conf" "$U1" aws-run-1 1
run_alone d2 "$WORK/d2.conf" "$U2" aws-run-2 2
grep -q 'CORRELATION_ID=aws-run-2' "$WORK/d2.log" || fail "d2 did not handle aws-run-2"
! grep -q 'CORRELATION_ID=aws-run-2' "$WORK/d1.log" || fail "d1 handled aws-run-2"
! grep -q 'CORRELATION_ID=aws-run-1' "$WORK/d2.log" || fail "d2 handled aws-run-1"

start_daemon d1 "$WORK/d1.conf"
D1=$DAEMON_PID
start_daemon d2 "$WORK/d2.conf"
D2=$DAEMON_PID
wait_until 30 curl -sf "$U1/metrics" || fail "d1 did not come back"
wait_until 30 curl -sf "$U2/metrics" || fail "d2 did not come back"
"$BIN" -c "$WORK/d1.conf" --send --event '{"mode":"bogus"}' >"$WORK/bad.id" 2>>"$WORK/send.log" || fail "--send bad"
BAD=$(cat "$WORK/bad.id")
wait_until 60 sh -c "curl -s '$U1/dead-letters' | grep -q '$BAD'" || fail "the bad body was not shown as parked"

# browse NAME URL [STATUS]: the page in headless Chromium (tests/lib/browser.py:
# HTTP STATUS, default 200, the load event, a painted frame), its DOM in
# $WORK/NAME.html, a screenshot (not blank) in $SHOTS/aws-NAME.png; a failure
# names the condition.
browse() {
	rm -f "$SHOTS/aws-$1.png" "$WORK/$1.html"
	"$PY" "$top_srcdir/tests/lib/browser.py" "$2" "$WORK/$1.html" "$SHOTS/aws-$1.png" \
	    --size 1200,1800 --profile "$WORK/chrome-$1" --status "${3:-200}" 2>"$WORK/browse-$1.out" ||
		fail "$2 in chromium: $(cat "$WORK/browse-$1.out")"
	cat "$WORK/browse-$1.out"	# tries that failed before the screenshot, if any
	grep -q '</html>' "$WORK/$1.html" || fail "$2: no document"
	! grep -qi '<script' "$WORK/$1.html" || fail "$2: a script"
}
dom() { grep -q -E "$2" "$WORK/$1.html" || fail "$1: nothing matches $2"; }

for d in 1 2; do
	eval "u=\$U$d"
	browse "runs$d" "$u/runs"
	dom "runs$d" '<a href="/runs/aws-run-1">aws-run-1</a>'
	dom "runs$d" '<a href="/runs/aws-run-2">aws-run-2</a>'
	dom "runs$d" 'WorkflowStarted [0-9]+ ms'
	[ "$(grep -o '<td class="ok">success</td>' "$WORK/runs$d.html" | wc -l)" -ge 2 ] || fail "runs$d: not two successes"
done
# Each daemon's page of the run the other one handled.
browse run2-on-d1 "$U1/runs/aws-run-2"
browse run1-on-d2 "$U2/runs/aws-run-1"
for n in run2-on-d1 run1-on-d2; do
	dom "$n" 'Signals per strategy file'
	dom "$n" '<td>rotation.clj</td>'
	[ "$(grep -o '<tr class="order">' "$WORK/$n.html" | wc -l)" -ge 1 ] || fail "$n: no orders"
	dom "$n" '<tr class="order"><td>[A-Z]+</td><td>(buy|sell)</td><td>MARKET</td>'
	dom "$n" '<td class="ok">filled</td>'
	dom "$n" 'id="email-subject">\[SUCCESS\] The Alchemiser - PAPER Trading Report<'
	dom "$n" '<path class="series"[^>]* d="M[0-9.]+ [0-9.]+[LHV]'
done
browse dead "$U1/dead-letters"
dom dead "<tr class=\"dead-letter\"><td>$BAD</td>"
dom dead "is not one of trade\|bot"
dom dead 'id="dead-letter-total">1 message'
browse missing "$U2/runs/no-such-run" 404
dom missing 'No such run'

kill -TERM "$D1" "$D2"
wait "$D1" || fail "d1 exited $? on SIGTERM"
wait "$D2" || fail "d2 exited $? on SIGTERM"
! grep -q 'Sanitizer\|runtime error\|not recorded for the dashboard' "$WORK"/d1.log "$WORK"/d2.log ||
	fail "a sanitizer report or a record not written"

# No page received the parked message: the first receive is this one.
count=$(aws $E sqs receive-message --queue-url "$DLQ" --attribute-names ApproximateReceiveCount \
    --visibility-timeout 0 --max-number-of-messages 10 \
    --query 'Messages[].Attributes.ApproximateReceiveCount' --output text)
[ "$count" = 1 ] || fail "the parked message had been received before (receive count now $count)"
record() {
	aws $E dynamodb get-item --table-name alchemiser-idempotency --consistent-read \
	    --key "{\"event_id\":{\"S\":\"dead#$BAD\"}}" --query Item.reason.S --output text
}
record | grep -q 'is not one of' || fail "no park record of $BAD"
"$BIN" -c "$WORK/d1.conf" --dead-letters redrive --all >"$WORK/redrive.out" 2>"$WORK/redrive.log" ||
	fail "redrive --all: $(cat "$WORK/redrive.out")"
[ "$(record)" = None ] || fail "the park record of $BAD outlived its redrive"
echo "ok: the dashboard on AWS ($(ls "$SHOTS"/aws-* | wc -l) screenshots in $SHOTS)"
