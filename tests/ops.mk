# Operations (issue #8): systemd units, Terraform module and their offline checks.
# Included from the top Makefile.am; owned by the ops branch.

# Extra units installed beside systemd/alchemiserd.service. The main Makefile.am
# defines dist_systemdunit_DATA after this fragment is included, so `+=` on it is
# not possible here; the un-prefixed variable installs to the same directory and
# EXTRA_DIST ships the files.
systemdunit_DATA = systemd/alchemiserd-once.service systemd/alchemiserd-once.timer
EXTRA_DIST += $(systemdunit_DATA) systemd/alchemiserd-notify-reload.conf

OPS_TESTS = tests/ops/test-systemd-units.sh
TESTS += $(OPS_TESTS)
EXTRA_DIST += $(OPS_TESTS)
