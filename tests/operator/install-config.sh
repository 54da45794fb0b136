#!/bin/sh
# `make install` never overwrites an edited configuration: the first install
# puts etc/alchemiserd.conf in place, a second one keeps the operator's file,
# installs the shipped one beside it as alchemiserd.conf.example and says so.
# Runs only the config rule (not the whole install) so it cannot relink the
# binary other tests are using.
set -eu
: "${top_builddir:?run through make check}" "${top_srcdir:?run through make check}"
WORK=$(mktemp -d /tmp/alchemiser-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$WORK"/*.out >&2 2>/dev/null; exit 1; }
# A make of its own, not a child of the one running the tests (no jobserver,
# no "Entering directory" lines in what we read).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKE_TERMOUT MAKE_TERMERR

conf=$(make -s -C "$top_builddir" --no-print-directory print-operator-confdir | tail -n 1)
root="$WORK/root"
dest="$root$conf"

make -s -C "$top_builddir" --no-print-directory install-operator-config DESTDIR="$root" >"$WORK/first.out" 2>&1 ||
	fail "first install"
cmp -s "$top_srcdir/etc/alchemiserd.conf" "$dest/alchemiserd.conf" || fail "config not installed"
[ ! -e "$dest/alchemiserd.conf.example" ] || fail "example installed on a fresh system"

printf '# edited by the operator\n[daemon]\nconcurrency = 3\n' >"$dest/alchemiserd.conf"
make -s -C "$top_builddir" --no-print-directory install-operator-config DESTDIR="$root" >"$WORK/second.out" 2>&1 ||
	fail "second install"
grep -q 'edited by the operator' "$dest/alchemiserd.conf" || fail "the edited config was overwritten"
cmp -s "$top_srcdir/etc/alchemiserd.conf" "$dest/alchemiserd.conf.example" || fail "no .example beside it"
grep -q "kept the existing .*alchemiserd.conf" "$WORK/second.out" || fail "install did not say it kept the config"

make -s -C "$top_builddir" --no-print-directory uninstall-operator-config DESTDIR="$root" >"$WORK/uninstall.out" 2>&1 ||
	fail "uninstall"
[ -e "$dest/alchemiserd.conf" ] || fail "uninstall removed the operator's config"
[ ! -e "$dest/alchemiserd.conf.example" ] || fail "uninstall left the example"
echo "ok: install keeps an edited config"
