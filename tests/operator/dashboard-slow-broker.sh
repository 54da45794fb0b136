#!/bin/sh
# A slow broker never stalls the event loop: the portfolio page is rendered
# on a page thread. The Alpaca contract fixture (tests/data/trading/
# alpaca_fixture.js) holds the account answer for 20 s; while the portfolio
# request waits on it (the fixture has recorded the broker call, the client's
# request is still open), /metrics and the status page are answered, and the
# portfolio page still arrives complete afterwards. The assertion is about
# order (answered while the other is pending), not about time.
. "$top_srcdir/tests/lib/e2e.sh"
command -v curl >/dev/null || fail "curl missing"
SDK=$(sh "$top_srcdir/tests/alpaca/sdk-dir.sh") || fail "the Alpaca SDK cannot be installed (tests/alpaca: npm ci)"
ALPACA_SDK_DIR=$SDK "${NODE:-node}" "$top_srcdir/tests/data/trading/alpaca_fixture.js" --port 0 \
	>"$WORK/fixture.out" 2>"$WORK/fixture.log" &
PIDS="$PIDS $!"
wait_until 20 grep -q LISTENING "$WORK/fixture.out" || fail "the Alpaca fixture did not start"
AURL="http://127.0.0.1:$(awk '/LISTENING/ {print $2}' "$WORK/fixture.out")"
ctl() { curl -sf -X POST "$AURL$1" -d "$2" >/dev/null || fail "fixture control $1"; }
ctl /__state '{"cash": 20000, "positions": {"SPY": 3}, "prices": {"SPY": 450}}'
acct=$(curl -sf -H 'APCA-API-KEY-ID: test-key' -H 'APCA-API-SECRET-KEY: test-secret' "$AURL/v2/account") ||
	fail "no account from the fixture"
printf 'test-key' >"$WORK/key"
printf 'test-secret' >"$WORK/secret"
chmod 600 "$WORK/key" "$WORK/secret"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
write_config "[trading]" "broker = alpaca" "alpaca_url = $AURL" "alpaca_key_id = $WORK/key" \
	"alpaca_secret_key = $WORK/secret" "[http]" "listen = 127.0.0.1:$PORT"
start_daemon
wait_until 20 curl -sf "$URL/metrics" || fail "the listener did not come up"

ctl /__reset ''
ctl /__state '{"cash": 20000, "positions": {"SPY": 3}, "prices": {"SPY": 450}}'
ctl /__script "[{\"method\": \"GET\", \"path\": \"/v2/account\", \"delay_ms\": 20000, \"status\": 200, \"body\": $acct}]"
curl -s --max-time 100 -o "$WORK/portfolio.html" -w '%{http_code}' "$URL/portfolio" >"$WORK/portfolio.code" &
SLOW=$!
PIDS="$PIDS $SLOW"
# The page thread is now inside the broker call.
wait_until 30 sh -c "curl -sf '$AURL/__requests' | grep -q '\"path\":\"/v2/account\"'" ||
	fail "the portfolio page never asked the broker"
kill -0 "$SLOW" 2>/dev/null || fail "the portfolio page answered before the broker did"
[ "$(curl -s --max-time 60 -o "$WORK/metrics.txt" -w '%{http_code}' "$URL/metrics")" = 200 ] ||
	fail "/metrics not answered while the broker is slow"
grep -q '^alchemiserd_messages_in_flight ' "$WORK/metrics.txt" || fail "/metrics: no body"
[ "$(curl -s --max-time 60 -o "$WORK/status.html" -w '%{http_code}' "$URL/")" = 200 ] ||
	fail "the status page not answered while the broker is slow"
grep -q '<h1>Status</h1>' "$WORK/status.html" || fail "status page: no body"
kill -0 "$SLOW" 2>/dev/null || fail "the portfolio request ended before /metrics and / were answered: they waited for it"
wait "$SLOW" || fail "portfolio curl failed"
[ "$(cat "$WORK/portfolio.code")" = 200 ] || fail "portfolio answered $(cat "$WORK/portfolio.code")"
grep -q '<dt>Equity</dt><dd id="equity">\$[0-9]' "$WORK/portfolio.html" || fail "portfolio page without the account"
grep -q '<tr class="position"><td>SPY</td>' "$WORK/portfolio.html" || fail "portfolio page without the position"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "the daemon exited $? on SIGTERM"
! grep -q 'Sanitizer\|runtime error' "$WORK/daemon.log" || fail "sanitizer report"
echo "ok: a slow broker does not stall the loop"
