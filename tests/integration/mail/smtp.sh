#!/bin/sh
# Mail through a real SMTP server: three aiosmtpd sinks on 127.0.0.1 (STARTTLS +
# AUTH, implicit TLS + AUTH, both with a throw-away certificate; one plain), the C client
# smtp_live, then verify.py reads what arrived with Python's email package.
# Skips (77) when Debian's python3-aiosmtpd is missing, except under CI=true.
set -eu

: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
here="$top_srcdir/tests/integration/mail"
# Debian's python (aiosmtpd is a Debian package), not a pyenv one earlier on PATH.
py="${PYTHON3:-/usr/bin/python3}"
syspath=$(getconf PATH)

if ! PATH="$syspath" "$py" -c 'import aiosmtpd' 2>/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "CI=true but python3-aiosmtpd is missing (apt-get install python3-aiosmtpd)" >&2
		exit 1
	fi
	echo "SKIP: python3-aiosmtpd not installed" >&2
	exit 77
fi

work=$(mktemp -d /tmp/alchemiser-mail.XXXXXX)
pids=
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	2>"$work/openssl.log"
printf 'correct horse battery staple\n' >"$work/password"
chmod 600 "$work/password"

PATH="$syspath" "$py" "$here/smtp_sink.py" --port-file "$work/tls.port" --out "$work/sink/tls" \
	--tls starttls --cert "$work/cert.pem" --key "$work/key.pem" \
	--user bot --password-file "$work/password" 2>"$work/sink-tls.log" &
pids="$pids $!"
PATH="$syspath" "$py" "$here/smtp_sink.py" --port-file "$work/implicit.port" \
	--out "$work/sink/implicit" --tls implicit --cert "$work/cert.pem" --key "$work/key.pem" \
	--user bot --password-file "$work/password" 2>"$work/sink-implicit.log" &
pids="$pids $!"
PATH="$syspath" "$py" "$here/smtp_sink.py" --port-file "$work/plain.port" \
	--out "$work/sink/plain" --tls none 2>"$work/sink-plain.log" &
pids="$pids $!"

# The sinks write their port file once they accept connections; bounded wait.
tries=0
while [ ! -s "$work/tls.port" ] || [ ! -s "$work/plain.port" ] || [ ! -s "$work/implicit.port" ]; do
	tries=$((tries + 1))
	if [ $tries -gt 200 ]; then
		echo "SMTP sinks did not start:" >&2
		cat "$work"/sink-*.log >&2
		exit 1
	fi
	sleep 0.05
done
tls_port=$(cat "$work/tls.port")
plain_port=$(cat "$work/plain.port")
implicit_port=$(cat "$work/implicit.port")
ss -Hltn "sport = :$tls_port" | grep -q . || { echo "sink not listening" >&2; exit 1; }

rc=0
SMTP_TLS_PORT=$tls_port SMTP_PLAIN_PORT=$plain_port SMTP_SMTPS_PORT=$implicit_port SMTP_CA="$work/cert.pem" \
SMTP_PASSWORD_FILE="$work/password" SMTP_EXPECT="$work/expect.jsonl" \
	"$top_builddir/tests/integration/mail/smtp_live" || rc=$?
PATH="$syspath" "$py" "$here/verify.py" "$work/expect.jsonl" "$work/sink" || rc=1
if [ $rc -ne 0 ]; then
	echo "--- sink logs" >&2
	cat "$work"/sink-*.log >&2
fi
exit $rc
