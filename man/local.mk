# man/local.mk: checks of the man pages and the shipped configuration files
# (issue #8). The pages themselves are installed by dist_man_MANS in the top
# Makefile.am.
#   groff.sh           both pages render with groff -ww without a warning
#   config-keys.sh     every key of --print-config is in alchemiserd.conf(5),
#                      every long option of --help in alchemiserd(8)
#   shipped-configs.sh etc/alchemiserd.conf and etc/alchemiserd.local.conf pass
#                      --check-config; the production file lists every key
MAN_TESTS = \
	tests/man/groff.sh \
	tests/man/config-keys.sh \
	tests/man/shipped-configs.sh

TESTS += $(MAN_TESTS)
EXTRA_DIST += $(MAN_TESTS)
