#!/bin/sh
# Stale, missing and future bars on the embedded default (issue #12), and the
# trading email a trader reads, from real workflows on the sample set:
#   - a ticker whose bars end one session early fails its strategy file; the
#     default run fails with exactly one error email naming the file, the
#     ticker and the dates, and the paper broker has no order;
#   - trading.on_strategy_failure = cash drops that file and keeps its 40 % in
#     cash; the trading email lists both files, one with its allocation, the
#     other with its error, and the cash share;
#   - renormalise trades the whole account on the surviving file;
#   - the as-of date in the future, before the data starts, a ticker without
#     data, and the real clock on the fixed sample (weeks stale) all fail;
#   - a refused order shows as refused with its reason.
# The sample bars end on 2026-11-20, so every run uses trading.as_of (a fixed
# session, not "today", which moves) except the one on the real clock.
. "$top_srcdir/tests/lib/e2e.sh"

mails() { ls "$STATE/mail/new" 2>/dev/null | wc -l; }
# body FILE: the decoded text part of one email.
body() {
	"$PY" - "$1" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print("Subject:", m["Subject"])
for p in m.walk():
    if p.get_content_type() == "text/plain":
        print(p.get_payload(decode=True).decode())
PY
}
# the_mail: the text of the only email (fails unless there is exactly one).
the_mail() {
	[ "$(mails)" = 1 ] || fail "expected exactly one email, got $(mails)"
	body "$STATE"/mail/new/*
}
cash_dollars() { sql "SELECT cash / 100000000 FROM broker_sim_account"; }
fresh_state() { rm -rf "$STATE"; }
set_key() { sed -i "s|^$1 = .*|$1 = $2|" "$CONF"; }

# Sample data with GLD ending one session early (Thursday 2026-11-19). Only
# rotation.clj (40 %) reads GLD; trend-guard.clj (60 %) stays fresh.
mkdir -p "$WORK/data"
cp "$top_srcdir"/etc/sample-data/*.csv "$WORK/data/"
sed -i '$d' "$WORK/data/GLD.csv"
[ "$(tail -n 1 "$WORK/data/GLD.csv" | cut -d, -f1)" = 2026-11-19 ] || fail "GLD does not end on 2026-11-19"
write_config "[trading]" "use_limit_orders = no" "on_strategy_failure = fail" "bars_max_lag = 0"
set_key data_dir "$WORK/data"

# 1. Default: the run fails, one error email, no order.
once '{"mode":"trade","correlation_id":"stale-fail"}' >/dev/null
the_mail >"$WORK/m1.txt"
grep -q 'Subject: \[FAILURE\].*Error Report' "$WORK/m1.txt" || fail "not an error report: $(head -1 "$WORK/m1.txt")"
grep -q '1 of 2 strategy files failed (as of 2026-11-20, bars as of 2026-11-19; trading.on_strategy_failure = fail: no orders placed)' "$WORK/m1.txt" ||
	fail "error email lacks the summary: $(cat "$WORK/m1.txt")"
grep -q 'rotation.clj: GLD: last bar 2026-11-19 is 1 session before the as-of session 2026-11-20' "$WORK/m1.txt" ||
	fail "error email does not name the file, ticker and dates"
grep -q 'trend-guard.clj: ' "$WORK/m1.txt" && fail "the fresh file is reported as failed"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = 0 ] || fail "a failed run placed orders"
[ "$(sql "SELECT COUNT(*) FROM idempotency WHERE correlation_id = 'stale-fail' AND detail_type = 'RebalancePlanned'")" = 0 ] ||
	fail "a failed run planned trades"
grep -q 'workflow failed at signal_generation: 1 of 2 strategy files failed' "$WORK/daemon.log" || fail "log lacks the failure"

# 2. cash: rotation.clj dropped, its 40 % stays in cash.
fresh_state
set_key on_strategy_failure cash
rc=$(once '{"mode":"trade","correlation_id":"stale-cash"}')
[ "$rc" = 0 ] || fail "cash run exited $rc"
the_mail >"$WORK/m2.txt"
grep -q 'Subject: \[SUCCESS\]\[PARTIAL\] The Alchemiser - PAPER Trading Report' "$WORK/m2.txt" ||
	fail "not a partial success report"
grep -q 'Status: Completed, but 1 of 2 strategy files failed (40.0% kept in cash)' "$WORK/m2.txt" ||
	fail "the status does not say a file failed"
grep -Eq 'trend-guard\.clj +60\.0% +OK +2026-11-20 +TLT 100\.0%' "$WORK/m2.txt" || fail "trend-guard row: $(cat "$WORK/m2.txt")"
grep -Eq 'rotation\.clj +40\.0% +FAILED +2026-11-19 +Error: GLD: last bar 2026-11-19 is 1 session before the as-of session 2026-11-20' "$WORK/m2.txt" ||
	fail "rotation row: $(cat "$WORK/m2.txt")"
grep -q 'Kept in cash for the failed strategy files: 40.0% of the portfolio' "$WORK/m2.txt" || fail "cash share not reported"
# The plan in shares of the account: 60 % of the 99 % invested, not "100 %".
grep -Eq '^  TLT +59\.4% +0\.0% +BUY' "$WORK/m2.txt" || fail "plan row not a share of the account"
grep -q 'Bars As Of: 2026-11-19' "$WORK/m2.txt" || fail "the bars' real session not reported"
grep -q 'Pending' "$WORK/m2.txt" && fail "an order shows as Pending"
# Only TLT, for 60 % of 99 % of $100,000: about $40,600 left in cash.
[ "$(sql "SELECT group_concat(symbol) FROM broker_sim_positions WHERE qty > 0")" = TLT ] || fail "holds more than TLT"
c=$(cash_dollars)
[ "$c" -ge 39000 ] && [ "$c" -le 42000 ] || fail "cash after the run is $c, want about 40600"

# 3. renormalise: trend-guard.clj takes the whole account.
fresh_state
set_key on_strategy_failure renormalise
rc=$(once '{"mode":"trade","correlation_id":"stale-renorm"}')
[ "$rc" = 0 ] || fail "renormalise run exited $rc"
c=$(cash_dollars)
[ "$c" -le 2000 ] || fail "renormalise left $c in cash"
set_key on_strategy_failure fail

# 4. The whole sample set, fresh: the signals table lists every file with its
# allocation, the session and the bars' session agree.
fresh_state
set_key data_dir "$top_srcdir/etc/sample-data"
rc=$(once '{"mode":"trade","correlation_id":"fresh"}')
[ "$rc" = 0 ] || fail "fresh run exited $rc"
the_mail >"$WORK/m4.txt"
for f in $(sed -n 's/.*"\([^"]*\.clj\)".*/\1/p' "$top_srcdir/etc/strategies/strategy.json" | sort -u); do
	grep -Eq "^  $f +[0-9.]+% +OK +2026-11-20 +[A-Z]+ [0-9.]+%" "$WORK/m4.txt" || fail "$f not listed with its allocation"
done
grep -q 'Session: 2026-11-20' "$WORK/m4.txt" || fail "no session in the report"
grep -q 'n/a' "$WORK/m4.txt" && fail "n/a in a fresh report: $(grep n/a "$WORK/m4.txt")"
grep -q 'bars as of 2026-11-20' "$WORK/daemon.log" || fail "log does not say which session the bars are as of"

# 5. Each way to be wrong fails the run with the reason.
fails_with() {
	fresh_state
	once "{\"mode\":\"trade\",\"correlation_id\":\"$1\"}" >/dev/null
	the_mail >"$WORK/$1.txt"
	grep -q "$2" "$WORK/$1.txt" || fail "$1: '$2' not in: $(cat "$WORK/$1.txt")"
	[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = 0 ] || fail "$1 placed orders"
}
set_key as_of 2031-01-02
fails_with future '[A-Z]*: the as-of date 2031-01-02 is in the future: the last completed NYSE session is '
set_key as_of 2024-01-02
fails_with before-start '[A-Z]*: the as-of date 2024-01-02 is before its data starts (first bar 2024-08-05)'
set_key as_of 2026-11-20
rm "$WORK/data/GLD.csv"
cp "$top_srcdir/etc/sample-data/GLD.csv" "$WORK/data/"
rm "$WORK/data/XLP.csv"
set_key data_dir "$WORK/data"
fails_with missing 'rotation.clj: XLP: no market data at all'
# The real clock on the fixed sample: weeks stale (the session depends on today).
set_key data_dir "$top_srcdir/etc/sample-data"
sed -i '/^as_of = /d' "$CONF"
fails_with clock '[A-Z]*: last bar 2026-11-20 is [0-9]* sessions\{0,1\} before the as-of session '
printf '[trading]\nas_of = 2026-11-20\n' >>"$CONF"

# 6. A refused order: the paper broker knows SOXL as not tradable.
fresh_state
rc=$(once '{"mode":"bot","correlation_id":"prepare"}')
[ "$rc" = 0 ] || fail "signal-only run exited $rc"
rm -f "$STATE"/mail/new/*
sql "INSERT INTO broker_sim_assets(symbol, tradable, fractionable) VALUES('SOXL', 0, 1)"
once '{"mode":"trade","correlation_id":"refused"}' >/dev/null
f=$(grep -l 'Trading Report' "$STATE"/mail/new/* | head -n 1)
[ -n "$f" ] || fail "no trading report for the refused order"
body "$f" >"$WORK/m6.txt"
grep -Eq '^  BUY +SOXL +n/a +\$[0-9,]+\.[0-9]{2} +Refused +n/a +asset is not tradable' "$WORK/m6.txt" ||
	fail "refused order not shown as refused: $(cat "$WORK/m6.txt")"
grep -Eq '^  BUY +TLT +[0-9.]+ +\$[0-9,]+\.[0-9]{2} +Filled +\$[0-9,]+\.[0-9]{2} ' "$WORK/m6.txt" || fail "filled order row"
grep -q 'Pending' "$WORK/m6.txt" && fail "an order shows as Pending"
echo "ok: stale, missing, future and before-start bars fail; cash and renormalise; the email"
