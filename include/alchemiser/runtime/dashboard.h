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
 * Run records come from the backend's shared store (local/sqlite_runs.h on
 * the embedded backend), so every daemon of a fleet shows the same runs.
 * Every chart has a text equivalent: a table beside it and svgchart's
 * <title>/<desc>. Every value from data is HTML-escaped.
 * Thread:  the caller's (the loop thread); broker calls block (the paper
 *          broker reads its SQLite file; Alpaca is an HTTPS call).
 * Memory:  the page body is returned in reply->body, owned by the reply.
 */
#ifndef ALCHEMISER_RUNTIME_DASHBOARD_H
#define ALCHEMISER_RUNTIME_DASHBOARD_H

#include <stdint.h>

#include "alchemiser/runtime/httpd.h"
#include "alchemiser/runtime/metrics.h"

struct broker;
struct sqlite_state;

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
	struct sqlite_state		*st;		/* run records and DLQ; NULL = not on this backend */
	const char			*dlq;		/* embedded dead-letter queue name */
	struct broker			*broker;	/* NULL = none */
	int64_t				 now_usec;
};

/* Render the page at path (already checked by httpd_target_parse); 404 for
 * an unknown one. */
void	dashboard_page(const struct dashboard_ctx *c, const char *path, struct httpd_reply *reply);

#endif
