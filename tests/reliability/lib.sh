# Shared by the reliability tests (tests/reliability/*.sh): a scratch folder,
# services on 127.0.0.1 with ports we pick, every process we start stopped by
# its PID in the trap (never by name), a wall-clock budget per test, and the
# end-state tallies (emails per correlation id, orders per run/symbol/side).
# Run through `make check`, or by hand:
#   top_srcdir=$PWD top_builddir=$PWD sh tests/reliability/kill9_local.sh
set -eu
: "${top_srcdir:?run through make check (or set top_srcdir and top_builddir)}"
: "${top_builddir:=$top_srcdir}"
BIN="$top_builddir/src/alchemiserd"
REL="$top_srcdir/tests/reliability"
EMU="$top_srcdir/tests/emulators"
PY=${PYTHON3:-python3}
NODE=${NODE:-node}
SYSPY="/usr/bin/python3"	# Debian's python, where python3-aiosmtpd lives
WORK=$(mktemp -d /tmp/alchemiser-rel.XXXXXX)
STATE="$WORK/state"
PIDS=""
T0=$(date +%s)
# Hard budget of one test (seconds): a watchdog ends the test if it is exceeded.
REL_BUDGET=${REL_BUDGET:-300}
# Bound of one setup step (an emulator starting, a queue or table created):
# generous, since a loaded machine is slow, but a hung step still ends.
REL_SETUP_STEP=${REL_SETUP_STEP:-180}
# What the test is doing (phase TEXT; the first start_daemon ends the setup):
# the budget's message names it, so a slow setup is not taken for a daemon
# that stalled.
SETUP_PHASE="setup (emulators, queues, tables: before any daemon)"
echo "$SETUP_PHASE" >"$WORK/phase"

cleanup() {
	rc=$?
	kill -TERM "$WATCHDOG" 2>/dev/null || true
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ "${REL_KEEP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "${REL_KEEP_ON_FAIL:-0}" = 1 ]; }; then
		echo "work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT HUP
# The watchdog's TERM: a stall; take the stacks first when asked (see fail).
trap '[ "${REL_STACKS_ON_FAIL:-0}" = 1 ] && all_stacks; exit 1' TERM

# The test stops by itself: a watchdog signals us at the budget (and takes its
# sleep along when the test ends first).
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep "$REL_BUDGET" >/dev/null 2>&1 &
	s=$!
	wait "$s" && { echo "FAIL: budget of $REL_BUDGET s exceeded during $(cat "$WORK/phase")" >&2
		kill -TERM $$; }
) </dev/null >/dev/null &
WATCHDOG=$!

say() { echo "[$(($(date +%s) - T0))s] $*"; }

fail() {
	echo "FAIL: $*" >&2
	# REL_STACKS_ON_FAIL=1: the stacks of every process this test started
	# (gdb), taken before the trap stops them (with REL_KEEP_ON_FAIL=1 to keep them).
	[ "${REL_STACKS_ON_FAIL:-0}" = 1 ] && all_stacks
	for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; } >&2; done
	exit 1
}

elapsed() { echo $(($(date +%s) - T0)); }

# phase TEXT: what the test does from now on (named if the budget runs out).
phase() { echo "$*" >"$WORK/phase"; }

# setup_fail WHAT: a step of the test's own setup failed: said as such (not
# the daemon's failure), with when and the machine's load.
setup_fail() {
	fail "setup, not the daemon: $* ($(elapsed) s into the test; load average $(cut -d' ' -f1-3 /proc/loadavg))"
}

# setup_step WHAT COMMAND...: one setup command (aws against moto, ...),
# bounded by REL_SETUP_STEP; its stdout is passed on. A failure is the
# setup's: setup_fail says whether it was killed at the bound or failed, and
# what it printed.
setup_step() {
	swhat=$1
	shift
	st0=$(date +%s)
	src=0
	timeout -s KILL "$REL_SETUP_STEP" "$@" 2>"$WORK/setup-step.err" || src=$?
	[ "$src" = 0 ] && return 0
	if [ "$src" = 137 ]; then
		setup_fail "$swhat: killed at its bound of $REL_SETUP_STEP s (REL_SETUP_STEP)"
	fi
	setup_fail "$swhat: exit $src after $(($(date +%s) - st0)) s: $(tail -c 600 "$WORK/setup-step.err")"
}

# wait_until SECONDS COMMAND...: run COMMAND until it succeeds or time runs out.
wait_until() {
	limit=$1
	shift
	end=$(($(date +%s%N) + limit * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

pick_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_listen PORT PID: until PORT listens, while PID lives, at most
# REL_SETUP_STEP seconds (a loaded machine starts a Python server slowly).
wait_listen() {
	wend=$(($(date +%s) + REL_SETUP_STEP))
	while [ "$(date +%s)" -le "$wend" ]; do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_port_file FILE PID: a helper wrote its port into FILE; prints it.
# Bounded like wait_listen.
wait_port_file() {
	wend=$(($(date +%s) + REL_SETUP_STEP))
	while [ ! -s "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		[ "$(date +%s)" -le "$wend" ] || return 1
		sleep 0.05
	done
	cat "$1"
}

# alive PID: "running" or "exited" (for setup messages).
alive() { if kill -0 "$1" 2>/dev/null; then echo "is running"; else echo "has exited"; fi; }

# rand LO HI: a random integer; the sequence repeats under REL_SEED. (A file
# keeps the draw count, since rand runs in $(...) subshells.)
REL_SEED_USED=${REL_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}
echo 0 >"$WORK/rand.n"
rand() {
	n=$(($(cat "$WORK/rand.n") + 1))
	echo "$n" >"$WORK/rand.n"
	awk -v s="$REL_SEED_USED" -v n="$n" -v lo="$1" -v hi="$2" \
	    'BEGIN { srand((s % 1000000) * 1000 + n); r = rand(); r = rand(); print lo + int(r * (hi - lo + 1)) }'
}

echo "REL_SEED=$REL_SEED_USED (set it to repeat this run's random draws)"

# write_config FILE [extra INI lines...]: the daemon's common settings (quick
# timings; embedded backend unless the extra lines say otherwise).
write_config() {
	conf=$1
	mkdir -p "$STATE"
	shift
	cat >"$conf" <<CONF
[daemon]
backend = ${BACKEND:-local}
state_dir = $STATE
concurrency = 2
poll_wait = 1s
once_idle_wait = 500ms
visibility_timeout = 3s
idempotency_lease = 5s
retry_backoff_base = 1s
retry_backoff_max = 2s
shutdown_timeout = 5s
status_interval = 1s
log_level = debug
[trading]
ignore_market_hours = yes
starting_cash = 100000000
data_dir = $top_srcdir/etc/sample-data
# The sample bars end on this session (alchemiserd.conf(5) trading.as_of).
as_of = 2026-11-20
strategy_set = $top_srcdir/etc/strategies/strategy.json
[mail]
maildir = $STATE/mail
CONF
	# Three strategy sets with different targets, rotated between daemon lives
	# (set_strategy N), so that runs handled by different lives really trade.
	mkdir -p "$WORK/sets"
	for f in "$top_srcdir"/etc/strategies/*.clj; do ln -sf "$f" "$WORK/sets/"; done
	cp "$top_srcdir/etc/strategies/strategy.json" "$WORK/sets/set0.json"
	printf '{"files":["trend-guard.clj"],"allocations":{"trend-guard.clj":1.0}}\n' >"$WORK/sets/set1.json"
	printf '{"files":["rotation.clj"],"allocations":{"rotation.clj":1.0}}\n' >"$WORK/sets/set2.json"
	for line in "$@"; do printf '%s\n' "$line" >>"$conf"; done
}

# set_strategy CONF K: strategy set K (0 both strategies, 1 trend-guard, 2 rotation).
set_strategy() {
	sed -i "s|^strategy_set = .*|strategy_set = $WORK/sets/set$2.json|" "$1"
}

sql() { sqlite3 -batch -noheader -cmd ".timeout 10000" "$STATE/state.sqlite" "$1"; }

# start_daemon NAME CONF [args...]: background daemon, stderr to $WORK/NAME.log
# (appended across restarts); sets DAEMON_PID.
start_daemon() {
	name=$1
	conf=$2
	shift 2
	[ "$(cat "$WORK/phase")" != "$SETUP_PHASE" ] ||
		phase "the daemons' part (setup done in $(elapsed) s)"
	"$BIN" -c "$conf" "$@" 2>>"$WORK/$name.log" >/dev/null &
	DAEMON_PID=$!
	PIDS="$PIDS $DAEMON_PID"
}

# ---- emulators ---------------------------------------------------------------

# start_moto: MOTO_URL, signatures checked (AWS_ACCESS_KEY_ID/SECRET exported).
start_moto() {
	python3 -c 'import moto.server' 2>/dev/null || fail "moto is not installed (it cannot be installed here)"
	MOTO_PORT=$(pick_port)
	# moto_server with its DynamoDB requests serialised (see moto_serve.py).
	INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$top_srcdir/tests/emulators/moto_serve.py" \
	    -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
	MOTO_PID=$!
	PIDS="$PIDS $MOTO_PID"
	wait_listen "$MOTO_PORT" $MOTO_PID ||
		setup_fail "moto_server did not listen on $MOTO_PORT (it $(alive $MOTO_PID))"
	MOTO_URL="http://127.0.0.1:$MOTO_PORT"
	# aws against moto in setup steps: read and connect timeouts a loaded
	# machine does not hit (setup_step bounds the whole call).
	MOTO_AWS="aws --endpoint-url $MOTO_URL --cli-read-timeout 120 --cli-connect-timeout 30"
	export AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap AWS_DEFAULT_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
	unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true
	setup_step "iam create-user" $MOTO_AWS iam create-user --user-name ci >/dev/null
	setup_step "iam put-user-policy" $MOTO_AWS iam put-user-policy --user-name ci --policy-name all \
	    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' \
	    >/dev/null
	setup_step "iam create-access-key" $MOTO_AWS iam create-access-key --user-name ci \
	    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text >"$WORK/keys"
	AWS_ACCESS_KEY_ID=$(cut -f1 "$WORK/keys")
	AWS_SECRET_ACCESS_KEY=$(cut -f2 "$WORK/keys")
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	setup_step "a signed call with the issued key" $MOTO_AWS sqs list-queues >/dev/null
}


# moto_resources [MAX_RECEIVE] [WITH_RULE]: work queue + DLQ (redrive at
# MAX_RECEIVE, default 5), bus and rule (every alchemiser.* event to the work
# queue) unless WITH_RULE=no, idempotency table. Sets Q, DLQ.
moto_resources() {
	maxrc=${1:-5}
	EP="--endpoint-url $MOTO_URL"
	MOTO_AWS="aws $EP --cli-read-timeout 120 --cli-connect-timeout 30"
	setup_step "sqs create-queue alchemiser-dlq" $MOTO_AWS sqs create-queue \
	    --queue-name alchemiser-dlq >/dev/null
	setup_step "sqs get-queue-url alchemiser-dlq" $MOTO_AWS sqs get-queue-url \
	    --queue-name alchemiser-dlq --query QueueUrl --output text >"$WORK/dlq.url"
	DLQ=$(cat "$WORK/dlq.url")
	setup_step "sqs create-queue alchemiser-work" $MOTO_AWS sqs create-queue --queue-name alchemiser-work \
	    --attributes '{"VisibilityTimeout":"5",'\
'"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:123456789012:alchemiser-dlq\",\"maxReceiveCount\":\"'"$maxrc"'\"}"}' \
	    >/dev/null
	setup_step "sqs get-queue-url alchemiser-work" $MOTO_AWS sqs get-queue-url \
	    --queue-name alchemiser-work --query QueueUrl --output text >"$WORK/q.url"
	Q=$(cat "$WORK/q.url")
	setup_step "events create-event-bus" $MOTO_AWS events create-event-bus --name alchemiser >/dev/null
	if [ "${2:-yes}" = yes ]; then
		setup_step "sqs get-queue-attributes QueueArn" $MOTO_AWS sqs get-queue-attributes \
		    --queue-url "$Q" --attribute-names QueueArn --query Attributes.QueueArn \
		    --output text >"$WORK/q.arn"
		QARN=$(cat "$WORK/q.arn")
		setup_step "events put-rule" $MOTO_AWS events put-rule --name workflow \
		    --event-bus-name alchemiser --event-pattern '{"source":[{"prefix":"alchemiser."}]}' \
		    >/dev/null
		setup_step "events put-targets" $MOTO_AWS events put-targets --rule workflow \
		    --event-bus-name alchemiser --targets "Id=work,Arn=$QARN" >/dev/null
	fi
	setup_step "dynamodb create-table" $MOTO_AWS dynamodb create-table \
	    --table-name alchemiser-idempotency --billing-mode PAY_PER_REQUEST \
	    --attribute-definitions AttributeName=event_id,AttributeType=S \
	    --key-schema AttributeName=event_id,KeyType=HASH >/dev/null
}

# aws_config_lines SQS_URL EVENTS_URL DYNAMODB_URL: the [aws] section.
aws_config_lines() {
	printf '%s\n' "[aws]" "region = us-east-1" "queue_url = $Q" \
	    "dead_letter_queue_url = $DLQ" "event_bus = alchemiser" "sqs_endpoint = $1" "events_endpoint = $2" \
	    "dynamodb_endpoint = $3" "request_timeout = 10s"
}

# queue_depth URL: visible + in flight.
queue_depth() {
	aws --endpoint-url "$MOTO_URL" sqs get-queue-attributes --queue-url "$1" --attribute-names \
	    ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible --query \
	    'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' \
	    --output text | awk '{print $1 + $2}'
}

# drain_bodies URL: every body in an SQS queue (received and hidden for 300 s),
# one JSON string per line; use at the end of a test only.
drain_bodies() {
	i=0
	while [ $i -lt 200 ]; do
		out=$(aws --endpoint-url "$MOTO_URL" sqs receive-message --queue-url "$1" \
		    --max-number-of-messages 10 --visibility-timeout 300 --wait-time-seconds 0 --output json)
		[ -n "$out" ] || break
		printf '%s' "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for m in d.get("Messages", []): print(json.dumps(m["Body"]))'
		i=$((i + 1))
	done
}

# start_fixture [CASH]: the Alpaca fixture (node), FIX_URL; prices for the sample symbols.
start_fixture() {
	# The fixture loads the pinned Alpaca SDK (installed on first use).
	ALPACA_SDK_DIR=$(sh "$top_srcdir/tests/alpaca/sdk-dir.sh") || fail "Alpaca SDK (tests/alpaca: npm ci)"
	export ALPACA_SDK_DIR
	"$NODE" "$top_srcdir/tests/data/trading/alpaca_fixture.js" --port 0 --key rel-key \
	    --secret rel-secret >"$WORK/fixture.out" 2>"$WORK/fixture.log" &
	FIX_PID=$!
	PIDS="$PIDS $FIX_PID"
	wait_until "$REL_SETUP_STEP" grep -q LISTENING "$WORK/fixture.out" ||
		setup_fail "the broker fixture did not listen (it $(alive $FIX_PID))"
	FIX_URL="http://127.0.0.1:$(sed -n 's/LISTENING //p' "$WORK/fixture.out")"
	prices=$("$PY" "$REL/tally.py" last-closes "$top_srcdir/etc/sample-data")
	curl -sf -X POST "$FIX_URL/__state" -d "{\"cash\": ${1:-100000000}, \"prices\": $prices}" >/dev/null ||
		fail "fixture state"
	printf 'rel-key\n' >"$WORK/alpaca.key"
	printf 'rel-secret\n' >"$WORK/alpaca.secret"
	chmod 600 "$WORK/alpaca.key" "$WORK/alpaca.secret"
}

# fixture_lines BASE_URL: the [trading] lines for the Alpaca broker at BASE_URL.
fixture_lines() {
	printf '%s\n' "[trading]" "broker = alpaca" "alpaca_url = $1" "alpaca_data_url = $1" \
	    "alpaca_key_id = $WORK/alpaca.key" "alpaca_secret_key = $WORK/alpaca.secret"
}

# start_smtp_sink: aiosmtpd with STARTTLS + AUTH (tests/integration/mail/smtp_sink.py),
# SMTP_PORT, deliveries in $WORK/sink/*.eml. Needs Debian's python3-aiosmtpd.
start_smtp_sink() {
	PATH=$(getconf PATH) "$SYSPY" -c 'import aiosmtpd' 2>/dev/null ||
		fail "python3-aiosmtpd missing (apt-get install python3-aiosmtpd)"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	    -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    2>"$WORK/openssl.out"
	printf 'rel-password\n' >"$WORK/smtp.password"
	chmod 600 "$WORK/smtp.password"
	PATH=$(getconf PATH) "$SYSPY" "$top_srcdir/tests/integration/mail/smtp_sink.py" \
	    --port-file "$WORK/smtp-sink.port" --out "$WORK/sink" --tls starttls --cert "$WORK/cert.pem" \
	    --key "$WORK/key.pem" --user bot --password-file "$WORK/smtp.password" 2>"$WORK/sink.log" &
	PIDS="$PIDS $!"
	SMTP_PORT=$(wait_port_file "$WORK/smtp-sink.port" $!) ||
		setup_fail "the SMTP sink did not write its port (it $(alive $!))"
}

# smtp_lines PORT: the [mail] lines for the sink (through whatever listens on PORT).
smtp_lines() {
	printf '%s\n' "[mail]" "transport = smtp" "smtp_url = smtp://127.0.0.1:$1" "smtp_user = bot" \
	    "smtp_password = $WORK/smtp.password" "ca_file = $WORK/cert.pem" "timeout = 10s"
}

# start_proxy NAME UPSTREAM_PORT MODE RATE [more faultproxy args]: PROXY_PORT.
start_proxy() {
	pname=$1 pup=$2 pmode=$3 prate=$4
	shift 4
	"$PY" "$REL/faultproxy.py" --upstream "127.0.0.1:$pup" --mode "$pmode" --rate "$prate" \
	    --port-file "$WORK/$pname.port" --log "$WORK/$pname.jsonl" --stats "$WORK/$pname.stats" \
	    --seed "$(rand 1 1000000)" --max-seconds "$REL_BUDGET" --calm "$WORK/calm" "$@" \
	    2>"$WORK/$pname.log" &
	PIDS="$PIDS $!"
	PROXY_PIDS="${PROXY_PIDS:-} $!"
	PROXY_PORT=$(wait_port_file "$WORK/$pname.port" $!) ||
		setup_fail "the fault proxy $pname did not write its port (it $(alive $!))"
}

# dump_stacks: when a test stalls, the stacks of every thread of the daemon
# (gdb, into $WORK/stacks.txt) and of every proxy task (SIGUSR1, into its log).
dump_stacks() {
	for p in ${PROXY_PIDS:-}; do kill -USR1 "$p" 2>/dev/null || true; done
	if command -v gdb >/dev/null && kill -0 "${DAEMON_PID:-0}" 2>/dev/null; then
		timeout 60 gdb -batch -ex 'thread apply all bt' -p "$DAEMON_PID" >"$WORK/stacks.txt" 2>&1 || true
		echo "daemon stacks: $WORK/stacks.txt ($(grep -c '^Thread' "$WORK/stacks.txt") threads)" >&2
	fi
	sleep 1
}

# all_stacks: every live process of $PIDS, one $WORK/stacks-PID.txt each.
all_stacks() {
	command -v gdb >/dev/null || return 0
	for p in $PIDS; do
		kill -0 "$p" 2>/dev/null || continue
		{ tr '\0' ' ' </proc/"$p"/cmdline; echo; timeout 60 gdb -batch -ex 'thread apply all bt' -p "$p"; } \
		    >"$WORK/stacks-$p.txt" 2>&1 || true
	done
	echo "stacks of every live process: $WORK/stacks-*.txt" >&2
}

# ---- tallies -----------------------------------------------------------------

# tee_status FILE COMMAND...: run COMMAND, its output to FILE and to stdout;
# returns COMMAND's status ("COMMAND | tee FILE || ok=1" takes tee's status:
# sh has no pipefail, and the soaks passed with duplicate orders reported).
tee_status() {
	tfile=$1
	shift
	trc=0
	"$@" >"$tfile" || trc=$?
	cat "$tfile"
	return $trc
}

# mail_tally DIR: "CORRELATION KIND MESSAGE-ID" per delivered email (maildir new/ or sink *.eml).
mail_tally() { "$PY" "$REL/tally.py" mail "$1"; }
