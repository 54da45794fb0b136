#!/bin/sh
# A full state file system (issue #17): on a 4 MB tmpfs the daemon's writes
# fail with "database or disk is full"; STATUS says it cannot write while that
# lasts; once space is freed it recovers by itself (the WAL is checkpointed
# and cut back) and every message is processed exactly once. The WAL alone
# must never fill the file system (it is checkpointed at 1 MiB).
# The tmpfs is mounted in a private mount namespace (unshare; root, or an
# unprivileged user namespace), so nothing outlives the test; the trap
# unmounts it too.
if [ -z "${ALC_STATE_FULL_NS:-}" ]; then
	ALC_STATE_FULL_NS=1 exec unshare --mount --map-root-user /bin/sh "$0" "$@"
fi
# 400 sends and waits of up to 60-90 s each take more than the default 120 s
# wall-clock limit on a loaded machine: the limit then SIGKILLed the daemon
# mid-test and the next kill said "No such process". 600 s still bounds it.
E2E_WALL_LIMIT=600
. "$top_srcdir/tests/lib/e2e.sh"

FS="$WORK/fs"
mkdir -p "$FS"
mount -t tmpfs -o size=4m tmpfs "$FS" || fail "cannot mount a 4 MB tmpfs"
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done; umount "$FS" 2>/dev/null; rm -rf "$WORK"' EXIT
STATE="$FS/state"
write_config
sed -i "s|^state_dir = .*|state_dir = $STATE|; s|^maildir = .*|maildir = $WORK/mail|" "$CONF"
sed -i 's/^retry_backoff_max = .*/retry_backoff_max = 2s/' "$CONF"

pad=$(head -c 3000 /dev/zero | tr '\0' p)
body() { # N
	printf '{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"full-%s","correlation_id":"run-full-%s","causation_id":"k","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"m","workflow_type":"t","workflow_duration_ms":1,"success":true,"metadata":{"pad":"%s"}}}' \
		"$1" "$1" "$pad"
}
done_count() { grep -c 'done completed: workflow run-full-' "$WORK/daemon.log"; }
done_at_least() { [ "$(done_count)" -ge "$1" ]; }
wal_kb() { [ -f "$STATE/state.sqlite-wal" ] && du -k "$STATE/state.sqlite-wal" | cut -f1 || echo 0; }

start_notify_listener
NOTIFY_SOCKET=$NOTIFY_SOCKET start_daemon
wait_until 20 grep -q '^READY=1' "$NOTIFY_LOG" || fail "no READY=1"

# 1. Steady traffic of ~4 MB through the queue: the WAL stays small.
i=0
while [ $i -lt 400 ]; do
	"$BIN" -c "$CONF" --send --event "$(body $i)" 2>>"$WORK/send.log" || fail "send $i failed on a file system with room"
	i=$((i + 1))
	[ $((i % 50)) = 0 ] && { wait_until 60 done_at_least $((i - 10)) || fail "the daemon fell behind"; }
done
wait_until 60 done_at_least 400 || fail "only $(done_count) of 400 done with room on the disk"
[ "$(wal_kb)" -le 2048 ] || fail "the WAL grew to $(wal_kb) KiB on a 4 MB file system"

# gone WHEN: fail with the daemon's exit status (137: SIGKILL, the wall-clock limit).
gone() {
	rc=0
	wait "$DAEMON_PID" || rc=$?
	fail "the daemon exited (status $rc) $1"
}

# 2. Fill the file system while messages wait: writes fail, STATUS says so.
kill -STOP "$DAEMON_PID" 2>/dev/null || gone "before the file system was filled"
while [ $i -lt 420 ]; do
	# The stopped daemon may hold the write lock for a moment: try again.
	"$BIN" -c "$CONF" --send --event "$(body $i)" 2>>"$WORK/send.log" ||
		"$BIN" -c "$CONF" --send --event "$(body $i)" 2>>"$WORK/send.log" || fail "send $i"
	i=$((i + 1))
done
# With the WAL cut back to nothing, the daemon's next write needs new space.
tries=0
until [ "$(sqlite3 -batch -noheader "$STATE/state.sqlite" 'PRAGMA busy_timeout = 5000; PRAGMA wal_checkpoint(TRUNCATE);' 2>/dev/null | tail -n 1)" = "0|0|0" ]; do
	tries=$((tries + 1))
	[ $tries -le 20 ] || fail "cannot checkpoint the WAL before filling the file system"
	sleep 0.2
done
dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null || true
kill -CONT "$DAEMON_PID" 2>/dev/null || gone "while the file system was filled"
wait_until 60 grep -q '^STATUS=cannot write: state file .* cannot write for lack of space' "$NOTIFY_LOG" ||
	fail "STATUS does not say the state file cannot be written"
grep -q " warning state file '$STATE/state.sqlite': cannot write for lack of space" "$WORK/daemon.log" ||
	fail "the full file system is not logged as a warning"

# 3. Space returns: the daemon recovers by itself, nothing lost or doubled.
rm -f "$FS/filler"
wait_until 90 done_at_least 420 || fail "not recovered after space was freed: $(done_count) of 420 done"
wait_until 20 grep -q 'the state file can be written again' "$WORK/daemon.log" || fail "recovery not logged"
wait_until 20 sh -c "tail -n 1 '$NOTIFY_LOG' | grep -q '^STATUS=running'" || fail "STATUS did not return to running"
[ "$(done_count)" = 420 ] || fail "$(done_count) done outcomes for 420 messages"
dups=$(sed -n 's/.*done completed: workflow \(run-full-[0-9]*\) .*/\1/p' "$WORK/daemon.log" | sort | uniq -d)
[ -z "$dups" ] || fail "handled twice: $dups"
kill -TERM "$DAEMON_PID" 2>/dev/null || gone "before it was told to stop"
wait "$DAEMON_PID" || fail "daemon exit"
echo "state_full: ok (WAL $(wal_kb) KiB)"
