#!/bin/sh
# The command line as a user meets it: --version, --help, --check-config on the
# shipped configs and on a broken one (every problem, exit 2), --print-config
# with secrets masked, and --explain on the Python system's captured bodies.
. "$top_srcdir/tests/lib/e2e.sh"

"$BIN" --version | grep -q '^alchemiserd [0-9]' || fail "--version"
"$BIN" --version | grep -q '^libevent [0-9].*, libcurl [0-9].*, OpenSSL .*, jansson [0-9].*, SQLite [0-9]' ||
	fail "--version does not name the linked libraries' versions"
"$BIN" --help | grep -q -- '--explain' || fail "--help"
rc=0; "$BIN" --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown option exited $rc, want 2"

"$BIN" -c "$top_srcdir/etc/alchemiserd.local.conf" --check-config | grep -q 'configuration OK' ||
	fail "etc/alchemiserd.local.conf does not check"

printf '[daemon]\nconcurency = 2\nshutdown_timeout = soon\n[nope]\nx = 1\n' >"$WORK/bad.conf"
rc=0
"$BIN" -c "$WORK/bad.conf" --check-config 2>"$WORK/bad.log" || rc=$?
[ "$rc" = 2 ] || fail "bad config exited $rc, want 2"
grep -q "bad.conf:2: unknown key 'daemon.concurency' (did you mean 'daemon.concurrency'?)" "$WORK/bad.log" || fail "typo not reported"
grep -q "bad.conf:3: key 'daemon.shutdown_timeout': 'soon' is not a duration" "$WORK/bad.log" || fail "bad duration not reported"
grep -q "bad.conf:5: unknown key 'nope.x'" "$WORK/bad.log" || fail "unknown section not reported"
rc=0; "$BIN" -c "$WORK/missing.conf" --check-config 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "missing config exited $rc"

# Secrets come from files and never show.
printf 'hunter2-smtp\n' >"$WORK/smtp-password"
chmod 600 "$WORK/smtp-password"
printf '[mail]\nsmtp_password = %s\n' "$WORK/smtp-password" >"$WORK/secret.conf"
"$BIN" -c "$WORK/secret.conf" --print-config >"$WORK/print.out" || fail "--print-config failed"
grep -q hunter2 "$WORK/print.out" && fail "--print-config printed a secret"
grep -q 'smtp_password = .*(secret, 12 bytes, not shown)' "$WORK/print.out" || fail "secret not masked"
chmod 644 "$WORK/smtp-password"
rc=0; "$BIN" -c "$WORK/secret.conf" --check-config 2>"$WORK/perm.log" || rc=$?
[ "$rc" = 2 ] && grep -q 'readable by group or others' "$WORK/perm.log" || fail "world-readable secret accepted"
grep -q hunter2 "$WORK/perm.log" && fail "error message printed a secret"

# --explain: one JSON object, no side effects; stdin or --event.
out=$(echo '{"mode":"bot"}' | "$BIN" --explain)
case "$out" in
'{"kind":"command","detail_type":null,"source":null,"handler":"start","idempotency_key":null,"outcome":"dispatch","reason":null,"action":"signal-only","correlation_id":null,"idempotency_key_from":"run_key","run_key":"run:<account>/signal-only/'????-??-??'","run_key_parts":{'*) ;;
*) fail "explain bot: $out" ;;
esac
# A forced command is keyed by its message, not by the run key.
out=$("$BIN" --explain --event '{"mode":"trade","force":true}')
echo "$out" | grep -q '"force":true,"idempotency_key_from":"force: sqs_message_id"' || fail "explain force: $out"
rc=0; out=$("$BIN" --explain --event '[1,2]') || rc=$?
[ "$rc" = 1 ] || fail "explain of a rejected body exited $rc"
echo "$out" | grep -q '"outcome":"reject","reason":"body is a JSON array, not an object"' || fail "explain reject: $out"

if [ -d "$SHARED_DIR/testdata/seed-events" ]; then
	e="$SHARED_DIR/testdata/seed-events"
	"$BIN" --explain --event @"$e/direct-trade-event.json" | grep -q '"handler":"start"' || fail "seed direct trade"
	"$BIN" --explain --event @"$e/eventbridge-scheduler-trade.json" |
		grep -q '"kind":"command".*"handler":"start","idempotency_key":null,.*"idempotency_key_from":"run_key"' || fail "seed scheduler"
	"$BIN" --explain <"$e/eventbridge-workflow-started.json" |
		grep -q '"kind":"domain".*"handler":"signals","idempotency_key":"workflow-started-test"' || fail "seed workflow started"
	"$BIN" --explain --event @"$e/eventbridge-error-notification.json" |
		grep -q '"handler":"error-mail".*"circuit_breaker":true' || fail "seed error notification"
elif [ "${CI:-}" = true ]; then
	fail "CI=true but $SHARED_DIR/testdata is missing"
fi
# --eval-budget: a file of nested group filters over its budget fails naming
# it (the default budget fits it); a bad count is a usage error.
g='(asset SPY)'
for d in 1 2 3 4; do
	g="(filter (rsi {:window 5}) (select-top 1) [(group \"a$d\" [$g]) (group \"b$d\" [(asset QQQ)])])"
done
echo "(defsymphony \"nested\" {} $g)" >"$WORK/nested.clj"
D="$top_srcdir/etc/sample-data"
"$BIN" --evaluate "$WORK/nested.clj" --data "$D" --as-of 2026-11-20 --trace >"$WORK/nested.out" \
	2>"$WORK/nested.err" || fail "nested.clj within the default budget failed: $(cat "$WORK/nested.err")"
grep -q '^  budget: [0-9]* of 50000000 steps$' "$WORK/nested.err" || fail "--trace shows no budget"
rc=0
"$BIN" --evaluate "$WORK/nested.clj" --data "$D" --as-of 2026-11-20 --eval-budget 50 \
	>/dev/null 2>"$WORK/budget.err" || rc=$?
[ "$rc" != 0 ] || fail "over its budget, --evaluate exited 0"
grep -q '^error: .*nested.clj failed: nested.clj: evaluation budget exceeded: more than 50 steps' \
	"$WORK/budget.err" || fail "budget failure not reported: $(cat "$WORK/budget.err")"
rc=0; "$BIN" --evaluate "$WORK/nested.clj" --data "$D" --eval-budget 0 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--eval-budget 0 exited $rc, want 2"
echo "cli: ok"
