/*
 * main: argv -> config -> runtime; nothing else. The order follows style.md
 * §7.9: parse argv, open the log, load the config, then hand over.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/json.h"
#include "alchemiser/core/log.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/local/pattern.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/router/route.h"
#include "alchemiser/runtime/runtime.h"
#include "alchemiser/stages/run_key.h"
#include "alchemiser/trading/backtest.h"
#include "alchemiser/trading/dsl_cli.h"
#include "cli.h"
#include "src/git-version.h"

#define DEFAULT_CONFIG SYSCONFDIR "/alchemiser/alchemiserd.conf"

/* Load the configuration: an explicit -c must exist; the default path may be
 * absent, and then the built-in defaults (the embedded backend) apply. */
static int
load_config(struct cli_args *a, struct config **ret)
{
	const char *path = a->config_path != NULL ? a->config_path : DEFAULT_CONFIG;
	_cleanup_free_ char *plain = NULL;
	struct errctx ec = { 0 };

	if (!a->config_given && access(path, F_OK) < 0)
		path = NULL;
	a->config_path_effective = path;
	if (config_load(path, stderr, ret, &ec) < 0) {
		fprintf(stderr, "alchemiserd: configuration rejected: %s\n", errctx_msg(&ec));
		return -EINVAL;
	}
	plain = config_plain_http_endpoints(*ret);
	if (plain != NULL)
		/* Allowed explicitly, said at every start (and reload) so it is not forgotten. */
		log_warning("daemon.allow_plain_http = yes: credentials go in clear text to %s", plain);
	return 0;
}

/* Why the libraries: a bug report needs the versions actually linked at run
 * time, which may differ from the ones the build saw. */
static void
print_version(void)
{
	printf("alchemiserd %s (%s)\n", PACKAGE_VERSION, GIT_DESCRIBE);
	printf("libevent %s, libcurl %s, %s, jansson %s, SQLite %s\n", event_get_version(),
	    curl_version_info(CURLVERSION_NOW)->version, OpenSSL_version(OPENSSL_VERSION),
	    jansson_version_str(), sqlite3_libversion());
}

static int
cmd_explain(const struct cli_args *a)
{
	_cleanup_free_ char *body = NULL, *out = NULL;
	struct route *r;
	json_t *j;
	size_t len;
	int rc;

	if (cli_read_event(a->event, &body, &len) < 0)
		return EXIT_CONFIG;
	r = route_message(body, len, NULL);
	j = route_explain(r);
	if (r->key_source == IDEM_KEY_RUN)
		run_key_explain(j, r->command, time_now_realtime_usec());
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", out);
	rc = r->rejected ? EXIT_FAILED : EXIT_OK;
	json_decref(j);
	route_free(r);
	return rc;
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct cli_args args;
	int rc;

	if (cli_parse(argc, argv, &args) < 0) {
		cli_usage(stderr);
		return EXIT_CONFIG;
	}
	log_open(LOG_TARGET_AUTO);
	switch (args.command) {
	case CLI_VERSION:
		print_version();
		return EXIT_OK;
	case CLI_HELP:
		cli_usage(stdout);
		return EXIT_OK;
	case CLI_EXPLAIN:
		/* Pure: no configuration, no backend, no side effects. */
		return cmd_explain(&args);
	case CLI_TEST_PATTERN: {
		_cleanup_free_ char *event = NULL;
		size_t len;

		if (cli_read_event(args.event, &event, &len) < 0)
			return EXIT_CONFIG;
		return pattern_cli_test(args.pattern, event, stdout);
	}
	case CLI_EVALUATE:
	{
		const struct dsl_cli_args da = { .target = args.evaluate_target,
			.data_dir = args.data_dir, .as_of = args.as_of, .trace = args.trace,
			.allow_stale = args.allow_stale, .max_steps = args.eval_budget };

		return dsl_cli_run(&da, stdout, stderr);
	}
	default:
		break;
	}
	if (args.command == CLI_RUN)
		runtime_hold_signals();
	if (load_config(&args, &cfg) < 0)
		return EXIT_CONFIG;
	switch (args.command) {
	case CLI_CHECK_CONFIG:
		/* The count tells an emptied or truncated file apart (a reload refuses one). */
		printf("configuration OK (%s, %zu keys set)\n", config_origin(cfg), config_keys_set(cfg));
		rc = EXIT_OK;
		break;
	case CLI_PRINT_CONFIG:
		config_print(cfg, stdout);
		rc = EXIT_OK;
		break;
	case CLI_BACKTEST: {
		/* The planner's rules come from the configuration the daemon trades with. */
		struct backtest_cli bc = {
			.target = args.backtest_target, .data_dir = args.data_dir, .from = args.from,
			.to = args.to, .out_dir = args.out_dir, .fill = args.fill,
			.cost_bps = args.cost_bps, .capital = args.capital, .benchmark = args.benchmark,
			.whole_shares = args.whole_shares, .max_steps = args.eval_budget,
		};

		rc = backtest_cli_run(&bc, cfg, stdout, stderr);
		break;
	}
	default:
		rc = main_run(&args, cfg);
		break;
	}
	config_unref(cfg);
	return rc;
}
