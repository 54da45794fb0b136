/*
 * test_backends_trading: the paper broker built by backends_open prices from
 * the CSV bars' last close, and a price it remembers (one second, so a trade
 * run does not re-read each symbol's file for every order) gives way to the
 * file's new close once that second has passed. Real state file, real files.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/seams/broker.h"
#include "../helpers.h"

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
write_bars(const char *path, const char *close)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "date,open,high,low,close,volume\n"
	    "2026-11-19,%s,%s,%s,%s,1000\n2026-11-20,%s,%s,%s,%s,1000\n",
	    close, close, close, close, close, close, close, close);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_paper_price_follows_the_csv_close)
{
	char *dir = test_tmpdir(), *data = xasprintf("%s/data", dir), *bars = xasprintf("%s/SPY.csv", data);
	char *text = xasprintf("[daemon]\nbackend = local\nstate_dir = %s/state\n"
	    "[trading]\nmode = paper\nbroker = sim\nmarket_data = csv\ndata_dir = %s\n"
	    "[mail]\ntransport = maildir\n", dir, data);
	struct timespec pause = { 1, 200000000 };	/* past the one-second memo */
	struct broker_quote q1, q2;
	struct config *cfg = NULL;
	struct backends *b = NULL;
	struct event_base *base;
	struct errctx ec = { 0 };
	char t1[48], t2[48];

	ck_assert_int_eq(mkdir(data, 0700), 0);
	write_bars(bars, "100");
	ck_assert_ok(config_load_string(text, "test", dir, stderr, &cfg, &ec), &ec);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_ok(backends_open(cfg, base, &b, &ec), &ec);
	ck_assert_ptr_nonnull(b->broker);
	ck_assert_ok(b->broker->ops->get_quote(b->broker, "SPY", &q1, &ec), &ec);
	/* Asked again at once: the same price. */
	ck_assert_ok(b->broker->ops->get_quote(b->broker, "SPY", &q2, &ec), &ec);
	ck_assert_int_eq(decimal_cmp(q1.ask, q2.ask), 0);
	/* A new close in the file is the price once the memo's second is over. */
	write_bars(bars, "200");
	(void)nanosleep(&pause, NULL);
	ck_assert_ok(b->broker->ops->get_quote(b->broker, "SPY", &q2, &ec), &ec);
	ck_assert_msg(decimal_cmp(q2.ask, q1.ask) > 0 && decimal_cmp(q2.bid, q1.bid) > 0,
	    "ask %s -> %s: the new close was not used", decimal_format(q1.ask, t1),
	    decimal_format(q2.ask, t2));
	/* An unknown symbol is still an error, not a remembered price. */
	ck_assert_int_lt(b->broker->ops->get_quote(b->broker, "NOPE", &q2, &ec), 0);
	backends_close(b);
	event_base_free(base);
	config_unref(cfg);
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(text);
	free(bars);
	free(data);
	free(dir);
}
END_TEST

static Suite *
suite_backends_trading(void)
{
	Suite *s = suite_create("backends_trading");
	TCase *tc = tcase_create("paper price");

	tcase_add_test(tc, test_paper_price_follows_the_csv_close);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_backends_trading)
