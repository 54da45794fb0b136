#!/bin/sh
# Offline checks of the shipped systemd units (no running systemd needed):
#  - `systemd-analyze verify` on a copy of each unit whose ExecStart= points at the
#    freshly built binary; any output on stderr is a failure (verify exits 0 on
#    most problems and only prints them);
#  - `systemd-analyze security --offline=true`: exposure must be 2.0 or less;
#  - the notify-reload drop-in on top of the main unit (fully checked on
#    systemd >= 253; on older ones only the two expected "unknown" lines may appear);
#  - the timer's calendar expression.
# Env: top_srcdir, top_builddir (set by automake; default: this checkout).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
units="$top_srcdir/systemd"
bin="$top_builddir/src/alchemiserd"
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not installed"
	exit 77
fi
if [ ! -x "$bin" ]; then
	echo "FAIL: $bin not built"
	exit 1
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/alchemiserd-units.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

sdver=$(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
echo "systemd-analyze version ${sdver:-unknown}"

failed=0
pass=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }

# Copy a unit into dir $1 with every /usr/sbin/alchemiserd replaced by the built binary.
stage() {
	mkdir -p "$1"
	for u in alchemiserd.service alchemiserd-once.service alchemiserd-once.timer; do
		sed "s|/usr/sbin/alchemiserd|$bin|g" "$units/$u" >"$1/$u" || return 1
	done
}

# verify DIR UNIT...: exit status 0 and empty stderr.
verify() {
	d=$1; shift
	(cd "$d" && systemd-analyze verify --man=no "$@") >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$work/err" ]; then
		ok "verify $*"
	else
		not_ok "verify $* (rc $rc)"
		sed 's/^/    /' "$work/err" "$work/out"
	fi
}

stage "$work/plain" || { echo "FAIL: cannot copy units"; exit 1; }

# Sanity: the substitution happened (a unit still pointing at /usr/sbin would
# fail verify on a machine without the installed binary, for the wrong reason).
if grep -q '^ExecStart=/usr/sbin/' "$work/plain"/*.service; then
	not_ok "ExecStart= substitution"
else
	ok "ExecStart= points at $bin"
fi

verify "$work/plain" ./alchemiserd.service
verify "$work/plain" ./alchemiserd-once.service ./alchemiserd-once.timer

# Security: print the score, fail above $max_exposure. --threshold is in tenths.
thr=$(echo "$max_exposure" | awk '{ printf "%d", $1 * 10 }')
for u in alchemiserd.service alchemiserd-once.service; do
	# C locale: plain "+"/"-" marks instead of locale-dependent glyphs.
	(cd "$work/plain" && LC_ALL=C systemd-analyze security --offline=true --threshold="$thr" "./$u") \
		>"$work/out" 2>"$work/err"
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/out")
	echo "# $u exposure: ${score:-?} (limit $max_exposure)"
	if [ $rc -eq 0 ] && [ -n "$score" ] &&
	   awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
		ok "security $u: exposure $score"
	else
		not_ok "security $u: exposure ${score:-unknown} (rc $rc)"
		grep '^- ' "$work/out" | sed 's/^/    /'
		sed 's/^/    /' "$work/err"
	fi
	# A dropped setting shows up as a regression long before the score crosses 2.0:
	# these must stay green.
	for key in 'User=/DynamicUser=' 'NoNewPrivileges=' 'ProtectSystem=' 'PrivateDevices=' \
	           'CapabilityBoundingSet=~CAP_SYS_ADMIN' 'MemoryDenyWriteExecute=' \
	           'SystemCallFilter=~@privileged' 'SystemCallFilter=~@resources' \
	           'RestrictAddressFamilies=~AF_NETLINK' 'ProtectProc=' 'ProcSubset=' 'UMask=' \
	           'NotifyAccess=' 'PrivateUsers='; do
		if ! grep -q -F "+ $key " "$work/out"; then
			not_ok "security $u: $key not satisfied"
		fi
	done
done

# Settings that the daemon's behaviour depends on (not scored by systemd-analyze).
svc="$units/alchemiserd.service"
for line in 'Type=notify' 'NotifyAccess=main' 'ExecReload=/bin/kill -HUP $MAINPID' \
            'Restart=on-failure' 'StateDirectory=alchemiser' 'ConfigurationDirectory=alchemiser' \
            'LimitCORE=0' 'UMask=0077' 'DevicePolicy=closed'; do
	if grep -qxF "$line" "$svc"; then ok "alchemiserd.service has $line"; else not_ok "alchemiserd.service lacks $line"; fi
done
for cred in aws-secret-access-key alpaca-key-id alpaca-secret-key smtp-password; do
	if grep -q "^LoadCredential=$cred:" "$svc"; then ok "credential $cred"; else not_ok "no LoadCredential= for $cred"; fi
done
# The stop timeout must leave room for the daemon's drain (default 30 s) plus the
# release of unstarted messages and the final delete flush; the watchdog must be on.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$svc")
if [ -n "$stop" ] && [ "$stop" -gt 30 ]; then ok "TimeoutStopSec=${stop}s > drain 30 s"; else not_ok "TimeoutStopSec (${stop:-unset}) must exceed the 30 s drain"; fi
wd=$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$svc")
if [ -n "$wd" ] && [ "$wd" -gt 0 ]; then ok "WatchdogSec=${wd}s"; else not_ok "WatchdogSec unset"; fi

# --once exits non-zero for a failed, rejected or unfinished run (alchemiserd(8)):
# the once unit must show that as failed, and must not kill a run before the
# daemon's own daemon.once_timeout (10 min) and drain (30 s) end it.
once="$units/alchemiserd-once.service"
if grep -q '^SuccessExitStatus=' "$once" || grep -q '^ExecStart=-' "$once"; then
	not_ok "alchemiserd-once.service turns a non-zero exit into success"
else
	ok "alchemiserd-once.service: every non-zero exit is a failure"
fi
ostart=$(sed -n 's/^TimeoutStartSec=\([0-9]*\)min$/\1/p' "$once")
if [ -n "$ostart" ] && [ "$ostart" -ge 11 ]; then ok "once TimeoutStartSec=${ostart}min > once_timeout 10 min + drain"
else not_ok "once TimeoutStartSec (${ostart:-unset} min) must exceed once_timeout 10 min + drain"; fi

# The notify-reload drop-in on top of the main unit.
mkdir -p "$work/plain/alchemiserd.service.d"
cp "$units/alchemiserd-notify-reload.conf" "$work/plain/alchemiserd.service.d/"
if [ -n "$sdver" ] && [ "$sdver" -ge 253 ]; then
	verify "$work/plain" ./alchemiserd.service
else
	(cd "$work/plain" && systemd-analyze verify --man=no ./alchemiserd.service) >"$work/out" 2>"$work/err"
	if grep -v -e 'Failed to parse service type, ignoring: notify-reload' \
	           -e "Unknown key 'ReloadSignal'" "$work/err" | grep -q .; then
		not_ok "drop-in on systemd ${sdver:-?}: unexpected complaints"
		sed 's/^/    /' "$work/err"
	else
		ok "drop-in: only the expected pre-253 complaints (Type=notify-reload, ReloadSignal=)"
	fi
fi

# Timer: the calendar expression parses and elapses at 09:35 New York time.
cal=$(sed -n 's/^OnCalendar=//p' "$units/alchemiserd-once.timer")
if systemd-analyze calendar "$cal" >"$work/out" 2>"$work/err" &&
   grep -q 'Normalized form: Mon..Fri \*-\*-\* 09:35:00 America/New_York' "$work/out"; then
	ok "timer OnCalendar=$cal"
else
	not_ok "timer OnCalendar=$cal"
	sed 's/^/    /' "$work/out" "$work/err"
fi
if TZ=America/New_York systemd-analyze calendar --iterations=5 "$cal" 2>/dev/null |
   sed -n 's/.*\(Next elapse\|Iter\. #[0-9]*\): \(...\) [-0-9]* \([0-9:]*\) .*/\2 \3/p' >"$work/out" &&
   [ "$(wc -l <"$work/out")" -eq 5 ] &&
   ! grep -v -E '^(Mon|Tue|Wed|Thu|Fri) 09:35:00$' "$work/out" | grep -q .; then
	ok "timer elapses on weekdays at 09:35 New York time"
else
	not_ok "timer elapses: $(tr '\n' ';' <"$work/out")"
fi

echo "$pass passed, $failed failed"
[ $failed -eq 0 ]
