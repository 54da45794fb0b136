# fill_local STATE_FILE N PREFIX: append N distinct WorkflowCompleted bodies to
# the work queue of an embedded state file the daemon has created (its schema:
# src/local/sqlite_state.c). One transaction; rows look like --send's.
fill_local() {
	sqlite3 -batch "$1" <<SQL
PRAGMA busy_timeout = 10000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO queue_messages (queue, message_id, body, sent_usec, visible_usec)
SELECT 'alchemiser-work',
       printf('%08x-0000-4000-8000-%012x', i, abs(random()) % 281474976710656),
       CAST(printf('{"detail-type":"WorkflowCompleted","source":"alchemiser.execution","detail":{"event_id":"$3-%d","correlation_id":"$3-run-%d","causation_id":"bench","event_type":"WorkflowCompleted","timestamp":"2025-10-14T12:00:00Z","source_module":"bench","workflow_type":"trading","workflow_duration_ms":1,"success":true}}', i, i) AS BLOB),
       CAST(strftime('%s','now') AS INTEGER) * 1000000, CAST(strftime('%s','now') AS INTEGER) * 1000000
FROM n;
SQL
}
