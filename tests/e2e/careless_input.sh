#!/bin/sh
# Careless input (issue #17): configuration and state mistakes get a clear
# error and lose nothing.
#   B6  an http:// broker URL (credentials in clear text) is refused;
#   B7  -c <directory> is refused;
#   B9  an emptied or truncated file is refused on SIGHUP;
#   B10 a 0-byte state file is an error, not fresh state;
#   B8  --send opens only the queue; backend = aws creates the state directory;
#   B12 a takeover names the previous holder.
. "$top_srcdir/tests/lib/e2e.sh"

write_config

# B7: a directory is no configuration file.
rc=0; "$BIN" -c "$WORK" --check-config 2>"$WORK/dir.log" || rc=$?
[ "$rc" = 2 ] || fail "-c <directory> exited $rc, want 2"
grep -q "not a regular file (a directory)" "$WORK/dir.log" || fail "-c <directory>: no clear error"
rc=0; "$BIN" -c "$WORK" --once --event '{"mode":"bot"}' 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "the daemon started on a directory as its configuration ($rc)"

# B6: http:// to a broker that is not loopback is refused, naming the key.
cp "$CONF" "$WORK/http.conf"
printf '[trading]\nalpaca_url = http://paper-api.alpaca.markets\n' >>"$WORK/http.conf"
rc=0; "$BIN" -c "$WORK/http.conf" --check-config 2>"$WORK/http.log" || rc=$?
[ "$rc" = 2 ] || fail "an http:// broker URL exited $rc, want 2"
grep -q "trading.alpaca_url: http:// would send credentials in clear text" "$WORK/http.log" || fail "http:// not explained"
# ... loopback (test fixtures) is fine; the explicit key is loud.
sed -i 's|^alpaca_url = .*|alpaca_url = http://127.0.0.1:9|' "$WORK/http.conf"
"$BIN" -c "$WORK/http.conf" --check-config >/dev/null 2>&1 || fail "http:// to loopback refused"
sed -i 's|^alpaca_url = .*|alpaca_url = http://broker.example|' "$WORK/http.conf"
printf '[daemon]\nallow_plain_http = yes\n' >>"$WORK/http.conf"
"$BIN" -c "$WORK/http.conf" --check-config 2>"$WORK/http.log" >/dev/null || fail "allow_plain_http not honoured"
grep -q ' warning daemon.allow_plain_http = yes: credentials go in clear text to trading.alpaca_url = http://broker.example' \
	"$WORK/http.log" || fail "allow_plain_http not logged as a warning"

# B10: a 0-byte state file is an error naming it and the recovery command.
mkdir -p "$STATE"
: >"$STATE/state.sqlite"
rc=0; timeout -s KILL 60 "$BIN" -c "$CONF" --once --event '{"mode":"bot"}' 2>"$WORK/empty.log" || rc=$?
[ "$rc" != 0 ] || fail "an empty state file was taken as fresh state"
grep -q "state file '$STATE/state.sqlite' is empty (0 bytes)" "$WORK/empty.log" || fail "empty state file not named"
grep -q "mv '$STATE/state.sqlite' '$STATE/state.sqlite.empty'" "$WORK/empty.log" || fail "no recovery command"
[ ! -s "$STATE/state.sqlite" ] || fail "the empty state file was written to"
rc=0; "$BIN" -c "$CONF" --send --event '{"mode":"bot"}' 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "--send took an empty state file as fresh state"
# A missing one is created, as before.
rm -rf "$STATE"
"$BIN" -c "$CONF" --send --event '{"mode":"bot","correlation_id":"new-1"}' || fail "--send on a missing state file"
[ -s "$STATE/state.sqlite" ] || fail "a missing state file was not created"
ls "$STATE" | grep -q '\.new-' && fail "a temporary state file was left behind"

# B8: --send needs only the queue: a broken mailer or market data must not stop it.
cp "$CONF" "$WORK/send.conf"
sed -i "s|^maildir = .*|maildir = /dev/null/mail|; s|^data_dir = .*|data_dir = $WORK/no-such-data|" "$WORK/send.conf"
"$BIN" -c "$WORK/send.conf" --send --event '{"mode":"bot","correlation_id":"send-1"}' 2>"$WORK/send.log" ||
	fail "--send opened the broker, market data or mailer: $(cat "$WORK/send.log")"
[ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE instr(CAST(body AS TEXT), 'send-1') > 0")" = 1 ] ||
	fail "--send did not queue the body"
# B8: backend = aws creates the state directory for the paper broker and the
# maildir. (The endpoints are a closed loopback port: start-up then waits or
# fails at the queue, after the state directory was needed.)
printf 'secret\n' >"$WORK/sk"
chmod 600 "$WORK/sk"
cat >"$WORK/aws.conf" <<AWS
[daemon]
backend = aws
state_dir = $WORK/aws-state/deeper
[aws]
queue_url = http://127.0.0.1:9/000000000000/q
dead_letter_queue_url = http://127.0.0.1:9/000000000000/dlq
sqs_endpoint = http://127.0.0.1:9
events_endpoint = http://127.0.0.1:9
dynamodb_endpoint = http://127.0.0.1:9
access_key_id = AKIDEXAMPLE
secret_access_key = $WORK/sk
max_attempts = 1
[trading]
data_dir = $top_srcdir/etc/sample-data
strategy_set = $top_srcdir/etc/strategies/strategy.json
AWS
# Started directly (not under timeout(1)): a kill -9 of a timeout wrapper
# would orphan the daemon. The trap stops it by PID if the test fails.
"$BIN" -c "$WORK/aws.conf" --once --event '{"mode":"bot"}' 2>"$WORK/aws.log" &
aws_pid=$!
PIDS="$PIDS $aws_pid"
wait_until 15 test -d "$WORK/aws-state/deeper/mail/new" || fail "backend = aws did not create the state directory"
kill -9 "$aws_pid" 2>/dev/null || true
wait "$aws_pid" 2>/dev/null || true
grep -q 'broker' "$WORK/aws.log" && fail "backend = aws: the paper broker failed: $(cat "$WORK/aws.log")"
[ -s "$WORK/aws-state/deeper/state.sqlite" ] || fail "backend = aws: no paper broker in the state directory"

# B12: a takeover names the previous holder (it said "of  on").
rm -rf "$STATE"
"$BIN" -c "$CONF" --send --event '{"mode":"bot","correlation_id":"seed"}'
sql "INSERT INTO idempotency (key, owner, detail_type, correlation_id, status, lease_expires_usec, claimed_usec, completed_usec, expires_usec)
     VALUES ('wc-take', 'otherhost:4242:0', 'WorkflowCompleted', 'take', 'IN_PROGRESS', 1, 1, NULL, 9000000000000000)"
once '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"wc-take","correlation_id":"take","causation_id":"k","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"t","workflow_duration_ms":1,"success":true}}' >/dev/null
grep -q 'took over the expired claim of otherhost:4242:0 on wc-take' "$WORK/daemon.log" ||
	fail "the takeover does not name the previous holder: $(grep 'took over' "$WORK/daemon.log")"

# B9: an emptied, then a truncated, configuration is refused on SIGHUP and
# logged; the daemon keeps its configuration; a proper edit still reloads.
rm -rf "$STATE"
: >"$WORK/daemon.log"
cp "$CONF" "$WORK/good.conf"
start_daemon
wait_until 20 grep -q 'alchemiserd started' "$WORK/daemon.log" || fail "daemon did not start"
: >"$CONF"
kill -HUP "$DAEMON_PID"
wait_until 20 grep -q 'reload rejected' "$WORK/daemon.log" || fail "an empty configuration was not rejected on SIGHUP"
grep -q "reload rejected, keeping the previous configuration: $CONF sets no key at all" "$WORK/daemon.log" ||
	fail "the rejection does not say why: $(grep reload "$WORK/daemon.log")"
sed -n '/^\[mail\]/q;p' "$WORK/good.conf" | head -n 4 >"$CONF"
kill -HUP "$DAEMON_PID"
wait_until 20 grep -q "would put .* keys the running configuration sets back to their defaults" "$WORK/daemon.log" ||
	fail "a truncated configuration was not rejected on SIGHUP"
# Still on the old configuration: debug lines go on (log_level = debug).
"$BIN" -c "$WORK/good.conf" --send --event '{"mode":"bot","correlation_id":"after-hup"}'
wait_until 30 grep -q 'done start: signal-only workflow after-hup started' "$WORK/daemon.log" || fail "no work after the rejected reload"
kill -0 "$DAEMON_PID" || fail "the daemon died on a bad reload"
sed 's/^poll_wait = 1s$/poll_wait = 2s/' "$WORK/good.conf" >"$CONF"
kill -HUP "$DAEMON_PID"
wait_until 20 grep -q 'configuration reloaded from' "$WORK/daemon.log" || fail "a proper edit was not reloaded"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "daemon exit"

echo "careless_input: ok"
