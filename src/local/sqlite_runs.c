/* Run records of the embedded backend: see include/alchemiser/local/sqlite_runs.h. */
#include <errno.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/local/sqlite_runs.h"
#include "sqlite_internal.h"

static json_t *
int_or_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null() :
	    json_integer((json_int_t)sqlite3_column_int64(s, i));
}

/* The steps of one run, in claim order. */
static int
run_steps_locked(struct sqlite_state *st, const char *corr, json_t *run, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	json_t *steps = json_array();
	const char *outcome = "running";
	int r, rc = SQLITE_DONE;

	r = sqlite_state_prepare_locked(st, "SELECT detail_type, claimed_usec, completed_usec"
	    " FROM idempotency WHERE correlation_id = :c ORDER BY claimed_usec", &s, ec);
	if (r == 0) {
		(void)sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":c"), corr, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *dt = (const char *)sqlite3_column_text(s, 0);

			json_array_append_new(steps, json_pack("{s:s?, s:o, s:o}", "detail_type", dt,
			    "claimed_usec", int_or_null(s, 1), "completed_usec", int_or_null(s, 2)));
			/* RunSuperseded stays, whatever the order of the steps. */
			if (strcmp(outcome, "superseded") == 0)
				continue;
			if (dt != NULL && strcmp(dt, "RunSuperseded") == 0)
				outcome = "superseded";
			else if (dt != NULL && strcmp(dt, "WorkflowCompleted") == 0)
				outcome = "success";
			else if (dt != NULL && strcmp(dt, "WorkflowFailed") == 0)
				outcome = "failure";
		}
		if (rc != SQLITE_DONE)
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "run steps");
	}
	sqlite_state_release_locked(st, s);
	json_object_set_new(run, "steps", steps);
	json_object_set_new(run, "outcome", json_string(outcome));
	return r;
}

int
sqlite_runs_list(struct sqlite_state *st, size_t max, json_t **ret, struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	json_t *runs = json_array();
	size_t i;
	int r, rc = SQLITE_DONE;

	*ret = NULL;
	sqlite_state_lock(st);
	r = sqlite_state_prepare_locked(st, "SELECT correlation_id, min(claimed_usec), max(completed_usec)"
	    " FROM idempotency WHERE correlation_id IS NOT NULL GROUP BY correlation_id"
	    " ORDER BY min(claimed_usec) DESC LIMIT :max", &s, ec);
	if (r == 0) {
		(void)sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":max"), (sqlite3_int64)max);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			json_array_append_new(runs, json_pack("{s:s, s:o, s:o}", "correlation_id",
			    (const char *)sqlite3_column_text(s, 0), "started_usec", int_or_null(s, 1),
			    "finished_usec", int_or_null(s, 2)));
		if (rc != SQLITE_DONE)
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "runs");
	}
	sqlite_state_release_locked(st, s);
	for (i = 0; r == 0 && i < json_array_size(runs); i++) {
		json_t *run = json_array_get(runs, i);

		r = run_steps_locked(st, json_string_value(json_object_get(run, "correlation_id")), run, ec);
	}
	sqlite_state_unlock(st);
	if (r < 0) {
		json_decref(runs);
		return r;
	}
	*ret = runs;
	return 0;
}

int
sqlite_runs_events(struct sqlite_state *st, const char *correlation_id, json_t **ret,
    struct errctx *ec)
{
	sqlite3_stmt *s = NULL;
	json_t *events = json_array();
	int r, rc = SQLITE_DONE;

	*ret = NULL;
	sqlite_state_lock(st);
	r = sqlite_state_prepare_locked(st, "SELECT json_extract(body, '$.detail-type'), sent_usec,"
	    " json_extract(body, '$.detail') FROM queue_messages WHERE queue = :q"
	    " AND json_valid(body) AND json_extract(body, '$.detail.correlation_id') = :c ORDER BY seq",
	    &s, ec);
	if (r == 0) {
		(void)sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"), SQLITE_RUNS_QUEUE, -1,
		    SQLITE_STATIC);
		(void)sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":c"), correlation_id, -1,
		    SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *text = (const char *)sqlite3_column_text(s, 2);
			json_t *detail = text != NULL ? json_loads(text, 0, NULL) : NULL;

			json_array_append_new(events, json_pack("{s:s?, s:I, s:o}", "detail_type",
			    (const char *)sqlite3_column_text(s, 0),
			    "time_usec", (json_int_t)sqlite3_column_int64(s, 1),
			    "detail", detail != NULL ? detail : json_object()));
		}
		if (rc != SQLITE_DONE)
			r = sqlite_state_err(sqlite3_db_handle(s), rc, ec, "run events");
	}
	sqlite_state_release_locked(st, s);
	sqlite_state_unlock(st);
	if (r < 0) {
		json_decref(events);
		return r;
	}
	*ret = events;
	return 0;
}

int
sqlite_runs_prune(struct sqlite_state *st, int64_t before_usec, uint64_t keep_max,
    uint64_t *removed, struct errctx *ec)
{
	/* seq grows with every insert, so "the newest keep_max" is by seq;
	 * the OFFSET sub-select finds the newest seq that goes. */
	static const char sql[] = "DELETE FROM queue_messages WHERE queue = :q AND (sent_usec < :b"
	    " OR seq <= (SELECT seq FROM queue_messages WHERE queue = :q ORDER BY seq DESC"
	    " LIMIT 1 OFFSET :k))";
	sqlite3_stmt *s = NULL;
	sqlite3 *db;
	int r, rc;

	if (removed != NULL)
		*removed = 0;
	db = sqlite_state_lock(st);
	/* A write: through begin/commit like every write (group commit). */
	r = sqlite_state_begin_locked(st, ec);
	if (r == 0)
		r = sqlite_state_prepare_locked(st, sql, &s, ec);
	if (r == 0) {
		(void)sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"), SQLITE_RUNS_QUEUE, -1,
		    SQLITE_STATIC);
		(void)sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":b"), before_usec);
		(void)sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":k"),
		    keep_max > INT64_MAX ? INT64_MAX : (sqlite3_int64)keep_max);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			r = sqlite_state_err(db, rc, ec, "pruning the run archive");
		else if (removed != NULL)
			*removed = (uint64_t)sqlite3_changes(db);
	}
	/* A cached statement: given back, never finalized. */
	sqlite_state_release_locked(st, s);
	if (r == 0)
		r = sqlite_state_commit_locked(st, ec);
	else
		sqlite_state_rollback_locked(st);
	sqlite_state_unlock(st);
	if (r < 0 && removed != NULL)
		*removed = 0;
	return r;
}
