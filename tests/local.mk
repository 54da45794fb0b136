# Integration and end-to-end tests (shell tests run by automake against the built daemon).
E2E_TESTS = \
	tests/e2e/notify.sh \
	tests/e2e/runtime_local.sh \
	tests/e2e/cli.sh \
	tests/e2e/workflow_local.sh \
	tests/e2e/workflow_alpaca.sh \
	tests/e2e/freshness_local.sh \
	tests/e2e/run_intent_local.sh \
	tests/e2e/overlap_local.sh \
	tests/e2e/supersede_local.sh \
	tests/e2e/email_render.sh \
	tests/e2e/once_exit.sh \
	tests/e2e/hostile_input.sh \
	tests/e2e/careless_input.sh \
	tests/e2e/state_full.sh \
	tests/e2e/doorbell_local.sh \
	tests/e2e/stop_during_startup.sh
# Issue #13: on_loop stages on the loop thread, batched outcome lines, the doorbell's watch.
E2E_TESTS += tests/e2e/loop_handlers_local.sh
# --backtest: same allocations as --evaluate, statistics, the report in Chromium.
E2E_TESTS += tests/e2e/backtest.sh
# Hostile strategy files: size and memory bounds under an address-space cap.
E2E_TESTS += tests/e2e/strategy_limits.sh
# Issue #13: an idle daemon sleeps (wake-ups counted), yet pings, says STATUS and notices a deleted state file.
E2E_TESTS += tests/e2e/idle_local.sh
# Issue #13: libcurl loaded on first use, not linked (start-up).
E2E_TESTS += tests/e2e/lazy_curl.sh
TESTS += $(E2E_TESTS)
EXTRA_DIST += $(E2E_TESTS) tests/lib/e2e.sh tests/lib/notify_listener.py tests/lib/backtest_check.py \
	tests/lib/mail_render.py

# Tests install pinned npm packages into the build tree when the source tree
# has none (make distcheck): remove them with the build, never in the source.
distclean-local:
	if test "$(abs_builddir)" != "$(abs_srcdir)"; then \
		rm -rf tests/emulators tests/alpaca tests/ops/node_modules tests/ops/package.json tests/ops/package-lock.json; \
	fi
