#!/bin/sh
# systemd notification protocol against the built daemon, with a socket the
# test owns: READY, STATUS, WATCHDOG, RELOADING+MONOTONIC_USEC then READY on
# SIGHUP, a broken config on SIGHUP keeps the old one, STOPPING on SIGTERM and
# exit 0.
. "$top_srcdir/tests/lib/e2e.sh"

write_config
start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCKET WATCHDOG_USEC=1000000 start_daemon
wait_until 10 grep -q '^READY=1' "$NOTIFY_LOG" || fail "no READY=1"
# READY once the configuration is valid, before the dependencies are asked.
grep -q '^READY=1|STATUS=starting' "$NOTIFY_LOG" || fail "READY without STATUS"
wait_until 10 grep -q '^STATUS=running; received 0' "$NOTIFY_LOG" || fail "no STATUS once running"
wait_until 10 grep -q '^WATCHDOG=1' "$NOTIFY_LOG" || fail "no WATCHDOG=1"
wait_until 10 grep -q '^STATUS=running; received 0, done 0, duplicate 0, retried 0, rejected 0, in flight 0' "$NOTIFY_LOG" ||
	fail "no periodic STATUS line"

# A good reload: RELOADING=1 with MONOTONIC_USEC, then READY=1.
sed -i 's/^log_level = info/log_level = notice/' "$CONF"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*|' "$NOTIFY_LOG" || fail "no RELOADING=1 with MONOTONIC_USEC"
wait_until 10 grep -q '^READY=1|STATUS=running$' "$NOTIFY_LOG" || fail "no READY=1 after reload"
wait_until 10 grep -q 'configuration reloaded' "$WORK/daemon.log" || fail "reload not logged"

# STATUS says how the last run ended: a success, then a run on stale bars.
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"status-ok"}' >/dev/null || fail "--send"
wait_until 60 grep -q '^STATUS=running; .*; last run status-ok succeeded at 20[0-9-]*T' "$NOTIFY_LOG" ||
	fail "STATUS does not say the last run succeeded"
cp "$CONF" "$WORK/good.conf"
sed -i 's/^as_of = .*/as_of = 2026-12-04/' "$CONF"
kill -HUP "$DAEMON_PID"
wait_until 10 sh -c "[ \$(grep -c 'configuration reloaded' '$WORK/daemon.log') -ge 2 ]" || fail "second reload not logged"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"status-stale"}' >/dev/null || fail "--send"
wait_until 60 grep -q '^STATUS=running; .*; last run status-stale FAILED at 20[0-9-]*T' "$NOTIFY_LOG" ||
	fail "STATUS does not say the last run failed"
cp "$WORK/good.conf" "$CONF"

# A broken reload: every problem logged, the old configuration kept, READY again.
printf '[daemon]\nconcurrancy = 3\n' >>"$CONF"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q "unknown key 'daemon.concurrancy' (did you mean 'daemon.concurrency'?)" "$WORK/daemon.log" ||
	fail "bad key not reported"
wait_until 10 grep -q 'reload rejected, keeping the previous configuration' "$WORK/daemon.log" || fail "old config not kept"
wait_until 10 grep -q '^READY=1|STATUS=reload rejected' "$NOTIFY_LOG" || fail "no READY after a rejected reload"
kill -0 "$DAEMON_PID" || fail "daemon died on a bad reload"

# SIGTERM: STOPPING=1 and exit 0.
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "exit code $rc after SIGTERM"
grep -q '^STOPPING=1' "$NOTIFY_LOG" || fail "no STOPPING=1"
echo "notify: ok"
