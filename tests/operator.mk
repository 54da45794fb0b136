# The operator's view (issue #16): config install that never overwrites, and
# the tests of the install, dead-letter tool, metrics, dashboard and package.
# Included from the top Makefile.am; owned by the operator branch.

# An edited /etc/alchemiser/alchemiserd.conf is the operator's: `make install`
# puts the shipped file beside it as alchemiserd.conf.example and says so.
EXTRA_DIST += etc/alchemiserd.conf
install-data-local: install-operator-config
install-operator-config:
	$(MKDIR_P) '$(DESTDIR)$(alchemiserconfdir)'
	@if test -e '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf'; then \
		echo " $(INSTALL_DATA) etc/alchemiserd.conf '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf.example'"; \
		$(INSTALL_DATA) '$(srcdir)/etc/alchemiserd.conf' '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf.example' || exit 1; \
		echo "NOTE: kept the existing $(alchemiserconfdir)/alchemiserd.conf;"; \
		echo "NOTE: the shipped one is installed beside it as alchemiserd.conf.example"; \
	else \
		echo " $(INSTALL_DATA) etc/alchemiserd.conf '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf'"; \
		$(INSTALL_DATA) '$(srcdir)/etc/alchemiserd.conf' '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf' || exit 1; \
	fi
# Uninstall removes the example only when the config is the shipped one unchanged.
uninstall-local: uninstall-operator-config
uninstall-operator-config:
	rm -f '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf.example'
	-if cmp -s '$(srcdir)/etc/alchemiserd.conf' '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf'; then \
		rm -f '$(DESTDIR)$(alchemiserconfdir)/alchemiserd.conf'; fi
.PHONY: install-operator-config uninstall-operator-config

OPERATOR_TESTS = tests/operator/install-config.sh \
	tests/operator/dead-letters-local.sh \
	tests/operator/dead-letters-sqs.sh \
	tests/operator/metrics.sh \
	tests/operator/dashboard-browser.sh \
	tests/operator/dashboard-slow-broker.sh \
	tests/operator/dashboard-aws.sh \
	tests/operator/alert-rules.sh \
	tests/operator/held-retry.sh \
	tests/operator/held-duration.sh
TESTS += $(OPERATOR_TESTS)
EXTRA_DIST += $(OPERATOR_TESTS) tests/operator/alert-rules-test.yml
print-operator-confdir:
	@echo '$(alchemiserconfdir)'
.PHONY: print-operator-confdir
EXTRA_DIST += LICENSE
# The sample alert rules go beside the other examples.
operatorexampledir = $(docdir)/examples
dist_operatorexample_DATA = etc/prometheus/alchemiserd-alerts.yml

# The Debian package (built and inspected by tests/operator/deb.sh from scripts/check).
EXTRA_DIST += debian tests/operator/deb.sh

# The dashboard test's screenshots (artifacts of make check) are build output.
clean-local: clean-local-operator
clean-local-operator:
	-rm -rf tests/operator/screenshots
.PHONY: clean-local-operator
