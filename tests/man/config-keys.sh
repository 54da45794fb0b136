#!/bin/sh
# Every configuration key of the daemon is documented in alchemiserd.conf(5),
# and every long option of --help in alchemiserd(8) (issue #8).
# The key list comes from the binary (--print-config prints "[section]" then
# "key = value" lines), so a key added to config_table.c without a man-page
# entry fails here, naming the key.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
bin="$top_builddir/src/alchemiserd"
conf5="$top_srcdir/man/alchemiserd.conf.5"
man8="$top_srcdir/man/alchemiserd.8"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

[ -x "$bin" ] || { echo "ERROR: $bin not built"; exit 99; }

# Page text without comment lines, with \- as - and font escapes removed.
plain() {
	grep -v '^\.\\"' "$1" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(en/-/g'
}
plain "$conf5" >"$tmp/conf5.txt"
plain "$man8" >"$tmp/man8.txt"

# An empty configuration: only the built-in defaults, every key printed.
: >"$tmp/empty.conf"
if ! "$bin" -c "$tmp/empty.conf" --print-config >"$tmp/keys.ini" 2>"$tmp/err"; then
	echo "ERROR: --print-config failed:"; cat "$tmp/err"; exit 99
fi
awk '/^\[[a-z_]+\]$/ { s = substr($0, 2, length($0) - 2); next }
     s != "" && /^[a-z_]+ *=/ { k = $1; sub(/=.*/, "", k); print s "." k }' \
	"$tmp/keys.ini" >"$tmp/keys"

n=$(wc -l <"$tmp/keys")
if [ "$n" -lt 10 ]; then
	echo "ERROR: only $n keys parsed from --print-config"; cat "$tmp/keys.ini"; exit 99
fi

fail=0
while read -r key; do
	section=${key%%.*}
	name=${key#*.}
	if ! grep -qF "$key" "$tmp/conf5.txt"; then
		echo "FAIL: key $key is not documented in alchemiserd.conf(5)"
		fail=1
	elif ! grep -q "^\[$section\] SECTION\|^\.SH \"\[$section\] SECTION\"" "$tmp/conf5.txt"; then
		echo "FAIL: section [$section] of $key has no section in alchemiserd.conf(5)"
		fail=1
	elif ! grep -q "^$name = " "$tmp/conf5.txt"; then
		echo "FAIL: key $key has no '.TP' entry '$name = ...' in alchemiserd.conf(5)"
		fail=1
	fi
done <"$tmp/keys"
echo "checked $n configuration keys"

# Long options: every --option of --help appears in alchemiserd(8).
"$bin" --help >"$tmp/help" 2>&1 || { echo "ERROR: --help failed"; exit 99; }
grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u >"$tmp/opts"
m=0
while read -r opt; do
	m=$((m + 1))
	if ! grep -qF -- "$opt" "$tmp/man8.txt"; then
		echo "FAIL: option $opt of --help is not documented in alchemiserd(8)"
		fail=1
	fi
done <"$tmp/opts"
echo "checked $m long options"
[ "$m" -ge 5 ] || { echo "ERROR: only $m options parsed from --help"; exit 99; }
exit $fail
