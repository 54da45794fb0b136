#!/bin/sh
# deb.sh TOP [JOBS]: build the Debian package from a clean copy of the tree
# (dpkg-buildpackage -us -uc -b, without the test suite and optimisation so it
# stays quick) and inspect it: the binary, the units, the man pages, the
# configuration as a conffile and the sample set are in it, and lintian finds
# no error. Run by scripts/check (not make check: one build is enough, and the
# package build must not configure inside the source tree). Prints
#     deb alchemiserd_0.1.0_amd64.deb ok  N files, lintian: no errors
set -eu
top=$(cd "${1:?usage: deb.sh TOP [JOBS]}" && pwd)
jobs=${2:-2}
work=$(mktemp -d /tmp/alchemiser-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb package FAIL: $*"; exit 1; }
for t in dpkg-buildpackage dh lintian dpkg-deb; do
	command -v "$t" >/dev/null || fail "$t missing (debhelper, lintian, dpkg-dev in TEST_PACKAGES)"
done

# The tracked and new (not ignored) files: no build trees, no node_modules.
mkdir "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# Files deleted but not yet committed are listed too: copy what exists.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	    xargs -0 cp --parents -t "$work/src") || fail "copying the tree"
else
	tar -C "$top" --exclude='./build*' --exclude=node_modules --exclude=.git -cf - . | tar -C "$work/src" -xf -
fi
[ -f "$work/src/debian/rules" ] || fail "no debian/ in the tree"

(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck noopt parallel=$jobs" \
    dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$work"/alchemiserd_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb built"

dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/sbin/alchemiserd ./lib/systemd/system/alchemiserd.service \
    ./lib/systemd/system/alchemiserd-once.service ./lib/systemd/system/alchemiserd-once.timer \
    ./usr/share/man/man8/alchemiserd.8.gz ./usr/share/man/man5/alchemiserd.conf.5.gz \
    ./etc/alchemiser/alchemiserd.conf ./usr/share/alchemiserd/strategies/strategy.json \
    ./usr/share/alchemiserd/sample-data/SPY.csv ./usr/share/doc/alchemiserd/copyright \
    ./usr/share/doc/alchemiserd/examples/alchemiserd-alerts.yml; do
	grep -q " $f\$" "$work/contents" || fail "$f not in the package"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx '/etc/alchemiser/alchemiserd.conf' "$work/control/conffiles" || fail "the config is not a conffile"
# Units installed, never enabled or started by the package.
! grep -q 'deb-systemd-invoke start' "$work/control/postinst" 2>/dev/null || fail "postinst starts the daemon"
# The binary in the package runs.
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/sbin/alchemiserd" --version >/dev/null || fail "the packaged binary does not run"

lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1 ||
	{ cat "$work/lintian.log"; fail "lintian errors"; }
echo "deb $(basename "$deb") ok  $(grep -c . "$work/contents") files, lintian: no errors" \
    "($(grep -c '^W:' "$work/lintian.log" || true) warnings)"
