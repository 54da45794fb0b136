# Shared by the aws integration tests: start emulators on 127.0.0.1 with ports
# we pick, wait until they listen, stop them by PID (never by name) on exit.
# A missing or failing emulator fails the test (exit 1), it never skips.
set -eu

: "${top_srcdir:?}" "${top_builddir:?}"
ITEST="$top_builddir/tests/integration/aws/itest_aws"
WORK=$(mktemp -d /tmp/alchemiser-itest.XXXXXX)

# The npm emulators pinned by tests/emulators/package-lock.json: scripts/check
# installs them in the source tree; otherwise (make distcheck's read-only
# source, a manual make check) they are installed once into the build tree,
# under a lock because tests run in parallel.
emulators_dir() {
	src="$top_srcdir/tests/emulators"
	if [ -d "$src/node_modules/dynalite" ] && [ -d "$src/node_modules/local-aws-sqs" ]; then
		echo "$src"
		return 0
	fi
	dst="$top_builddir/tests/emulators"
	mkdir -p "$dst"
	(
		flock 9
		if [ ! -d "$dst/node_modules/dynalite" ] || [ ! -d "$dst/node_modules/local-aws-sqs" ]; then
			# In an in-tree build the two folders are one: nothing to copy.
			if [ "$(cd "$src" && pwd -P)" != "$(cd "$dst" && pwd -P)" ]; then
				cp "$src/package.json" "$src/package-lock.json" "$src/start-sqs.mjs" "$dst/" &&
					chmod u+w "$dst/package.json" "$dst/package-lock.json" "$dst/start-sqs.mjs"
			fi &&
				(cd "$dst" && npm ci --no-audit --no-fund --loglevel=error) >&2
		fi
	) 9>"$dst/.install.lock" || return 1
	echo "$dst"
}
EMU=$(emulators_dir) || { echo "FAIL: cannot install the npm emulators (tests/emulators: npm ci)" >&2; exit 1; }
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; } >&2
	done
	exit 1
}

pick_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_listen PORT PID: up to 20 s.
wait_listen() {
	i=0
	while [ $i -lt 400 ]; do
		if ss -Hltn "sport = :$1" | grep -q .; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# start_moto: MOTO_PORT, MOTO_URL; signature checking switched on after the
# IAM user and key are made (AKID/SECRET exported for the test program).
start_moto() {
	python3 -c 'import moto.server' 2>/dev/null || fail "moto is not installed (it cannot be installed here)"
	MOTO_PORT=$(pick_port)
	# moto_server with its DynamoDB requests serialised (see moto_serve.py).
	INITIAL_NO_AUTH_ACTION_COUNT=3 python3 "$top_srcdir/tests/emulators/moto_serve.py" \
	    -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_listen "$MOTO_PORT" $! || fail "moto_server did not start"
	MOTO_URL="http://127.0.0.1:$MOTO_PORT"
	export AWS_ACCESS_KEY_ID=bootstrap AWS_SECRET_ACCESS_KEY=bootstrap AWS_DEFAULT_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
	aws --endpoint-url "$MOTO_URL" iam create-user --user-name ci >/dev/null || fail "iam create-user"
	aws --endpoint-url "$MOTO_URL" iam put-user-policy --user-name ci --policy-name all \
	    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' \
	    >/dev/null || fail "iam put-user-policy"
	keys=$(aws --endpoint-url "$MOTO_URL" iam create-access-key --user-name ci \
	    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text) || fail "iam create-access-key"
	AWS_ACCESS_KEY_ID=$(echo "$keys" | cut -f1)
	AWS_SECRET_ACCESS_KEY=$(echo "$keys" | cut -f2)
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
	# From here on every request must carry a valid signature.
	aws --endpoint-url "$MOTO_URL" sqs list-queues >/dev/null || fail "signed call with the issued key"
}

start_dynalite() {
	[ -f "$EMU/node_modules/dynalite/cli.js" ] || fail "dynalite missing: (cd tests/emulators && npm ci)"
	DYN_PORT=$(pick_port)
	"${NODE:-node}" "$EMU/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$DYN_PORT" \
	    --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$WORK/dynalite.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_listen "$DYN_PORT" $! || fail "dynalite did not start"
	DYN_URL="http://127.0.0.1:$DYN_PORT"
}

start_local_sqs() {
	[ -d "$EMU/node_modules/local-aws-sqs" ] || fail "local-aws-sqs missing: (cd tests/emulators && npm ci)"
	LSQS_PORT=$(pick_port)
	PORT=$LSQS_PORT "${NODE:-node}" "$EMU/start-sqs.mjs" >"$WORK/local-sqs.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_listen "$LSQS_PORT" $! || fail "local-aws-sqs did not start"
	LSQS_URL="http://127.0.0.1:$LSQS_PORT"
}
