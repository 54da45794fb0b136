#!/bin/sh
# --backtest as a trader runs it, on the shipped sample set and data:
#  - the JSON summary and every output file are written, and the run is quiet
#    on stderr when it is not a terminal (progress only on a terminal);
#  - 30 random sessions: the allocation used equals `--evaluate --as-of`
#    byte for byte (tests/lib/backtest_check.py dates);
#  - every statistic recomputed with Python's statistics/math from the CSVs
#    to 1e-9 (backtest_check.py stats), for both fill models;
#  - report.html opened in headless Chromium: --dump-dom of the page as it is,
#    and of a copy with a probe script appended that measures the laid-out
#    charts and reads the summary cells; every chart has drawn series, every
#    summary number equals summary.json, nothing outside the file is named.
#    A screenshot is kept in $top_builddir/tests/artifacts/backtest-report.png.
. "$top_srcdir/tests/lib/e2e.sh"

CHECK="$PY $top_srcdir/tests/lib/backtest_check.py"
SET="$top_srcdir/etc/strategies/strategy.json"
DATA="$top_srcdir/etc/sample-data"
OUT="$WORK/out"
ART="$top_builddir/tests/artifacts"
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null 2>&1 || fail "chromium not installed (scripts/deps.sh TEST_PACKAGES)"
printf '[trading]\ncash_reserve = 0.01\nmin_trade = 0.01\nslippage_bps = 5\nstarting_cash = 100000\n' >"$WORK/bt.conf"

# 1. A run with every output, stderr not a terminal: warnings only, no progress.
timeout 120 "$BIN" -c "$WORK/bt.conf" --backtest "$SET" --data "$DATA" --from 2025-01-01 \
	--to 2026-11-20 --out "$OUT" >"$WORK/summary.out" 2>"$WORK/stderr.log" || fail "--backtest failed"
for f in summary.json equity.csv allocations.csv holdings.csv trades.csv files.csv failures.csv report.html; do
	[ -s "$OUT/$f" ] || fail "$f not written"
done
cmp -s "$WORK/summary.out" "$OUT/summary.json" || fail "stdout differs from summary.json"
grep -q "$(printf '\r')" "$WORK/stderr.log" && fail "progress written to a non-terminal"
grep -q '^warning: trend-guard.clj failed on [0-9]* of 475 sessions' "$WORK/stderr.log" ||
	fail "a failing file's sessions not reported: $(cat "$WORK/stderr.log")"

# 2. The same engine as --evaluate, 30 random sessions.
$CHECK dates "$OUT" "$BIN" "$SET" "$DATA" 30 || fail "allocations differ from --evaluate"

# 3. Statistics against the standard library, both fill models.
$CHECK stats "$OUT" || fail "statistics (open fill)"
timeout 120 "$BIN" -c "$WORK/bt.conf" --backtest "$SET" --data "$DATA" --from 2025-01-01 \
	--to 2026-11-20 --fill close --whole-shares --cost-bps 20 --capital 25000 --benchmark QQQ \
	--out "$WORK/close" >/dev/null 2>&1 || fail "--backtest --fill close failed"
$CHECK stats "$WORK/close" || fail "statistics (close fill)"
grep -q '"fill": "close"' "$WORK/close/summary.json" && grep -q '"symbol": "QQQ"' "$WORK/close/summary.json" &&
	grep -q '"whole_shares": true' "$WORK/close/summary.json" || fail "options not in the summary"

# 4. Progress on a terminal (script(1) gives the run a pty).
if command -v script >/dev/null 2>&1; then
	timeout 120 script -qec "'$BIN' -c '$WORK/bt.conf' --backtest '$SET' --data '$DATA' --from 2026-01-01 --to 2026-03-31 >/dev/null" \
		"$WORK/tty.log" >/dev/null 2>&1 || fail "--backtest under a pty failed"
	grep -q 'backtest: 100% 61/61 sessions, 2026-03-31' "$WORK/tty.log" || fail "no progress on a terminal"
fi

# 5. Bad input: exit 2 with a reason.
rc=0; "$BIN" -c "$WORK/bt.conf" --backtest "$SET" --data "$DATA" --from 2025-01-01 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--backtest without --to exited $rc"
rc=0; "$BIN" -c "$WORK/bt.conf" --backtest "$SET" --data "$DATA" --from 2025-01-01 --to 2025-02-01 \
	--fill noon >/dev/null 2>"$WORK/bad.log" || rc=$?
[ "$rc" = 2 ] && grep -q "not open or close" "$WORK/bad.log" || fail "--fill noon exited $rc"

# 6. The report in a real browser.
# chrome FILE DOM_OUT [PNG_OUT]: the page's DOM (and a screenshot) in headless
# Chromium (tests/lib/browser.py: the load event, a painted frame, a PNG that
# is not blank); a failure names the condition.
chrome() {
	"$PY" "$top_srcdir/tests/lib/browser.py" "file://$1" "$2" "${3:--}" --size 1000,3200 \
	    --profile "$WORK/chrome-profile" 2>>"$WORK/chromium.log" ||
		fail "$1 in chromium: $(tail -n 3 "$WORK/chromium.log")"
}
chrome "$OUT/report.html" "$WORK/dom.html"
sed 's#</body>#<script>\
const out = {charts: [], cells: {}};\
for (const svg of document.querySelectorAll("svg.svgchart")) {\
  const paths = [...svg.querySelectorAll("path.series")];\
  const drawn = paths.filter(p => p.getTotalLength() > 0 \&\& p.getBBox().width > 0);\
  out.charts.push({id: svg.id, paths: paths.length, drawn: drawn.length,\
    width: svg.getBoundingClientRect().width});\
}\
for (const td of document.querySelectorAll("\#summary td[data-key]"))\
  out.cells[td.dataset.key] = {value: td.dataset.value, text: td.innerText};\
const pre = document.createElement("pre"); pre.id = "probe";\
pre.textContent = JSON.stringify(out); document.body.appendChild(pre);\
</script></body>#' "$OUT/report.html" >"$WORK/probe.html"
chrome "$WORK/probe.html" "$WORK/probe-dom.html"
$CHECK dom "$OUT" "$WORK/dom.html" "$WORK/probe-dom.html" || fail "rendered report"
mkdir -p "$ART"
rm -f "$ART/backtest-report.png"
chrome "$OUT/report.html" "$WORK/dom-shot.html" "$ART/backtest-report.png"
[ "$(head -c 8 "$ART/backtest-report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "screenshot is not a PNG"
[ "$(wc -c <"$ART/backtest-report.png")" -gt 20000 ] || fail "screenshot is nearly empty"
echo "backtest: ok (screenshot $ART/backtest-report.png)"
