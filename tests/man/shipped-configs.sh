#!/bin/sh
# The shipped configuration files pass --check-config (issue #8):
#   etc/alchemiserd.conf        production (AWS); the secrets it names are
#                               pointed at temporary 0600 files through
#                               CREDENTIALS_DIRECTORY, as LoadCredential= would;
#   etc/alchemiserd.local.conf  the embedded default of scripts/quickstart.
# It also checks that the production file lists every key of the daemon, set
# or commented out, in its section.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
bin="$top_builddir/src/alchemiserd"
prod="$top_srcdir/etc/alchemiserd.conf"
local_conf="$top_srcdir/etc/alchemiserd.local.conf"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

[ -x "$bin" ] || { echo "ERROR: $bin not built"; exit 99; }
fail=0

# Credentials: every secret key the production file sets names a credential.
creds="$tmp/credentials"
mkdir -m 0700 "$creds"
for key in aws.secret_access_key trading.alpaca_key_id trading.alpaca_secret_key mail.smtp_password; do
	section=${key%%.*}
	name=${key#*.}
	value=$(awk -v s="[$section]" -v k="$name" '
		/^\[/ { in_s = ($0 == s); next }
		in_s && $0 ~ "^" k "[ \t]*=" { sub(/^[^=]*=[ \t]*/, ""); print; exit }' "$prod")
	[ -n "$value" ] || continue
	case $value in
	*/*) echo "FAIL: $key = $value: production secrets should be credential names"; fail=1; continue ;;
	esac
	(umask 077; printf 'test-%s\n' "$value" >"$creds/$value")
	echo "credential $value for $key"
done

check() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok: --check-config $what: $(cat "$tmp/out")"
	else
		echo "FAIL: --check-config $what (exit $?):"
		sed 's/^/  /' "$tmp/out"
		fail=1
	fi
}
# Run where the test runs, not in the credential folder: names must resolve
# through CREDENTIALS_DIRECTORY, not by accident relative to the cwd.
check "$prod" env CREDENTIALS_DIRECTORY="$creds" "$bin" -c "$prod" --check-config
check "$local_conf" env -u CREDENTIALS_DIRECTORY "$bin" -c "$local_conf" --check-config

# A credential readable by others must be refused (what the comments promise).
for f in "$creds"/*; do
	[ -f "$f" ] || continue
	chmod 0644 "$f"
	if env CREDENTIALS_DIRECTORY="$creds" "$bin" -c "$prod" --check-config >"$tmp/out" 2>&1; then
		echo "FAIL: --check-config accepted a world-readable credential $(basename "$f")"
		fail=1
	elif ! grep -q "chmod 600" "$tmp/out"; then
		echo "FAIL: a world-readable credential is refused without saying why:"
		sed 's/^/  /' "$tmp/out"
		fail=1
	else
		echo "ok: world-readable credential $(basename "$f") refused"
	fi
	chmod 0600 "$f"
	break
done

# Every key of the daemon appears in the production file (maybe commented).
: >"$tmp/empty.conf"
"$bin" -c "$tmp/empty.conf" --print-config >"$tmp/keys.ini" 2>&1 || { echo "ERROR: --print-config"; exit 99; }
awk '/^\[[a-z_]+\]$/ { s = $0; next }
     s != "" && /^[a-z_]+ *=/ { k = $1; sub(/=.*/, "", k); print s, k }' "$tmp/keys.ini" >"$tmp/keys"
n=0
while read -r section name; do
	n=$((n + 1))
	if ! awk -v s="$section" -v k="$name" '
		/^\[/ { in_s = ($0 == s); next }
		in_s && $0 ~ "^#?" k "[ \t]*=" { found = 1 }
		END { exit !found }' "$prod"; then
		echo "FAIL: $section $name is missing from etc/alchemiserd.conf"
		fail=1
	fi
done <"$tmp/keys"
echo "checked that the production file lists all $n keys"
exit $fail
