#!/bin/sh
# Hostile strategy files meet the documented bounds (dsl.h, alchemiserd(8)):
# a file over 4 MiB is refused by size, a file of tiny expressions by the
# program's memory bound (24 times its size + 1 MiB) with its file:line:col,
# and the largest files that pass both evaluate inside 300 MB of address
# space, so an accepted file cannot abort the daemon. The address-space cap
# (ulimit -v) needs a plain build: ASan reserves terabytes of shadow memory,
# so a sanitizer build runs the same checks without it.
. "$top_srcdir/tests/lib/e2e.sh"

D="$top_srcdir/etc/sample-data"
cap=""
grep -q __asan_init "$BIN" 2>/dev/null || cap="ulimit -v 300000;"

# gen FILE UNIT HEAD TAIL BYTES: HEAD, UNIT repeated, TAIL, at most BYTES long.
gen() {
	"$PY" - "$@" <<'PYEOF'
import sys
path, unit, head, tail, n = sys.argv[1:6]
k = (int(n) - len(head) - len(tail)) // len(unit)
open(path, "w").write(head + unit * k + tail)
PYEOF
}
# evaluate FILE: --evaluate under the cap; stdout, stderr in WORK/FILE.{out,err}.
evaluate() {
	rc=0
	sh -c "$cap exec \"\$0\" --evaluate \"\$1\" --data \"\$2\" --as-of 2026-11-20" "$BIN" \
		"$WORK/$1" "$D" >"$WORK/$1.out" 2>"$WORK/$1.err" || rc=$?
}
MAX=4194304

gen "$WORK/dense.clj" '1 ' '(defsymphony "dense" {} (if (> 1 2) [' '] (asset SPY)))' $((MAX - 16))
evaluate dense.clj
[ "$rc" = 2 ] || fail "dense.clj exited $rc, want 2"
grep -q '^dense.clj:1:[0-9]*: the program needs more than [0-9]* MiB (24 times its [0-9]* bytes + 1 MiB): too many expressions for its size' \
	"$WORK/dense.clj.err" || fail "dense.clj: $(cat "$WORK/dense.clj.err")"

gen "$WORK/over.clj" '(asset SPY) ' '(defsymphony "over" {} (weight-equal [' ']))' $((MAX + 64))
printf '%*s' 64 '' >>"$WORK/over.clj"
evaluate over.clj
[ "$rc" = 2 ] || fail "over.clj exited $rc, want 2"
grep -q "over.clj: [0-9]* bytes, over the limit of $MAX" "$WORK/over.clj.err" || fail "over.clj: $(cat "$WORK/over.clj.err")"

# Accepted at the size limit: 350 000 assets, and 77 000 groups of two.
gen "$WORK/assets.clj" '(asset SPY) ' '(defsymphony "assets" {} (weight-equal [' ']))' $((MAX - 16))
evaluate assets.clj
[ "$rc" = 0 ] || fail "assets.clj exited $rc: $(cat "$WORK/assets.clj.err")"
[ "$(cat "$WORK/assets.clj.out")" = '{"SPY": 1}' ] || fail "assets.clj: $(cat "$WORK/assets.clj.out")"
gen "$WORK/groups.clj" '(group "a" [(weight-equal [(asset SPY) (asset QQQ)])]) ' \
	'(defsymphony "groups" {} (weight-equal [' ']))' $((MAX - 16))
evaluate groups.clj
[ "$rc" = 0 ] || fail "groups.clj exited $rc: $(cat "$WORK/groups.clj.err")"
[ "$(cat "$WORK/groups.clj.out")" = '{"QQQ": 0.5, "SPY": 0.5}' ] || fail "groups.clj: $(cat "$WORK/groups.clj.out")"
echo "strategy_limits: ok${cap:+ (under ulimit -v 300000)}"
