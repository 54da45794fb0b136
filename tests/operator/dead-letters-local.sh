#!/bin/sh
# alchemiserd --dead-letters on the embedded backend: two bad bodies parked by
# --once are listed with their reasons and counts, one is shown whole, one is
# moved back by id (and parked again by the next run), the rest by --all; an
# unknown id and a bad command line fail.
. "$top_srcdir/tests/lib/e2e.sh"

write_config
dl() { "$BIN" -c "$CONF" --dead-letters "$@"; }

"$BIN" -c "$CONF" --send --event 'not json' >"$WORK/id1" || fail "--send 1"
"$BIN" -c "$CONF" --send --event '{"mode":"bogus"}' >"$WORK/id2" || fail "--send 2"
id1=$(cat "$WORK/id1")
id2=$(cat "$WORK/id2")
[ -n "$id1" ] && [ "$id1" != "$id2" ] || fail "--send printed no message id"
rc=0; "$BIN" -c "$CONF" --once 2>"$WORK/once.log" || rc=$?
[ "$rc" = 4 ] || fail "--once with two bad bodies exited $rc, want 4 (rejected)"

dl list >"$WORK/list.out" 2>"$WORK/list.log" || fail "list"
grep -q '^2 message(s) in the dead-letter queue alchemiser-dlq' "$WORK/list.out" || fail "count: $(cat "$WORK/list.out")"
grep -q "^$id1 .* body: malformed JSON" "$WORK/list.out" || fail "first message or its reason missing"
grep -q "^$id2 .*'bogus' is not one of trade|bot" "$WORK/list.out" || fail "second message or its reason missing"
grep -q '^ *1  command field' "$WORK/list.out" || fail "no count by reason"

dl show "$id2" >"$WORK/show.out" || fail "show"
grep -q "^message id: *$id2" "$WORK/show.out" || fail "show: id"
grep -q '^{"mode":"bogus"}$' "$WORK/show.out" || fail "show: the body"
grep -q 'ERROR_CODE' "$WORK/show.out" || fail "show: attributes"
rc=0; dl show no-such-id >/dev/null 2>"$WORK/unknown.log" || rc=$?
[ "$rc" = 1 ] && grep -q 'no message no-such-id' "$WORK/unknown.log" || fail "show of an unknown id: rc $rc"

# By id: only that one goes back; the next run parks it again.
dl redrive "$id2" >"$WORK/redrive1.out" || fail "redrive by id"
grep -q '^moved 1 message(s) back to alchemiser-work' "$WORK/redrive1.out" || fail "redrive by id: $(cat "$WORK/redrive1.out")"
[ "$(sql "SELECT count(*) FROM queue_messages WHERE queue = 'alchemiser-work'")" = 1 ] || fail "not back on the work queue"
[ "$(sql "SELECT count(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")" = 1 ] || fail "the other one moved too"
rc=0; dl redrive "$id2" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a second redrive of the same id exited $rc"
rc=0; "$BIN" -c "$CONF" --once 2>>"$WORK/once.log" || rc=$?
[ "$rc" = 4 ] || fail "the redriven bad body was not rejected again (exit $rc, want 4)"

dl redrive --all >"$WORK/redrive2.out" || fail "redrive --all"
grep -q '^moved 2 message(s)' "$WORK/redrive2.out" || fail "redrive --all: $(cat "$WORK/redrive2.out")"
dl list | grep -q '^0 message(s)' || fail "the dead-letter queue is not empty"

for bad in "list x" "show" "redrive" "redrive x --all" "purge"; do
	rc=0; dl $bad >/dev/null 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "--dead-letters $bad exited $rc, want 2"
done
rc=0; "$BIN" -c "$CONF" --all >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--all alone exited $rc"
echo "ok: dead letters on the embedded backend"
