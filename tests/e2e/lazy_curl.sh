#!/bin/sh
# libcurl is loaded when first used, not at every start (issue #13: it and its
# ~30 dependencies were most of the time from exec to READY). The daemon is
# not linked with it; an embedded daemon that speaks neither HTTP nor SMTP
# never maps it; --version, which names its version, loads it on demand; a
# daemon whose mail goes over SMTP has it mapped from start-up (the mailer's
# curl_global_init), so that its first email does not pay for the load.
. "$top_srcdir/tests/lib/e2e.sh"

command -v readelf >/dev/null || fail "readelf (binutils) is needed"
readelf -d "$BIN" | grep -q 'NEEDED.*libcurl' && fail "alchemiserd is linked with libcurl: $(readelf -d "$BIN" | grep NEEDED | tr -s ' ')"

"$BIN" --version >"$WORK/version.txt" || fail "--version failed"
grep -q 'libcurl [0-9]' "$WORK/version.txt" || fail "--version does not name libcurl's version: $(cat "$WORK/version.txt")"

maps_curl() { grep -c 'libcurl' /proc/"$1"/maps 2>/dev/null || true; }

# 1. The embedded default: READY, then a run's worth of messages, no libcurl.
write_config
start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCKET start_daemon
wait_until 20 grep -q '^STATUS=running' "$NOTIFY_LOG" || fail "no STATUS=running"
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"lazy-1"}' >/dev/null || fail "--send"
wait_until 60 grep -q 'trading report sent' "$WORK/daemon.log" || fail "the run did not send its report"
[ "$(maps_curl "$DAEMON_PID")" = 0 ] || fail "the embedded daemon mapped libcurl"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "exit $? on SIGTERM"

# 2. Mail over SMTP: libcurl is there from start-up (no server needed to start).
sed -i 's/^\[mail\]$/[mail]\ntransport = smtp\nsmtp_url = smtp:\/\/127.0.0.1:9\nfrom = a@localhost\nto = b@localhost/' "$CONF"
: >"$WORK/daemon.log"
start_daemon
wait_until 20 grep -q 'alchemiserd started' "$WORK/daemon.log" || fail "the SMTP daemon did not start"
[ "$(maps_curl "$DAEMON_PID")" -ge 1 ] || fail "the SMTP daemon did not load libcurl at start-up"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "exit $? on SIGTERM (SMTP)"
echo "lazy_curl: ok"
