#!/bin/sh
# DURATION_MS covers the in-place retries (issue #16): the mail server is down
# when the run reaches notify, so the step is held and retried in place (after
# 1 s, then 2 s, ...); the server comes up after the first hold, a retry
# delivers the report, and the step's outcome line reports a DURATION_MS at
# least as long as every wait it was held for, beyond what its first attempt
# had taken. The server is an aiosmtpd on loopback, started on the port the
# daemon was told, stopped by PID.
. "$top_srcdir/tests/lib/e2e.sh"
SYSPY=/usr/bin/python3	# Debian's python, where python3-aiosmtpd lives
PATH=$(getconf PATH):$PATH "$SYSPY" -c 'import aiosmtpd' 2>/dev/null ||
	fail "python3-aiosmtpd missing (apt-get install python3-aiosmtpd)"
pick() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
SMTP=$(pick)
write_config "[trading]" "use_limit_orders = no" \
    "[mail]" "transport = smtp" "smtp_url = smtp://127.0.0.1:$SMTP" "require_starttls = no" \
    "connect_timeout = 1s" "timeout = 5s"
start_daemon
"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"dur-run"}' >/dev/null || fail "--send"
wait_until 60 grep -q 'held, retrying in 1 s (1/6) .*HANDLER=notify ' "$WORK/daemon.log" ||
	fail "the notify step was not held"
# The server comes up: a plain SMTP sink on the port the daemon was told.
mkdir -p "$WORK/mail"
PATH=$(getconf PATH) "$SYSPY" - "$SMTP" "$WORK/mail" >"$WORK/sink.log" 2>&1 <<'PYEOF' &
import os, signal, sys
from aiosmtpd.controller import Controller
class Sink:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.n += 1
        with open(os.path.join(sys.argv[2], "%03d.eml" % Sink.n), "wb") as f:
            f.write(envelope.original_content)
        return "250 OK"
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
ctl = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
ctl.start()
print("LISTENING", flush=True)
signal.sigtimedwait({signal.SIGTERM, signal.SIGINT}, 120)
ctl.stop()
PYEOF
PIDS="$PIDS $!"
wait_until 20 grep -q LISTENING "$WORK/sink.log" || fail "the SMTP sink did not start"
wait_until 60 sh -c "ls '$WORK/mail'/*.eml" || fail "no report delivered after the server came up"
wait_until 20 grep -q 'HANDLER=notify OUTCOME=done ' "$WORK/daemon.log" || fail "no outcome line of notify"
grep 'HANDLER=notify OUTCOME=retry ' "$WORK/daemon.log" >"$WORK/held.txt"
grep 'HANDLER=notify OUTCOME=done ' "$WORK/daemon.log" >"$WORK/done.txt"
[ "$(grep -c . "$WORK/done.txt")" = 1 ] || fail "notify ended $(grep -c . "$WORK/done.txt") times"
# The waits it was held for (1 s, then 2 s, ... as the warnings say), the
# time its last hold had taken so far, and what the outcome line reports.
waits=$(sed -n 's/.*held, retrying in \([0-9]*\) s ([0-9]*\/[0-9]*).*/\1/p' "$WORK/held.txt" |
	awk '{ s += $1 } END { print s * 1000 }')
last=$(tail -n 1 "$WORK/held.txt" | sed -n 's/.* DURATION_MS=\([0-9]*\)$/\1/p')
lastwait=$(tail -n 1 "$WORK/held.txt" | sed -n 's/.*held, retrying in \([0-9]*\) s .*/\1/p')
dur=$(sed -n 's/.* DURATION_MS=\([0-9]*\)$/\1/p' "$WORK/done.txt")
[ -n "$waits" ] && [ "$waits" -ge 1000 ] && [ -n "$last" ] && [ -n "$lastwait" ] ||
	fail "held warnings unreadable: $(cat "$WORK/held.txt")"
[ -n "$dur" ] || fail "the outcome line has no DURATION_MS: $(cat "$WORK/done.txt")"
[ "$dur" -ge "$waits" ] || fail "DURATION_MS=$dur, but the step was held for $waits ms"
[ "$dur" -ge $((last + lastwait * 1000)) ] ||
	fail "DURATION_MS=$dur, but its last hold came at $last ms, for $lastwait s"
grep -q 'CORRELATION_ID=dur-run ' "$WORK/done.txt" || fail "the outcome line lacks the run's CORRELATION_ID"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM exited $rc"
echo "ok: notify held $(grep -c . "$WORK/held.txt") times for $waits ms reports DURATION_MS=$dur"
