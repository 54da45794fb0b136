#!/bin/sh
# --once tells the truth (issue #12), on the embedded default:
#   a run that completes with its trading email          -> exit 0
#   a run that fails (the paper broker refuses every order)-> exit 3, error email
#   a message that is parked in the dead-letter queue     -> exit 4
#   a run that cannot end within daemon.once_timeout      -> exit 5
#     (its emails cannot go out: SMTP on a port nobody listens on)
. "$top_srcdir/tests/lib/e2e.sh"

write_config "[trading]" "use_limit_orders = no"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }

# 1. Success: exit 0 only once the trading email is out.
rc=$(once '{"mode":"trade","correlation_id":"once-ok"}')
[ "$rc" = 0 ] || fail "a completed run exited $rc, want 0"
[ "$(mails)" = 1 ] || fail "exit 0 before the trading email ($(mails) emails)"
grep -q 'Subject: \[SUCCESS\]' "$STATE"/mail/new/* || fail "not a success report"
grep -q -- '--once: exit 0: 1 run(s) succeeded' "$WORK/daemon.log" || fail "no summary line for exit 0"

# 2. A failed run: every order refused by the paper broker -> exit 3.
rm -rf "$STATE"
write_config "[trading]" "use_limit_orders = no" "paper_refuse_orders = yes"
rc=$(once '{"mode":"trade","correlation_id":"once-refused"}')
[ "$rc" = 3 ] || fail "a run whose orders were all refused exited $rc, want 3"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status = 'rejected'")" -gt 0 ] ||
	fail "the paper broker did not reject the orders"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status = 'filled'")" = 0 ] || fail "an order filled"
n=$(grep -l 'Subject: .*Error Report' "$STATE"/mail/new/* 2>/dev/null | wc -l)
[ "$n" = 1 ] || fail "exit 3 without exactly one error email ($n)"

# 3. A rejected message -> exit 4 (and nothing else to wait for).
rm -rf "$STATE"
write_config
rc=$(once '{"mode":"trade","surprise":1}')
[ "$rc" = 4 ] || fail "a rejected command exited $rc, want 4"

# 4. A run that cannot end in time -> exit 5, bounded by once_timeout.
rm -rf "$STATE"
DEAD=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
write_config "[trading]" "use_limit_orders = no" "[mail]" "transport = smtp" \
    "smtp_url = smtp://127.0.0.1:$DEAD" "require_starttls = no" "[daemon]" "once_timeout = 4s"
t0=$(date +%s)
rc=$(once '{"mode":"trade","correlation_id":"once-late"}')
secs=$(($(date +%s) - t0))
[ "$rc" = 5 ] || fail "a run that could not send its email exited $rc, want 5"
grep -q 'once_timeout (4 s) passed with 1 run(s) unfinished: once-late' "$WORK/daemon.log" ||
	fail "the timeout does not name the unfinished run"
# Bounded (generously: a loaded machine), not a timing assertion on speed.
[ "$secs" -lt 50 ] || fail "--once ran $secs s with once_timeout = 4s"
# Nothing stranded: what it held went back to the queue for the next consumer.
now=$(date +%s%6N)
[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work' AND visible_usec > $now + 2000000")" = 0 ] ||
	fail "--once left a message hidden after its timeout"
echo "once exit codes: ok (0, 3, 4, 5)"
