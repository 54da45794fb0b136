/* DynamoDB idempotency store: see include/alchemiser/aws/dynamodb.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/dynamodb.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"

#define ST_IN_PROGRESS "IN_PROGRESS"
#define ST_COMPLETED "COMPLETED"
#define HOLDER_MAX 128
#define CLAIM_ROUNDS 3

struct ddb_store {
	struct idem_store		 base;
	struct aws_client		*client;
	char				*table;
	bool				 have_info;
	struct dynamodb_table_info	 info;
};

static const struct idem_ops ddb_ops;

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
	if (r == 0) {
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

static const struct idem_ops ddb_ops = {
	.name = "dynamodb",
	.claim = ddb_claim,
	.renew = ddb_renew,
	.complete = ddb_complete,
	.release = ddb_release,
	.preflight = ddb_preflight,
	.free = ddb_free,
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
