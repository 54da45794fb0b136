#!/bin/sh
# The SMTP server unreachable for REL_OUTAGE_SECONDS (every connection reset or
# answered "421") while runs finish, on the embedded default with
# max_receive_count 5. Wanted (issue #9): a failing dependency pauses the work
# instead of burning receive counts, so no notification reaches the DLQ, and
# every run has exactly one trading report once the server is back.
#   REL_OUTAGE_SECONDS (default 12), REL_OUTAGE_N (default 4 runs)
. "$top_srcdir/tests/reliability/lib.sh"

OUT=${REL_OUTAGE_SECONDS:-12}
N=${REL_OUTAGE_N:-4}
start_smtp_sink
start_proxy smtp "$SMTP_PORT" tcp 0 --outage "$WORK/smtp.down"
: >"$WORK/smtp.down"
CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = no" "[daemon]" "max_receive_count = 5"
sed -i '/^maildir = /d' "$CONF"
smtp_lines "$PROXY_PORT" >>"$CONF"
i=1
while [ $i -le "$N" ]; do
	"$BIN" -c "$CONF" --send --event '{"mode":"trade","correlation_id":"smtp-'$i'"}' 2>>"$WORK/send.log" || fail "--send"
	i=$((i + 1))
done
say "SMTP down for $OUT s"
start_daemon daemon "$CONF"
sleep "$OUT"
rm -f "$WORK/smtp.down"
say "SMTP back"
parked() { [ "$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")" != 0 ]; }
end=$(($(date +%s) + 60))
until "$PY" "$REL/tally.py" verify-mail "$WORK/sink" smtp- "$N" >/dev/null; do
	[ "$(date +%s)" -lt "$end" ] || break
	parked && break
	sleep 1
done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
tries=$(grep -c 'sending the .* failed' "$WORK/daemon.log" || true)
n=$(sql "SELECT COUNT(*) FROM queue_messages WHERE queue = 'alchemiser-dlq'")
say "SMTP outage ${OUT}s: $tries failed deliveries, $n messages in the DLQ"
if [ "$n" != 0 ]; then
	sql "SELECT receive_count, dlq_reason, json_extract(body, '\$.detail-type'), json_extract(body, '\$.detail.correlation_id') FROM queue_messages WHERE queue = 'alchemiser-dlq'" >&2
	fail "$n notifications reached the DLQ because SMTP was down for $OUT s"
fi
"$PY" "$REL/tally.py" verify-mail "$WORK/sink" smtp- "$N" || fail "runs lost or emails duplicated"
echo "smtp_outage: ok"
