#!/bin/sh
# Stop without abandoning a poll (issue #12), on backend = aws against moto
# (signatures checked), paper broker, maildir:
#  1. The daemon is stopped with SIGTERM and started again REL_RESTARTS times
#     (default 20) while trade runs flow (one new run per life). Every stop
#     exits 0; every run ends with its trading email; and no stage message
#     waited out its visibility timeout (60 s here): the longest time a
#     redelivered message was out before it came back (the daemon logs it) and
#     the largest gap between two steps of one run (DynamoDB claimed_at, 1 s
#     resolution) are printed and must stay below half of it. A stop that
#     dropped its in-flight ReceiveMessage let moto hand that request messages
#     that then stayed hidden 60 s: exactly what these measure.
#  2. A --once started right after a stop (mid-run) finishes that run, exit 0.
#   REL_RESTARTS (default 20)
. "$top_srcdir/tests/reliability/lib.sh"

RESTARTS=${REL_RESTARTS:-20}
: >>"$WORK/daemon.log"
VIS=60
start_moto
moto_resources 20
CONF="$WORK/alchemiserd.conf"
BACKEND=aws write_config "$CONF" "[trading]" "use_limit_orders = no"
# A 2 s long poll, so a stop usually lands inside one; a received message is
# hidden for VIS seconds (what an abandoned poll would cost).
sed -i "s/^poll_wait = .*/poll_wait = 2s/; s/^visibility_timeout = .*/visibility_timeout = ${VIS}s/" "$CONF"
aws_config_lines "$MOTO_URL" "$MOTO_URL" "$MOTO_URL" >>"$CONF"
"$BIN" -c "$CONF" --check-config >"$WORK/check.log" 2>&1 || fail "config: $(cat "$WORK/check.log")"

send_run() {
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"'"$1"'"}' 2>>"$WORK/send.log" ||
		fail "--send $1"
}
# stop_daemon: SIGTERM, then exit 0 within a bound (drain 5 s + the 2 s poll + margin).
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	i=0
	while kill -0 "$DAEMON_PID" 2>/dev/null; do
		[ $i -lt 300 ] || fail "the daemon did not stop within 30 s of SIGTERM"
		sleep 0.1
		i=$((i + 1))
	done
	rc=0
	wait "$DAEMON_PID" || rc=$?
	[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
}

polling_since() { [ "$(grep -c 'answer: polling' "$WORK/daemon.log")" -gt "$1" ]; }

# ---- 1. restart loop ------------------------------------------------------------
say "1. $RESTARTS restarts while runs flow"
life=0 runs=0
while [ $life -lt "$RESTARTS" ]; do
	life=$((life + 1))
	# A new run every other life: enough work in flight at every stop without
	# a backlog that would stretch the gaps this test measures.
	[ $((life % 2)) = 0 ] || { runs=$((runs + 1)); send_run "restart-$runs"; }
	polls=$(grep -c 'answer: polling' "$WORK/daemon.log" || true)
	start_daemon daemon "$CONF"
	# Stop it at a random moment of its work (not during its start-up, which
	# on a loaded machine can outlast a short life and would stall the runs
	# for reasons this test does not measure).
	wait_until 30 polling_since "$polls" || fail "life $life never started polling"
	sleep "$(rand 5 25 | sed 's/.$/.&/')"
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited on its own in life $life"
	stop_daemon
done
start_daemon daemon "$CONF"
end=$(($(date +%s) + 120))
until "$PY" "$REL/tally.py" verify-mail "$STATE/mail" restart- "$runs" >"$WORK/mail.txt" 2>&1; do
	[ "$(date +%s)" -lt "$end" ] || { cat "$WORK/mail.txt" >&2; fail "not every run ended with its email"; }
	kill -0 "$DAEMON_PID" 2>/dev/null || fail "the last life exited on its own"
	sleep 1
done
stop_daemon
cat "$WORK/mail.txt"
aws --endpoint-url "$MOTO_URL" dynamodb scan --table-name alchemiser-idempotency --consistent-read \
    --output json >"$WORK/records.json" || fail "scan"
gap=$("$PY" - "$WORK/records.json" restart- <<'PY'
import collections, json, sys
items = json.load(open(sys.argv[1]))["Items"]
per = collections.defaultdict(list)
for it in items:
    corr = it.get("correlation_id", {}).get("S", "")
    if corr.startswith(sys.argv[2]) and "claimed_at" in it:
        per[corr].append(int(it["claimed_at"]["N"]))
worst, who = 0, "-"
for corr, ts in per.items():
    ts.sort()
    for a, b in zip(ts, ts[1:]):
        if b - a > worst:
            worst, who = b - a, corr
gaps = sorted(((b - a, c) for c, ts in per.items() for a, b in zip(ts, ts[1:])), reverse=True)
print(worst, who, len(per), "top:" + ",".join("%d" % g for g, _ in gaps[:5]))
PY
)
set -- $gap
say "largest gap between two steps of one run: $1 s ($2; $3 runs measured; visibility timeout $VIS s; $4)"
[ "$3" = "$runs" ] || fail "measured $3 runs, want $runs"
# The direct measure: how long a redelivered message had been out since its
# first delivery (the daemon logs it); an abandoned poll makes that ~VIS s.
redelivered=$(grep -c 'first received [0-9]* ms ago' "$WORK/daemon.log" || true)
late=$(sed -n 's/.*first received \([0-9]*\) ms ago.*/\1/p' "$WORK/daemon.log" | sort -n | tail -1)
say "redelivered messages: $redelivered, longest out before redelivery: ${late:-0} ms"
[ "${late:-0}" -lt $((VIS * 1000 / 2)) ] ||
	fail "a message waited ${late} ms for its redelivery (visibility timeout $VIS s): a stop abandoned a poll"
[ "$1" -lt $((VIS / 2)) ] || fail "a step of a run waited $1 s (visibility timeout $VIS s)"
[ "$(queue_depth "$Q")" = 0 ] || fail "messages left in the work queue"

# ---- 2. --once right after a stop --------------------------------------------------
say "2. --once right after a stop mid-run"
send_run after-stop
start_daemon daemon "$CONF"
signals_done() { grep 'HANDLER=signals OUTCOME=done' "$WORK/daemon.log" | grep -q 'CORRELATION_ID=after-stop'; }
wait_until 60 signals_done ||
	fail "the run did not reach its signals step"
stop_daemon
rc=0
timeout -s KILL 120 "$BIN" -c "$CONF" --once 2>"$WORK/once.log" || rc=$?
[ "$rc" = 0 ] || fail "--once after a stop exited $rc"
"$PY" "$REL/tally.py" mail "$STATE/mail" | grep -q '^after-stop trading' ||
	fail "--once exited 0 without the run's trading email"
say "restart_moto: $RESTARTS restarts, every run done, largest stage gap $1 s"
echo "restart_moto: ok"
