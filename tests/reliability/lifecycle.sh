#!/bin/sh
# Lifecycle on the embedded default:
#  1. SIGHUP storm during load (a HUP every 20-80 ms, a config that changes
#     between reloads): no crash, every event handled exactly once.
#  2. SIGTERM during load: exit 0 within shutdown_timeout (+2 s), no message left
#     invisible in the queue; a restart finishes the rest, each event once.
#  3. Garbage in the state file at start-up: exit non-zero, a message naming
#     the file, no crash (no signal, no core).
# (The state file deleted while running: state_deleted.sh.)
#   REL_LIFE_EVENTS (default 150), REL_HUPS (default 100)
. "$top_srcdir/tests/reliability/lib.sh"

E=${REL_LIFE_EVENTS:-150}
HUPS=${REL_HUPS:-100}
CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = no"
sed -i 's/^shutdown_timeout = .*/shutdown_timeout = 4s/' "$CONF"

# queue_events PREFIX COUNT: WorkflowCompleted events PREFIX-1..PREFIX-COUNT, and
# every tenth a trade run (PREFIX-run-K), so real stages are in flight too.
queue_events() {
	k=1
	while [ $k -le "$2" ]; do
		"$BIN" -c "$CONF" --send --event "$(printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.orchestration","detail":{"event_id":"%s-%d","correlation_id":"%s-c%d","causation_id":"cause","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"rel","workflow_type":"trading","workflow_duration_ms":1,"success":true}}' "$1" $k "$1" $k)" \
		    2>>"$WORK/send.log" || fail "--send $1-$k"
		[ $((k % 10)) != 0 ] || "$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"'"$1"'-run-'$k'"}' \
		    2>>"$WORK/send.log" || fail "--send run"
		k=$((k + 1))
	done
}
# done_once LOG PREFIX COUNT: each event PREFIX-k done exactly once (a duplicate
# outcome is fine: a redelivery absorbed).
done_once() {
	grep 'HANDLER=completed OUTCOME=done' "$1" | sed -n "s/.*EVENT_ID=\($2-[0-9]*\) .*/\1/p" | sort >"$WORK/done.txt"
	twice=$(uniq -d "$WORK/done.txt" | wc -l)
	once=$(uniq "$WORK/done.txt" | wc -l)
	[ "$twice" = 0 ] || fail "$twice events handled twice: $(uniq -d "$WORK/done.txt" | head -3 | tr '\n' ' ')"
	[ "$once" = "$3" ] || return 1
}
work_left() { sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work'"; }
crashed() { grep -q 'Assertion\|AddressSanitizer\|runtime error\|Segmentation' "$1"; }

# ---- 1. SIGHUP storm ----------------------------------------------------------
queue_events hup "$E"
start_daemon hup "$CONF"
wait_until 20 grep -q 'OUTCOME=done' "$WORK/hup.log" || fail "load did not start"
h=0
while [ $h -lt "$HUPS" ]; do
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died during the SIGHUP storm (after $h HUPs)"
	# Alternate a reloadable setting so every other reload changes something.
	if [ $((h % 2)) = 0 ]; then sed -i 's/^log_level = .*/log_level = info/' "$CONF"
	else sed -i 's/^log_level = .*/log_level = debug/' "$CONF"; fi
	kill -HUP "$DAEMON_PID"
	h=$((h + 1))
	sleep "0.0$(rand 2 8)"
done
end=$(($(date +%s) + 90))
until [ "$(work_left)" = 0 ] && done_once "$WORK/hup.log" hup "$E"; do
	[ "$(date +%s)" -lt "$end" ] || fail "the queue did not drain after the SIGHUP storm ($(work_left) left)"
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died after the SIGHUP storm"
	sleep 0.5
done
reloads=$(grep -c 'configuration reloaded' "$WORK/hup.log" || true)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "exit $rc after the SIGHUP storm"
crashed "$WORK/hup.log" && fail "crash report in hup.log"
say "1. SIGHUP storm: $h HUPs, $reloads reloads logged, $E events each done once, exit 0"

# ---- 2. SIGTERM during load ------------------------------------------------------
queue_events term "$E"
start_daemon term "$CONF"
wait_until 20 grep -q 'EVENT_ID=term-.*OUTCOME=done' "$WORK/term.log" || fail "load did not start"
sleep "0.$(rand 1 9)"
t0=$(date +%s%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "SIGTERM under load: exit $rc"
[ "$ms" -le 6000 ] || fail "SIGTERM under load took $ms ms (shutdown_timeout 4 s)"
now=$(date +%s%6N)
stranded=$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-work' AND receive_count > 0 AND visible_usec > $now + 500000")
left=$(work_left)
[ "$stranded" = 0 ] || fail "$stranded messages left invisible after SIGTERM"
start_daemon term "$CONF"
end=$(($(date +%s) + 90))
until [ "$(work_left)" = 0 ] && done_once "$WORK/term.log" term "$E"; do
	[ "$(date +%s)" -lt "$end" ] || fail "the rest was not done after the restart ($(work_left) left)"
	sleep 0.5
done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "second SIGTERM: non-zero exit"
say "2. SIGTERM under load: exit 0 in $ms ms, $left messages left (none invisible), all $E done once after a restart"

# ---- 3. garbage in the state file -------------------------------------------------
GSTATE="$WORK/garbage"
mkdir -p "$GSTATE"
head -c 65536 /dev/urandom >"$GSTATE/state.sqlite"
cp "$CONF" "$WORK/garbage.conf"
sed -i "s|^state_dir = .*|state_dir = $GSTATE|; s|^maildir = .*|maildir = $GSTATE/mail|" "$WORK/garbage.conf"
rc=0
timeout -s KILL 20 "$BIN" -c "$WORK/garbage.conf" 2>"$WORK/garbage.log" || rc=$?
[ "$rc" != 0 ] || fail "start-up with a garbage state file exited 0"
[ "$rc" -lt 128 ] || fail "start-up with a garbage state file died by signal $((rc - 128)) (or hung)"
grep -q "$GSTATE/state.sqlite" "$WORK/garbage.log" || fail "the error does not name the state file: $(cat "$WORK/garbage.log")"
# A valid SQLite header with a torn page after it.
sql "SELECT 1" >/dev/null
cp "$STATE/state.sqlite" "$GSTATE/state.sqlite"
dd if=/dev/urandom of="$GSTATE/state.sqlite" bs=4096 seek=1 count=4 conv=notrunc 2>/dev/null
rc2=0
timeout -s KILL 20 "$BIN" -c "$WORK/garbage.conf" 2>"$WORK/torn.log" || rc2=$?
[ "$rc2" -lt 128 ] || fail "start-up with a torn state file died by signal $((rc2 - 128)) (or hung)"
[ "$rc2" != 0 ] || fail "start-up with a torn state file exited 0"
grep -q "$GSTATE/state.sqlite" "$WORK/torn.log" || fail "the torn-file error does not name the state file: $(cat "$WORK/torn.log")"
say "3. garbage state file: exit $rc: $(grep -v '^<[67]' "$WORK/garbage.log" | tail -1 | cut -c1-160)"
say "   torn state file: exit $rc2: $(grep -v '^<[67]' "$WORK/torn.log" | tail -1 | cut -c1-160)"

echo "lifecycle: ok"
