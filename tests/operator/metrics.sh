#!/bin/sh
# /metrics on the HTTP listener of a daemon that ran a trade workflow on the
# embedded default: the families of the issue with the run's values, valid
# exposition text (promtool check metrics), the sample alert rules (promtool
# check rules), the security rules of the listener (headers, 400/404/501,
# bearer token, a non-loopback address without a token refused at start-up).
. "$top_srcdir/tests/lib/e2e.sh"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus; scripts/check installs it)"
command -v curl >/dev/null || fail "curl missing"

promtool check rules "$top_srcdir/etc/prometheus/alchemiserd-alerts.yml" >"$WORK/rules.log" 2>&1 ||
	fail "promtool check rules: $(cat "$WORK/rules.log")"
grep -q 'SUCCESS: 5 rules found' "$WORK/rules.log" || fail "rules: $(cat "$WORK/rules.log")"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"
write_config "[trading]" "use_limit_orders = no" "[http]" "listen = 127.0.0.1:$PORT"
start_daemon
wait_until 20 ss -Hltn "sport = :$PORT" | grep -q . || true
wait_until 20 curl -sf "$URL/metrics" || fail "the listener did not come up"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"metrics-run"}' >/dev/null || fail "--send"
# The run is over when its completion was handled.
wait_until 60 sh -c "curl -s '$URL/metrics' | grep -q '^alchemiserd_messages_total{handler=\"completed\",outcome=\"done\"} 1$'" ||
	fail "the run did not complete: $(curl -s "$URL/metrics" | grep messages_total)"
curl -s -D "$WORK/headers" -o "$WORK/metrics.txt" "$URL/metrics" || fail "scrape"
m() { grep -q "^$1" "$WORK/metrics.txt" || fail "missing: $1"; }
for h in start signals portfolio execution monitor completed; do
	m "alchemiserd_messages_total{handler=\"$h\",outcome=\"done\"} 1"
	m "alchemiserd_handler_duration_seconds_count{handler=\"$h\"} 1"
done
m 'alchemiserd_messages_received_total [1-9]'
m 'alchemiserd_messages_in_flight [0-9]'
m 'alchemiserd_handler_duration_seconds_bucket{handler="execution",le="+Inf"} 1'
m 'alchemiserd_dependency_up{dependency="queue"} 1'
m 'alchemiserd_dependency_errors_total{dependency="bus"} 0'
m 'alchemiserd_last_run_success_timestamp_seconds 1[0-9]\{9\}\.'
m 'alchemiserd_last_run_failure_timestamp_seconds 0'
m 'alchemiserd_orders_total{result="placed"} [1-9]'
m 'alchemiserd_orders_total{result="filled"} [1-9]'
m 'alchemiserd_broker_equity_dollars [1-9][0-9]*\.[0-9][0-9]$'
m 'alchemiserd_broker_cash_dollars [0-9]'
m 'alchemiserd_dead_letter_messages 0'
# Bounded cardinality: no label carries a message or event id.
! grep -E '[0-9a-f]{8}-[0-9a-f]{4}-' "$WORK/metrics.txt" || fail "an id in a label"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/lint.log" 2>&1 || fail "promtool check metrics: $(cat "$WORK/lint.log")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/headers" || fail "content type"
grep -qi "^Content-Security-Policy: default-src 'none'" "$WORK/headers" || fail "no CSP"
grep -qi '^X-Content-Type-Options: nosniff' "$WORK/headers" || fail "no nosniff"
grep -qi '^Cache-Control: no-store' "$WORK/headers" || fail "cacheable"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$URL/nope")" = 404 ] || fail "unknown path not 404"
[ "$(code "$URL/a%20b")" = 400 ] || fail "escaped path not 400"
[ "$(code "$URL/../etc/passwd" --path-as-is)" = 400 ] || fail "dot-dot not 400"
[ "$(code -X POST "$URL/metrics")" = 501 ] || fail "POST accepted"
[ "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$URL/metrics")" != 200 ] || fail "oversized headers accepted"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
# the run's warnings etc. carry their correlation id
grep 'CORRELATION_ID=metrics-run' "$WORK/daemon.log" | grep -q 'published TradeExecuted [0-9a-f-]* ' ||
	fail "published events do not log their id and correlation id"

# A token: required even on loopback once set.
printf 'sesame-%s\n' "$PORT" >"$WORK/token"
chmod 600 "$WORK/token"
write_config "[http]" "listen = 127.0.0.1:$PORT" "token = $WORK/token"
start_daemon
wait_until 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$URL/metrics')\" = 401 ]" || fail "no 401 without a token"
[ "$(code -H "Authorization: Bearer wrong" "$URL/metrics")" = 401 ] || fail "a wrong token passed"
[ "$(code -H "Authorization: Bearer sesame-$PORT" "$URL/metrics")" = 200 ] || fail "the right token refused"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true

# The connection limit: with one allowed, a second connection's request gets
# 503 while the first (kept alive) is open, and is served once it closed.
write_config "[http]" "listen = 127.0.0.1:$PORT" "max_connections = 1"
start_daemon
wait_until 20 curl -sf "$URL/metrics" || fail "the listener did not come up (limit)"
python3 - "$PORT" >"$WORK/limit.out" 2>&1 <<'PY' || fail "connection limit: $(cat "$WORK/limit.out")"
import socket, sys
port = int(sys.argv[1])
def get(s):
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b" ", 2)[1].decode()
a = socket.create_connection(("127.0.0.1", port), timeout=10)
assert get(a) == "200", "first connection not served"
b = socket.create_connection(("127.0.0.1", port), timeout=10)
code = get(b)
assert code == "503", "second connection got %s, want 503" % code
b.close()
a.close()
PY
wait_until 10 curl -sf "$URL/metrics" || fail "not served again after the first connection closed"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true

# Non-loopback without a token: refused before anything listens.
write_config "[http]" "listen = 0.0.0.0:$PORT"
rc=0; timeout -s KILL 30 "$BIN" -c "$CONF" --once 2>"$WORK/open.log" || rc=$?
[ "$rc" = 2 ] || fail "an open listener without a token: exit $rc, want 2 (a configuration error)"
grep -q 'not a loopback address: set http.token' "$WORK/open.log" || fail "no reason given"
rc=0; "$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--check-config passed an open listener without a token (rc $rc)"
grep -q 'not a loopback address' "$WORK/check.log" || fail "--check-config gave no reason"
write_config "[http]" "listen = localhost:$PORT"
rc=0; "$BIN" -c "$CONF" --check-config >"$WORK/check2.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--check-config passed a name for http.listen (rc $rc)"
echo "ok: metrics"
