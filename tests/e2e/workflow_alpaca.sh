#!/bin/sh
# The whole workflow with broker = alpaca and market_data = alpaca, against the
# SDK-shaped contract fixture (tests/data/trading/alpaca_fixture.js):
#   a trade run on an account with a manual stop and a held BRK.B, orders
#   walking accepted, pending_new, new, partially_filled, filled: bars and
#   quotes from the data API, orders Alpaca accepts (no 422), the manual order
#   left alone, BRK/B in the plan and the email, one trading email;
#   the account suspended by its owner: the run fails before planning, one
#   error email saying why, no order.
. "$top_srcdir/tests/lib/e2e.sh"

SDK=$(sh "$top_srcdir/tests/alpaca/sdk-dir.sh") || fail "the Alpaca SDK cannot be installed (tests/alpaca: npm ci)"
ALPACA_SDK_DIR=$SDK "${NODE:-node}" "$top_srcdir/tests/data/trading/alpaca_fixture.js" --port 0 \
	>"$WORK/fixture.out" 2>"$WORK/fixture.log" &
PIDS="$PIDS $!"
wait_until 20 grep -q LISTENING "$WORK/fixture.out" || fail "the Alpaca fixture did not start"
URL="http://127.0.0.1:$(awk '/LISTENING/ {print $2}' "$WORK/fixture.out")"
ctl() { curl -sf -X POST "$URL$1" -d "$2" >/dev/null || fail "fixture control $1"; }
requests() { curl -sf "$URL/__requests"; }

ctl /__state '{"cash": 20000, "positions": {"BRK.B": 3},
 "sequence": ["accepted", "pending_new", "new", "partially_filled", "filled"],
 "assets": {"BRK.B": {"tradable": true, "fractionable": false}},
 "prices": {"BIL": 91.5, "GLD": 190, "IEF": 95, "QQQ": 380, "SOXL": 25, "SPY": 450, "SQQQ": 12,
  "TLT": 92, "TQQQ": 45, "UVXY": 9, "XLK": 180, "XLP": 75, "BRK.B": 410},
 "foreign": [{"symbol": "SPY", "side": "sell", "type": "stop", "stop_price": 400, "qty": 1}]}'
printf 'test-key' >"$WORK/key"
printf 'test-secret' >"$WORK/secret"
chmod 600 "$WORK/key" "$WORK/secret"
write_config "[trading]" "broker = alpaca" "market_data = alpaca" "alpaca_url = $URL" \
	"alpaca_data_url = $URL" "alpaca_key_id = $WORK/key" "alpaca_secret_key = $WORK/secret"
mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }

# 1. A trade run.
rc=$(once '{"mode":"trade","correlation_id":"alpaca-A"}')
[ "$rc" = 0 ] || fail "trade run exited $rc"
grep -q 'done execution: SUCCESS' "$WORK/daemon.log" || fail "execution did not succeed"
[ "$(mails)" = 1 ] || fail "expected one email, got $(mails)"
mail=$(ls "$STATE"/mail/new/*)
grep -q 'Subject: \[SUCCESS\] The Alchemiser - PAPER Trading Report' "$mail" || fail "not a trading report"
requests >"$WORK/requests.json"
python3 - "$WORK/requests.json" <<'PY' || fail "requests against the contract fixture"
import json, sys
reqs = json.load(open(sys.argv[1]))
bad = [r for r in reqs if r.get("invalid")]
assert not bad, "requests Alpaca refuses: %s" % bad
posts = [json.loads(r["body"]) for r in reqs if r["method"] == "POST" and r["path"] == "/v2/orders"]
assert posts, "no order placed"
for b in posts:
    assert b["client_order_id"].startswith("alc-"), b
    assert not (b["type"] == "limit" and "." in b["qty"]), "fractional limit: %s" % b
sells = [b for b in posts if b["symbol"] == "BRK.B" and b["side"] == "sell"]
assert sells and sells[0]["qty"] == "3", "BRK.B not sold as BRK.B: %s" % posts
assert not [b for b in posts if "/" in b["symbol"]], "a slash symbol reached Alpaca"
assert not [r for r in reqs if r["method"] == "DELETE"], "an order was cancelled"
bars = [r for r in reqs if r["path"] == "/v2/stocks/bars"]
assert bars, "no bars from the data API"
PY
grep -q 'BRK/B' "$mail" || fail "the email does not show BRK/B"
! grep -q 'BRK\.B' "$mail" || fail "the email shows Alpaca's spelling BRK.B"

# 2. The owner suspended trading: one error email with the reason, no order.
posts_before=$(requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST"))')
ctl /__state '{"account": {"trade_suspended_by_user": true}}'
rc=$(once '{"mode":"trade","correlation_id":"alpaca-S"}')
[ "$rc" = 3 ] || fail "suspended run exited $rc, want 3 (a failed run, see alchemiserd(8) EXIT STATUS)"
n=$(grep -l 'Trading System Error Report' "$STATE"/mail/new/* | wc -l)
[ "$n" = 1 ] || fail "expected exactly one error email, got $n"
grep -l 'Trading System Error Report' "$STATE"/mail/new/* | xargs grep -q 'suspended by the user' ||
	fail "the error email does not say the account is suspended"
# Its details are lines a person reads, not a JSON dump.
emf=$(grep -l 'Trading System Error Report' "$STATE"/mail/new/*)
grep -q '^  original_event_type: [A-Za-z]' "$emf" || fail "the error email's details are not key: value lines"
! grep -q '^Details: *{' "$emf" || fail "the error email ends with raw JSON details"
posts_after=$(requests | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST"))')
[ "$posts_after" = "$posts_before" ] || fail "a suspended account got orders"
echo "workflow_alpaca: ok"
