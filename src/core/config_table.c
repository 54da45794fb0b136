/*
 * config_table: every configuration key, its type, default, bounds, reload
 * rule and one-line documentation. The parser, --print-config and the man-page
 * test read this table; add a key here and in alchemiserd.conf(5) together.
 */
#include <stddef.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/timeutil.h"

#define SEC(n)  ((int64_t)(n) * USEC_PER_SEC)
#define MSEC(n) ((int64_t)(n) * USEC_PER_MSEC)
#define DAY(n)  ((int64_t)(n) * USEC_PER_DAY)

static const struct config_key keys[] = {
	/* [daemon] */
	{ "daemon.backend", CONFIG_ENUM, "local", 0, 0, "local|aws", false,
	  "Queue, bus and idempotency backend: the embedded SQLite default or AWS (SQS, EventBridge, DynamoDB)." },
	{ "daemon.state_dir", CONFIG_PATH, LOCALSTATEDIR "/lib/alchemiser", 0, 0, NULL, false,
	  "Folder for the embedded state file and the maildir ($STATE_DIRECTORY when systemd sets it)." },
	{ "daemon.concurrency", CONFIG_INT, "4", 1, 64, NULL, false,
	  "Worker threads, and so the most messages in flight at once." },
	{ "daemon.log_level", CONFIG_ENUM, "info", 0, 0, "error|warning|notice|info|debug", true,
	  "Lowest priority that is logged." },
	{ "daemon.poll_wait", CONFIG_DURATION, "20s", 0, SEC(20), NULL, true,
	  "Long-poll wait of one receive (SQS WaitTimeSeconds, at most 20 s)." },
	{ "daemon.visibility_timeout", CONFIG_DURATION, "120s", SEC(1), DAY(0) + SEC(43200), NULL, true,
	  "How long a received message stays hidden; extended at half-time while a handler runs." },
	{ "daemon.max_receive_count", CONFIG_INT, "5", 1, 1000, NULL, false,
	  "Deliveries before the embedded queue parks a message in its dead-letter queue (SQS uses its redrive policy)." },
	{ "daemon.retry_backoff_base", CONFIG_DURATION, "5s", SEC(1), SEC(3600), NULL, true,
	  "First back-off of a retried message; doubles per receive, with full jitter." },
	{ "daemon.retry_backoff_max", CONFIG_DURATION, "15m", SEC(1), SEC(43200), NULL, true,
	  "Longest back-off of a retried message." },
	{ "daemon.shutdown_timeout", CONFIG_DURATION, "30s", SEC(1), SEC(3600), NULL, true,
	  "How long SIGTERM waits for in-flight handlers before releasing their messages." },
	{ "daemon.once_idle_wait", CONFIG_DURATION, "1s", MSEC(50), SEC(600), NULL, true,
	  "--once: the short poll it uses; with every run it moved ended, it exits after one such poll finds nothing." },
	{ "daemon.once_timeout", CONFIG_DURATION, "10m", SEC(1), SEC(86400), NULL, true,
	  "--once: longest wait for the runs it started or advanced to end (then exit 5)." },
	{ "daemon.status_interval", CONFIG_DURATION, "10s", SEC(1), SEC(3600), NULL, true,
	  "At most how often the STATUS= line of systemd is refreshed while messages flow; sent when it changes." },
	{ "daemon.idempotency_lease", CONFIG_DURATION, "5m", SEC(5), SEC(86400), NULL, true,
	  "Lease of an idempotency claim; renewed while the handler runs, taken over by others after it expires." },
	{ "daemon.dedup_window", CONFIG_DURATION, "400d", DAY(1), DAY(3650), NULL, true,
	  "How long a processed event id is remembered (must outlive the event archive's replay window)." },
	{ "daemon.error_storm_limit", CONFIG_INT, "10", 1, 10000, NULL, true,
	  "Most distinct failed runs mailed one by one per minute; the rest are listed in one summary mail when the minute is over (every failure is logged at warning)." },
	{ "daemon.allow_plain_http", CONFIG_BOOL, "no", 0, 0, NULL, false,
	  "Allow http:// to a host that is not loopback for endpoints that carry credentials (Alpaca, AWS overrides); logged as a warning." },

	/* [local] */
	{ "local.state_file", CONFIG_PATH, "", 0, 0, NULL, false,
	  "SQLite state file of the embedded backend (default: state_dir/state.sqlite)." },
	{ "local.queue", CONFIG_STRING, "alchemiser-work", 0, 0, NULL, false,
	  "Name of the embedded work queue." },
	{ "local.run_archive_age", CONFIG_DURATION, "90d", DAY(1), DAY(3650), NULL, false,
	  "Archived run events (the dashboard's run records, queue alchemiser-runs) older than this are deleted." },
	{ "local.run_archive_max", CONFIG_INT, "100000", 100, 100000000, NULL, false,
	  "Most archived run events kept; the oldest beyond it are deleted." },
	{ "local.dead_letter_queue", CONFIG_STRING, "alchemiser-dlq", 0, 0, NULL, false,
	  "Name of the embedded dead-letter queue." },
	{ "local.rules_file", CONFIG_PATH, "", 0, 0, NULL, false,
	  "JSON list of event rules {name, pattern, queue}; empty: every alchemiser.* event goes to the work queue." },
	{ "local.poll_interval", CONFIG_DURATION, "60s", MSEC(5), SEC(60), NULL, false,
	  "Backstop re-check of an idle embedded queue within one long poll (writes wake it at once through an inotify doorbell)." },
	{ "local.busy_timeout", CONFIG_DURATION, "5s", MSEC(100), SEC(60), NULL, false,
	  "How long a state-file write waits for another process's lock before retrying later." },
	{ "local.account", CONFIG_STRING, "000000000000", 0, 0, NULL, false,
	  "Account id stamped on embedded envelopes." },
	{ "local.region", CONFIG_STRING, "local", 0, 0, NULL, false,
	  "Region stamped on embedded envelopes." },

	/* [aws] */
	{ "aws.region", CONFIG_STRING, "us-east-1", 0, 0, NULL, false,
	  "AWS region of the queue, bus and table." },
	{ "aws.queue_url", CONFIG_STRING, "", 0, 0, NULL, false,
	  "URL of the SQS work queue (required with backend = aws)." },
	{ "aws.dead_letter_queue_url", CONFIG_STRING, "", 0, 0, NULL, false,
	  "URL of the SQS dead-letter queue for rejected messages (required with backend = aws)." },
	{ "aws.event_bus", CONFIG_STRING, "alchemiser-events", 0, 0, NULL, false,
	  "Name of the EventBridge bus follow-on events are published to." },
	{ "aws.idempotency_table", CONFIG_STRING, "alchemiser-idempotency", 0, 0, NULL, false,
	  "DynamoDB table of idempotency records (key event_id, TTL on expires_at)." },
	{ "aws.runs_table", CONFIG_STRING, "", 0, 0, NULL, false,
	  "DynamoDB table of the dashboard's run and parked-message records (key event_id, TTL on expires_at; the idempotency table will do); empty: none on AWS." },
	{ "aws.dlq_watch_interval", CONFIG_DURATION, "60s", 0, DAY(1), NULL, false,
	  "How often each daemon sweeps the SQS dead-letter queue for messages SQS parked by itself and ends their runs cleanly; 0: never." },
	{ "aws.runs_retention", CONFIG_DURATION, "90d", DAY(1), DAY(3650), NULL, false,
	  "How long run records on AWS are kept (their expires_at)." },
	{ "aws.sqs_endpoint", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Override of the SQS endpoint URL (emulators); empty: the regional endpoint." },
	{ "aws.events_endpoint", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Override of the EventBridge endpoint URL." },
	{ "aws.dynamodb_endpoint", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Override of the DynamoDB endpoint URL." },
	{ "aws.sts_endpoint", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Override of the STS endpoint URL (web identity credentials)." },
	{ "aws.profile", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Profile of the shared credentials/config files; empty: $AWS_PROFILE or \"default\"." },
	{ "aws.access_key_id", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Static access key id; empty: the credential chain (environment, files, web identity, ECS, IMDSv2)." },
	{ "aws.secret_access_key", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding the static secret access key (with aws.access_key_id)." },
	{ "aws.session_token", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding a session token that goes with static keys." },
	{ "aws.imds", CONFIG_BOOL, "yes", 0, 0, NULL, false,
	  "Whether the credential chain asks the EC2 instance metadata service (IMDSv2)." },
	{ "aws.imds_endpoint", CONFIG_STRING, "", 0, 0, NULL, false,
	  "Override of the instance metadata endpoint; empty: $AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254." },
	{ "aws.metadata_timeout", CONFIG_DURATION, "2s", MSEC(100), SEC(60), NULL, false,
	  "Timeout of instance-metadata and container-endpoint credential calls." },
	{ "aws.ca_file", CONFIG_PATH, "", 0, 0, NULL, false,
	  "CA bundle for TLS verification; empty: the system's." },
	{ "aws.connect_timeout", CONFIG_DURATION, "5s", MSEC(100), SEC(120), NULL, false,
	  "TCP and TLS connect timeout of AWS requests." },
	{ "aws.request_timeout", CONFIG_DURATION, "30s", SEC(1), SEC(600), NULL, false,
	  "Total timeout of one AWS request (a long poll gets poll_wait on top)." },
	{ "aws.max_attempts", CONFIG_INT, "3", 1, 10, NULL, false,
	  "Attempts per AWS request in the standard retry mode." },

	/* [trading] */
	{ "trading.mode", CONFIG_ENUM, "paper", 0, 0, "paper|live", true,
	  "Paper or live trading; shown in every report." },
	{ "trading.broker", CONFIG_ENUM, "sim", 0, 0, "sim|alpaca", false,
	  "Broker: the built-in paper broker (SQLite) or Alpaca." },
	{ "trading.alpaca_url", CONFIG_STRING, "https://paper-api.alpaca.markets", 0, 0, NULL, false,
	  "Alpaca Trading API base URL (paper or live)." },
	{ "trading.alpaca_data_url", CONFIG_STRING, "https://data.alpaca.markets", 0, 0, NULL, false,
	  "Alpaca Market Data API base URL." },
	{ "trading.alpaca_key_id", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding the Alpaca API key id." },
	{ "trading.alpaca_secret_key", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding the Alpaca API secret key." },
	{ "trading.strategy_set", CONFIG_PATH, PKGDATADIR "/strategies/strategy.json", 0, 0, NULL, true,
	  "Strategy set: JSON file listing DSL files and their allocations." },
	{ "trading.market_data", CONFIG_ENUM, "csv", 0, 0, "csv|alpaca", false,
	  "Daily bars from a CSV folder or from Alpaca Market Data v2." },
	{ "trading.data_dir", CONFIG_PATH, PKGDATADIR "/sample-data", 0, 0, NULL, false,
	  "Folder of SYMBOL.csv daily bars (market_data = csv)." },
	{ "trading.cash_reserve", CONFIG_DECIMAL, "0.01", 0, DECIMAL_SCALE, NULL, true,
	  "Fraction of portfolio value kept in cash (0 to 1)." },
	{ "trading.min_trade", CONFIG_DECIMAL, "0.01", 0, DECIMAL_SCALE, NULL, true,
	  "Smallest trade as a fraction of portfolio value; smaller deltas are held (full exits are still sold)." },
	{ "trading.keep_small_positions", CONFIG_BOOL, "no", 0, 0, NULL, true,
	  "Keep untargeted positions smaller than min_trade instead of selling them (the Python system's behaviour)." },
	{ "trading.use_limit_orders", CONFIG_BOOL, "yes", 0, 0, NULL, true,
	  "Start each order as a limit order priced from the quote, escalating to market; no: market orders only." },
	{ "trading.max_reprices", CONFIG_INT, "1", 0, 10, NULL, true,
	  "Limit-order re-prices across the spread before the remaining quantity goes to market." },
	{ "trading.reprice_interval", CONFIG_DURATION, "10s", SEC(1), SEC(600), NULL, true,
	  "Age of an unfilled limit order before it is re-priced." },
	{ "trading.order_poll_interval", CONFIG_DURATION, "1s", MSEC(10), SEC(60), NULL, true,
	  "How often open orders are checked while waiting for fills." },
	{ "trading.fill_timeout", CONFIG_DURATION, "120s", SEC(1), SEC(3600), NULL, true,
	  "Longest wait for the sells (then the buys) of one run to fill." },
	{ "trading.min_notional", CONFIG_DECIMAL, "1", 0, INT64_C(1000000) * DECIMAL_SCALE, NULL, true,
	  "Buys worth less than this many dollars are skipped." },
	{ "trading.starting_cash", CONFIG_DECIMAL, "100000", 0, INT64_C(1000000000) * DECIMAL_SCALE, NULL, false,
	  "Cash of a new paper-broker account." },
	{ "trading.slippage_bps", CONFIG_INT, "5", 0, 1000, NULL, false,
	  "Paper-broker fill price offset from the last close, in basis points (against the trader)." },
	{ "trading.paper_refuse_orders", CONFIG_BOOL, "no", 0, 0, NULL, false,
	  "The paper broker rejects every order (a drill of the failed-run path: error email, --once exit 3)." },
	{ "trading.partial_fill_is_failure", CONFIG_BOOL, "yes", 0, 0, NULL, true,
	  "Whether a run with partially filled orders counts as failed (the seed's rule)." },
	{ "trading.ignore_market_hours", CONFIG_BOOL, "no", 0, 0, NULL, true,
	  "Run workflows on weekends and NYSE holidays too." },
	{ "trading.account_wait", CONFIG_DURATION, "15m", 0, SEC(3600), NULL, true,
	  "How long after its plan a run's execution may wait for another run executing on the same account." },
	{ "trading.paper_order_delay", CONFIG_DURATION, "0s", 0, SEC(60), NULL, false,
	  "Test knob: the paper broker pauses this long before taking each order." },
	{ "trading.bars_max_lag", CONFIG_INT, "0", 0, 30, NULL, true,
	  "Sessions a ticker's last bar may trail the as-of session (vendors that publish late); 0: the as-of session's bar is required." },
	{ "trading.on_strategy_failure", CONFIG_ENUM, "fail", 0, 0, "fail|cash|renormalise", true,
	  "A strategy file that fails (stale, missing or future bars, evaluation error): fail the run, or drop the file and keep its weight in cash, or share it among the others." },
	{ "trading.eval_budget", CONFIG_INT, "50000000", 1000, INT64_C(10000000000), NULL, true,
	  "Evaluation budget of one strategy file, in steps (nodes evaluated plus block-history points walked); a file over it fails naming the budget. The costliest seed file needs 1.7 million on six years of bars." },
	{ "trading.as_of", CONFIG_STRING, "", 0, 0, NULL, true,
	  "Evaluate strategies as of this session (YYYY-MM-DD) instead of the last completed NYSE session: replaying a fixed history such as the sample data. Refused with mode = live." },

	/* [mail] */
	{ "mail.transport", CONFIG_ENUM, "maildir", 0, 0, "maildir|smtp", false,
	  "Deliver reports into a maildir (embedded default) or through SMTP." },
	{ "mail.maildir", CONFIG_PATH, "", 0, 0, NULL, false,
	  "Maildir for reports (default: state_dir/mail)." },
	{ "mail.smtp_url", CONFIG_STRING, "", 0, 0, NULL, false,
	  "smtp://host:587 (STARTTLS) or smtps://host:465." },
	{ "mail.smtp_user", CONFIG_STRING, "", 0, 0, NULL, false,
	  "SMTP AUTH user name; empty: no AUTH." },
	{ "mail.smtp_password", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding the SMTP password." },
	{ "mail.require_starttls", CONFIG_BOOL, "yes", 0, 0, NULL, false,
	  "Refuse to send over smtp:// unless STARTTLS succeeds (AUTH over plain smtp:// is always refused)." },
	{ "mail.ca_file", CONFIG_PATH, "", 0, 0, NULL, false,
	  "CA bundle for the SMTP server's certificate; empty: the system's." },
	{ "mail.connect_timeout", CONFIG_DURATION, "10s", SEC(1), SEC(120), NULL, false,
	  "Connect and TLS handshake timeout of one SMTP delivery." },
	{ "mail.timeout", CONFIG_DURATION, "60s", SEC(1), SEC(600), NULL, false,
	  "Total timeout of one SMTP delivery." },
	{ "mail.from", CONFIG_STRING, "alchemiserd <alchemiserd@localhost>", 0, 0, NULL, false,
	  "From: address of reports." },
	{ "mail.to", CONFIG_LIST, "trader@localhost", 0, 0, NULL, false,
	  "Comma-separated recipients of reports." },

	/* [http] */
	{ "http.listen", CONFIG_STRING, "", 0, 0, NULL, false,
	  "ADDRESS:PORT of the metrics and dashboard listener (e.g. 127.0.0.1:9187); empty: no listener." },
	{ "http.token", CONFIG_SECRET, "", 0, 0, NULL, false,
	  "Credential name or file holding the bearer token; required unless http.listen is a loopback address." },
	{ "http.max_connections", CONFIG_INT, "16", 1, 1024, NULL, false,
	  "Most HTTP connections served at once; more get 503." },

	{ NULL, 0, NULL, 0, 0, NULL, false, NULL }
};

const struct config_key *
config_table(void)
{
	return keys;
}

const struct config_key *
config_table_find(const char *name)
{
	const struct config_key *k;

	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}
