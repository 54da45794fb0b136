#!/bin/sh
# The read-only dashboard in a real headless browser (Debian's chromium): a
# daemon on the embedded default, its listener on loopback, runs two trade
# workflows and parks one bad body; chromium then loads every page and the
# test asserts on the rendered DOM (the run's orders and fills, the
# positions, charts with drawn paths and a text equivalent, the dead
# letter), with no script anywhere; a second daemon on the same state file
# lists the same runs. Screenshots are kept as artifacts in
# tests/operator/screenshots/ of the build tree.
. "$top_srcdir/tests/lib/e2e.sh"
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null || fail "chromium missing (Debian package chromium; scripts/check installs it)"
command -v curl >/dev/null || fail "curl missing"
SHOTS="$top_builddir/tests/operator/screenshots"
mkdir -p "$SHOTS"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
write_config "[trading]" "use_limit_orders = no" "[http]" "listen = 127.0.0.1:$PORT"
start_daemon
wait_until 20 curl -sf "$URL/metrics" || fail "the listener did not come up"
for run in dash-run-1 dash-run-2; do
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"'$run'"}' >/dev/null || fail "--send $run"
	wait_until 60 sh -c "curl -s '$URL/runs' | grep -q '>$run</a>.*>success<'" || fail "$run did not complete"
done
"$BIN" -c "$CONF" --send --event '{"mode":"bogus"}' >"$WORK/bad.id" || fail "--send bad"
wait_until 30 sh -c "curl -s '$URL/dead-letters' | grep -q '$(cat "$WORK/bad.id")'" || fail "the bad body was not parked"

# browse NAME PATH [STATUS]: the page in headless Chromium (tests/lib/browser.py:
# the answer has HTTP STATUS, default 200, the load event fired, a frame was
# painted), its DOM in $WORK/NAME.html, a screenshot (not blank, 1200x1800)
# in $SHOTS/NAME.png. A failure names the condition that did not hold.
browse() {
	rm -f "$SHOTS/$1.png" "$WORK/$1.html"
	"$PY" "$top_srcdir/tests/lib/browser.py" "$URL$2" "$WORK/$1.html" "$SHOTS/$1.png" \
	    --size 1200,1800 --profile "$WORK/chrome-$1" --status "${3:-200}" 2>"$WORK/browse-$1.log" ||
		fail "$2 in chromium: $(cat "$WORK/browse-$1.log")"
	cat "$WORK/browse-$1.log"	# tries that failed before the screenshot, if any
	grep -q '</html>' "$WORK/$1.html" || fail "$2: no document"
	! grep -qi '<script' "$WORK/$1.html" || fail "$2: a script"
}
# dom NAME REGEX: the rendered page matches.
dom() { grep -q -E "$2" "$WORK/$1.html" || fail "$1: nothing matches $2"; }
# charts NAME: every chart has drawn paths and a text equivalent.
charts() {
	n=$(grep -o '<svg[^>]*role="img"' "$WORK/$1.html" | wc -l)
	[ "$n" -ge 1 ] || fail "$1: no chart"
	[ "$(grep -o '<svg[^>]*aria-labelledby=' "$WORK/$1.html" | wc -l)" = "$n" ] || fail "$1: a chart without a label"
	[ "$(grep -o '<title[^>]*>[^<][^<]*</title>' "$WORK/$1.html" | wc -l)" -gt "$n" ] || fail "$1: a chart without a title"
	grep -q -E '<path class="series"[^>]* d="M[0-9.]+ [0-9.]+[LHV]' "$WORK/$1.html" || fail "$1: no drawn series"
}

browse status /
dom status '<h1>Status</h1>'
dom status '<dt>Backend</dt><dd>local</dd>'
dom status '<td>queue</td><td class="ok">up</td>'
dom status '<dt>Rejected</dt><dd>1</dd>'
dom status '<dt>Last run</dt><dd class="ok"><a href="/runs/dash-run-2">dash-run-2</a> succeeded</dd>'

browse runs /runs
dom runs '<a href="/runs/dash-run-1">dash-run-1</a>'
dom runs '<a href="/runs/dash-run-2">dash-run-2</a>'
dom runs 'WorkflowStarted [0-9]+ ms'

browse run /runs/dash-run-1
dom run '<h1>Run dash-run-1</h1>'
dom run 'Signals per strategy file'
dom run '<td>rotation.clj</td>'
dom run 'Rebalance plan'
[ "$(grep -o '<tr class="order">' "$WORK/run.html" | wc -l)" -ge 1 ] || fail "run: no orders"
dom run '<tr class="order"><td>[A-Z]+</td><td>buy</td><td>MARKET</td>'
dom run '<td class="ok">filled</td>'
dom run 'id="email-subject">\[SUCCESS\] The Alchemiser - PAPER Trading Report<'
# What the run came to and which session its data is from, before the details.
dom run '<dl id="run-summary"><dt>Outcome</dt><dd class="ok">success</dd>'
dom run '<dt>Session</dt><dd class="">2026-11-20</dd><dt>Bars as of</dt><dd class="">2026-11-20</dd>'
dom run "<dt>Orders</dt><dd class=\"\">[0-9]+ placed, [0-9]+ succeeded</dd>"
dom run '<td>rotation.clj</td><td class="n">40.0%</td><td>ok</td><td>2026-11-20</td><td>[A-Z]+ [0-9.]+%'
charts run

browse portfolio /portfolio
dom portfolio '<dt>Equity</dt><dd id="equity">\$[0-9]'
[ "$(grep -o '<tr class="position">' "$WORK/portfolio.html" | wc -l)" -ge 1 ] || fail "portfolio: no positions"
dom portfolio 'id="allocation-chart"'
dom portfolio 'id="equity-chart"|No history yet'
charts portfolio

browse deadletters /dead-letters
dom deadletters "<tr class=\"dead-letter\"><td>$(cat "$WORK/bad.id")</td>"
dom deadletters "is not one of trade\|bot"

browse missing /runs/no-such-run 404
dom missing 'No such run'

# Strict headers on the pages too; an injected id is escaped, never markup.
curl -s -D "$WORK/h" -o /dev/null "$URL/runs" || fail "curl"
grep -qi "^Content-Security-Policy: default-src 'none'" "$WORK/h" || fail "no CSP on a page"
grep -qi '^Cache-Control: no-store' "$WORK/h" || fail "account data cacheable"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/runs/%3Cscript%3E")" = 400 ] || fail "escaped id accepted"
# A second daemon on the same state file (a fleet on the embedded backend)
# shows the runs the first one handled.
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
sed "s/^listen = .*/listen = 127.0.0.1:$PORT2/" "$CONF" >"$WORK/second.conf"
"$BIN" -c "$WORK/second.conf" 2>>"$WORK/second.log" &
SECOND=$!
PIDS="$PIDS $SECOND"
wait_until 20 curl -sf "http://127.0.0.1:$PORT2/metrics" || fail "the second daemon's listener did not come up"
FIRST_URL=$URL
URL="http://127.0.0.1:$PORT2"
browse second-runs /runs
URL=$FIRST_URL
dom second-runs '<a href="/runs/dash-run-1">dash-run-1</a>'
dom second-runs '<a href="/runs/dash-run-2">dash-run-2</a>'
# A run that fails on stale bars: its page says where and why it failed, the
# session it was for, the older bars it had, and each file's error.
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
sed -i 's/^as_of = .*/as_of = 2026-12-04/' "$WORK/second.conf"
kill -HUP "$SECOND"
wait_until 20 grep -q 'reload' "$WORK/second.log" || fail "the second daemon did not reload"
"$BIN" -c "$WORK/second.conf" --send --event '{"mode":"trade","correlation_id":"dash-stale"}' >/dev/null ||
	fail "--send dash-stale"
URL="http://127.0.0.1:$PORT2"
wait_until 60 sh -c "curl -s '$URL/runs' | grep -q '>dash-stale</a>.*>failure<'" || fail "dash-stale did not fail"
browse stale /runs/dash-stale
URL=$FIRST_URL
dom stale '<dl id="run-summary"><dt>Outcome</dt><dd class="bad">failed at signal_generation: 2 of 2 strategy files failed'
dom stale '<dt>Session</dt><dd class="">2026-12-04</dd><dt>Bars as of</dt><dd class="warn">2026-11-20</dd>'
dom stale '<td>rotation.clj</td><td class="n">40.0%</td><td>failed</td><td>2026-11-20</td><td class="bad">SPY: last bar 2026-11-20 is 9 sessions before'
dom stale 'Failed at signal_generation'
dom stale 'Not executed: the run failed before its execution'
kill -TERM "$SECOND"
wait "$SECOND" || fail "the second daemon exited $? on SIGTERM"
! grep -q 'Sanitizer\|runtime error' "$WORK/daemon.log" || fail "sanitizer report"
# "completed in N ms" is the whole run: it is taken after the execution's
# orders, so it reaches past the moment the execution handler started (the
# TradeExecuted event's timestamp) by the orders' time. (Not against the
# step's DURATION_MS: that also counts the commit of the events the step
# publishes, after the run's time was taken, and can exceed a run whose
# first stages took less than that commit.)
run_ms=$(sed -n 's/.*workflow dash-run-1 completed (success) in \([0-9]*\) ms.*/\1/p' "$WORK/daemon.log")
ev_ts() {
	sql "SELECT json_extract(body, '\$.detail.timestamp') FROM queue_messages WHERE queue = 'alchemiser-runs'
	    AND json_extract(body, '\$.detail-type') = '$1' AND json_extract(body, '\$.detail.correlation_id') = 'dash-run-1'"
}
started=$(ev_ts WorkflowStarted)
executing=$(ev_ts TradeExecuted)
[ -n "$run_ms" ] && [ -n "$started" ] && [ -n "$executing" ] || fail "no run duration or run events ($run_ms, $started, $executing)"
to_exec_ms=$(sql "SELECT CAST(round((julianday('$executing') - julianday('$started')) * 86400000) AS INTEGER)")
[ "$run_ms" -gt "$to_exec_ms" ] ||
	fail "the run took $run_ms ms: no more than until its execution handler started ($to_exec_ms ms)"
# A published event's log line names its id (journalctl EVENT_ID= finds it).
grep -q 'published WorkflowStarted \([0-9a-f-]\{36\}\) CORRELATION_ID=dash-run-1 EVENT_ID=\1' "$WORK/daemon.log" ||
	fail "a published event is logged without its id"
echo "ok: dashboard in chromium ($(ls "$SHOTS" | wc -l) screenshots in $SHOTS)"
