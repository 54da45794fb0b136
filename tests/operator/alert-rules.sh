#!/bin/sh
# The sample alert rules (etc/prometheus/alchemiserd-alerts.yml): valid for
# promtool check rules, and right in promtool test rules
# (tests/operator/alert-rules-test.yml): "no successful run by 10:00 New
# York" follows daylight saving time and New York's weekdays.
set -eu
: "${top_srcdir:?run through make check}"
command -v promtool >/dev/null || { echo "FAIL: promtool missing (Debian package prometheus; scripts/check installs it)" >&2; exit 1; }
promtool check rules "$top_srcdir/etc/prometheus/alchemiserd-alerts.yml"
promtool test rules "$top_srcdir/tests/operator/alert-rules-test.yml"
echo "ok: alert rules"
