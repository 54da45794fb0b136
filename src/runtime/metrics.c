/*
 * metrics: counters behind one mutex, rendered on demand. A scrape copies
 * nothing it does not print; the lock is held while the text is built
 * (microseconds: a few hundred lines at most).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/mail/textbuf.h"
#include "alchemiser/runtime/metrics.h"

/* Handler duration buckets, seconds: a stage takes milliseconds, execution
 * waits for fills (minutes), a retry in place up to a minute more. */
static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 120, 300 };
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct handler_stats {
	char		name[32];
	uint64_t	outcomes[_OUTCOME_MAX];
	uint64_t	bucket[N_BUCKETS];	/* cumulative at render, per bucket here */
	uint64_t	count;
	double		sum;
};

struct metrics {
	pthread_mutex_t		lock;
	uint64_t		received;
	struct handler_stats	handlers[METRICS_HANDLERS];
	size_t			n_handlers;
	uint64_t		dep_errors[_METRICS_DEP_MAX];
	int64_t			dep_down_since[_METRICS_DEP_MAX];	/* 0 = up */
	int64_t			last_success_usec, last_failure_usec;
	char			last_run[128];
	bool			last_run_success;
	uint64_t		orders_placed, orders_filled, orders_refused;
	bool			have_account;
	double			equity, cash;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

const char *
metrics_dependency_to_string(enum metrics_dependency d)
{
	static const char *const names[_METRICS_DEP_MAX] = {
		[METRICS_DEP_QUEUE] = "queue", [METRICS_DEP_IDEMPOTENCY] = "idempotency_store",
		[METRICS_DEP_BUS] = "bus", [METRICS_DEP_HANDLER] = "handler",
	};

	return d < _METRICS_DEP_MAX ? names[d] : "unknown";
}

/* The slot of a handler; the last slot is "other" once the table is full. */
static struct handler_stats *
handler_slot_locked(struct metrics *m, const char *handler)
{
	const char *name = handler != NULL && *handler != '\0' ? handler : "none";
	size_t i;

	for (i = 0; i < m->n_handlers; i++)
		if (strcmp(m->handlers[i].name, name) == 0)
			return &m->handlers[i];
	if (m->n_handlers == METRICS_HANDLERS - 1)
		name = "other";
	if (m->n_handlers == METRICS_HANDLERS)
		return &m->handlers[METRICS_HANDLERS - 1];
	/* Label values are printed unquoted-safe: only [a-z0-9_-] survive. */
	for (i = 0; name[i] != '\0' && i < sizeof m->handlers[0].name - 1; i++) {
		char c = name[i];

		m->handlers[m->n_handlers].name[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' ? c : '_';
	}
	return &m->handlers[m->n_handlers++];
}

void
metrics_received(struct metrics *m, size_t n)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->received += n;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_outcome(struct metrics *m, const char *handler, enum outcome o, int64_t duration_ms)
{
	struct handler_stats *h;
	double sec = (double)duration_ms / 1000.0;
	size_t i;

	if (m == NULL || o >= _OUTCOME_MAX)
		return;
	pthread_mutex_lock(&m->lock);
	h = handler_slot_locked(m, handler);
	h->outcomes[o]++;
	if (duration_ms >= 0) {
		for (i = 0; i < N_BUCKETS && sec > buckets[i]; i++)
			;
		if (i < N_BUCKETS)
			h->bucket[i]++;
		h->count++;
		h->sum += sec;
	}
	pthread_mutex_unlock(&m->lock);
}

void
metrics_dependency(struct metrics *m, enum metrics_dependency d, bool ok, int64_t now_usec)
{
	if (m == NULL || d >= _METRICS_DEP_MAX)
		return;
	pthread_mutex_lock(&m->lock);
	if (ok)
		m->dep_down_since[d] = 0;
	else {
		m->dep_errors[d]++;
		if (m->dep_down_since[d] == 0)
			m->dep_down_since[d] = now_usec;
	}
	pthread_mutex_unlock(&m->lock);
}

void
metrics_run_finished(struct metrics *m, const char *correlation_id, bool success,
    int64_t now_usec)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	(void)snprintf(m->last_run, sizeof m->last_run, "%s", correlation_id != NULL ?
	    correlation_id : "");
	m->last_run_success = success;
	if (success)
		m->last_success_usec = now_usec;
	else
		m->last_failure_usec = now_usec;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_orders(struct metrics *m, uint64_t placed, uint64_t filled, uint64_t refused)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->orders_placed += placed;
	m->orders_filled += filled;
	m->orders_refused += refused;
	pthread_mutex_unlock(&m->lock);
}

void
metrics_account(struct metrics *m, struct decimal equity, struct decimal cash)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->have_account = true;
	m->equity = decimal_to_double(equity);
	m->cash = decimal_to_double(cash);
	pthread_mutex_unlock(&m->lock);
}

static void
family(struct textbuf *b, const char *name, const char *type, const char *help)
{
	textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_handlers_locked(struct metrics *m, struct textbuf *b)
{
	size_t i, k;
	int o;

	family(b, "alchemiserd_messages_total", "counter",
	    "Messages whose outcome was acted on, by handler and outcome (retry counts each retry).");
	for (i = 0; i < m->n_handlers; i++)
		for (o = 0; o < _OUTCOME_MAX; o++)
			textbuf_printf(b, "alchemiserd_messages_total{handler=\"%s\",outcome=\"%s\"} %llu\n",
			    m->handlers[i].name, outcome_to_string(o),
			    (unsigned long long)m->handlers[i].outcomes[o]);
	family(b, "alchemiserd_handler_duration_seconds", "histogram",
	    "Time a message was in hand, from receive to outcome, retries in place included.");
	for (i = 0; i < m->n_handlers; i++) {
		const struct handler_stats *h = &m->handlers[i];
		uint64_t cum = 0;

		for (k = 0; k < N_BUCKETS; k++) {
			cum += h->bucket[k];
			textbuf_printf(b, "alchemiserd_handler_duration_seconds_bucket{handler=\"%s\",le=\"%g\"} "
			    "%llu\n", h->name, buckets[k], (unsigned long long)cum);
		}
		textbuf_printf(b, "alchemiserd_handler_duration_seconds_bucket{handler=\"%s\",le=\"+Inf\"} "
		    "%llu\n", h->name, (unsigned long long)h->count);
		textbuf_printf(b, "alchemiserd_handler_duration_seconds_sum{handler=\"%s\"} %.6f\n",
		    h->name, h->sum);
		textbuf_printf(b, "alchemiserd_handler_duration_seconds_count{handler=\"%s\"} %llu\n",
		    h->name, (unsigned long long)h->count);
	}
}

static void
timestamp_gauge(struct textbuf *b, const char *name, const char *help, int64_t usec)
{
	family(b, name, "gauge", help);
	textbuf_printf(b, "%s %.3f\n", name, (double)usec / (double)USEC_PER_SEC);
}

char *
metrics_render(struct metrics *m, unsigned in_flight, size_t *ret_len)
{
	struct textbuf b = { 0 };
	int d;

	pthread_mutex_lock(&m->lock);
	family(&b, "alchemiserd_messages_received_total", "counter", "Messages received from the work queue.");
	textbuf_printf(&b, "alchemiserd_messages_received_total %llu\n", (unsigned long long)m->received);
	family(&b, "alchemiserd_messages_in_flight", "gauge",
	    "Messages received whose outcome was not yet acted on (held retries included).");
	textbuf_printf(&b, "alchemiserd_messages_in_flight %u\n", in_flight);
	render_handlers_locked(m, &b);
	family(&b, "alchemiserd_dependency_errors_total", "counter",
	    "Failed receives, claims, publishes and handler dependency calls, by dependency.");
	for (d = 0; d < _METRICS_DEP_MAX; d++)
		textbuf_printf(&b, "alchemiserd_dependency_errors_total{dependency=\"%s\"} %llu\n",
		    metrics_dependency_to_string(d), (unsigned long long)m->dep_errors[d]);
	family(&b, "alchemiserd_dependency_up", "gauge",
	    "0 from a dependency's failure until it next works, else 1.");
	for (d = 0; d < _METRICS_DEP_MAX; d++)
		textbuf_printf(&b, "alchemiserd_dependency_up{dependency=\"%s\"} %d\n",
		    metrics_dependency_to_string(d), m->dep_down_since[d] == 0);
	family(&b, "alchemiserd_dependency_down_since_seconds", "gauge",
	    "Unix time a dependency went down (0 while up).");
	for (d = 0; d < _METRICS_DEP_MAX; d++)
		textbuf_printf(&b, "alchemiserd_dependency_down_since_seconds{dependency=\"%s\"} %.3f\n",
		    metrics_dependency_to_string(d), (double)m->dep_down_since[d] / (double)USEC_PER_SEC);
	timestamp_gauge(&b, "alchemiserd_last_run_success_timestamp_seconds",
	    "Unix time this daemon last handled a WorkflowCompleted (0: none since start).",
	    m->last_success_usec);
	timestamp_gauge(&b, "alchemiserd_last_run_failure_timestamp_seconds",
	    "Unix time this daemon last handled a WorkflowFailed (0: none since start).",
	    m->last_failure_usec);
	family(&b, "alchemiserd_orders_total", "counter",
	    "Orders of the runs this daemon executed: placed, filled, and refused or unfilled.");
	textbuf_printf(&b, "alchemiserd_orders_total{result=\"placed\"} %llu\n",
	    (unsigned long long)m->orders_placed);
	textbuf_printf(&b, "alchemiserd_orders_total{result=\"filled\"} %llu\n",
	    (unsigned long long)m->orders_filled);
	textbuf_printf(&b, "alchemiserd_orders_total{result=\"refused\"} %llu\n",
	    (unsigned long long)m->orders_refused);
	if (m->have_account) {
		family(&b, "alchemiserd_broker_equity_dollars", "gauge",
		    "Account equity reported by the broker after the last run.");
		textbuf_printf(&b, "alchemiserd_broker_equity_dollars %.2f\n", m->equity);
		family(&b, "alchemiserd_broker_cash_dollars", "gauge",
		    "Account cash reported by the broker after the last run.");
		textbuf_printf(&b, "alchemiserd_broker_cash_dollars %.2f\n", m->cash);
	}
	pthread_mutex_unlock(&m->lock);
	return textbuf_take(&b, ret_len);
}

void
metrics_summary(struct metrics *m, struct metrics_summary *ret)
{
	size_t i;
	int d, o;

	memset(ret, 0, sizeof *ret);
	pthread_mutex_lock(&m->lock);
	ret->received = m->received;
	for (i = 0; i < m->n_handlers; i++)
		for (o = 0; o < _OUTCOME_MAX; o++)
			ret->outcomes[o] += m->handlers[i].outcomes[o];
	for (d = 0; d < _METRICS_DEP_MAX; d++) {
		ret->dependency_up[d] = m->dep_down_since[d] == 0;
		ret->down_since_usec[d] = m->dep_down_since[d];
	}
	ret->last_success_usec = m->last_success_usec;
	ret->last_failure_usec = m->last_failure_usec;
	memcpy(ret->last_run, m->last_run, sizeof ret->last_run);
	ret->last_run_success = m->last_run_success;
	ret->have_account = m->have_account;
	ret->equity = m->equity;
	ret->cash = m->cash;
	pthread_mutex_unlock(&m->lock);
}
