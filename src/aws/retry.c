/* Standard-mode retries: classification, quota, backoff, clock skew. */
#include <errno.h>
#include <string.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/retry.h"
#include "alchemiser/core/xalloc.h"

static bool in_list(const char *code, const char *const *list, size_t n);

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", "KmsThrottled", "KMS.ThrottlingException",
};
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "InternalFailure", "InternalServerError", "InternalException",
	"ServiceUnavailable", "TransactionConflictException", "IDPCommunicationError",
};
static const char *const skew_codes[] = {
	"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
	"SignatureDoesNotMatch", "AuthFailure",
};
static const char *const expired_codes[] = {
	"ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "InvalidClientTokenId",
};

static bool
in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	if (code == NULL || *code == '\0')
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

bool
retry_code_is_throttle(const char *code)
{
	return in_list(code, throttle_codes, ELEMENTSOF(throttle_codes));
}

bool
retry_code_is_transient(const char *code)
{
	return in_list(code, transient_codes, ELEMENTSOF(transient_codes));
}

bool
retry_code_is_clock_skew(const char *code)
{
	return in_list(code, skew_codes, ELEMENTSOF(skew_codes));
}

bool
retry_code_is_expired_token(const char *code)
{
	return in_list(code, expired_codes, ELEMENTSOF(expired_codes));
}

enum retry_class
retry_classify(int transport_r, long status, const char *code)
{
	if (transport_r == -ETIMEDOUT)
		return RETRY_CLASS_TIMEOUT;
	if (transport_r == -ECONNRESET)
		return RETRY_CLASS_TRANSIENT;
	if (transport_r < 0)
		return RETRY_CLASS_NONE;	/* TLS verification, oversize body: not transient */
	if (status >= 200 && status < 300)
		return RETRY_CLASS_NONE;
	if (retry_code_is_throttle(code) || status == 429)
		return RETRY_CLASS_THROTTLE;
	if (retry_code_is_expired_token(code))
		return RETRY_CLASS_EXPIRED_TOKEN;
	if (retry_code_is_clock_skew(code))
		return RETRY_CLASS_CLOCK_SKEW;
	if (retry_code_is_transient(code) || status == 500 || status == 502 || status == 503 ||
	    status == 504)
		return RETRY_CLASS_TRANSIENT;
	return RETRY_CLASS_NONE;
}

void
retry_quota_init(struct retry_quota *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->tokens = RETRY_QUOTA_CAPACITY;
}

void
retry_quota_destroy(struct retry_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

int
retry_quota_tokens(struct retry_quota *q)
{
	int t;

	pthread_mutex_lock(&q->lock);
	t = q->tokens;
	pthread_mutex_unlock(&q->lock);
	return t;
}

void
retry_state_init(struct retry_state *st, unsigned max_attempts)
{
	memset(st, 0, sizeof *st);
	st->attempt = 1;
	st->max_attempts = max_attempts > 0 ? max_attempts : RETRY_DEFAULT_ATTEMPTS;
}

int64_t
retry_backoff_usec(unsigned n)
{
	int64_t cap = RETRY_BASE_USEC;
	unsigned i;

	for (i = 1; i < n && cap < RETRY_MAX_BACKOFF_USEC; i++)
		cap *= 2;
	if (cap > RETRY_MAX_BACKOFF_USEC)
		cap = RETRY_MAX_BACKOFF_USEC;
	return (int64_t)(aws_random01() * (double)cap);
}

int64_t
retry_next(struct retry_quota *q, struct retry_state *st, enum retry_class c)
{
	int cost;
	bool ok;

	switch (c) {
	case RETRY_CLASS_NONE:
	case _RETRY_CLASS_MAX:
		return -1;
	case RETRY_CLASS_EXPIRED_TOKEN:
		/* One free retry with refreshed credentials, then it is final. */
		if (st->refreshed)
			return -1;
		st->refreshed = true;
		return 0;
	case RETRY_CLASS_CLOCK_SKEW:
		/* The caller only passes this class when the offset changed: the
		 * re-signed request can succeed at once. Bounded by attempts. */
		if (st->attempt >= st->max_attempts)
			return -1;
		st->attempt++;
		return 0;
	default:
		break;
	}
	if (st->attempt >= st->max_attempts)
		return -1;
	cost = c == RETRY_CLASS_TIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;
	pthread_mutex_lock(&q->lock);
	ok = q->tokens >= cost;
	if (ok)
		q->tokens -= cost;
	pthread_mutex_unlock(&q->lock);
	if (!ok)
		return -1;
	st->last_cost = cost;
	return retry_backoff_usec(st->attempt++);
}

void
retry_success(struct retry_quota *q, const struct retry_state *st)
{
	pthread_mutex_lock(&q->lock);
	q->tokens += st->last_cost > 0 ? st->last_cost : 1;
	if (q->tokens > RETRY_QUOTA_CAPACITY)
		q->tokens = RETRY_QUOTA_CAPACITY;
	pthread_mutex_unlock(&q->lock);
}

bool
clock_skew_update(struct clock_skew *s, const char *date_header, int64_t local_now_usec)
{
	int64_t server, off, diff;

	if (date_header == NULL || aws_parse_http_date(date_header, &server) < 0)
		return false;
	off = __atomic_load_n(&s->offset_usec, __ATOMIC_RELAXED);
	diff = server - (local_now_usec + off);
	if (diff < 0)
		diff = -diff;
	if (diff < RETRY_SKEW_WINDOW_USEC)
		return false;
	__atomic_store_n(&s->offset_usec, server - local_now_usec, __ATOMIC_RELAXED);
	return true;
}

int64_t
clock_skew_now(struct clock_skew *s)
{
	return aws_now_usec() + __atomic_load_n(&s->offset_usec, __ATOMIC_RELAXED);
}
