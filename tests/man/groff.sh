#!/bin/sh
# Both man pages render with groff without a single warning (issue #8).
# -ww enables every warning; -z formats without output, -Tutf8 as man(1) does.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff not installed (apt-get install groff-base)"
	exit 77
fi

fail=0
for page in "$top_srcdir/man/alchemiserd.8" "$top_srcdir/man/alchemiserd.conf.5"; do
	for dev in "-Tutf8" "-z"; do
		err=$(LC_ALL=C.UTF-8 groff -ww -man $dev -t "$page" 2>&1 >/dev/null)
		if [ -n "$err" ]; then
			echo "FAIL: groff -ww -man $dev $(basename "$page"):"
			printf '%s\n' "$err" | sed 's/^/  /'
			fail=1
		else
			echo "ok: groff -ww -man $dev $(basename "$page")"
		fi
	done
	# man(1)'s own checker, when present, catches what groff lets pass.
	if command -v mandoc >/dev/null 2>&1; then
		err=$(mandoc -T lint -W warning "$page" 2>&1 | grep -v 'STYLE' || true)
		[ -n "$err" ] && printf 'note (mandoc lint, not fatal):\n%s\n' "$err"
	fi
done
exit $fail
