# Integration and end-to-end tests (shell tests run by automake against the built daemon).
E2E_TESTS = \
	tests/e2e/notify.sh \
	tests/e2e/runtime_local.sh \
	tests/e2e/cli.sh \
	tests/e2e/workflow_local.sh
TESTS += $(E2E_TESTS)
EXTRA_DIST += $(E2E_TESTS) tests/lib/e2e.sh tests/lib/notify_listener.py
