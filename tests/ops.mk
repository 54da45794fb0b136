# Operations (issue #8): systemd units, Terraform module and their offline checks.
# Included from the top Makefile.am; owned by the ops branch.

# Extra units installed beside systemd/alchemiserd.service. The main Makefile.am
# defines dist_systemdunit_DATA after this fragment is included, so `+=` on it is
# not possible here; the un-prefixed variable installs to the same directory and
# EXTRA_DIST ships the files.
systemdunit_DATA = systemd/alchemiserd-once.service systemd/alchemiserd-once.timer
EXTRA_DIST += $(systemdunit_DATA) systemd/alchemiserd-notify-reload.conf

OPS_TERRAFORM_FILES = \
	terraform/README.md \
	terraform/alarms.tf \
	terraform/dynamodb.tf \
	terraform/ec2.tf \
	terraform/events.tf \
	terraform/iam.tf \
	terraform/main.tf \
	terraform/outputs.tf \
	terraform/scheduler.tf \
	terraform/sqs.tf \
	terraform/variables.tf \
	terraform/versions.tf \
	terraform/templates/user-data.sh.tftpl

# test-systemd-units.sh: systemd-analyze verify + security (exposure <= 2.0).
# test-terraform.sh: HCL parsed with @cdktf/hcl2json (npm ci in tests/ops, or the
# test installs the locked version into the build tree), structural checks, then
# the same resources in moto_server through the AWS CLI (SKIP without them).
OPS_TESTS = tests/ops/test-systemd-units.sh tests/ops/test-terraform.sh
TESTS += $(OPS_TESTS)
EXTRA_DIST += $(OPS_TESTS) $(OPS_TERRAFORM_FILES) \
	tests/ops/check-terraform.cjs \
	tests/ops/pattern-match.cjs \
	tests/ops/daemon-events.json \
	tests/ops/package.json \
	tests/ops/package-lock.json

# In a VPATH build (distcheck) test-terraform.sh installs node_modules into the
# build tree; remove it so distcleancheck finds nothing left. Never in the source tree.
clean-local: clean-local-ops
clean-local-ops:
	-if test "$(abs_top_builddir)" != "$(abs_top_srcdir)"; then \
		rm -rf tests/ops/node_modules tests/ops/package.json tests/ops/package-lock.json; \
	fi
.PHONY: clean-local-ops
