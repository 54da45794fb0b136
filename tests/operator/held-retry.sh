#!/bin/sh
# A dependency that fails (the mail server's port is closed) while a run is in
# flight: the notify step is held and retried in place, every warning about it
# carries the run's CORRELATION_ID and DURATION_MS, and the listener shows the
# dependency down (metrics and the status page) with the retries counted.
. "$top_srcdir/tests/lib/e2e.sh"
pick() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
PORT=$(pick)
CLOSED=$(pick)
URL="http://127.0.0.1:$PORT"
write_config "[trading]" "use_limit_orders = no" \
    "[mail]" "transport = smtp" "smtp_url = smtp://127.0.0.1:$CLOSED" "require_starttls = no" \
    "connect_timeout = 1s" "timeout = 2s" "[http]" "listen = 127.0.0.1:$PORT"
start_daemon
wait_until 20 curl -sf "$URL/metrics" || fail "the listener did not come up"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"held-run"}' >/dev/null || fail "--send"
wait_until 60 grep -q 'held, retrying in 2 s (2/6)' "$WORK/daemon.log" || fail "the notify step was not held twice"
grep 'held, retrying' "$WORK/daemon.log" >"$WORK/held.log"
[ "$(grep -c . "$WORK/held.log")" -ge 2 ] || fail "fewer than two held warnings"
! grep -v 'CORRELATION_ID=held-run ' "$WORK/held.log" || fail "a held warning without the run's CORRELATION_ID"
! grep -v 'HANDLER=notify .*DURATION_MS=[0-9]' "$WORK/held.log" || fail "a held warning without HANDLER or DURATION_MS"
grep -q 'SMTP smtp://127.0.0.1:'"$CLOSED"': connection refused' "$WORK/held.log" || fail "the reason is not the mail server"
curl -s "$URL/metrics" >"$WORK/metrics.txt" || fail "scrape"
grep -q '^alchemiserd_dependency_up{dependency="handler"} 0$' "$WORK/metrics.txt" || fail "the mail server is not shown down"
grep -q '^alchemiserd_dependency_errors_total{dependency="handler"} [2-9]' "$WORK/metrics.txt" || fail "errors not counted"
grep -q '^alchemiserd_messages_total{handler="notify",outcome="retry"} [2-9]' "$WORK/metrics.txt" || fail "retries in place not counted"
grep -q '^alchemiserd_dependency_down_since_seconds{dependency="handler"} 1[0-9]\{9\}' "$WORK/metrics.txt" || fail "no down-since time"
curl -s "$URL/" | grep -q '<td>handler</td><td class="bad">down</td>' || fail "the status page does not show it down"
wait_until 20 sh -c "curl -s '$URL/' | grep -q '<td>notify</td><td><a href=\"/runs/held-run\">held-run</a></td>'" ||
	fail "the status page does not show the held message and its run"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM with a held message exited $rc"
grep -q 'stopped: .*retried [2-9]' "$WORK/daemon.log" || fail "the retried counter does not count retries in place"
echo "ok: held retries follow their run"
