#!/bin/sh
# Outages at start-up never kill the service (issue #12): the daemon starts on
# backend = aws while nothing listens where moto will be, under a NOTIFY_SOCKET.
# It must send READY=1 at once, report STATUS=waiting for <what>: <reason>,
# never exit, and carry on when moto comes up REL_OUTAGE_SECONDS later (default
# 15; the issue's drill is 60): a trade run sent afterwards completes with its
# trading email. A configuration error still exits 2 at once.
# moto here runs without signature checks: the IAM keys a checked moto issues
# cannot exist before moto does, and the daemon reads its keys at start. The
# requests are still real SigV4 requests (moto.sh and the other tests check
# signatures).
#   REL_OUTAGE_SECONDS (default 15)
. "$top_srcdir/tests/reliability/lib.sh"

OUTAGE=${REL_OUTAGE_SECONDS:-15}
python3 -c 'import moto.server' 2>/dev/null || fail "moto is not installed"
MOTO_PORT=$(pick_port)
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=outage-test AWS_SECRET_ACCESS_KEY=outage-test-secret AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true
# moto's URLs are predictable: the daemon is configured before moto exists.
Q="$MOTO_URL/123456789012/alchemiser-work"
DLQ="$MOTO_URL/123456789012/alchemiser-dlq"
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL" >>"$CONF"
printf 'connect_timeout = 2s\n' >>"$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"

NOTIFY_SOCKET="$WORK/notify.sock"
NOTIFY_LOG="$WORK/notify.out"
: >"$NOTIFY_LOG"
"$PY" "$top_srcdir/tests/lib/notify_listener.py" "$NOTIFY_SOCKET" "$NOTIFY_LOG" --timeout "$REL_BUDGET" &
PIDS="$PIDS $!"
wait_until 10 grep -q LISTENING "$NOTIFY_LOG" || fail "notify listener did not start"

# ---- the daemon starts with its dependencies down ---------------------------------
say "daemon starting with moto down for $OUTAGE s"
NOTIFY_SOCKET=$NOTIFY_SOCKET start_daemon daemon "$CONF"
wait_until 20 grep -q '^READY=1' "$NOTIFY_LOG" || fail "no READY=1 while the dependencies are down"
wait_until 20 grep -q '^STATUS=waiting for queue: ' "$NOTIFY_LOG" || fail "no STATUS=waiting for queue"
t_end=$(($(date +%s) + OUTAGE))
while [ "$(date +%s)" -lt "$t_end" ]; do
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited while its dependencies were down"
	sleep 1
done
status=$(grep '^STATUS=waiting for' "$NOTIFY_LOG" | tail -1)
say "after $OUTAGE s: still up; $status"
asks=$(grep -c 'waiting for queue' "$WORK/daemon.log" || true)
[ "$asks" -ge 3 ] || fail "the queue was asked only $asks times in $OUTAGE s (back-off too slow)"

# ---- moto comes up -----------------------------------------------------------------
python3 "$top_srcdir/tests/emulators/moto_serve.py" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.out" 2>&1 &
PIDS="$PIDS $!"
wait_listen "$MOTO_PORT" $! || setup_fail "moto_server did not listen on $MOTO_PORT"
moto_resources 5
[ "$Q" = "$MOTO_URL/123456789012/alchemiser-work" ] || fail "moto's queue URL is $Q, not the one configured"
say "moto up, resources created"
wait_until 60 grep -q 'the dependencies answer now' "$WORK/daemon.log" ||
	fail "the daemon did not notice that its dependencies answer"
wait_until 20 grep -q '^STATUS=running' "$NOTIFY_LOG" || fail "STATUS never says running"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"after-outage"}' 2>>"$WORK/send.log" ||
	fail "--send"
mailed() { "$PY" "$REL/tally.py" mail "$STATE/mail" | grep -q '^after-outage trading'; }
wait_until 90 mailed || fail "the run after the outage did not complete"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon is gone"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"

# ---- a configuration error is the one thing that exits (2) ------------------------------
cp "$CONF" "$WORK/bad.conf"
printf '[daemon]\nconcurrency = many\n' >>"$WORK/bad.conf"
rc=0
timeout -s KILL 30 "$BIN" -c "$WORK/bad.conf" 2>"$WORK/bad.log" || rc=$?
[ "$rc" = 2 ] || fail "a configuration error exited $rc, want 2"
echo "startup_outage: ok ($asks asks during a $OUTAGE s outage, then a run completed)"
