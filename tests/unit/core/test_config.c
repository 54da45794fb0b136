#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/secret.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "helpers.h"

/* Load text; return the problems written to the error stream (caller frees). */
static int
load(const char *text, struct config **c, char **problems, struct errctx *ec)
{
	size_t len = 0;
	FILE *errs = open_memstream(problems, &len);
	int r;

	r = config_load_string(text, "test.conf", "/etc/alchemiser", errs, c, ec);
	fclose(errs);
	return r;
}

START_TEST(test_config_defaults_are_embedded_backend)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *problems = NULL;

	ck_assert_ok(load(NULL, &c, &problems, &ec), &ec);
	ck_assert_str_eq(problems, "");
	ck_assert_str_eq(config_str(c, "daemon.backend"), "local");
	ck_assert_int_eq(config_int(c, "daemon.concurrency"), 4);
	ck_assert_int_eq(config_usec(c, "daemon.poll_wait"), 20 * USEC_PER_SEC);
	ck_assert_int_eq(config_usec(c, "daemon.dedup_window"), 400 * USEC_PER_DAY);
	ck_assert_int_eq(config_decimal(c, "trading.cash_reserve").units, 1000000);
	ck_assert(config_bool(c, "trading.partial_fill_is_failure"));
	ck_assert_uint_eq(config_list_len(c, "mail.to"), 1);
	ck_assert_ptr_null(config_secret(c, "mail.smtp_password"));
	config_unref(c);
	free(problems);
}
END_TEST

START_TEST(test_config_parses_types_quotes_comments)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *problems = NULL;
	const char *text =
	    "# comment\n"
	    "; another\n"
	    "[daemon]\n"
	    "concurrency = 8   # inline comment\n"
	    "shutdown_timeout = 1500ms\n"
	    "log_level = debug\n"
	    "state_dir = state\n"
	    "[mail]\n"
	    "from = \"Bot \\\"Alchemiser\\\" <bot@example.test>\"  # quoted\n"
	    "to = a@example.test, b@example.test ,c@example.test\n"
	    "[trading]\n"
	    "cash_reserve = 0.05\n"
	    "ignore_market_hours = on\n";

	ck_assert_ok(load(text, &c, &problems, &ec), &ec);
	ck_assert_int_eq(config_int(c, "daemon.concurrency"), 8);
	ck_assert_int_eq(config_usec(c, "daemon.shutdown_timeout"), 1500 * USEC_PER_MSEC);
	ck_assert_str_eq(config_str(c, "daemon.log_level"), "debug");
	/* Relative paths resolve against the config file's folder. */
	ck_assert_str_eq(config_str(c, "daemon.state_dir"), "/etc/alchemiser/state");
	ck_assert_str_eq(config_str(c, "mail.from"), "Bot \"Alchemiser\" <bot@example.test>");
	ck_assert_uint_eq(config_list_len(c, "mail.to"), 3);
	ck_assert_str_eq(config_list_item(c, "mail.to", 2), "c@example.test");
	ck_assert_int_eq(config_decimal(c, "trading.cash_reserve").units, 5000000);
	ck_assert(config_bool(c, "trading.ignore_market_hours"));
	config_unref(c);
	free(problems);
}
END_TEST

START_TEST(test_config_reports_every_problem_with_line)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *problems = NULL;
	const char *text =
	    "[daemon]\n"
	    "concurrancy = 8\n"		/* typo: suggestion */
	    "concurrency = 0\n"		/* out of range */
	    "shutdown_timeout = 30\n"	/* no unit */
	    "backend = kafka\n"		/* not an enum value */
	    "just words\n"		/* not key = value */
	    "[trading]\n"
	    "cash_reserve = 1.5\n"	/* above 1 */
	    "partial_fill_is_failure = maybe\n";

	ck_assert_err(load(text, &c, &problems, &ec), -EINVAL, &ec);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:2: unknown key 'daemon.concurrancy' (did you mean 'daemon.concurrency'?)"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:3: key 'daemon.concurrency': 0 is outside 1..64"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:4: key 'daemon.shutdown_timeout': '30' is not a duration"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:5: key 'daemon.backend': 'kafka' is not one of local|aws"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:6: expected 'key = value'"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:8: key 'trading.cash_reserve': 1.5 is outside 0..1"));
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:9: key 'trading.partial_fill_is_failure'"));
	/* The errctx holds the first problem and the count. */
	ck_assert_ptr_nonnull(strstr(ec.msg, "7 problems"));
	ck_assert_ptr_nonnull(strstr(ec.msg, "test.conf:2:"));
	free(problems);
}
END_TEST

START_TEST(test_config_duplicate_and_cross_key_checks)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *problems = NULL;

	ck_assert_err(load("[daemon]\nconcurrency = 2\nconcurrency = 3\n", &c, &problems, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(problems, "set twice (first on line 2)"));
	free(problems);
	ck_assert_err(load("[daemon]\nbackend = aws\n", &c, &problems, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(problems, "needs aws.queue_url"));
	free(problems);
	ck_assert_err(load("[mail]\ntransport = smtp\n", &c, &problems, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(problems, "needs mail.smtp_url"));
	free(problems);
}
END_TEST

START_TEST(test_config_secret_read_from_file_and_masked)
{
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *dir = test_tmpdir(), *path = xasprintf("%s/pw", dir), *text, *problems = NULL, *out = NULL;
	size_t outlen = 0;
	FILE *f = fopen(path, "w");

	fputs("hunter2-very-secret\n", f);
	fclose(f);
	chmod(path, 0600);
	text = xasprintf("[mail]\nsmtp_password = %s\n", path);
	ck_assert_ok(load(text, &c, &problems, &ec), &ec);
	ck_assert_str_eq(secret_reveal(config_secret(c, "mail.smtp_password")), "hunter2-very-secret");
	f = open_memstream(&out, &outlen);
	config_print(c, f);
	fclose(f);
	ck_assert_ptr_null(strstr(out, "hunter2"));
	ck_assert_ptr_nonnull(strstr(out, "(secret, 19 bytes, not shown)"));
	ck_assert_ptr_nonnull(strstr(out, "[daemon]\nbackend = local\n"));
	config_unref(c);
	free(out);
	free(problems);
	free(text);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_config_restart_keys_diff)
{
	struct errctx ec = { 0 };
	struct config *a = NULL, *b = NULL;
	char *problems = NULL, *diff;

	ck_assert_ok(load("[daemon]\nconcurrency = 2\nlog_level = info\n", &a, &problems, &ec), &ec);
	free(problems);
	ck_assert_ok(load("[daemon]\nconcurrency = 3\nlog_level = debug\n", &b, &problems, &ec), &ec);
	free(problems);
	diff = config_diff_restart_keys(a, b);
	ck_assert_str_eq(diff, "daemon.concurrency");
	free(diff);
	ck_assert_ptr_null(config_diff_restart_keys(a, a));
	config_unref(a);
	config_unref(b);
}
END_TEST

/* Issue #17 B6: an http:// broker URL sent the key and secret in clear text. */
START_TEST(test_config_credential_endpoints_need_https)
{
	static const char *const refused[] = {
		"[trading]\nalpaca_url = http://paper-api.alpaca.markets\n",
		"[trading]\nalpaca_data_url = HTTP://data.alpaca.markets/v2\n",
		"[trading]\nalpaca_url = http://127.evil.example\n",
		"[trading]\nalpaca_url = http://localhost.evil.example:80\n",
		"[aws]\nsqs_endpoint = http://10.0.0.1:4566\n",
		"[aws]\ndynamodb_endpoint = http://[::2]:8000\n",
		"[aws]\nsts_endpoint = ftp://sts.amazonaws.com\n",
		"[trading]\nalpaca_url = paper-api.alpaca.markets\n",
	};
	static const char *const accepted[] = {
		"[trading]\nalpaca_url = https://paper-api.alpaca.markets\n",
		"[trading]\nalpaca_url = http://127.0.0.1:8080\nalpaca_data_url = http://localhost/x\n",
		"[aws]\nsqs_endpoint = http://[::1]:4566\nevents_endpoint = http://127.1.2.3\n",
	};
	struct errctx ec = { 0 };
	struct config *c = NULL;
	char *problems = NULL, *plain;

	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		ck_assert_err(load(refused[i], &c, &problems, &ec), -EINVAL, &ec);
		ck_assert_msg(strstr(problems, "clear text") != NULL ||
		    strstr(problems, "is not an https:// URL") != NULL, "%s: %s", refused[i], problems);
		free(problems);
	}
	for (size_t i = 0; i < ELEMENTSOF(accepted); i++) {
		ck_assert_ok(load(accepted[i], &c, &problems, &ec), &ec);
		ck_assert_ptr_null(config_plain_http_endpoints(c));
		config_unref(c);
		free(problems);
	}
	/* The explicit key lets it through, and says which (for the warning). */
	ck_assert_ok(load("[daemon]\nallow_plain_http = yes\n[trading]\nalpaca_url = http://broker.lan\n",
	    &c, &problems, &ec), &ec);
	plain = config_plain_http_endpoints(c);
	ck_assert_str_eq(plain, "trading.alpaca_url = http://broker.lan");
	free(plain);
	config_unref(c);
	free(problems);
}
END_TEST

/* Issue #17 B7: -c <directory> read as an empty, valid configuration. */
START_TEST(test_config_file_must_be_regular)
{
	char *dir = test_tmpdir();
	struct errctx ec = { 0 };
	struct config *c = NULL;

	ck_assert_err(config_load(dir, NULL, &c, &ec), -EISDIR, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "not a regular file (a directory)"));
	ck_assert_err(config_load("/dev/null", NULL, &c, &ec), -EINVAL, &ec);
	rmdir(dir);
	free(dir);
}
END_TEST

/* Issue #17 B9: a reload of an emptied or truncated file reset every key. */
START_TEST(test_config_reload_guard)
{
	const char *full = "[daemon]\nconcurrency = 2\nlog_level = debug\npoll_wait = 5s\n"
	    "[trading]\nmin_trade = 0.02\ncash_reserve = 0.05\n[mail]\nto = a@example.com\n";
	struct config *cur = NULL, *next = NULL;
	struct errctx ec = { 0 };
	char *problems = NULL;

	ck_assert_ok(load(full, &cur, &problems, &ec), &ec);
	free(problems);
	ck_assert_uint_eq(config_keys_set(cur), 6);
	/* Empty, or only comments: refused. */
	ck_assert_ok(load("# truncated\n", &next, &problems, &ec), &ec);
	free(problems);
	ck_assert_err(config_reload_check(cur, next, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "sets no key at all"));
	config_unref(next);
	/* Cut after the first section: 4 of 6 keys would fall back. */
	ck_assert_ok(load("[daemon]\nconcurrency = 2\nlog_level = debug\n", &next, &problems, &ec), &ec);
	free(problems);
	ck_assert_err(config_reload_check(cur, next, &ec), -EINVAL, &ec);
	ck_assert_ptr_nonnull(strstr(ec.msg, "would put 4 of the 6 keys"));
	ck_assert_ptr_nonnull(strstr(ec.msg, "daemon.poll_wait, trading.cash_reserve"));
	config_unref(next);
	/* Ordinary edits pass: one key dropped, values changed, keys added. */
	ck_assert_ok(load("[daemon]\nconcurrency = 3\nlog_level = info\npoll_wait = 5s\n"
	    "[trading]\nmin_trade = 0.03\n[mail]\nto = b@example.com\n[local]\npoll_interval = 1s\n",
	    &next, &problems, &ec), &ec);
	free(problems);
	ck_assert_ok(config_reload_check(cur, next, &ec), &ec);
	config_unref(next);
	/* From defaults (no file), anything goes. */
	ck_assert_ok(load(NULL, &next, &problems, &ec), &ec);
	free(problems);
	ck_assert_ok(config_reload_check(next, cur, &ec), &ec);
	config_unref(next);
	config_unref(cur);
}
END_TEST

START_TEST(test_config_table_is_documented)
{
	const struct config_key *k;

	for (k = config_table(); k->name != NULL; k++) {
		ck_assert_msg(strchr(k->name, '.') != NULL, "%s has no section", k->name);
		ck_assert_msg(k->doc != NULL && strlen(k->doc) > 10, "%s has no doc line", k->name);
		ck_assert_msg(k->type != CONFIG_ENUM || k->choices != NULL, "%s: enum without choices", k->name);
	}
}
END_TEST

static Suite *
suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_config_defaults_are_embedded_backend);
	tcase_add_test(tc, test_config_parses_types_quotes_comments);
	tcase_add_test(tc, test_config_table_is_documented);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_config_reports_every_problem_with_line);
	tcase_add_test(tc, test_config_duplicate_and_cross_key_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("secrets");
	tcase_add_test(tc, test_config_secret_read_from_file_and_masked);
	tcase_add_test(tc, test_config_restart_keys_diff);
	tcase_add_test(tc, test_config_credential_endpoints_need_https);
	tcase_add_test(tc, test_config_file_must_be_regular);
	tcase_add_test(tc, test_config_reload_guard);
	suite_add_tcase(s, tc);
	return s;
}

ALC_TEST_MAIN(suite_config)
