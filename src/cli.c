#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/xalloc.h"
#include "cli.h"

enum {
	OPT_ONCE = 0x100,
	OPT_EVENT,
	OPT_EXPLAIN,
	OPT_CHECK_CONFIG,
	OPT_PRINT_CONFIG,
	OPT_EVALUATE,
	OPT_DATA,
	OPT_AS_OF,
	OPT_TRACE,
	OPT_VERSION,
	OPT_SEND,
	OPT_TEST_PATTERN,
	OPT_ALLOW_STALE,
	OPT_DEAD_LETTERS,
	OPT_ALL,
	OPT_BACKTEST,
	OPT_FROM,
	OPT_TO,
	OPT_OUT,
	OPT_FILL,
	OPT_COST_BPS,
	OPT_CAPITAL,
	OPT_BENCHMARK,
	OPT_WHOLE_SHARES,
	OPT_EVAL_BUDGET,
};

static const struct option long_options[] = {
	{ "config",       required_argument, NULL, 'c' },
	{ "once",         no_argument,       NULL, OPT_ONCE },
	{ "event",        required_argument, NULL, OPT_EVENT },
	{ "explain",      no_argument,       NULL, OPT_EXPLAIN },
	{ "check-config", no_argument,       NULL, OPT_CHECK_CONFIG },
	{ "print-config", no_argument,       NULL, OPT_PRINT_CONFIG },
	{ "evaluate",     required_argument, NULL, OPT_EVALUATE },
	{ "data",         required_argument, NULL, OPT_DATA },
	{ "as-of",        required_argument, NULL, OPT_AS_OF },
	{ "trace",        no_argument,       NULL, OPT_TRACE },
	{ "allow-stale",  no_argument,       NULL, OPT_ALLOW_STALE },
	{ "version",      no_argument,       NULL, OPT_VERSION },
	{ "send",         no_argument,       NULL, OPT_SEND },
	{ "test-pattern", required_argument, NULL, OPT_TEST_PATTERN },
	{ "dead-letters", required_argument, NULL, OPT_DEAD_LETTERS },
	{ "all",          no_argument,       NULL, OPT_ALL },
	{ "backtest",     required_argument, NULL, OPT_BACKTEST },
	{ "from",         required_argument, NULL, OPT_FROM },
	{ "to",           required_argument, NULL, OPT_TO },
	{ "out",          required_argument, NULL, OPT_OUT },
	{ "fill",         required_argument, NULL, OPT_FILL },
	{ "cost-bps",     required_argument, NULL, OPT_COST_BPS },
	{ "capital",      required_argument, NULL, OPT_CAPITAL },
	{ "benchmark",    required_argument, NULL, OPT_BENCHMARK },
	{ "whole-shares", no_argument,       NULL, OPT_WHOLE_SHARES },
	{ "eval-budget",  required_argument, NULL, OPT_EVAL_BUDGET },
	{ "help",         no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

void
cli_usage(FILE *out)
{
	fputs("Usage: alchemiserd [-c FILE] [--once] [--event JSON|@FILE]\n"
	      "       alchemiserd [-c FILE] --explain [--event JSON|@FILE]\n"
	      "       alchemiserd [-c FILE] --send [--event JSON|@FILE]\n"
	      "       alchemiserd [-c FILE] --check-config | --print-config\n"
	      "       alchemiserd --evaluate FILE.clj|SET.json --data DIR --as-of YYYY-MM-DD [--trace] [--allow-stale]\n"
	      "                   [--eval-budget STEPS]\n"
	      "       alchemiserd [-c FILE] --backtest FILE.clj|SET.json --data DIR --from DATE --to DATE\n"
	      "                   [--out DIR] [--fill open|close] [--cost-bps N] [--capital USD]\n"
	      "                   [--benchmark SYM] [--whole-shares] [--eval-budget STEPS]\n"
	      "       alchemiserd --test-pattern PATTERN [--event] EVENT\n"
	      "       alchemiserd [-c FILE] --dead-letters list | show ID | redrive ID|--all\n"
	      "       alchemiserd --version | --help\n"
	      "\n"
	      "  -c, --config FILE   configuration file (default " SYSCONFDIR "/alchemiser/alchemiserd.conf)\n"
	      "      --once          process until the queue is idle, then exit (0 all done, 1 otherwise)\n"
	      "      --event BODY    message body to enqueue (--once) or explain; @FILE reads a file\n"
	      "      --explain       print the routing decision for one body (stdin or --event), no side effects\n"
	      "      --send          put one body (stdin or --event) on the work queue and exit\n"
	      "      --check-config  validate the configuration and exit (0 ok, 2 problems)\n"
	      "      --print-config  print the effective configuration, secrets masked\n"
	      "      --evaluate F    evaluate a strategy file or set and print the allocation\n"
	      "      --data DIR      CSV bars for --evaluate (SYMBOL.csv)\n"
	      "      --as-of DATE    last bar date for --evaluate\n"
	      "      --trace         print the decision path of --evaluate\n"
	      "      --allow-stale   research: --evaluate on stale bars, with a warning\n"
	      "      --backtest F    run a strategy file or set over history; JSON summary on stdout\n"
	      "      --from/--to D   first and last date of --backtest (NYSE sessions between)\n"
	      "      --out DIR       --backtest: also write CSV files and report.html there\n"
	      "      --fill M        open (default: signal through the previous session, fill at the\n"
	      "                      open) or close (signal and fill at the session's close)\n"
	      "      --cost-bps N    cost of each fill (default trading.slippage_bps)\n"
	      "      --capital USD   starting capital (default trading.starting_cash)\n"
	      "      --benchmark S   buy-and-hold comparison ticker (default SPY)\n"
	      "      --whole-shares  buy whole shares only (default fractional)\n"
	      "      --eval-budget N --evaluate/--backtest: steps one file may take (default\n"
	      "                      trading.eval_budget, 50000000)\n"
	      "      --test-pattern P  does EventBridge pattern P match the event? (exit 0 yes, 1 no, 2 invalid)\n"
	      "      --dead-letters  list the parked messages, show one, or move them back to the queue\n"
	      "      --version       print the version\n"
	      "  -h, --help          this text\n"
	      "\nSee alchemiserd(8) and alchemiserd.conf(5).\n", out);
}

/* list takes nothing, show an id, redrive an id or --all (never both). */
static bool
cli_dead_letters_valid(const struct cli_args *a)
{
	const char *act = a->dead_letters;
	bool ok;

	if (strcmp(act, "list") == 0)
		ok = a->message_id == NULL && !a->all;
	else if (strcmp(act, "show") == 0)
		ok = a->message_id != NULL && !a->all;
	else if (strcmp(act, "redrive") == 0)
		ok = (a->message_id != NULL) != a->all;
	else
		ok = false;
	if (!ok)
		fprintf(stderr, "alchemiserd: --dead-letters list | show ID | redrive ID|--all\n");
	return ok;
}

/* Why: a second command flag is a usage error, not "last one wins". */
static int
set_command(struct cli_args *a, enum cli_command c)
{
	if (a->command != CLI_RUN && a->command != c) {
		fprintf(stderr, "alchemiserd: conflicting options\n");
		return -EINVAL;
	}
	a->command = c;
	return 0;
}

int
cli_parse(int argc, char **argv, struct cli_args *ret)
{
	struct cli_args a = { .command = CLI_RUN };
	int c, r = 0;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.config_path = optarg;
			a.config_given = true;
			break;
		case OPT_ONCE:
			a.once = true;
			break;
		case OPT_EVENT:
			a.event = optarg;
			break;
		case OPT_EXPLAIN:
			r = set_command(&a, CLI_EXPLAIN);
			break;
		case OPT_CHECK_CONFIG:
			r = set_command(&a, CLI_CHECK_CONFIG);
			break;
		case OPT_PRINT_CONFIG:
			r = set_command(&a, CLI_PRINT_CONFIG);
			break;
		case OPT_EVALUATE:
			r = set_command(&a, CLI_EVALUATE);
			a.evaluate_target = optarg;
			break;
		case OPT_DATA:
			a.data_dir = optarg;
			break;
		case OPT_AS_OF:
			a.as_of = optarg;
			break;
		case OPT_TRACE:
			a.trace = true;
			break;
		case OPT_ALLOW_STALE:
			a.allow_stale = true;
			break;
		case OPT_BACKTEST:
			r = set_command(&a, CLI_BACKTEST);
			a.backtest_target = optarg;
			break;
		case OPT_FROM:
			a.from = optarg;
			break;
		case OPT_TO:
			a.to = optarg;
			break;
		case OPT_OUT:
			a.out_dir = optarg;
			break;
		case OPT_FILL:
			a.fill = optarg;
			break;
		case OPT_COST_BPS:
			a.cost_bps = optarg;
			break;
		case OPT_CAPITAL:
			a.capital = optarg;
			break;
		case OPT_BENCHMARK:
			a.benchmark = optarg;
			break;
		case OPT_WHOLE_SHARES:
			a.whole_shares = true;
			break;
		case OPT_EVAL_BUDGET: {
			char *end;

			errno = 0;
			a.eval_budget = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    a.eval_budget == 0) {
				fprintf(stderr, "alchemiserd: --eval-budget: '%s' is not a step count > 0\n",
				    optarg);
				return -EINVAL;
			}
			break;
		}
		case OPT_TEST_PATTERN:
			r = set_command(&a, CLI_TEST_PATTERN);
			a.pattern = optarg;
			break;
		case OPT_SEND:
			r = set_command(&a, CLI_SEND);
			break;
		case OPT_DEAD_LETTERS:
			r = set_command(&a, CLI_DEAD_LETTERS);
			a.dead_letters = optarg;
			break;
		case OPT_ALL:
			a.all = true;
			break;
		case OPT_VERSION:
			r = set_command(&a, CLI_VERSION);
			break;
		case 'h':
			r = set_command(&a, CLI_HELP);
			break;
		default:
			return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	/* --test-pattern PATTERN EVENT: the event may follow as an argument. */
	if (a.command == CLI_TEST_PATTERN && optind + 1 == argc && a.event == NULL)
		a.event = argv[optind++];
	/* --dead-letters show|redrive ID: the message id follows. */
	if (a.command == CLI_DEAD_LETTERS && optind + 1 == argc)
		a.message_id = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "alchemiserd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (a.once && a.command != CLI_RUN) {
		fprintf(stderr, "alchemiserd: --once cannot be combined with that option\n");
		return -EINVAL;
	}
	if (a.event != NULL && !a.once && a.command != CLI_EXPLAIN && a.command != CLI_SEND &&
	    a.command != CLI_TEST_PATTERN) {
		fprintf(stderr, "alchemiserd: --event goes with --once, --explain, --send or --test-pattern\n");
		return -EINVAL;
	}
	if (a.command == CLI_DEAD_LETTERS && !cli_dead_letters_valid(&a))
		return -EINVAL;
	if (a.all && a.command != CLI_DEAD_LETTERS) {
		fprintf(stderr, "alchemiserd: --all goes with --dead-letters redrive\n");
		return -EINVAL;
	}
	if (a.command == CLI_EVALUATE && (a.data_dir == NULL || a.as_of == NULL)) {
		fprintf(stderr, "alchemiserd: --evaluate needs --data DIR and --as-of YYYY-MM-DD\n");
		return -EINVAL;
	}
	if (a.command == CLI_BACKTEST && (a.data_dir == NULL || a.from == NULL || a.to == NULL)) {
		fprintf(stderr, "alchemiserd: --backtest needs --data DIR, --from and --to YYYY-MM-DD\n");
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

int
cli_read_event(const char *arg, char **ret, size_t *ret_len)
{
	FILE *f = stdin;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (arg != NULL && arg[0] != '@') {
		*ret = xstrdup(arg);
		*ret_len = strlen(arg);
		return 0;
	}
	if (arg != NULL) {
		f = fopen(arg + 1, "re");
		if (f == NULL) {
			fprintf(stderr, "alchemiserd: %s: %s\n", arg + 1, strerror(errno));
			return -errno;
		}
	}
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		/* Bodies over the router's limit are read whole up to a bound, then refused there. */
	} while (n > 0 && len < 2 * 1024 * 1024);
	if (f != stdin)
		fclose(f);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}
