#!/bin/sh
# Lost replies at the broker: every order POST reaches the Alpaca fixture and
# takes effect, but the first answer for each body is lost (a 5xx, or the
# connection reset after the fixture acted). The daemon must not place a leg
# twice (one client_order_id per run, symbol and side, and the fixture refuses a
# reused id), and each run still ends with exactly one trading report.
#   REL_BROKER_N (default 3 runs)
. "$top_srcdir/tests/reliability/lib.sh"

N=${REL_BROKER_N:-3}
start_fixture
start_proxy broker "${FIX_URL##*:}" http 1 --faults 5xx-after,reset-after --only "POST /v2/orders" --first-per-body
CONF="$WORK/alchemiserd.conf"
write_config "$CONF" "[trading]" "use_limit_orders = no"
fixture_lines "http://127.0.0.1:$PROXY_PORT" >>"$CONF"
i=1
while [ $i -le "$N" ]; do
	set_strategy "$CONF" $((i % 3))
	rc=$(timeout -s KILL 120 "$BIN" -c "$CONF" --once --event '{"mode":"trade","correlation_id":"lost-'$i'"}' \
	    2>>"$WORK/daemon.log"; echo $?)
	i=$((i + 1))
done
lost=$(grep -c '"fault": "\(5xx\|reset\)-after"' "$WORK/broker.jsonl" || true)
ok=0
"$PY" "$REL/tally.py" verify-mail "$STATE/mail" lost- "$N" || ok=1
tee_status "$WORK/orders.txt" "$PY" "$REL/tally.py" orders-fixture "$FIX_URL" || ok=1
grep -o 'done execution: [^=]*' "$WORK/daemon.log" | cut -c1-200
say "broker_lost_reply: runs=$N order replies lost=$lost"
[ "$lost" -gt 0 ] || fail "no reply was lost: the test proved nothing"
[ $ok = 0 ] || fail "duplicate orders or emails after lost broker replies"
echo "broker_lost_reply: ok"
