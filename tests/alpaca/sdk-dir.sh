#!/bin/sh
# Prints the folder of the official Alpaca SDK (@alpacahq/alpaca-trade-api,
# pinned by package-lock.json beside this script) that the contract fixture
# tests/data/trading/alpaca_fixture.js loads. scripts/check installs it in the
# source tree; otherwise (a manual make check, a read-only source) it is
# installed once into the build tree, under a lock: tests run in parallel.
# Exit 1 when it cannot be installed (the tests then fail, never skip).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
sdk=node_modules/@alpacahq/alpaca-trade-api
src="$top_srcdir/tests/alpaca"
if [ -f "$src/$sdk/package.json" ]; then
	echo "$(cd "$src" && pwd -P)/$sdk"
	exit 0
fi
dst="$top_builddir/tests/alpaca"
mkdir -p "$dst"
(
	flock 9
	if [ ! -f "$dst/$sdk/package.json" ]; then
		if [ "$(cd "$src" && pwd -P)" != "$(cd "$dst" && pwd -P)" ]; then
			cp "$src/package.json" "$src/package-lock.json" "$dst/" &&
				chmod u+w "$dst/package.json" "$dst/package-lock.json"
		fi &&
			(cd "$dst" && npm ci --no-audit --no-fund --loglevel=error) >&2
	fi
) 9>"$dst/.install.lock" || exit 1
echo "$(cd "$dst" && pwd -P)/$sdk"
