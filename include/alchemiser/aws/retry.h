/*
 * retry: the SDK "standard" retry mode (shared/reference/aws-retries.md):
 * max attempts (default 3), full-jitter exponential backoff
 * rand * min(1 s * 2^(n-1), 20 s), a retry-quota token bucket per endpoint
 * (500 tokens, retry 5, timeout retry 10, +1 on a clean success, the last
 * cost back after a success that needed retries), the transient, throttling
 * and clock-skew classifications, and the clock offset taken from Date.
 * Thread:  quota and skew are shared by all threads of one endpoint (atomic or
 *          locked); a retry_state belongs to one call.
 * Memory:  plain structs embedded by the caller.
 */
#ifndef ALCHEMISER_AWS_RETRY_H
#define ALCHEMISER_AWS_RETRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define RETRY_DEFAULT_ATTEMPTS 3
#define RETRY_QUOTA_CAPACITY 500
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10
#define RETRY_BASE_USEC INT64_C(1000000)
#define RETRY_MAX_BACKOFF_USEC (20 * INT64_C(1000000))
#define RETRY_SKEW_WINDOW_USEC (300 * INT64_C(1000000))

enum retry_class {
	RETRY_CLASS_NONE,		/* success or a failure never retried */
	RETRY_CLASS_TRANSIENT,		/* connection trouble, 5xx, RequestTimeout... */
	RETRY_CLASS_TIMEOUT,		/* transient, but costs more quota */
	RETRY_CLASS_THROTTLE,		/* throttling codes and HTTP 429 */
	RETRY_CLASS_CLOCK_SKEW,		/* retried only when the offset changed */
	RETRY_CLASS_EXPIRED_TOKEN,	/* refresh credentials, retry once */
	_RETRY_CLASS_MAX
};

struct retry_quota {
	pthread_mutex_t	lock;
	int		tokens;
};

struct retry_state {
	unsigned	attempt;	/* 1 = the first try */
	unsigned	max_attempts;
	int		last_cost;	/* quota taken for the last retry, 0 = none */
	bool		refreshed;	/* the one forced credential refresh is used */
};

void	retry_quota_init(struct retry_quota *q);
void	retry_quota_destroy(struct retry_quota *q);
int	retry_quota_tokens(struct retry_quota *q);

bool	retry_code_is_throttle(const char *code);
bool	retry_code_is_transient(const char *code);
bool	retry_code_is_clock_skew(const char *code);
bool	retry_code_is_expired_token(const char *code);
/* transport_r: 0 when a response arrived, else the http negative errno. */
enum retry_class retry_classify(int transport_r, long status, const char *code);

void	retry_state_init(struct retry_state *st, unsigned max_attempts);
/* After a failed attempt: the delay before the next one (>= 0), or -1 to give
 * up (not retryable, attempts used up, or quota empty). Takes quota. */
int64_t	retry_next(struct retry_quota *q, struct retry_state *st, enum retry_class c);
/* After a success: refund quota. */
void	retry_success(struct retry_quota *q, const struct retry_state *st);
/* Full-jitter backoff for retry number n (1-based). */
int64_t	retry_backoff_usec(unsigned n);

/* Clock offset (server - local), updated from Date headers. */
struct clock_skew {
	int64_t	offset_usec;	/* accessed atomically */
};

/* True when the offset changed (|server - (local + offset)| >= 5 min). */
bool	clock_skew_update(struct clock_skew *s, const char *date_header, int64_t local_now_usec);
int64_t	clock_skew_now(struct clock_skew *s);	/* local wall clock + offset */

#endif
