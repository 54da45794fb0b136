/*
 * test_stage_execution: the execution stage on a real SQLite state file
 * (the idempotency store and the paper broker share it, as in the embedded
 * default): a run planned before the account's last completed execution
 * ends superseded and places nothing (a killed run redelivered after a newer
 * run traded); a run that loses the account lease mid-execution stops placing
 * orders (fencing) and resumes later without going past its targets; an own
 * order that fills while it is being cancelled (the paper broker's
 * fill_on_cancel mode) is not bought twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/owner.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/events/domain_event.h"
#include "alchemiser/local/sqlite_idem.h"
#include "alchemiser/local/sqlite_runs.h"
#include "alchemiser/local/sqlite_state.h"
#include "alchemiser/router/route.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/stages/account_lease.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/stages/stage.h"
#include "alchemiser/trading/broker_sim.h"
#include "alchemiser/trading/order_id.h"
#include "../helpers.h"

#define SEC INT64_C(1000000)
#define OWNER "testhost:4242:1"

static char *dir, *path;
static char *bpath;		/* the paper broker's file: path, or its own (lapse) */
static struct idem_store *is;
static struct broker *b;
static struct config *cfg;
static int64_t now0;

static void
open_broker(int64_t delay_usec, bool fill_on_cancel)
{
	struct broker_sim_options o = {
		.state_path = bpath != NULL ? bpath : path, .starting_cash = test_dec("10000"),
		.order_delay_usec = delay_usec, .fill_on_cancel = fill_on_cancel,
	};
	static const char *const syms[] = { "SPY", "BIL", "GLD", "IEF", "TLT", "QQQ" };
	struct errctx ec;

	ck_assert_ok(broker_sim_new(&o, &b, &ec), &ec);
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++)
		ck_assert_ok(broker_sim_set_price(b, syms[i], test_dec("100"), &ec), &ec);
}

static void
setup_with(int64_t delay_usec, bool fill_on_cancel)
{
	struct sqlite_idem_options o;
	struct errctx ec;

	dir = test_tmpdir();
	path = xasprintf("%s/state.sqlite", dir);
	o = (struct sqlite_idem_options){ .path = path };
	ck_assert_ok(sqlite_idem_new(&o, &is, &ec), &ec);
	open_broker(delay_usec, fill_on_cancel);
	ck_assert_ok(config_load_string("[daemon]\nidempotency_lease = 6s\n[trading]\n"
	    "use_limit_orders = no\ncash_reserve = 0\norder_poll_interval = 100ms\n", "test", dir,
	    NULL, &cfg, &ec), &ec);
	now0 = time_now_realtime_usec();
}

static void setup(void) { setup_with(0, false); }
static void setup_slow(void) { setup_with(300 * 1000, false); }
static void setup_fill_on_cancel(void) { setup_with(0, true); }

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	broker_free(b);
	is->ops->free(is);
	config_unref(cfg);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(path);
	free(bpath);
	bpath = NULL;
	free(dir);
}

/* RebalancePlanned of run corr (event eid) planned at plan_usec, targets
 * alloc (a JSON object of weights), through the execution stage at now. */
static void
execute(const char *eid, const char *corr, int64_t plan_usec, const char *alloc,
    struct stage_output *out)
{
	char ts[RFC3339_STRLEN];
	_cleanup_free_ char *body = NULL;
	struct route *r;
	struct stage_ctx ctx = {
		.cfg = cfg, .owner = OWNER, .now_usec = time_now_realtime_usec(), .broker = b,
		.idem = is,
	};

	time_format_rfc3339(plan_usec, ts);
	body = xasprintf("{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"RebalancePlanned\","
	    "\"source\":\"alchemiser.portfolio\",\"account\":\"1\",\"time\":\"%s\",\"region\":"
	    "\"us-east-1\",\"resources\":[],\"detail\":{\"event_id\":\"%s\",\"correlation_id\":"
	    "\"%s\",\"causation_id\":\"cause-%s\",\"event_type\":\"RebalancePlanned\",\"timestamp\":"
	    "\"%s\",\"source_module\":\"portfolio_v2.handlers\",\"source_component\":\"alchemiserd\","
	    "\"schema_version\":\"1.0\",\"rebalance_plan\":{\"items\":[{\"symbol\":\"SPY\","
	    "\"current_weight\":\"0\",\"target_weight\":\"1\",\"weight_diff\":\"1\",\"target_value\":"
	    "\"100\",\"current_value\":\"0\",\"trade_amount\":\"100\",\"action\":\"BUY\",\"priority\":1}],"
	    "\"total_portfolio_value\":\"10000\",\"total_trade_value\":\"100\",\"timestamp\":\"%s\"},"
	    "\"allocation_comparison\":{},\"trades_required\":true,\"metadata\":{\"signal_only\":false,"
	    "\"consolidated_portfolio\":{\"target_allocations\":%s}}}}",
	    eid, ts, eid, corr, corr, ts, ts, alloc);
	r = route_message(body, strlen(body), NULL);
	ck_assert_msg(!r->rejected, "route: %s", r->reason);
	ctx.in = r;
	ctx.key = r->idempotency_key;
	memset(out, 0, sizeof *out);
	stage_find("execution")->handle(&ctx, out);
	route_free(r);
}

static int64_t
order_count(void)
{
	int64_t n;
	struct errctx ec;

	ck_assert_ok(broker_sim_order_count(b, &n, &ec), &ec);
	return n;
}

static struct decimal
position(const char *sym)
{
	struct broker_position *pos;
	struct decimal q = DECIMAL_ZERO;
	size_t n;
	struct errctx ec;

	ck_assert_ok(b->ops->list_positions(b, &pos, &n, &ec), &ec);
	for (size_t i = 0; i < n; i++)
		if (strcmp(pos[i].symbol, sym) == 0)
			q = pos[i].qty;
	free(pos);
	return q;
}

static const struct domain_event *
event_of(const struct stage_output *out, enum event_type t)
{
	for (size_t i = 0; i < out->n_events; i++)
		if (out->events[i]->type == t)
			return out->events[i];
	return NULL;
}

/* A resting limit order of run eid's chain (attempt k), as a run killed
 * mid-chain leaves it: far from the market, so it does not fill by itself. */
static void
resting_order(const char *eid, const char *sym, enum broker_side side, int k, const char *qty)
{
	char cid[BROKER_CLIENT_ID_MAX];
	struct broker_order_request req = {
		.symbol = sym, .side = side, .type = BROKER_ORDER_LIMIT, .qty = test_dec(qty),
		.limit_price = test_dec(side == BROKER_SIDE_BUY ? "50" : "150"), .client_order_id = cid,
	};
	struct broker_order o;
	struct errctx ec;

	order_id_make(eid, sym, side, k, cid);
	ck_assert_ok(b->ops->submit_order(b, &req, &o, &ec), &ec);
	ck_assert_int_eq(o.status, BROKER_STATUS_NEW);
}

static enum broker_order_status
status_of(const char *eid, const char *sym, enum broker_side side, int k)
{
	char cid[BROKER_CLIENT_ID_MAX];
	struct broker_order o;
	struct errctx ec;

	order_id_make(eid, sym, side, k, cid);
	ck_assert_ok(b->ops->get_order_by_client_id(b, cid, &o, &ec), &ec);
	return o.status;
}

/* A market order that fills at once, with client_order_id cid: an earlier
 * leg of a run (its cid from order_id_make) or an order placed by hand. */
static void
filled_order(const char *cid, const char *sym, enum broker_side side, const char *qty)
{
	struct broker_order_request req = {
		.symbol = sym, .side = side, .type = BROKER_ORDER_MARKET, .qty = test_dec(qty),
		.client_order_id = cid,
	};
	struct broker_order o;
	struct errctx ec;

	ck_assert_ok(b->ops->submit_order(b, &req, &o, &ec), &ec);
	ck_assert_int_eq(o.status, BROKER_STATUS_FILLED);
}

/* The stage ended with outcome want, and its reason says every phrase. */
#define expect(...) expect_reason(__VA_ARGS__, (const char *)NULL)
static void
expect_reason(const struct stage_output *out, enum outcome want, ...)
{
	const char *phrase;
	va_list ap;

	ck_assert_msg(out->outcome == want, "outcome %d, want %d: %s", out->outcome, want,
	    out->reason);
	va_start(ap, want);
	while ((phrase = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(out->reason, phrase) != NULL, "reason lacks '%s': %s", phrase,
		    out->reason);
	va_end(ap);
}

#define EID_A "0a0a0a0a-0000-4000-8000-00000000000a"
#define EID_B "0b0b0b0b-0000-4000-8000-00000000000b"

/* Run A planned (SPY), killed after its first leg; run B planned later
 * (BIL) executes and completes; A's redelivered plan must not trade toward
 * SPY again: it ends superseded by B, places nothing, and its own open order
 * is cancelled. */
START_TEST(test_stage_execution_superseded)
{
	char cid[BROKER_CLIENT_ID_MAX];
	struct stage_output out;
	const struct domain_event *te, *wc;
	json_t *ed;
	int64_t n;

	/* A's first leg: 20 SPY filled (market), as A placed it before the kill. */
	order_id_make(EID_A, "SPY", BROKER_SIDE_BUY, 0, cid);
	filled_order(cid, "SPY", BROKER_SIDE_BUY, "20");
	execute(EID_B, "run-B", now0 - 30 * SEC, "{\"BIL\":\"0.5\",\"GLD\":\"0.5\"}", &out);
	expect(&out, OUTCOME_DONE);
	ck_assert_ptr_nonnull(event_of(&out, EVENT_WORKFLOW_COMPLETED));
	stage_output_clear(&out);
	ck_assert(decimal_is_zero(position("SPY")));
	ck_assert_int_eq(position("BIL").units / DECIMAL_SCALE, 50);
	/* A still had an order working somewhere in its chain. */
	resting_order(EID_A, "IEF", BROKER_SIDE_BUY, 0, "1");
	n = order_count();

	execute(EID_A, "run-A", now0 - 60 * SEC, "{\"SPY\":\"0.6\",\"TLT\":\"0.4\"}", &out);
	expect(&out, OUTCOME_DONE, "superseded by run run-B");
	ck_assert_int_eq(order_count(), n);		/* nothing placed */
	ck_assert_int_eq(status_of(EID_A, "IEF", BROKER_SIDE_BUY, 0), BROKER_STATUS_CANCELED);
	ck_assert(decimal_is_zero(position("SPY")));
	ck_assert(decimal_is_zero(position("TLT")));
	ck_assert_int_eq(position("BIL").units / DECIMAL_SCALE, 50);
	te = event_of(&out, EVENT_TRADE_EXECUTED);
	wc = event_of(&out, EVENT_WORKFLOW_COMPLETED);
	ck_assert_ptr_nonnull(te);
	ck_assert_ptr_nonnull(wc);
	ed = domain_event_get(te, "execution_data");
	ck_assert_str_eq(json_get_str(ed, "superseded_by"), "run-B");
	/* A's own earlier orders, read back from the broker: the SPY leg it
	 * filled before the kill and the IEF one cancelled now. */
	ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_placed")), 2);
	ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_succeeded")), 1);
	expect(&out, OUTCOME_DONE, "this run placed 2 orders earlier", "buy SPY 20 of 20 filled",
	    "buy IEF 0 of 1 canceled");
	ck_assert_str_eq(json_string_value(domain_event_get(wc, "superseded_by")), "run-B");
	stage_output_clear(&out);
	/* The run record's outcome, whatever steps come after. */
	{
		struct idem_claim c = {
			.key = "wc-of-run-A", .owner = OWNER, .detail_type = "WorkflowCompleted",
			.correlation_id = "run-A", .now_usec = time_now_realtime_usec() + SEC,
			.lease_usec = 60 * SEC, .retention_usec = 3600 * SEC,
		};
		enum idem_claim_result res;
		struct sqlite_state *st;
		struct errctx ec;
		json_t *runs;
		size_t i, found = 0;

		ck_assert_ok(is->ops->claim(is, &c, &res, NULL, &ec), &ec);
		ck_assert_ok(is->ops->complete(is, c.key, OWNER, c.now_usec, &ec), &ec);
		ck_assert_ok(sqlite_state_open(path, 0, &st, &ec), &ec);
		ck_assert_ok(sqlite_runs_list(st, 10, &runs, &ec), &ec);
		for (i = 0; i < json_array_size(runs); i++) {
			json_t *run = json_array_get(runs, i);

			if (strcmp(json_get_str(run, "correlation_id"), "run-A") != 0)
				continue;
			found++;
			ck_assert_str_eq(json_get_str(run, "outcome"), "superseded");
		}
		ck_assert_uint_eq(found, 1);
		json_decref(runs);
		sqlite_state_free(st);
	}

	/* Redelivered again: the same answer, still nothing placed. */
	execute(EID_A, "run-A", now0 - 60 * SEC, "{\"SPY\":\"0.6\",\"TLT\":\"0.4\"}", &out);
	expect(&out, OUTCOME_DONE, "superseded by run run-B");
	ck_assert_int_eq(order_count(), n);
	stage_output_clear(&out);
}
END_TEST

/* Newer is by plan time: a run planned after the last completed execution
 * trades; the run that completed it resumes (its own record), not superseded. */
START_TEST(test_stage_execution_newer_plan_trades)
{
	struct stage_output out;
	int64_t n;

	execute(EID_B, "run-B", now0 - 60 * SEC, "{\"BIL\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	n = order_count();
	ck_assert_int_gt(n, 0);
	/* B redelivered after it completed: its own record, nothing new. */
	execute(EID_B, "run-B", now0 - 60 * SEC, "{\"BIL\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE);
	ck_assert(strstr(out.reason, "superseded") == NULL);
	ck_assert_int_eq(order_count(), n);
	stage_output_clear(&out);
	/* A planned after B: trades from what B left. */
	execute(EID_A, "run-A", now0 - 30 * SEC, "{\"SPY\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE);
	ck_assert(strstr(out.reason, "superseded") == NULL);
	ck_assert_int_gt(order_count(), n);
	ck_assert(decimal_is_zero(position("BIL")));
	ck_assert_int_ge(position("SPY").units / DECIMAL_SCALE, 98);
	ck_assert_int_le(position("SPY").units / DECIMAL_SCALE, 100);
	stage_output_clear(&out);
	/* And now B (planned before A) is superseded by A. B fully executed
	 * before (its claim never completed, as after a kill): its report says
	 * what it placed then, and that it places nothing more. */
	n = order_count();
	execute(EID_B, "run-B", now0 - 60 * SEC, "{\"BIL\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE, "superseded by run run-A",
	    "this run placed 1 order earlier (buy BIL ", "places no further orders");
	ck_assert_int_eq(order_count(), n);
	{
		const struct domain_event *te = event_of(&out, EVENT_TRADE_EXECUTED);
		const struct domain_event *wc = event_of(&out, EVENT_WORKFLOW_COMPLETED);
		json_t *ed, *o;

		ck_assert_ptr_nonnull(te);
		ck_assert_ptr_nonnull(wc);
		ed = domain_event_get(te, "execution_data");
		ck_assert_str_eq(json_get_str(ed, "status"), "superseded");
		ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_placed")), 1);
		ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_succeeded")), 1);
		ck_assert_uint_eq(json_array_size(json_object_get(ed, "orders")), 1);
		o = json_array_get(json_object_get(ed, "orders"), 0);
		ck_assert_str_eq(json_get_str(o, "symbol"), "BIL");
		ck_assert_str_eq(json_get_str(o, "side"), "buy");
		ck_assert_str_eq(json_get_str(o, "status"), "filled");
		/* B bought 98..100 BIL (the buying-power cap) in its one run. */
		ck_assert_int_eq(decimal_cmp(test_dec(json_get_str(o, "filled_qty")),
		    test_dec(json_get_str(o, "shares"))), 0);
		ck_assert_int_ge(decimal_cmp(test_dec(json_get_str(o, "filled_qty")), test_dec("98")), 0);
		ck_assert_int_eq(json_integer_value(json_object_get(domain_event_get(wc, "summary"),
		    "orders_placed")), 1);
	}
	stage_output_clear(&out);
}
END_TEST

/* A run's live plan (made at execution from the broker) sells a position
 * its RebalancePlanned did not name: bought after it was planned, no target.
 * Superseded later, with that position gone and no order of it open, the
 * run's report must still list that sell: what it placed is read from the
 * broker's record of its orders, not guessed from plan, targets and what
 * the account holds now. */
START_TEST(test_stage_execution_superseded_lists_whole_sell)
{
	struct stage_output out;
	const struct domain_event *te;
	json_t *orders, *o;
	size_t i;
	bool sold = false, bought = false;
	int64_t n;

	/* Bought by hand after run A was planned (A's plan names SPY only). */
	filled_order("manual-qqq-1", "QQQ", BROKER_SIDE_BUY, "30");
	execute(EID_A, "run-A", now0 - 60 * SEC, "{\"SPY\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	ck_assert(decimal_is_zero(position("QQQ")));	/* sold whole by A's live plan */
	ck_assert(status_of(EID_A, "QQQ", BROKER_SIDE_SELL, 0) == BROKER_STATUS_FILLED);
	execute(EID_B, "run-B", now0 - 30 * SEC, "{\"BIL\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	ck_assert(decimal_is_zero(position("SPY")));
	n = order_count();

	/* A redelivered (its claim never completed): superseded by B. */
	execute(EID_A, "run-A", now0 - 60 * SEC, "{\"SPY\":\"1\"}", &out);
	expect(&out, OUTCOME_DONE, "superseded by run run-B",
	    "this run placed 2 orders earlier (sell QQQ 30 of 30 filled, buy SPY ");
	ck_assert_int_eq(order_count(), n);
	te = event_of(&out, EVENT_TRADE_EXECUTED);
	ck_assert_ptr_nonnull(te);
	ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_placed")), 2);
	ck_assert_int_eq(json_integer_value(domain_event_get(te, "orders_succeeded")), 2);
	orders = json_object_get(domain_event_get(te, "execution_data"), "orders");
	ck_assert_uint_eq(json_array_size(orders), 2);
	json_array_foreach(orders, i, o) {
		if (strcmp(json_get_str(o, "symbol"), "QQQ") == 0) {
			ck_assert_str_eq(json_get_str(o, "side"), "sell");
			ck_assert_str_eq(json_get_str(o, "status"), "filled");
			ck_assert_int_eq(decimal_cmp(test_dec(json_get_str(o, "filled_qty")), test_dec("30")), 0);
			sold = true;
		} else if (strcmp(json_get_str(o, "symbol"), "SPY") == 0) {
			ck_assert_str_eq(json_get_str(o, "side"), "buy");
			bought = true;
		}
	}
	ck_assert(sold && bought);
	stage_output_clear(&out);
}
END_TEST

/* ---- fencing: the lease stolen mid-execution ------------------------------ */

struct thief {
	pthread_t	 thread;
	bool		 newer_run;	/* record a newer run's execution instead of stealing */
	int64_t		 stolen_orders;	/* orders in the book when the lease was stolen */
	bool		 stolen;
};

static int64_t
sql_int(sqlite3 *db, const char *q)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Once the run placed its first order, another owner takes the account lease
 * in the store (as a run of another host whose clock ran ahead would). */
static void *
thief_main(void *arg)
{
	struct thief *t = arg;
	sqlite3 *db;
	char *q;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	for (int i = 0; i < 3000; i++) {
		if (sql_int(db, "SELECT COUNT(*) FROM broker_sim_orders") >= 1)
			break;
		usleep(5000);
	}
	if (t->newer_run) {
		/* What a newer run leaves when it completes beside this one (this
		 * one's lease having lapsed in a stall): the account's last execution. */
		q = sqlite3_mprintf("INSERT INTO idempotency (key, status, owner, detail_type,"
		    " claimed_usec, completed_usec, expires_usec) SELECT 'account-done:' ||"
		    " substr(key, 15), 'COMPLETED', 'account-done', 'run-newer', %lld, %lld, %lld"
		    " FROM idempotency WHERE key LIKE 'account-lease:%%'",
		    (long long)(now0 - 5 * SEC), (long long)time_now_realtime_usec(),
		    (long long)(time_now_realtime_usec() + 3600 * SEC));
	} else
		q = sqlite3_mprintf("UPDATE idempotency SET owner = 'otherhost:77:1', detail_type ="
		    " 'run-thief', lease_expires_usec = %lld WHERE key LIKE 'account-lease:%%'",
		    (long long)(time_now_realtime_usec() + 3600 * SEC));
	t->stolen = sqlite3_exec(db, q, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1;
	sqlite3_free(q);
	t->stolen_orders = sql_int(db, "SELECT COUNT(*) FROM broker_sim_orders");
	sqlite3_close(db);
	return NULL;
}

START_TEST(test_stage_execution_fenced)
{
	static const char alloc[] = "{\"SPY\":\"0.2\",\"BIL\":\"0.2\",\"GLD\":\"0.2\",\"IEF\":\"0.2\","
	    "\"TLT\":\"0.2\"}";
	struct thief t = { 0 };
	struct stage_output out;
	sqlite3 *db;
	char *q;

	ck_assert_int_eq(pthread_create(&t.thread, NULL, thief_main, &t), 0);
	execute(EID_A, "run-A", now0 - 10 * SEC, alloc, &out);
	pthread_join(t.thread, NULL);
	ck_assert(t.stolen);
	expect(&out, OUTCOME_RETRY, "held by another run");
	ck_assert_int_gt(out.hold_usec, 0);
	/* At most the order already on its way when the lease was taken. */
	ck_assert_int_le(order_count(), t.stolen_orders + 1);
	ck_assert_int_lt(order_count(), 5);
	stage_output_clear(&out);

	/* While the other run holds it: a wait, nothing placed. */
	execute(EID_A, "run-A", now0 - 10 * SEC, alloc, &out);
	expect(&out, OUTCOME_RETRY, "run-thief");
	stage_output_clear(&out);

	/* The other run ends; this one resumes and reaches its targets, no more. */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	q = sqlite3_mprintf("DELETE FROM idempotency WHERE key LIKE 'account-lease:%%'");
	ck_assert_int_eq(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_free(q);
	sqlite3_close(db);
	execute(EID_A, "run-A", now0 - 10 * SEC, alloc, &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	/* Each at its target (20; the buying-power cap may leave the last at 19). */
	for (const char *const *s = (const char *const[]){ "SPY", "BIL", "GLD", "IEF", "TLT", NULL };
	    *s != NULL; s++)
		ck_assert_msg(position(*s).units / DECIMAL_SCALE >= 19 &&
		    decimal_cmp(position(*s), test_dec("20")) <= 0, "%s: %lld", *s,
		    (long long)(position(*s).units / DECIMAL_SCALE));
}
END_TEST

/* A newer run completed its execution while this one still ran (its lease
 * had lapsed): this one stops placing orders, and ends superseded. */
START_TEST(test_stage_execution_fenced_by_newer_run)
{
	static const char alloc[] = "{\"SPY\":\"0.2\",\"BIL\":\"0.2\",\"GLD\":\"0.2\",\"IEF\":\"0.2\","
	    "\"TLT\":\"0.2\"}";
	struct thief t = { .newer_run = true };
	struct stage_output out;
	int64_t n;

	ck_assert_int_eq(pthread_create(&t.thread, NULL, thief_main, &t), 0);
	execute(EID_A, "run-A", now0 - 10 * SEC, alloc, &out);
	pthread_join(t.thread, NULL);
	ck_assert(t.stolen);
	expect(&out, OUTCOME_RETRY, "run run-newer, planned after this one");
	ck_assert_int_le(order_count(), t.stolen_orders + 1);
	stage_output_clear(&out);
	n = order_count();
	execute(EID_A, "run-A", now0 - 10 * SEC, alloc, &out);
	expect(&out, OUTCOME_DONE, "superseded by run run-newer");
	ck_assert_int_eq(order_count(), n);
	stage_output_clear(&out);
}
END_TEST

/* ---- an own order that fills while it is cancelled ------------------------ */

/* A was killed with its SPY buy (40 of 100 shares' chain) resting; on resume
 * the stage cancels it before reading positions, and the broker fills it in
 * the meantime: the live plan sees the 40 and buys only the rest. */
START_TEST(test_stage_execution_fill_on_cancel)
{
	struct stage_output out;

	resting_order(EID_A, "SPY", BROKER_SIDE_BUY, 0, "40");
	execute(EID_A, "run-A", now0 - 10 * SEC, "{\"SPY\":\"0.5\",\"BIL\":\"0.5\"}", &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	ck_assert_int_eq(status_of(EID_A, "SPY", BROKER_SIDE_BUY, 0), BROKER_STATUS_FILLED);
	/* 40 filled at 50: equity 12000, half is 60 SPY. The 40 count toward
	 * them (a plan that missed the fill would buy 60 on top: 100); the chain
	 * filled, so this run's SPY leg is done (executor.c, resolve_chain). */
	ck_assert_int_eq(decimal_cmp(position("SPY"), test_dec("40")), 0);
	ck_assert_int_le(decimal_cmp(position("BIL"), test_dec("60")), 0);
	ck_assert_int_ge(decimal_cmp(position("BIL"), test_dec("59")), 0);
	ck_assert_int_eq(order_count(), 2);	/* the SPY attempt and one BIL order */
}
END_TEST

/* ---- fencing: the lease lapsed while its renewals failed ------------------- */

/* The idempotency store in its own file, locked by another connection (a
 * writer holding its lock: the store answers "busy" after its 300 ms busy
 * timeout), so every renewal fails for a real reason; the paper broker in
 * another file keeps working. Limit orders rest (1 % spread) and are
 * re-priced after 8 s, longer than the 6 s lease: the lease lapses while the
 * run waits, and the re-price is its next new order. */
static void
setup_lapse(void)
{
	struct sqlite_idem_options o;
	struct broker_sim_options bo;
	static const char *const syms[] = { "SPY", "BIL" };
	struct errctx ec;

	dir = test_tmpdir();
	path = xasprintf("%s/state.sqlite", dir);
	bpath = xasprintf("%s/broker.sqlite", dir);
	o = (struct sqlite_idem_options){ .path = path, .busy_timeout_usec = 300 * 1000 };
	ck_assert_ok(sqlite_idem_new(&o, &is, &ec), &ec);
	bo = (struct broker_sim_options){ .state_path = bpath, .starting_cash = test_dec("10000"),
	    .spread_bps = 100 };
	ck_assert_ok(broker_sim_new(&bo, &b, &ec), &ec);
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++)
		ck_assert_ok(broker_sim_set_price(b, syms[i], test_dec("100"), &ec), &ec);
	ck_assert_ok(config_load_string("[daemon]\nidempotency_lease = 6s\n[trading]\n"
	    "use_limit_orders = yes\nmax_reprices = 0\nreprice_interval = 8s\ncash_reserve = 0\n"
	    "order_poll_interval = 100ms\n", "test", dir, NULL, &cfg, &ec), &ec);
	now0 = time_now_realtime_usec();
}

struct locker {
	pthread_t	 thread;
	volatile bool	 done;		/* the stage returned: let go */
	bool		 locked;
	int64_t		 orders_at_lock;
};

static void *
locker_main(void *arg)
{
	struct locker *l = arg;
	sqlite3 *db, *bdb;

	ck_assert_int_eq(sqlite3_open(bpath, &bdb), SQLITE_OK);
	sqlite3_busy_timeout(bdb, 5000);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	/* Both legs placed (their fences passed): the run now waits for fills. */
	for (int i = 0; i < 3000; i++) {
		if (sql_int(bdb, "SELECT COUNT(*) FROM broker_sim_orders") >= 2)
			break;
		usleep(5000);
	}
	l->locked = sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK;
	l->orders_at_lock = sql_int(bdb, "SELECT COUNT(*) FROM broker_sim_orders");
	for (int i = 0; i < 9000 && !l->done; i++)
		usleep(10000);
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	sqlite3_close(bdb);
	return NULL;
}

/* Renewals fail (the store is locked) until the lease lapses: the run places
 * nothing more, cancels its open orders, and is held (retry with a hold: no
 * receive spent, no WorkflowFailed); once the store answers again it resumes
 * and ends at its targets, no further. */
START_TEST(test_stage_execution_fenced_by_lapse)
{
	struct broker_order *open;
	struct stage_output out;
	struct locker l = { 0 };
	struct config *market;
	struct errctx ec;
	size_t n_open;

	ck_assert_int_eq(pthread_create(&l.thread, NULL, locker_main, &l), 0);
	execute(EID_A, "run-A", now0 - 10 * SEC, "{\"SPY\":\"0.5\",\"BIL\":\"0.5\"}", &out);
	ck_assert(l.locked);
	expect(&out, OUTCOME_RETRY, "lapsed while its renewals failed");
	ck_assert_int_gt(out.hold_usec, 0);
	ck_assert_ptr_null(event_of(&out, EVENT_WORKFLOW_FAILED));
	ck_assert_uint_eq(out.n_events, 0);
	ck_assert_int_eq(order_count(), l.orders_at_lock);	/* the re-price never went out */
	ck_assert_ok(b->ops->list_open_orders(b, &open, &n_open, &ec), &ec);
	free(open);
	ck_assert_uint_eq(n_open, 0);				/* its resting limits cancelled */
	ck_assert_int_eq(status_of(EID_A, "SPY", BROKER_SIDE_BUY, 0), BROKER_STATUS_CANCELED);
	stage_output_clear(&out);

	/* Handled again while the store still fails: a retry (a dependency:
	 * held in place by the runtime) that names the store, not the broker;
	 * nothing placed. */
	execute(EID_A, "run-A", now0 - 10 * SEC, "{\"SPY\":\"0.5\",\"BIL\":\"0.5\"}", &out);
	expect(&out, OUTCOME_RETRY, "locked");
	ck_assert(out.dependency_failure);
	ck_assert_msg(strncmp(out.reason, "state store: ", 13) == 0, "reason: %s", out.reason);
	ck_assert_uint_eq(out.n_events, 0);
	ck_assert_int_eq(order_count(), l.orders_at_lock);
	stage_output_clear(&out);
	l.done = true;
	pthread_join(l.thread, NULL);

	/* The store answers again: the run resumes (market orders now, not to
	 * wait out another re-price) and ends at its targets. */
	ck_assert_ok(config_load_string("[daemon]\nidempotency_lease = 6s\n[trading]\n"
	    "use_limit_orders = no\ncash_reserve = 0\norder_poll_interval = 100ms\n", "test", dir,
	    NULL, &market, &ec), &ec);
	config_unref(cfg);
	cfg = market;
	execute(EID_A, "run-A", now0 - 10 * SEC, "{\"SPY\":\"0.5\",\"BIL\":\"0.5\"}", &out);
	expect(&out, OUTCOME_DONE);
	stage_output_clear(&out);
	for (const char *const *s = (const char *const[]){ "SPY", "BIL", NULL }; *s != NULL; s++)
		ck_assert_msg(decimal_cmp(position(*s), test_dec("48")) >= 0 &&
		    decimal_cmp(position(*s), test_dec("50")) <= 0, "%s: %lld", *s,
		    (long long)(position(*s).units / DECIMAL_SCALE));
}
END_TEST

/* ---- a run ended from outside frees its account lease --------------------- */

/* The dead-letter watch ends a run whose execution was killed on every
 * receive (runtime/dlq_watch.c): that run's lease, or a dead holder's, is
 * released; another live run's stays. */
START_TEST(test_stage_execution_lease_released_when_ended)
{
	char dead[OWNER_MAX], account[128], holder[256] = "", busy[128] = "";
	_cleanup_free_ char *key = NULL;
	struct account_lease *l = NULL;
	enum idem_lease_result res;
	struct idem_record rec;
	struct errctx ec;
	int64_t now = time_now_realtime_usec();

	test_dead_owner(dead, sizeof dead);
	ck_assert_ok(run_key_account(b, account, sizeof account, &ec), &ec);
	key = xasprintf("account-lease:%s", account);
	{
		struct idem_lease req = { key, OWNER, "run-A", now, 600 * SEC };

		ck_assert_ok(is->ops->lease_acquire(is, &req, &res, NULL, &ec), &ec);
	}
	/* Another live run's lease (OWNER's format is never judged dead): kept. */
	ck_assert_int_eq(account_lease_release_ended(is, account, "run-B", holder, sizeof holder, &ec), 0);
	ck_assert_ok(is->ops->lookup(is, key, now, &rec, &ec), &ec);
	ck_assert_str_eq(rec.correlation_id, "run-A");
	ck_assert_str_eq(rec.status, "IN_PROGRESS");
	/* The ended run's own: released, conditionally on its holder. */
	ck_assert_int_eq(account_lease_release_ended(is, account, "run-A", holder, sizeof holder, &ec), 1);
	ck_assert_msg(strstr(holder, "run-A") != NULL, "holder: %s", holder);
	ck_assert_int_eq(is->ops->lookup(is, key, now, &rec, &ec), -ENOENT);
	ck_assert_int_eq(account_lease_release_ended(is, account, "run-A", holder, sizeof holder, &ec), 0);
	/* A dead process's lease of another run: released too. */
	{
		struct idem_lease req = { key, dead, "run-C", now, 600 * SEC };

		ck_assert_ok(is->ops->lease_acquire(is, &req, &res, NULL, &ec), &ec);
	}
	ck_assert_int_eq(account_lease_release_ended(is, account, "run-A", holder, sizeof holder, &ec), 1);
	ck_assert_int_eq(is->ops->lookup(is, key, now, &rec, &ec), -ENOENT);
	/* The account's next run takes it at once, no lease to wait out. */
	ck_assert_ok(account_lease_acquire(is, account, OWNER, "run-D", 60 * SEC, 0, &l, busy,
	    sizeof busy, &ec), &ec);
	account_lease_release(l);
}
END_TEST

static Suite *
stage_execution_suite(void)
{
	Suite *s = suite_create("stage_execution");
	TCase *tc = tcase_create("superseded");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stage_execution_superseded);
	tcase_add_test(tc, test_stage_execution_newer_plan_trades);
	tcase_add_test(tc, test_stage_execution_superseded_lists_whole_sell);
	suite_add_tcase(s, tc);
	tc = tcase_create("fenced");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_slow, teardown);
	tcase_add_test(tc, test_stage_execution_fenced);
	tcase_add_test(tc, test_stage_execution_fenced_by_newer_run);
	suite_add_tcase(s, tc);
	tc = tcase_create("lapsed");
	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, setup_lapse, teardown);
	tcase_add_test(tc, test_stage_execution_fenced_by_lapse);
	suite_add_tcase(s, tc);
	tc = tcase_create("lease_ended");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stage_execution_lease_released_when_ended);
	suite_add_tcase(s, tc);
	tc = tcase_create("fill_on_cancel");
	tcase_add_checked_fixture(tc, setup_fill_on_cancel, teardown);
	tcase_add_test(tc, test_stage_execution_fill_on_cancel);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(stage_execution_suite)
