/*
 * bench_trading: how long the trading layer's own work takes, as a table.
 *   plan      planner_build for an N-position portfolio (N targets, half of
 *             them held, a quarter held but no longer targeted)
 *   plan+json the same plus planner_plan_to_json and json_dumps
 *   execute   executor_run of a 10-position rotation against broker_sim on a
 *             real SQLite file (market orders), i.e. the broker-side cost of a run
 * Not a test: nothing is asserted. Run: bench/bench_trading [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/trading/broker_sim.h"
#include "alchemiser/trading/executor.h"
#include "alchemiser/trading/planner.h"

static int64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct decimal
units(int64_t whole, int64_t cents)
{
	return decimal_from_units(whole * DECIMAL_SCALE + cents * (DECIMAL_SCALE / 100));
}

/* n targets S000..; positions: every other target, plus n/4 untargeted H000.. */
static void
portfolio(size_t n, struct planner_target *t, struct planner_position *p, size_t *np,
    char (*names)[8])
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], 8, "S%03u", (unsigned)(i % 1000));
		t[i].symbol = names[i];
		t[i].weight = 1.0 / (double)n;
		if (i % 2 == 0)
			p[k++] = (struct planner_position){ names[i], units(10 + (int64_t)i, 0),
			    units(50 + (int64_t)i, 25) };
	}
	for (size_t i = 0; i < n / 4; i++) {
		snprintf(names[n + i], 8, "H%03u", (unsigned)(i % 1000));
		p[k++] = (struct planner_position){ names[n + i], units(3, 0), units(20, 10) };
	}
	*np = k;
}

static double
bench_plan(size_t n, int iters, bool json)
{
	struct planner_target *t = xcalloc(n, sizeof *t);
	struct planner_position *p = xcalloc(n + n / 4, sizeof *p);
	char (*names)[8] = xcalloc(n + n / 4, sizeof *names);
	struct planner_input in = { 0 };
	struct planner_plan *pl;
	struct errctx ec;
	size_t np;
	int64_t t0;

	portfolio(n, t, p, &np, names);
	in.targets = t;
	in.n_targets = n;
	in.positions = p;
	in.n_positions = np;
	in.portfolio_value = units(1000000, 0);
	in.cash = units(250000, 0);
	in.cash_reserve = units(0, 1);
	in.min_trade = units(0, 1);
	in.plan_id = "bench";
	t0 = mono_usec();
	for (int i = 0; i < iters; i++) {
		if (planner_build(&in, &pl, &ec) < 0) {
			fprintf(stderr, "planner: %s\n", errctx_msg(&ec));
			exit(1);
		}
		if (json) {
			json_t *j = planner_plan_to_json(pl);
			char *s = json_dumps(j, JSON_COMPACT);

			free(s);
			json_decref(j);
		}
		planner_plan_free(pl);
	}
	free(t);
	free(p);
	free(names);
	return (double)(mono_usec() - t0) / iters;
}

static double
bench_execute(int runs)
{
	char dir[] = "/tmp/bench-trading.XXXXXX", path[64], sym[8], evid[32];
	struct broker_sim_options so = { .starting_cash = units(100000, 0), .slippage_bps = 5,
	    .spread_bps = 10 };
	struct planner_target t[10];
	char names[10][8];
	struct executor_options eo;
	struct broker *b;
	struct errctx ec;
	int64_t total = 0;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/state.db", dir);
	so.state_path = path;
	if (broker_sim_new(&so, &b, &ec) < 0) {
		fprintf(stderr, "broker_sim: %s\n", errctx_msg(&ec));
		exit(1);
	}
	for (int i = 0; i < 20; i++) {
		snprintf(sym, sizeof sym, "X%02d", i);
		broker_sim_set_price(b, sym, units(100 + i, 0), &ec);
	}
	executor_options_init(&eo);
	eo.use_limit_orders = false;
	for (int r = 0; r < runs; r++) {
		struct broker_account a;
		struct broker_position pos[32], *lp;
		struct planner_position pp[32];
		struct planner_plan *pl;
		struct executor_result *res;
		size_t n;
		int64_t t0 = mono_usec();

		/* Rotate between two 10-symbol halves so every run trades. */
		for (int i = 0; i < 10; i++) {
			snprintf(names[i], 8, "X%02d", ((r % 2) * 10 + i) % 100);
			t[i] = (struct planner_target){ names[i], 0.1 };
		}
		b->ops->get_account(b, &a, &ec);
		b->ops->list_positions(b, &lp, &n, &ec);
		for (size_t i = 0; i < n && i < 32; i++) {
			pos[i] = lp[i];
			pp[i] = (struct planner_position){ pos[i].symbol, pos[i].qty, pos[i].current_price };
		}
		free(lp);
		struct planner_input in = { .targets = t, .n_targets = 10, .positions = pp,
		    .n_positions = n, .portfolio_value = a.portfolio_value, .cash = a.cash,
		    .cash_reserve = units(0, 1), .min_trade = units(0, 1) };
		snprintf(evid, sizeof evid, "bench-%d", r);
		if (planner_build(&in, &pl, &ec) < 0 ||
		    executor_run(b, pl, evid, &eo, &res, &ec) < 0) {
			fprintf(stderr, "run: %s\n", errctx_msg(&ec));
			exit(1);
		}
		total += mono_usec() - t0;
		executor_result_free(res);
		planner_plan_free(pl);
	}
	broker_free(b);
	unlink(path);
	snprintf(path, sizeof path, "%s/state.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/state.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return (double)total / runs;
}

int
main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	static const size_t sizes[] = { 10, 100, 500 };

	if (iters <= 0)
		iters = 200;
	printf("%-34s %10s %14s\n", "benchmark", "n", "usec/op");
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
		printf("%-34s %10zu %14.2f\n", "plan (planner_build)", sizes[i],
		    bench_plan(sizes[i], iters, false));
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
		printf("%-34s %10zu %14.2f\n", "plan + rebalance_plan JSON", sizes[i],
		    bench_plan(sizes[i], iters, true));
	printf("%-34s %10d %14.2f\n", "execute 10 items vs broker_sim", 10, bench_execute(20));
	return 0;
}
