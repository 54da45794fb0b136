/*
 * backends_trading: broker, market data and mailer from the configuration.
 * The paper broker fills against the market-data seam's latest price (the CSV
 * source answers with the last close), so both share one view of the market.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/config.h"
#include "alchemiser/core/decimal.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
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

/* The paper broker's prices from CSV bars: each symbol's price remembered
 * for PRICE_MEMO_USEC. Why: the paper broker asks for a price at every
 * order, position and account valuation (about ten times per order of a
 * trade run), and the CSV source answers each time by reading and parsing
 * the symbol's whole file (7 % of a trade run's CPU, the workflow-latency
 * bench). Its price is a daily bar's close, rewritten at most once a day;
 * a live source (Alpaca data) is asked every time. */
#define PRICE_MEMO_USEC (INT64_C(1000) * 1000)
#define PRICE_MEMO_MAX 64

struct price_memo {
	struct marketdata	*md;
	bool			 remember;	/* CSV bars: yes */
	pthread_mutex_t		 lock;		/* the broker's threads ask together */
	size_t			 next;		/* slot to reuse when all are taken */
	struct {
		char		symbol[24];
		struct decimal	price;
		int64_t		at_usec;	/* monotonic; 0: empty */
	} e[PRICE_MEMO_MAX];
};

static bool
memo_get(struct price_memo *pm, const char *symbol, int64_t now, struct decimal *ret)
{
	bool hit = false;
	size_t i;

	(void)pthread_mutex_lock(&pm->lock);
	for (i = 0; i < PRICE_MEMO_MAX && !hit; i++)
		if (pm->e[i].at_usec != 0 && now - pm->e[i].at_usec < PRICE_MEMO_USEC &&
		    strcmp(pm->e[i].symbol, symbol) == 0) {
			*ret = pm->e[i].price;
			hit = true;
		}
	(void)pthread_mutex_unlock(&pm->lock);
	return hit;
}

static void
memo_put(struct price_memo *pm, const char *symbol, int64_t now, const struct decimal *price)
{
	size_t i, slot = PRICE_MEMO_MAX;

	if (strlen(symbol) >= sizeof pm->e[0].symbol)
		return;
	(void)pthread_mutex_lock(&pm->lock);
	for (i = 0; i < PRICE_MEMO_MAX && slot == PRICE_MEMO_MAX; i++)
		if (pm->e[i].at_usec == 0 || now - pm->e[i].at_usec >= PRICE_MEMO_USEC ||
		    strcmp(pm->e[i].symbol, symbol) == 0)
			slot = i;
	if (slot == PRICE_MEMO_MAX) {
		slot = pm->next;
		pm->next = (pm->next + 1) % PRICE_MEMO_MAX;
	}
	(void)snprintf(pm->e[slot].symbol, sizeof pm->e[slot].symbol, "%s", symbol);
	pm->e[slot].price = *price;
	pm->e[slot].at_usec = now;
	(void)pthread_mutex_unlock(&pm->lock);
}

static int
sim_price_cb(void *userdata, const char *symbol, struct decimal *ret, struct errctx *ec)
{
	struct price_memo *pm = userdata;
	struct marketdata *md = pm->md;
	int64_t now = time_now_monotonic_usec();
	struct md_quote q;
	int r;

	if (pm->remember && memo_get(pm, symbol, now, ret))
		return 0;
	r = md->ops->latest_quote(md, symbol, &q, ec);
	if (r < 0)
		return r;
	if (!(q.price > 0))
		return errctx_set(ec, -ENOENT, "no price for %s", symbol);
	r = decimal_from_double(q.price, DECIMAL_ROUND_HALF_EVEN, ret);
	if (r == 0 && pm->remember)
		memo_put(pm, symbol, now, ret);
	return r;
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
		struct price_memo *pm = xcalloc(1, sizeof *pm);
		struct broker_sim_options o;

		pm->md = b->marketdata;
		pm->remember = strcmp(config_str(cfg, "trading.market_data"), "csv") == 0;
		(void)pthread_mutex_init(&pm->lock, NULL);
		b->price_memo = pm;
		o = (struct broker_sim_options){
			.state_path = state,
			.starting_cash = config_decimal(cfg, "trading.starting_cash"),
			.slippage_bps = (int)config_int(cfg, "trading.slippage_bps"),
			.order_delay_usec = config_usec(cfg, "trading.paper_order_delay"),
			.refuse_orders = config_bool(cfg, "trading.paper_refuse_orders"),
			.price_cb = sim_price_cb,
			.price_userdata = pm,
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
	if (b->price_memo != NULL) {
		(void)pthread_mutex_destroy(&b->price_memo->lock);
		free(b->price_memo);
	}
}
