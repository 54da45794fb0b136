#!/bin/sh
# What the trader reads: every kind of email the embedded default sends,
# opened in headless Chromium and checked on what it says
# (tests/lib/mail_render.py), not only that it loads:
#   trade        [SUCCESS] report: session and bar dates, one signals row per
#                strategy file with its allocation, plan, every filled order,
#                amounts adding to the total, the plain part agreeing;
#   partial      one strategy file fails, trading.on_strategy_failure = cash:
#                its row says FAILED with the error, the report says what was
#                kept in cash, the plan is short by that weight;
#   signal-only  ("bot"): the plan and signals, no orders placed;
#   stale        bars older than the session: the error email names the file,
#                the ticker and how many sessions old the bars are;
#   pnl          the P&L email's numbers agree with each other.
# Screenshots stay in $top_builddir/tests/artifacts/email-*.png.
. "$top_srcdir/tests/lib/e2e.sh"

CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null 2>&1 || fail "chromium not installed (scripts/deps.sh TEST_PACKAGES)"
export CHROMIUM
ART="$top_builddir/tests/artifacts"
mkdir -p "$ART"
E2E_WALL_LIMIT=150
write_config "[trading]" "use_limit_orders = no"
RENDER="$top_srcdir/tests/lib/mail_render.py"
mail_of() { grep -l -- "$1" "$STATE"/mail/new/* 2>/dev/null | tail -n 1; }
check() { "$PY" "$RENDER" "$@" >>"$WORK/render.log" 2>&1 || { cat "$WORK/render.log" >&2; fail "email $4 does not tell the truth"; }; }

# 1. A clean trade.
rc=$(once '{"mode":"trade","correlation_id":"mail-trade"}')
[ "$rc" = 0 ] || fail "trade run exited $rc"
filled=$(sql "SELECT COUNT(*) FROM broker_sim_orders WHERE status = 'filled'")
m=$(mail_of 'Subject: \[SUCCESS\]')
[ -n "$m" ] || fail "no trading report"
check trading "$m" "$ART" email-trade as_of=2026-11-20 bars=2026-11-20 orders="$filled" correlation=mail-trade

# 2. P&L of the same paper account.
rc=$(once '{"action":"pnl_analysis","pnl_type":"weekly","correlation_id":"mail-pnl"}')
[ "$rc" = 0 ] || fail "P&L run exited $rc"
m=$(mail_of 'Portfolio P&L Report\|UTF-8?B?VGhlIEFsY2hlbWlzZXIgLSBQb3J0Zm9saW8gUCZM')
[ -n "$m" ] || fail "no P&L email"
check pnl "$m" "$ART" email-pnl

# 3. One strategy file fails; its weight is kept in cash.
rm -rf "$STATE"
mkdir -p "$WORK/set"
printf '(defsymphony "no data" {} (if (> (rsi "NODATA" {:window 10}) 50) [(asset "SPY")] [(asset "BIL")]))\n' \
    >"$WORK/set/nodata.clj"
printf '{"files":["%s/etc/strategies/rotation.clj","nodata.clj"],"allocations":{"%s/etc/strategies/rotation.clj":0.7,"nodata.clj":0.3}}\n' \
    "$top_srcdir" "$top_srcdir" >"$WORK/set/set.json"
sed "s|^strategy_set = .*|strategy_set = $WORK/set/set.json\\
on_strategy_failure = cash|" "$CONF" >"$WORK/partial.conf"
rc=0
timeout -s KILL 60 "$BIN" -c "$WORK/partial.conf" --once --event '{"mode":"trade","correlation_id":"mail-partial"}' \
    2>>"$WORK/daemon.log" || rc=$?
[ "$rc" = 0 ] || fail "partial run exited $rc"
m=$(mail_of 'Subject: \[SUCCESS\]')
[ -n "$m" ] || fail "no trading report for the partial run"
check partial "$m" "$ART" email-partial as_of=2026-11-20 bars=2026-11-20 correlation=mail-partial
grep -q 'NODATA' "$m" || fail "the partial report does not name the missing ticker"

# 4. Signal only.
rm -rf "$STATE"
rc=$(once '{"mode":"bot","correlation_id":"mail-bot"}')
[ "$rc" = 0 ] || fail "signal-only run exited $rc"
m=$(mail_of 'Subject: \[SUCCESS\]')
[ -n "$m" ] || fail "no report for the signal-only run"
check signal-only "$m" "$ART" email-signal-only as_of=2026-11-20 bars=2026-11-20 correlation=mail-bot

# 5. Stale bars: evaluated as of a later session, the run fails and says why.
rm -rf "$STATE"
sed 's/^as_of = .*/as_of = 2026-12-04/' "$CONF" >"$WORK/stale.conf"
rc=0
timeout -s KILL 60 "$BIN" -c "$WORK/stale.conf" --once --event '{"mode":"trade","correlation_id":"mail-stale"}' \
    2>>"$WORK/daemon.log" || rc=$?
[ "$rc" = 3 ] || fail "stale run exited $rc, want 3"
[ "$(sql "SELECT COUNT(*) FROM broker_sim_orders")" = 0 ] || fail "a run on stale bars placed orders"
m=$(mail_of 'Subject: \[FAILURE\]')
[ -n "$m" ] || fail "no error email for the stale run"
check error "$m" "$ART" email-stale correlation=mail-stale step=signal_generation \
    reason="last bar 2026-11-20 is 9 sessions before the as-of session 2026-12-04"

cat "$WORK/render.log"
echo "email_render: ok"
