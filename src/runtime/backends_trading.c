/*
 * backends_trading: broker, market data and mailer from the configuration.
 * The paper broker fills against the market-data seam's latest price (the CSV
 * source answers with the last close), so both share one view of the market.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/maildir.h"
#include "alchemiser/mail/smtp.h"
#include "alchemiser/runtime/backends.h"
#include "alchemiser/seams/broker.h"
#include "alchemiser/seams/mailer.h"
#include "alchemiser/seams/marketdata.h"
#include "alchemiser/trading/broker_alpaca.h"
#include "alchemiser/trading/broker_sim.h"
#include "backends_internal.h"

static int
sim_price_cb(void *userdata, const char *symbol, struct decimal *ret, struct errctx *ec)
{
	struct marketdata *md = userdata;
	struct md_quote q;
	int r;

	r = md->ops->latest_quote(md, symbol, &q, ec);
	if (r < 0)
		return r;
	if (!(q.price > 0))
		return errctx_set(ec, -ENOENT, "no price for %s", symbol);
	return decimal_from_double(q.price, DECIMAL_ROUND_HALF_EVEN, ret);
}

static int
open_marketdata(const struct config *cfg, struct backends *b, struct errctx *ec)
{
	if (strcmp(config_str(cfg, "trading.market_data"), "alpaca") == 0) {
		struct marketdata_alpaca_config mc = {
			.base_url = config_str(cfg, "trading.alpaca_data_url"),
			.key_id = config_secret(cfg, "trading.alpaca_key_id"),
			.secret_key = config_secret(cfg, "trading.alpaca_secret_key"),
		};

		if (mc.key_id == NULL || mc.secret_key == NULL)
			return errctx_set(ec, -EINVAL, "market_data = alpaca needs trading.alpaca_key_id "
			    "and trading.alpaca_secret_key");
		b->marketdata = marketdata_alpaca_new(&mc, ec);
	} else
		b->marketdata = marketdata_csv_new(config_str(cfg, "trading.data_dir"), ec);
	return b->marketdata != NULL ? 0 : errctx_prefix(ec, "market data");
}

static int
open_broker(const struct config *cfg, struct backends *b, struct errctx *ec)
{
	int r;

	if (strcmp(config_str(cfg, "trading.broker"), "alpaca") == 0) {
		struct broker_alpaca_options o = {
			.base_url = config_str(cfg, "trading.alpaca_url"),
			.data_url = config_str(cfg, "trading.alpaca_data_url"),
			.key_id = config_secret(cfg, "trading.alpaca_key_id"),
			.secret_key = config_secret(cfg, "trading.alpaca_secret_key"),
		};

		r = broker_alpaca_new(&o, &b->broker, ec);
	} else {
		_cleanup_free_ char *state = backends_state_file(cfg);
		struct broker_sim_options o = {
			.state_path = state,
			.starting_cash = config_decimal(cfg, "trading.starting_cash"),
			.slippage_bps = (int)config_int(cfg, "trading.slippage_bps"),
			.refuse_orders = config_bool(cfg, "trading.paper_refuse_orders"),
			.price_cb = sim_price_cb,
			.price_userdata = b->marketdata,
		};

		r = broker_sim_new(&o, &b->broker, ec);
	}
	return r < 0 ? errctx_prefix(ec, "broker") : 0;
}

static int
open_mailer(const struct config *cfg, struct backends *b, struct errctx *ec)
{
	size_t n = config_list_len(cfg, "mail.to"), i;
	const char **to = xcalloc(n, sizeof *to);
	int r;

	for (i = 0; i < n; i++)
		to[i] = config_list_item(cfg, "mail.to", i);
	if (strcmp(config_str(cfg, "mail.transport"), "smtp") == 0) {
		const char *user = config_str(cfg, "mail.smtp_user");
		const char *ca = config_str(cfg, "mail.ca_file");
		struct smtp_mailer_options o = {
			.url = config_str(cfg, "mail.smtp_url"),
			.from = config_str(cfg, "mail.from"),
			.to = to, .n_to = n,
			.user = user[0] != '\0' ? user : NULL,
			.password = config_secret(cfg, "mail.smtp_password"),
			.connect_timeout_usec = config_usec(cfg, "mail.connect_timeout"),
			.timeout_usec = config_usec(cfg, "mail.timeout"),
			.ca_file = ca[0] != '\0' ? ca : NULL,
			.starttls_optional = !config_bool(cfg, "mail.require_starttls"),
		};

		r = smtp_mailer_new(&o, &b->mailer, ec);
	} else {
		_cleanup_free_ char *dir = backends_state_dir(cfg), *path = NULL;
		const char *md = config_str(cfg, "mail.maildir");
		struct maildir_mailer_options o = {
			.from = config_str(cfg, "mail.from"), .to = to, .n_to = n,
		};

		path = md[0] != '\0' ? xstrdup(md) : xasprintf("%s/mail", dir);
		o.path = path;
		r = maildir_mailer_new(&o, &b->mailer, ec);
	}
	free(to);
	return r < 0 ? errctx_prefix(ec, "mailer") : 0;
}

int
backends_open_trading(const struct config *cfg, struct backends *b, struct errctx *ec)
{
	int r;

	/* Issue #17 B8: the paper broker and the default maildir live in the state
	 * directory, which the embedded backend creates but backend = aws did not. */
	if (strcmp(config_str(cfg, "trading.broker"), "alpaca") != 0 ||
	    (strcmp(config_str(cfg, "mail.transport"), "smtp") != 0 &&
	     config_str(cfg, "mail.maildir")[0] == '\0')) {
		_cleanup_free_ char *dir = backends_state_dir(cfg);

		r = backends_mkdirs(dir, ec);
		if (r < 0)
			return errctx_prefix(ec, "state directory");
	}
	r = open_marketdata(cfg, b, ec);
	if (r >= 0)
		r = open_broker(cfg, b, ec);
	if (r >= 0)
		r = open_mailer(cfg, b, ec);
	return r;
}

void
backends_close_trading(struct backends *b)
{
	mailer_free(b->mailer);
	if (b->broker != NULL)
		b->broker->ops->free(b->broker);
	if (b->marketdata != NULL)
		b->marketdata->ops->free(b->marketdata);
}
