/* DynamoDB idempotency store: see include/alchemiser/aws/dynamodb.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/dynamodb.h"
#include "alchemiser/aws/reqbuf.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/uuid.h"
#include "alchemiser/core/xalloc.h"

#define ST_IN_PROGRESS "IN_PROGRESS"
#define ST_COMPLETED "COMPLETED"
#define HOLDER_MAX 128
#define CLAIM_ROUNDS 3
/* Items per TransactWriteItems: the service takes 100, but 25 was its limit
 * until 2022 and is what every emulator accepts; a receive brings 10. */
#define TX_MAX 25

struct ddb_store {
	struct idem_store		 base;
	struct aws_client		*client;
	char				*table;
	bool				 have_info;
	struct dynamodb_table_info	 info;
	/* The endpoint answered UnknownOperation to TransactWriteItems
	 * (dynalite): batches go one item at a time from then on. */
	atomic_bool			 no_tx;
};

static const struct idem_ops ddb_ops;

static int probe_transactions(struct ddb_store *s, struct errctx *ec);

static json_t *
num(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return json_pack("{s:s}", "N", buf);
}

static json_t *
str(const char *s)
{
	return json_pack("{s:s}", "S", s != NULL ? s : "");
}

static int64_t
sec_floor(int64_t usec)
{
	return usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
}

static int64_t
sec_ceil(int64_t usec)
{
	return -sec_floor(-usec);
}

static const char *
item_s(const json_t *item, const char *name)
{
	return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

static int64_t
item_n(const json_t *item, const char *name)
{
	const char *v = json_string_value(json_object_get(json_object_get(item, name), "N"));

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

static void
copy_holder(char *holder, const json_t *item)
{
	const char *o = item_s(item, "owner");

	if (holder != NULL)
		snprintf(holder, HOLDER_MAX, "%s", o != NULL ? o : "");
}

static int
get_item(struct ddb_store *s, const char *key, json_t **item, struct errctx *ec)
{
	json_t *req = json_pack("{s:s, s:{s:o}, s:b}", "TableName", s->table, "Key", "event_id", str(key),
	    "ConsistentRead", 1);
	json_t *resp = NULL;
	int r = aws_client_call(s->client, "GetItem", req, &resp, NULL, ec);

	json_decref(req);
	*item = r == 0 ? json_incref(json_object_get(resp, "Item")) : NULL;
	json_decref(resp);
	return r;
}

/* A holder proven dead may lose its live claim, fenced on it still owning it. */
static void
claim_dead_owner(json_t *req, const char *dead_owner)
{
	const char *cond = json_string_value(json_object_get(req, "ConditionExpression"));
	char *more = xasprintf("%s OR (#st = :inprog AND #own = :dead)", cond);

	json_object_set_new(req, "ConditionExpression", json_string(more));
	json_object_set_new(json_object_get(req, "ExpressionAttributeValues"), ":dead", str(dead_owner));
	free(more);
}

static int
ddb_claim(struct idem_store *is, const struct idem_claim *c, enum idem_claim_result *ret,
    char *holder, struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	int64_t now = sec_floor(c->now_usec);
	int round;
	int r = -EIO;

	if (c->key == NULL || *c->key == '\0' || c->owner == NULL || *c->owner == '\0')
		return errctx_set(ec, -EINVAL, "DynamoDB claim: key and owner are required");
	for (round = 0; round < CLAIM_ROUNDS; round++) {
		json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "event_id", str(c->key), "status", str(ST_IN_PROGRESS), "owner", str(c->owner),
		    "lease_expires_at", num(sec_ceil(c->now_usec + c->lease_usec)),
		    "expires_at", num(sec_ceil(c->now_usec + c->retention_usec)),
		    "detail_type", str(c->detail_type), "correlation_id", str(c->correlation_id),
		    "claimed_at", num(now));
		json_t *req = json_pack("{s:s, s:o, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:o, s:o, s:o}, s:s, s:s}",
		    "TableName", s->table, "Item", item,
		    /* Our own live claim too: a retry after a lost answer must not wait
		     * out its own lease. */
		    "ConditionExpression", "attribute_not_exists(#id) OR (#st = :inprog AND #lease < :now) "
		    "OR #exp < :now OR (#st = :inprog AND #own = :me)",
		    "ExpressionAttributeNames", "#id", "event_id", "#st", "status", "#lease",
		    "lease_expires_at", "#exp", "expires_at", "#own", "owner",
		    "ExpressionAttributeValues", ":inprog", str(ST_IN_PROGRESS), ":now", num(now),
		    ":me", str(c->owner),
		    "ReturnValues", "ALL_OLD", "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
		if (c->dead_owner != NULL)
			claim_dead_owner(req, c->dead_owner);
		json_t *resp = NULL, *old = NULL;
		struct aws_error err;

		r = aws_client_call(s->client, "PutItem", req, &resp, &err, ec);
		json_decref(req);
		if (r == 0) {
			const json_t *prev = json_object_get(resp, "Attributes");
			const char *pst = item_s(prev, "status");
			const char *pown = item_s(prev, "owner");

			*ret = pst != NULL && strcmp(pst, ST_IN_PROGRESS) == 0 && pown != NULL &&
			    strcmp(pown, c->owner) != 0 ? IDEM_TAKEN_OVER : IDEM_CLAIMED;
			if (*ret == IDEM_TAKEN_OVER)
				copy_holder(holder, prev);
			json_decref(resp);
			return 0;
		}
		if (r != -EEXIST) {
			json_decref(resp);
			return errctx_prefix(ec, "DynamoDB claim of '%s'", c->key);
		}
		/* Lost the condition: who holds it? ALL_OLD puts the item in the
		 * error; stores that ignore it (dynalite) need a read. */
		old = json_incref(json_object_get(resp, "Item"));
		json_decref(resp);
		if (old == NULL) {
			r = get_item(s, c->key, &old, ec);
			if (r < 0)
				return errctx_prefix(ec, "DynamoDB claim of '%s' (reading the holder)", c->key);
			if (old == NULL)
				continue;	/* released in between: try again */
		}
		{
			const char *st = item_s(old, "status");

			copy_holder(holder, old);
			if (st != NULL && strcmp(st, ST_COMPLETED) == 0)
				*ret = IDEM_COMPLETED;
			else if (st != NULL && strcmp(st, ST_IN_PROGRESS) == 0 &&
			    item_n(old, "lease_expires_at") >= now)
				*ret = IDEM_BUSY;
			else {
				/* Expired in the meantime: the condition will pass now. */
				json_decref(old);
				continue;
			}
		}
		json_decref(old);
		return 0;
	}
	return errctx_set(ec, -EAGAIN, "DynamoDB claim of '%s': record kept changing", c->key);
}

/* UpdateItem/DeleteItem conditional on our IN_PROGRESS ownership. */
static int
owned_write(struct ddb_store *s, const char *op, const char *key, const char *owner,
    const char *update, json_t *values, struct errctx *ec)
{
	json_t *req, *resp = NULL;
	int r;

	json_object_set_new(values, ":me", str(owner));
	json_object_set_new(values, ":inprog", str(ST_IN_PROGRESS));
	req = json_pack("{s:s, s:{s:o}, s:s, s:{s:s, s:s}, s:o}", "TableName", s->table,
	    "Key", "event_id", str(key), "ConditionExpression", "#own = :me AND #st = :inprog",
	    "ExpressionAttributeNames", "#own", "owner", "#st", "status",
	    "ExpressionAttributeValues", values);
	if (update != NULL) {
		json_object_set_new(req, "UpdateExpression", json_string(update));
		if (strstr(update, "#lease") != NULL)
			json_object_set_new(json_object_get(req, "ExpressionAttributeNames"), "#lease",
			    json_string("lease_expires_at"));
		if (strstr(update, "#done") != NULL)
			json_object_set_new(json_object_get(req, "ExpressionAttributeNames"), "#done",
			    json_string("completed_at"));
	}
	r = aws_client_call(s->client, op, req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r == -EEXIST)
		return errctx_set(ec, -EEXIST, "DynamoDB %s of '%s': the record is no longer owned by %s",
		    op, key, owner);
	return r < 0 ? errctx_prefix(ec, "DynamoDB %s of '%s'", op, key) : 0;
}

static int
ddb_renew(struct idem_store *is, const char *key, const char *owner, int64_t lease_until_usec,
    struct errctx *ec)
{
	return owned_write((struct ddb_store *)is, "UpdateItem", key, owner, "SET #lease = :lease",
	    json_pack("{s:o}", ":lease", num(sec_ceil(lease_until_usec))), ec);
}

static int
ddb_complete(struct idem_store *is, const char *key, const char *owner, int64_t now_usec,
    struct errctx *ec)
{
	return owned_write((struct ddb_store *)is, "UpdateItem", key, owner,
	    "SET #st = :done, #done = :now REMOVE #lease",
	    json_pack("{s:o, s:o}", ":done", str(ST_COMPLETED), ":now", num(sec_floor(now_usec))), ec);
}

static int
ddb_release(struct idem_store *is, const char *key, const char *owner, struct errctx *ec)
{
	return owned_write((struct ddb_store *)is, "DeleteItem", key, owner, NULL, json_object(), ec);
}

static int
ddb_preflight(struct idem_store *is, struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	struct dynamodb_table_info info = { 0 };
	json_t *req = json_pack("{s:s}", "TableName", s->table), *resp = NULL, *ks, *k;
	const char *status, *hash = NULL;
	size_t i;
	int r;

	r = aws_client_call(s->client, "DescribeTable", req, &resp, NULL, ec);
	if (r < 0)
		goto out;
	status = json_string_value(json_object_get(json_object_get(resp, "Table"), "TableStatus"));
	ks = json_object_get(json_object_get(resp, "Table"), "KeySchema");
	json_array_foreach(ks, i, k)
		if (strcmp(json_string_value(json_object_get(k, "KeyType")) ?: "", "HASH") == 0)
			hash = json_string_value(json_object_get(k, "AttributeName"));
	if (hash == NULL || strcmp(hash, "event_id") != 0 || json_array_size(ks) != 1) {
		r = errctx_set(ec, -EINVAL, "table key must be the single hash key 'event_id' (S), found '%s'",
		    hash != NULL ? hash : "none");
		goto out;
	}
	if (status != NULL && strcmp(status, "ACTIVE") != 0 && strcmp(status, "UPDATING") != 0) {
		r = errctx_set(ec, -EAGAIN, "table status is %s", status);
		goto out;
	}
	json_decref(resp);
	resp = NULL;
	r = aws_client_call(s->client, "DescribeTimeToLive", req, &resp, NULL, ec);
	if (r == 0) {
		const json_t *d = json_object_get(resp, "TimeToLiveDescription");
		const char *st = json_string_value(json_object_get(d, "TimeToLiveStatus"));
		const char *attr = json_string_value(json_object_get(d, "AttributeName"));

		snprintf(info.ttl_status, sizeof info.ttl_status, "%s", st != NULL ? st : "UNKNOWN");
		snprintf(info.ttl_attribute, sizeof info.ttl_attribute, "%s", attr != NULL ? attr : "");
		info.ttl_enabled = st != NULL && (strcmp(st, "ENABLED") == 0 || strcmp(st, "ENABLING") == 0) &&
		    attr != NULL && strcmp(attr, "expires_at") == 0;
	} else if (r == -EINVAL) {
		/* A store without the TTL API: we compare expires_at ourselves. */
		snprintf(info.ttl_status, sizeof info.ttl_status, "UNSUPPORTED");
		r = 0;
	}
	if (r == 0)
		r = probe_transactions(s, ec);
	if (r == 0) {
		info.transactions = !atomic_load(&s->no_tx);
		s->info = info;
		s->have_info = true;
	}
out:
	json_decref(req);
	json_decref(resp);
	return r < 0 ? errctx_prefix(ec, "DynamoDB table '%s'", s->table) : 0;
}

int
dynamodb_table_info(const struct idem_store *is, struct dynamodb_table_info *ret)
{
	const struct ddb_store *s = (const struct ddb_store *)is;

	if (is->ops != &ddb_ops || !s->have_info)
		return -ENOENT;
	*ret = s->info;
	return 0;
}

uint64_t
dynamodb_requests(const struct idem_store *is)
{
	const struct ddb_store *s = (const struct ddb_store *)is;

	return is->ops == &ddb_ops ? aws_client_requests(s->client) : 0;
}

static void
ddb_free(struct idem_store *is)
{
	struct ddb_store *s = (struct ddb_store *)is;

	if (s == NULL)
		return;
	aws_client_free(s->client);
	free(s->table);
	free(s);
}

/* Run keys and the account lease (issue #12): new functions at the end. */
static int ddb_lookup(struct idem_store *is, const char *key, int64_t now_usec,
    struct idem_record *ret, struct errctx *ec);
static int ddb_lease_acquire(struct idem_store *is, const struct idem_lease *l,
    enum idem_lease_result *ret, char *holder, struct errctx *ec);
static int ddb_lease_renew(struct idem_store *is, const char *key, const char *owner,
    const char *run, int64_t lease_until_usec, struct errctx *ec);
static int ddb_done_put(struct idem_store *is, const char *key, const char *run, int64_t plan_usec,
    int64_t now_usec, int64_t retention_usec, struct errctx *ec);
static int ddb_done_get(struct idem_store *is, const char *key, int64_t now_usec, char *run,
    size_t run_size, int64_t *plan_usec, struct errctx *ec);
static int ddb_lease_release(struct idem_store *is, const char *key, const char *owner,
    const char *run, struct errctx *ec);
static int ddb_claim_batch(struct idem_store *is, struct idem_claim_item *items, size_t n,
    struct errctx *ec);
static int ddb_complete_batch(struct idem_store *is, struct idem_complete_item *items, size_t n,
    struct errctx *ec);

static const struct idem_ops ddb_ops = {
	.name = "dynamodb",
	.claim = ddb_claim,
	.renew = ddb_renew,
	.complete = ddb_complete,
	.release = ddb_release,
	.preflight = ddb_preflight,
	.free = ddb_free,
	.lookup = ddb_lookup,
	.lease_acquire = ddb_lease_acquire,
	.lease_renew = ddb_lease_renew,
	.lease_release = ddb_lease_release,
	.done_put = ddb_done_put,
	.done_get = ddb_done_get,
	.claim_batch = ddb_claim_batch,
	.complete_batch = ddb_complete_batch,
};

int
dynamodb_idem_store_new(const struct dynamodb_options *o, struct aws_credentials *creds,
    struct idem_store **ret, struct errctx *ec)
{
	struct ddb_store *s;
	int r;

	if (o->table_name == NULL || *o->table_name == '\0')
		return errctx_set(ec, -EINVAL, "DynamoDB: table name is required");
	s = xcalloc(1, sizeof *s);
	r = aws_client_new(&(struct aws_client_options){ .service = "dynamodb",
	    .endpoint_prefix = "dynamodb", .target_prefix = "DynamoDB_20120810",
	    .content_type = "application/x-amz-json-1.0", .region = o->region, .endpoint = o->endpoint,
	    .max_attempts = o->max_attempts, .connect_timeout_usec = o->connect_timeout_usec,
	    .timeout_usec = o->timeout_usec, .ca_file = o->ca_file, .creds = creds }, &s->client, ec);
	if (r < 0) {
		free(s);
		return errctx_prefix(ec, "DynamoDB");
	}
	s->base.ops = &ddb_ops;
	s->table = xstrdup(o->table_name);
	*ret = &s->base;
	return 0;
}

static int
ddb_lookup(struct idem_store *is, const char *key, int64_t now_usec, struct idem_record *ret,
    struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	json_t *item = NULL;
	const char *v;
	int r;

	memset(ret, 0, sizeof *ret);
	r = get_item(s, key, &item, ec);
	if (r < 0)
		return errctx_prefix(ec, "DynamoDB lookup of '%s'", key);
	/* TTL deletion is late: an item past expires_at is gone for us. */
	if (item == NULL || item_n(item, "expires_at") < sec_floor(now_usec)) {
		json_decref(item);
		return errctx_set(ec, -ENOENT, "DynamoDB: no record '%s'", key);
	}
	v = item_s(item, "status");
	snprintf(ret->status, sizeof ret->status, "%s", v != NULL ? v : "");
	v = item_s(item, "owner");
	snprintf(ret->owner, sizeof ret->owner, "%s", v != NULL ? v : "");
	v = item_s(item, "correlation_id");
	snprintf(ret->correlation_id, sizeof ret->correlation_id, "%s", v != NULL ? v : "");
	ret->lease_expires_usec = item_n(item, "lease_expires_at") * 1000000;
	json_decref(item);
	return 0;
}

static void
lease_holder(char *holder, const json_t *item)
{
	const char *run = item_s(item, "correlation_id"), *o = item_s(item, "owner");

	if (holder != NULL)
		snprintf(holder, HOLDER_MAX, "run %s on %s", run != NULL ? run : "?", o != NULL ? o : "?");
}

/* The lease is an item of the idempotency table: status IN_PROGRESS,
 * detail_type AccountLease, correlation_id = the holding run, expires_at (the
 * TTL) a day past the lease so abandoned leases are deleted eventually. */
static int
ddb_lease_acquire(struct idem_store *is, const struct idem_lease *l, enum idem_lease_result *ret,
    char *holder, struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	int64_t now = sec_floor(l->now_usec);
	int r = -EIO;

	if (l->key == NULL || *l->key == '\0' || l->owner == NULL || *l->owner == '\0' ||
	    l->run == NULL || *l->run == '\0' || l->lease_usec <= 0)
		return errctx_set(ec, -EINVAL, "DynamoDB account lease: key, owner, run and a positive lease are required");
	for (int round = 0; round < CLAIM_ROUNDS; round++) {
		json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "event_id", str(l->key), "status", str(ST_IN_PROGRESS), "owner", str(l->owner),
		    "lease_expires_at", num(sec_ceil(l->now_usec + l->lease_usec)),
		    "expires_at", num(sec_ceil(l->now_usec + l->lease_usec) + 86400),
		    "detail_type", str("AccountLease"), "correlation_id", str(l->run),
		    "claimed_at", num(now));
		json_t *req = json_pack("{s:s, s:o, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:o, s:o, s:o}, s:s, s:s}",
		    "TableName", s->table, "Item", item,
		    "ConditionExpression", "attribute_not_exists(#id) OR #lease < :now "
		    "OR (#own = :me AND #run = :run)",
		    "ExpressionAttributeNames", "#id", "event_id", "#lease", "lease_expires_at",
		    "#own", "owner", "#run", "correlation_id",
		    "ExpressionAttributeValues", ":now", num(now), ":me", str(l->owner), ":run", str(l->run),
		    "ReturnValues", "ALL_OLD", "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
		json_t *resp = NULL, *old = NULL;

		r = aws_client_call(s->client, "PutItem", req, &resp, NULL, ec);
		json_decref(req);
		if (r == 0) {
			const json_t *prev = json_object_get(resp, "Attributes");
			const char *pown = item_s(prev, "owner"), *prun = item_s(prev, "correlation_id");

			*ret = pown != NULL && (strcmp(pown, l->owner) != 0 || prun == NULL ||
			    strcmp(prun, l->run) != 0) ? IDEM_LEASE_TAKEN_OVER : IDEM_LEASE_ACQUIRED;
			if (*ret == IDEM_LEASE_TAKEN_OVER)
				lease_holder(holder, prev);
			json_decref(resp);
			return 0;
		}
		if (r != -EEXIST) {
			json_decref(resp);
			return errctx_prefix(ec, "DynamoDB account lease '%s'", l->key);
		}
		old = json_incref(json_object_get(resp, "Item"));
		json_decref(resp);
		if (old == NULL) {
			r = get_item(s, l->key, &old, ec);
			if (r < 0)
				return errctx_prefix(ec, "DynamoDB account lease '%s' (reading the holder)", l->key);
			if (old == NULL)
				continue;	/* released in between */
		}
		if (item_n(old, "lease_expires_at") < now) {
			json_decref(old);
			continue;	/* lapsed in between: the condition passes now */
		}
		*ret = IDEM_LEASE_BUSY;
		lease_holder(holder, old);
		json_decref(old);
		return 0;
	}
	return errctx_set(ec, -EAGAIN, "DynamoDB account lease '%s': record kept changing", l->key);
}

/* UpdateItem/DeleteItem on the lease, conditional on (owner, run). */
static int
lease_write(struct ddb_store *s, const char *op, const char *key, const char *owner,
    const char *run, const char *update, json_t *values, struct errctx *ec)
{
	json_t *req, *resp = NULL;
	int r;

	if (key == NULL || owner == NULL || run == NULL) {
		json_decref(values);
		return errctx_set(ec, -EINVAL, "DynamoDB account lease: key, owner and run are required");
	}
	json_object_set_new(values, ":me", str(owner));
	json_object_set_new(values, ":run", str(run));
	req = json_pack("{s:s, s:{s:o}, s:s, s:{s:s, s:s}, s:o}", "TableName", s->table,
	    "Key", "event_id", str(key), "ConditionExpression", "#own = :me AND #run = :run",
	    "ExpressionAttributeNames", "#own", "owner", "#run", "correlation_id",
	    "ExpressionAttributeValues", values);
	if (update != NULL) {
		json_t *names = json_object_get(req, "ExpressionAttributeNames");

		json_object_set_new(req, "UpdateExpression", json_string(update));
		json_object_set_new(names, "#lease", json_string("lease_expires_at"));
		json_object_set_new(names, "#exp", json_string("expires_at"));
	}
	r = aws_client_call(s->client, op, req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r == -EEXIST)
		return errctx_set(ec, -EEXIST, "DynamoDB account lease '%s' is no longer held by run %s on %s",
		    key, run, owner);
	return r < 0 ? errctx_prefix(ec, "DynamoDB account lease %s of '%s'", op, key) : 0;
}

static int
ddb_lease_renew(struct idem_store *is, const char *key, const char *owner, const char *run,
    int64_t lease_until_usec, struct errctx *ec)
{
	return lease_write((struct ddb_store *)is, "UpdateItem", key, owner, run,
	    "SET #lease = :lease, #exp = :exp", json_pack("{s:o, s:o}", ":lease",
	    num(sec_ceil(lease_until_usec)), ":exp", num(sec_ceil(lease_until_usec) + 86400)), ec);
}

static int
ddb_lease_release(struct idem_store *is, const char *key, const char *owner, const char *run,
    struct errctx *ec)
{
	return lease_write((struct ddb_store *)is, "DeleteItem", key, owner, run, NULL, json_object(),
	    ec);
}

/* The account's last execution: an item of the idempotency table, status
 * COMPLETED, detail_type AccountDone, correlation_id = the run, plan_usec =
 * its plan's time; the condition keeps the latest plan time. */
static int
ddb_done_put(struct idem_store *is, const char *key, const char *run, int64_t plan_usec,
    int64_t now_usec, int64_t retention_usec, struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	json_t *req, *resp = NULL;
	int r;

	if (key == NULL || *key == '\0' || run == NULL || *run == '\0' || retention_usec <= 0)
		return errctx_set(ec, -EINVAL, "DynamoDB account done: key, run and a positive retention are required");
	req = json_pack("{s:s, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:s, s:{s:s, s:s, s:s},"
	    " s:{s:o, s:o}}", "TableName", s->table,
	    "Item", "event_id", str(key), "status", str(ST_COMPLETED), "owner", str("account-done"),
	    "detail_type", str("AccountDone"), "correlation_id", str(run), "plan_usec", num(plan_usec),
	    "completed_at", num(sec_floor(now_usec)),
	    "expires_at", num(sec_ceil(now_usec + retention_usec)),
	    "ConditionExpression", "attribute_not_exists(#id) OR #plan < :plan OR #exp < :now",
	    "ExpressionAttributeNames", "#id", "event_id", "#plan", "plan_usec", "#exp", "expires_at",
	    "ExpressionAttributeValues", ":plan", num(plan_usec), ":now", num(sec_floor(now_usec)));
	r = aws_client_call(s->client, "PutItem", req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r == -EEXIST) {
		errctx_clear(ec);
		return 0;	/* a later plan is recorded: it stays */
	}
	return r < 0 ? errctx_prefix(ec, "DynamoDB account done '%s'", key) : 0;
}

static int
ddb_done_get(struct idem_store *is, const char *key, int64_t now_usec, char *run, size_t run_size,
    int64_t *plan_usec, struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	json_t *item = NULL;
	const char *v;
	int r;

	r = get_item(s, key, &item, ec);
	if (r < 0)
		return errctx_prefix(ec, "DynamoDB account done '%s'", key);
	v = item_s(item, "correlation_id");
	if (item == NULL || item_n(item, "expires_at") < sec_floor(now_usec) || v == NULL ||
	    json_object_get(item, "plan_usec") == NULL) {
		json_decref(item);
		return errctx_set(ec, -ENOENT, "DynamoDB account done '%s': none recorded", key);
	}
	(void)snprintf(run, run_size, "%s", v);
	*plan_usec = item_n(item, "plan_usec");
	json_decref(item);
	return 0;
}

/* ---- batches (issue #13): one TransactWriteItems per receive ------------- */

static bool
tx_unsupported(const struct aws_error *err)
{
	return strcmp(err->code, "UnknownOperationException") == 0;
}

/* Send one transaction: b holds '{"TransactItems":[' and n items; this
 * closes it. 0: applied. -ECANCELED: cancelled, *reasons = the
 * CancellationReasons array (one entry per item, referenced). -ENOTSUP: the
 * endpoint has no transactions (remembered). Else the call's error. */
static int
tx_call(struct ddb_store *s, struct reqbuf *b, size_t n, json_t **reasons, struct errctx *ec)
{
	char token[UUID_STRLEN];
	json_t *resp = NULL;
	struct aws_error err;
	size_t len;
	char *body;
	int r;

	*reasons = NULL;
	/* The token makes the client's retry of a lost answer idempotent (the
	 * service replays the first outcome for 10 minutes). */
	(void)uuid_v4(token);
	reqbuf_raw(b, "],\"ClientRequestToken\":");
	reqbuf_str(b, token);
	reqbuf_raw(b, "}");
	body = reqbuf_take(b, &len);
	r = aws_client_call_text(s->client, "TransactWriteItems", body, len, &resp, &err, ec);
	free(body);
	if (r < 0 && tx_unsupported(&err)) {
		atomic_store(&s->no_tx, true);
		r = errctx_set(ec, -ENOTSUP, "DynamoDB TransactWriteItems: not supported by the endpoint");
	} else if (r < 0 && strcmp(err.code, "TransactionCanceledException") == 0) {
		json_t *cr = json_object_get(resp, "CancellationReasons");

		if (json_is_array(cr) && json_array_size(cr) == n) {
			*reasons = json_incref(cr);
			r = -ECANCELED;
		} else
			r = errctx_set(ec, -EPROTO, "DynamoDB TransactWriteItems: cancelled without a "
			    "reason per item");
	}
	json_decref(resp);
	return r;
}

/* Attribute values written directly: {"S":"..."} and {"N":"..."}. */
static void
put_s(struct reqbuf *b, const char *name, const char *v)
{
	reqbuf_raw(b, name);
	reqbuf_raw(b, "{\"S\":");
	reqbuf_str(b, v);
	reqbuf_raw(b, "}");
}

static void
put_n(struct reqbuf *b, const char *name, int64_t v)
{
	reqbuf_raw(b, name);
	reqbuf_raw(b, "{\"N\":\"");
	reqbuf_int(b, v);
	reqbuf_raw(b, "\"}");
}

static const char *
reason_code(const json_t *reasons, size_t i)
{
	return json_string_value(json_object_get(json_array_get(reasons, i), "Code")) ?: "";
}

/* The claim of a batch: only the plain cases (absent, or our own live claim
 * after a lost answer), which are CLAIMED for sure. Everything else (expired
 * leases, past the dedup window, dead holders) fails here and is decided by
 * the single claim, which returns the old item and so tells TAKEN_OVER. */
static void
tx_claim_put(struct ddb_store *s, struct reqbuf *b, const struct idem_claim *c)
{
	reqbuf_raw(b, "{\"Put\":{\"TableName\":");
	reqbuf_str(b, s->table);
	put_s(b, ",\"Item\":{\"event_id\":", c->key);
	put_s(b, ",\"status\":", ST_IN_PROGRESS);
	put_s(b, ",\"owner\":", c->owner);
	put_n(b, ",\"lease_expires_at\":", sec_ceil(c->now_usec + c->lease_usec));
	put_n(b, ",\"expires_at\":", sec_ceil(c->now_usec + c->retention_usec));
	put_s(b, ",\"detail_type\":", c->detail_type);
	put_s(b, ",\"correlation_id\":", c->correlation_id);
	put_n(b, ",\"claimed_at\":", sec_floor(c->now_usec));
	reqbuf_raw(b, "},\"ConditionExpression\":\"attribute_not_exists(#id) OR "
	    "(#st = :inprog AND #own = :me)\",\"ExpressionAttributeNames\":{\"#id\":\"event_id\","
	    "\"#st\":\"status\",\"#own\":\"owner\"},\"ExpressionAttributeValues\":{");
	put_s(b, "\":inprog\":", ST_IN_PROGRESS);
	put_s(b, ",\":me\":", c->owner);
	reqbuf_raw(b, "},\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}}");
}

/* A batch claim lost its condition and the old item came back: the answers
 * the single claim would give without writing (COMPLETED within the window,
 * another owner's live lease). false: let the single claim decide. */
static bool
decided_from_old(struct idem_claim_item *it, const json_t *old)
{
	int64_t now = sec_floor(it->c.now_usec);
	const char *st = item_s(old, "status"), *own = item_s(old, "owner");

	if (old == NULL || st == NULL || item_n(old, "expires_at") < now)
		return false;
	if (strcmp(st, ST_COMPLETED) == 0)
		it->res = IDEM_COMPLETED;
	else if (strcmp(st, ST_IN_PROGRESS) == 0 && own != NULL && strcmp(own, it->c.owner) != 0 &&
	    item_n(old, "lease_expires_at") >= now)
		it->res = IDEM_BUSY;
	else
		return false;
	copy_holder(it->holder, old);
	it->r = 0;
	return true;
}

/* Does key occur in items[0..i)? A transaction may name an item once. */
static bool
key_seen(const char *const *keys, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(keys[j], keys[i]) == 0)
			return true;
	return false;
}

enum { ITEM_TX, ITEM_SINGLE, ITEM_DONE };

/* What claims and completions do differently in tx_batch_part. */
struct tx_ops {
	/* Item i of the part (a Put or an Update) into the transaction. */
	void	(*write)(struct ddb_store *s, struct reqbuf *b, void *part, size_t i);
	/* The transaction applied item i. */
	void	(*applied)(void *part, size_t i);
	/* The transaction was cancelled and item i would not have passed
	 * (code, reason: its CancellationReasons entry): ITEM_DONE when that
	 * decides it, else ITEM_SINGLE. */
	int	(*refused)(void *part, size_t i, const char *code, const json_t *reason,
		    struct errctx *ec);
	/* Item i alone, as a single conditional call. */
	int	(*single)(struct idem_store *is, void *part, size_t i, struct errctx *ec);
};

/* One part of a batch (at most TX_MAX items, state[] ITEM_TX or
 * ITEM_SINGLE): transaction rounds while two or more items can go together,
 * then a single call for every item no round decided. */
static void
tx_batch_part(struct idem_store *is, const struct tx_ops *ops, void *part, size_t m, int *state,
    struct errctx *ec)
{
	struct ddb_store *s = (struct ddb_store *)is;
	size_t in_tx = 0, i, k;

	for (i = 0; i < m; i++)
		in_tx += state[i] == ITEM_TX;
	/* One item gains nothing from a transaction and would lose ALL_OLD. */
	for (int round = 0; in_tx >= 2 && !atomic_load(&s->no_tx) && round < CLAIM_ROUNDS;
	    round++) {
		struct reqbuf tx = { 0 };
		json_t *reasons = NULL;
		size_t idx[TX_MAX];
		int r;

		reqbuf_raw(&tx, "{\"TransactItems\":[");
		for (i = 0, k = 0; i < m; i++)
			if (state[i] == ITEM_TX) {
				if (k > 0)
					reqbuf_raw(&tx, ",");
				idx[k++] = i;
				ops->write(s, &tx, part, i);
			}
		r = tx_call(s, &tx, k, &reasons, ec);
		if (r == 0) {
			for (i = 0; i < k; i++) {
				ops->applied(part, idx[i]);
				state[idx[i]] = ITEM_DONE;
			}
			break;
		}
		if (r == -ENOTSUP)
			break;
		if (r != -ECANCELED) {
			/* A failed transaction (5xx after retries, throttling, a
			 * conflict with another transaction) applied nothing, or
			 * applied all if only its answer was lost: each item goes
			 * alone, conditional as ever, so no claim is taken unfenced,
			 * no record is left IN_PROGRESS (a redelivered copy could
			 * take it over once the lease ends), and one bad batch does
			 * not fail ten messages. */
			errctx_clear(ec);
			break;
		}
		/* Cancelled: the items that would have passed ("None") go again;
		 * the others are decided by their reason or alone. */
		in_tx = 0;
		for (i = 0; i < k; i++) {
			const char *code = reason_code(reasons, i);

			if (strcmp(code, "None") == 0 || code[0] == '\0')
				in_tx++;
			else
				state[idx[i]] = ops->refused(part, idx[i], code,
				    json_array_get(reasons, i), ec);
		}
		json_decref(reasons);
	}
	for (i = 0; i < m; i++) {
		struct errctx iec = { 0 };

		if (state[i] == ITEM_DONE)
			continue;
		if (ops->single(is, part, i, &iec) < 0)
			*ec = iec;
	}
}

static void
claim_write(struct ddb_store *s, struct reqbuf *b, void *part, size_t i)
{
	tx_claim_put(s, b, &((struct idem_claim_item *)part)[i].c);
}

static void
claim_applied(void *part, size_t i)
{
	((struct idem_claim_item *)part)[i].r = 0;
	((struct idem_claim_item *)part)[i].res = IDEM_CLAIMED;
}

static int
claim_refused(void *part, size_t i, const char *code, const json_t *reason, struct errctx *ec)
{
	(void)ec;
	return strcmp(code, "ConditionalCheckFailed") == 0 &&
	    decided_from_old(&((struct idem_claim_item *)part)[i], json_object_get(reason, "Item")) ?
	    ITEM_DONE : ITEM_SINGLE;
}

static int
claim_single(struct idem_store *is, void *part, size_t i, struct errctx *ec)
{
	struct idem_claim_item *it = &((struct idem_claim_item *)part)[i];

	return it->r = ddb_claim(is, &it->c, &it->res, it->holder, ec);
}

static const struct tx_ops claim_ops = { claim_write, claim_applied, claim_refused, claim_single };

static int
ddb_claim_batch(struct idem_store *is, struct idem_claim_item *items, size_t n, struct errctx *ec)
{
	for (size_t base = 0; base < n; base += TX_MAX) {
		size_t m = n - base < TX_MAX ? n - base : TX_MAX;
		struct idem_claim_item *part = items + base;
		const char *keys[TX_MAX];
		int state[TX_MAX];

		for (size_t i = 0; i < m; i++) {
			const struct idem_claim *c = &part[i].c;

			keys[i] = c->key != NULL ? c->key : "";
			part[i].holder[0] = '\0';
			part[i].r = -EIO;
			/* Dead holders are rare and need the fenced condition: one by one. */
			state[i] = c->dead_owner != NULL || c->key == NULL || c->owner == NULL ||
			    key_seen(keys, i) ? ITEM_SINGLE : ITEM_TX;
		}
		tx_batch_part(is, &claim_ops, part, m, state, ec);
	}
	return 0;
}

static void
tx_complete_update(struct ddb_store *s, struct reqbuf *b, const struct idem_complete_item *it)
{
	reqbuf_raw(b, "{\"Update\":{\"TableName\":");
	reqbuf_str(b, s->table);
	put_s(b, ",\"Key\":{\"event_id\":", it->key);
	reqbuf_raw(b, "},\"UpdateExpression\":\"SET #st = :done, #done = :now REMOVE #lease\","
	    "\"ConditionExpression\":\"#own = :me AND #st = :inprog\",\"ExpressionAttributeNames\":{"
	    "\"#own\":\"owner\",\"#st\":\"status\",\"#done\":\"completed_at\","
	    "\"#lease\":\"lease_expires_at\"},\"ExpressionAttributeValues\":{");
	put_s(b, "\":me\":", it->owner);
	put_s(b, ",\":inprog\":", ST_IN_PROGRESS);
	put_s(b, ",\":done\":", ST_COMPLETED);
	put_n(b, ",\":now\":", sec_floor(it->now_usec));
	reqbuf_raw(b, "}}}");
}

static void
complete_write(struct ddb_store *s, struct reqbuf *b, void *part, size_t i)
{
	tx_complete_update(s, b, &((struct idem_complete_item *)part)[i]);
}

static void
complete_applied(void *part, size_t i)
{
	((struct idem_complete_item *)part)[i].r = 0;
}

static int
complete_refused(void *part, size_t i, const char *code, const json_t *reason, struct errctx *ec)
{
	struct idem_complete_item *it = &((struct idem_complete_item *)part)[i];

	(void)reason;
	if (strcmp(code, "ConditionalCheckFailed") != 0)
		return ITEM_SINGLE;
	it->r = errctx_set(ec, -EEXIST, "DynamoDB UpdateItem of '%s': the record is no longer "
	    "owned by %s", it->key, it->owner);
	return ITEM_DONE;
}

static int
complete_single(struct idem_store *is, void *part, size_t i, struct errctx *ec)
{
	struct idem_complete_item *it = &((struct idem_complete_item *)part)[i];

	return it->r = ddb_complete(is, it->key, it->owner, it->now_usec, ec);
}

static const struct tx_ops complete_ops = {
	complete_write, complete_applied, complete_refused, complete_single
};

/* Completions are conditional updates in a transaction, not BatchWriteItem:
 * that takes no conditions, so it could complete a record another owner
 * took over after our lease lapsed. */
static int
ddb_complete_batch(struct idem_store *is, struct idem_complete_item *items, size_t n,
    struct errctx *ec)
{
	for (size_t base = 0; base < n; base += TX_MAX) {
		size_t m = n - base < TX_MAX ? n - base : TX_MAX;
		struct idem_complete_item *part = items + base;
		const char *keys[TX_MAX];
		int state[TX_MAX];

		for (size_t i = 0; i < m; i++) {
			keys[i] = part[i].key != NULL ? part[i].key : "";
			part[i].r = -EIO;
			state[i] = part[i].key == NULL || part[i].owner == NULL || key_seen(keys, i) ?
			    ITEM_SINGLE : ITEM_TX;
		}
		tx_batch_part(is, &complete_ops, part, m, state, ec);
	}
	return 0;
}

/* Whether the endpoint takes transactions, asked once at preflight with a
 * ConditionCheck that writes nothing. */
static int
probe_transactions(struct ddb_store *s, struct errctx *ec)
{
	struct reqbuf tx = { 0 };
	json_t *reasons = NULL;
	int r;

	reqbuf_raw(&tx, "{\"TransactItems\":[{\"ConditionCheck\":{\"TableName\":");
	reqbuf_str(&tx, s->table);
	put_s(&tx, ",\"Key\":{\"event_id\":", "alchemiserd-transaction-probe");
	reqbuf_raw(&tx, "},\"ConditionExpression\":\"attribute_not_exists(#id)\","
	    "\"ExpressionAttributeNames\":{\"#id\":\"event_id\"}}}");
	r = tx_call(s, &tx, 1, &reasons, ec);
	json_decref(reasons);
	/* Cancelled means the API exists (someone wrote the probe key). */
	if (r == -ECANCELED)
		r = 0;
	if (r == -ENOTSUP) {
		errctx_clear(ec);
		r = 0;
	}
	return r;
}
