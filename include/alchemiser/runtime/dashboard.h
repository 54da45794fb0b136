/*
 * dashboard: the read-only operator pages, server-rendered HTML with inline
 * SVG charts (core/svgchart.h), no script, no external resource, so they
 * work without JavaScript and under a CSP of default-src 'none'.
 *   /                status: what the daemon is doing, dependencies, counters
 *   /runs            recent runs with their step timings and outcome
 *   /runs/ID         one run: signals per strategy file, the plan, orders
 *                    with fills and refusals, the email it sent
 *   /portfolio       account, positions, allocation against the last
 *                    target, equity curve from the broker's history
 *   /dead-letters    parked messages and their reasons
 * Run records and dead letters come from the backend's shared store
 * (struct dashboard_source: local/sqlite_runs.h on the embedded backend,
 * aws/dynamodb_runs.h on AWS), so every daemon of a fleet shows the same runs.
 * Every chart has a text equivalent: a table beside it and svgchart's
 * <title>/<desc>. Every value from data is HTML-escaped.
 * Thread:  "/" (status) reads only what it is given: the loop thread. Every
 *          other page blocks (the paper broker reads its SQLite file, Alpaca
 *          and DynamoDB are HTTPS calls): a page thread (pagework.h), never
 *          the loop; dashboard_page_blocks() says which.
 * Memory:  the page body is returned in reply->body, owned by the reply.
 */
#ifndef ALCHEMISER_RUNTIME_DASHBOARD_H
#define ALCHEMISER_RUNTIME_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alchemiser/runtime/httpd.h"
#include "alchemiser/runtime/metrics.h"

#include <jansson.h>

struct broker;
struct errctx;

/* Where the shared records are read; any of the functions may be NULL (not
 * on this backend: missing says why). Shapes: sqlite_runs.h for runs and
 * events; dead letters {"total": N, "note": "..." (optional), "messages":
 * [{message_id, receive_count, parked_usec, reason|null, body}]}. */
struct dashboard_source {
	int	(*runs_list)(void *arg, size_t max, json_t **ret, struct errctx *ec);
	int	(*runs_events)(void *arg, const char *correlation_id, json_t **ret,
		    struct errctx *ec);
	int	(*dead_letters)(void *arg, size_t max, json_t **ret, struct errctx *ec);
	void	*arg;
	const char *missing;
};

/* One message in hand, for "what the daemon is doing". */
struct dashboard_job {
	const char	*handler;		/* NULL until routed */
	const char	*correlation_id;	/* NULL until routed */
	int64_t		 age_ms;		/* since its receive */
	unsigned	 retries;		/* held retries so far */
};

struct dashboard_ctx {
	const char			*backend;	/* "local" | "aws" */
	const char			*state;		/* "running" | "draining" */
	const char			*mode;		/* "paper" | "live" */
	unsigned			 in_flight;
	const struct dashboard_job	*jobs;		/* in_flight of them (at most 64 shown) */
	size_t				 n_jobs;
	const struct metrics_summary	*summary;
	const struct dashboard_source	*src;
	struct broker			*broker;	/* NULL = none */
	int64_t				 now_usec;
};

/* Render the page at path (already checked by httpd_target_parse); 404 for
 * an unknown one. */
/* Whether the page at path may block (render it off the loop thread). */
bool	dashboard_page_blocks(const char *path);
void	dashboard_page(const struct dashboard_ctx *c, const char *path, struct httpd_reply *reply);

#endif
