#!/bin/bash
# workflow_check.sh: the workflow-latency bench (bench/lib/alchbench.py
# workflow, section 3 of bench/run) counts only runs that end in the trading
# report, and reports any other run as a FAILED row, never as a latency (an
# earlier version timed the error report of a failed run). Checks the rows,
# never the times: two runs that succeed, then two that fail (bars stale for
# the as-of session: the workflow fails at signal generation and mails an
# error report).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PY=${PYTHON3:-python3}
export PYTHONDONTWRITEBYTECODE=1
H() { timeout 120 "$PY" "$top_srcdir/bench/lib/alchbench.py" --bin "$top_builddir/src/alchemiserd" \
	--srcdir "$top_srcdir" --limit 60 workflow --runs 2 "$@" 2>/dev/null; }
fail() { echo "FAIL: $*" >&2; printf '%s\n' "$out" >&2; exit 1; }

out=$(H)
grep -q '^| \*\*trade command -> trading report email in maildir/new\*\* | \*\*[0-9.]*\*\* | .*| 2 of 2 runs' <<<"$out" ||
	fail "two good runs: no trading-report latency row over 2 runs"
grep -q 'FAILED' <<<"$out" && fail "two good runs: a FAILED row"
for row in 'exec -> READY=1' 'READY=1 -> command received' 'stage `signals`: received -> SignalGenerated published' \
	'hop RebalancePlanned: published -> received by `execution`' 'stage `execution`: received -> TradeExecuted' \
	'stage `notify`: received -> email in maildir/new'; do
	grep -qF "| $row" <<<"$out" || fail "no row '$row'"
done
echo "ok: successful runs are timed to the trading report, with the split"

out=$(H --as-of 2026-12-04)
grep -q '^| \*\*FAILED run\*\* (not a latency): exit 3 | .* 2 of 2 runs |' <<<"$out" ||
	fail "two failed runs: no FAILED row 'exit 3' for 2 of 2 runs"
grep -q 'no run ended in a trading report' <<<"$out" || fail "two failed runs: a latency was reported"
grep -q 'stage `' <<<"$out" && fail "two failed runs: stage rows from failed runs"
echo "ok: failed runs are FAILED rows, not latencies"
