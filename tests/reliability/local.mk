# Reliability suite (issue #9): kill -9 soak, fault injection, scale-out, lifecycle.
# Quick sizes here (all of them together stay under 8 minutes on 2 cores); the
# full sizes are set by environment variables, see tests/reliability/README.md.
# Every test is loopback-only, stops its own processes by PID and has a
# wall-clock budget (REL_BUDGET, default 300 s) after which it fails by itself.
RELIABILITY_TESTS = \
	tests/reliability/kill9_local.sh \
	tests/reliability/kill9_moto.sh \
	tests/reliability/scaleout.sh \
	tests/reliability/lifecycle.sh \
	tests/reliability/kill9_lease.sh \
	tests/reliability/kill9_waiting.sh \
	tests/reliability/kill9_recovery.sh \
	tests/reliability/storm.sh \
	tests/reliability/deadletter.sh \
	tests/reliability/broker_lost_reply.sh \
	tests/reliability/dynamodb_outage.sh \
	tests/reliability/claim_lost_reply.sh \
	tests/reliability/state_deleted.sh \
	tests/reliability/smtp_outage.sh \
	tests/reliability/intent_moto.sh \
	tests/reliability/restart_moto.sh \
	tests/reliability/startup_outage.sh \
	tests/reliability/dlq_watch_moto.sh \
	tests/reliability/kill9_waiting_moto.sh
# Known daemon bugs go in RELIABILITY_XFAIL with evidence; none today
# (state_deleted.sh, dynamodb_outage.sh, claim_lost_reply.sh and smtp_outage.sh
# were there until the fixes: the daemon stops naming a deleted state file, a
# dependency failure is retried in place, and a claim's owner finds its own claim).
RELIABILITY_XFAIL =
# faults.sh is back (issue #17): its "stalls" were a duplicate email through
# the SMTP window (a session cut after the server took the final dot) that the
# wait loop could not tell from an unfinished run, and a daemon that exited on
# a fault during its start-up checks. The sink now marks sessions that ended
# with QUIT, so a resend through that window is told apart, a duplicate ends
# the wait at once, and faults start once the daemon is up.
RELIABILITY_TESTS += tests/reliability/faults.sh
TESTS += $(RELIABILITY_TESTS) $(RELIABILITY_XFAIL)
XFAIL_TESTS = $(RELIABILITY_XFAIL)
EXTRA_DIST += $(RELIABILITY_TESTS) $(RELIABILITY_XFAIL) tests/reliability/lib.sh \
	tests/reliability/faultproxy.py tests/reliability/tally.py tests/reliability/README.md

# The full sizes (issue #9, #17): the kill -9 soaks with 100 + 50 workflows and
# 40 kills each, 1,000 events, 300 HUPs, faults.sh with 25 runs: about 20 min.
check-reliability-full:
	REL_SOAK_LOCAL_N=100 REL_SOAK_MOTO_N=50 REL_SOAK_KILLS=40 REL_FAULT_N=25 \
	REL_SCALE_EVENTS=1000 REL_LIFE_EVENTS=500 REL_HUPS=300 REL_BUDGET=1200 REL_DRAIN_SECONDS=300 \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(RELIABILITY_TESTS)'
check-reliability-faults:
	REL_KEEP_ON_FAIL=1 $(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/reliability/faults.sh'
.PHONY: check-reliability-full check-reliability-faults
