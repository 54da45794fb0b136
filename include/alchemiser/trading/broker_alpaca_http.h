/*
 * broker_alpaca_http: the HTTP half of broker_alpaca (private to src/trading):
 * one request with Alpaca's auth headers, the status -> errno mapping, and
 * the bounded retry loop for idempotent calls.
 * Thread:  any; handles come from the pool in struct alpaca.
 * Memory:  *ret JSON belongs to the caller (json_decref).
 */
#ifndef ALCHEMISER_TRADING_BROKER_ALPACA_HTTP_H
#define ALCHEMISER_TRADING_BROKER_ALPACA_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "alchemiser/trading/broker_alpaca.h"

struct errctx;

#define ALPACA_POOL_MAX 8
#define ALPACA_HINT_MAX (60 * 1000000LL)	/* longest server-asked wait we sleep */
#define ALPACA_OPEN_PAGE 500			/* GET /v2/orders limit maximum */

struct alpaca {
	struct broker		 base;
	char			*base_url;
	char			*data_url;
	char			*data_feed;
	struct secret		*key_id;
	struct secret		*secret_key;
	int			 max_attempts;
	int64_t			 backoff_usec;
	int64_t			 max_backoff_usec;
	int64_t			 timeout_usec;
	int64_t			 connect_timeout_usec;
	pthread_mutex_t		 lock;
	void			*pool[ALPACA_POOL_MAX];	/* idle CURL * */
	int			 n_pool;
};

/* One exchange. url is absolute; body NULL for no body. On any HTTP answer
 * *status is set and the mapped code returned (0 for 2xx) with *ret the parsed
 * JSON body (NULL when empty). Transport failures: -ETIMEDOUT, -ECONNRESET,
 * -EAGAIN (cannot connect). *retry_after_usec: the server's wait hint, or -1. */
int	alpaca_http_once(struct alpaca *a, const char *method, const char *url,
	    const char *body, long *status, json_t **ret, int64_t *retry_after_usec,
	    struct errctx *ec);
/* As once, retried (idempotent calls only) while the answer is retryable. */
int	alpaca_http(struct alpaca *a, const char *method, const char *url, json_t **ret,
	    struct errctx *ec);
bool	alpaca_retryable(int r);
/* Sleep the back-off of attempt k (0-based), or the server hint when given. */
void	alpaca_backoff(struct alpaca *a, int k, int64_t hint_usec);
void	alpaca_pool_free(struct alpaca *a);
/* GET base_url (or data_url) + path, with the retries. */
int	alpaca_get(struct alpaca *a, bool data, const char *path, json_t **ret,
	    struct errctx *ec);

/* Reading Alpaca's JSON: money as string, number or null (zero); RFC 3339
 * times (0 when absent); strings copied and truncated to size. */
struct decimal alpaca_money(const json_t *o, const char *k);
int64_t	alpaca_when(const json_t *o, const char *k);
void	alpaca_copy_str(char *dst, size_t size, const json_t *o, const char *k);
/* Retry-After's value (seconds or HTTP date) as a wait from now_usec; -1 when
 * unreadable. */
int64_t	alpaca_retry_after_usec(const char *value, int64_t now_usec);
/* BRK/B -> BRK.B into out (out), BRK.B -> BRK/B in place (in). */
void	alpaca_symbol_out(const char *s, char *out, size_t size);
void	alpaca_symbol_in(char *s);
/* URL-escaped copy (free()). */
char	*alpaca_esc(const char *s);
int	alpaca_parse_order(const json_t *o, struct broker_order *ret, struct errctx *ec);

/* The order operations (broker_alpaca_orders.c). */
int	alpaca_submit_order(struct broker *b, const struct broker_order_request *req,
	    struct broker_order *ret, struct errctx *ec);
int	alpaca_get_order(struct broker *b, const char *id, struct broker_order *ret,
	    struct errctx *ec);
int	alpaca_get_order_by_client_id(struct broker *b, const char *cid,
	    struct broker_order *ret, struct errctx *ec);
int	alpaca_cancel_order(struct broker *b, const char *id, struct errctx *ec);
int	alpaca_list_open_orders(struct broker *b, struct broker_order **ret, size_t *n,
	    struct errctx *ec);
int	alpaca_list_orders_after(struct broker *b, int64_t after_usec, struct broker_order **ret,
	    size_t *n, struct errctx *ec);
int	alpaca_portfolio_history(struct broker *b, int days, struct broker_history_point **ret,
	    size_t *n, struct errctx *ec);

#endif
