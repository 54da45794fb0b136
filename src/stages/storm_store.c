/*
 * storm_store: the storm guard's pending summaries in the idempotency store
 * (see stages/storm_store.h for the records).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"
#include "alchemiser/seams/idem_store.h"
#include "alchemiser/stages/storm_store.h"

/* Slots of one minute: far more runs than fail in a minute (the summary
 * names the first 200 and counts the rest). */
#define STORM_STORE_MAX_SLOTS	100000

static char *
slot_key(int64_t minute, size_t n)
{
	return xasprintf("storm-listed:%" PRId64 ":%zu", minute, n);
}

/* 1 the record exists (live), 0 absent, < 0 store error. */
static int
exists(struct idem_store *s, const char *key, int64_t now_usec, struct idem_record *rec,
    struct errctx *ec)
{
	int r = s->ops->lookup(s, key, now_usec, rec, ec);

	if (r == -ENOENT) {
		errctx_clear(ec);
		return 0;
	}
	return r < 0 ? r : 1;
}

/* Claim key and complete it at once. The lease is the whole retention, so a
 * claim left in progress by a dead process is never taken over (and its
 * content overwritten): it stays, BUSY, and counts as taken. *taken: the
 * key was someone else's already. */
static int
put_once(struct idem_store *s, const char *key, const char *value, const char *owner,
    int64_t now_usec, int64_t retention_usec, bool *taken, struct errctx *ec)
{
	struct idem_claim c = {
		.key = key, .owner = owner, .detail_type = "ErrorStorm", .correlation_id = value,
		.now_usec = now_usec, .lease_usec = retention_usec, .retention_usec = retention_usec,
	};
	enum idem_claim_result res;
	int r;

	r = s->ops->claim(s, &c, &res, NULL, ec);
	if (r < 0)
		return r;
	*taken = res == IDEM_COMPLETED || res == IDEM_BUSY;
	if (*taken)
		return 0;
	return s->ops->complete(s, key, owner, now_usec, ec);
}

/* The first absent slot of minute: doubling, then halving (slots have no
 * gaps), so a storm of n runs costs about 2 log2(n) lookups per run. */
static int
first_free_slot(struct idem_store *s, int64_t minute, int64_t now_usec, size_t *ret,
    struct errctx *ec)
{
	struct idem_record rec;
	size_t lo = 0, hi = 1;	/* slot lo exists (0: none needed), slot hi is the probe */
	char *key;
	int r;

	for (;;) {
		key = slot_key(minute, hi);
		r = exists(s, key, now_usec, &rec, ec);
		free(key);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		lo = hi;
		if (hi >= STORM_STORE_MAX_SLOTS)
			return errctx_set(ec, -ENOSPC, "more than %d runs listed for minute %" PRId64,
			    STORM_STORE_MAX_SLOTS, minute);
		hi *= 2;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		key = slot_key(minute, mid);
		r = exists(s, key, now_usec, &rec, ec);
		free(key);
		if (r < 0)
			return r;
		if (r == 1)
			lo = mid;
		else
			hi = mid;
	}
	*ret = hi;
	return 0;
}

int
storm_store_note(struct idem_store *s, int64_t minute, const char *run, const char *line,
    bool bearer, const char *owner, int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	_cleanup_free_ char *value = NULL, *mark = NULL, *mark_key = NULL;
	bool taken = true;
	size_t n;
	int r;

	r = first_free_slot(s, minute, now_usec, &n, ec);
	if (r < 0)
		return errctx_prefix(ec, "storm guard: listing run %s", run);
	value = xasprintf("%s %s", run, line);
	/* Another process may take the same slot at the same time: the next one. */
	for (; taken && n <= STORM_STORE_MAX_SLOTS; n++) {
		_cleanup_free_ char *key = slot_key(minute, n);

		r = put_once(s, key, value, owner, now_usec, retention_usec, &taken, ec);
		if (r < 0)
			return errctx_prefix(ec, "storm guard: listing run %s", run);
	}
	if (taken)
		return errctx_set(ec, -ENOSPC, "storm guard: no free slot for run %s", run);
	mark_key = xasprintf("storm-run:%s", run);
	mark = xasprintf("%" PRId64 " %s", minute, bearer ? "bearer" : "listed");
	r = put_once(s, mark_key, mark, owner, now_usec, retention_usec, &taken, ec);
	if (r < 0)
		return errctx_prefix(ec, "storm guard: marking run %s listed", run);
	return 0;
}

int
storm_store_find(struct idem_store *s, const char *run, int64_t now_usec, int64_t *minute,
    bool *bearer, struct errctx *ec)
{
	_cleanup_free_ char *key = xasprintf("storm-run:%s", run);
	struct idem_record rec;
	char role[16];
	int r;

	r = s->ops->lookup(s, key, now_usec, &rec, ec);
	if (r < 0)
		return r;
	if (sscanf(rec.correlation_id, "%" SCNd64 " %15s", minute, role) != 2)
		return errctx_set(ec, -EBADMSG, "storm guard: record '%s' reads '%s'", key,
		    rec.correlation_id);
	*bearer = strcmp(role, "bearer") == 0;
	return 0;
}

int
storm_store_list(struct idem_store *s, int64_t minute, int64_t now_usec, char ***lines,
    size_t *n, struct errctx *ec)
{
	struct idem_record rec;
	char **out = NULL;
	size_t i, len = 0;
	int r = 0;

	for (i = 1; i <= STORM_STORE_MAX_SLOTS; i++) {
		_cleanup_free_ char *key = slot_key(minute, i);

		r = exists(s, key, now_usec, &rec, ec);
		if (r <= 0)
			break;
		out = xreallocarray(out, len + 1, sizeof *out);
		out[len++] = xstrdup(rec.correlation_id);
	}
	if (r < 0) {
		for (i = 0; i < len; i++)
			free(out[i]);
		free(out);
		return errctx_prefix(ec, "storm guard: the runs listed for minute %" PRId64, minute);
	}
	*lines = out;
	*n = len;
	return 0;
}
