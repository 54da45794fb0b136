/* Run and parked-message records in DynamoDB: see include/alchemiser/aws/dynamodb_runs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/dynamodb_runs.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/timeutil.h"
#include "alchemiser/core/xalloc.h"

#define BATCH_GET_MAX		100	/* keys per BatchGetItem (the service's limit) */
#define BATCH_GET_ROUNDS	5	/* asks for UnprocessedKeys at most this often */
#define DEFAULT_RETENTION_USEC	(INT64_C(90) * USEC_PER_DAY)

struct dynamodb_runs {
	struct aws_client	*client;
	char			*table;
	int64_t			 retention_usec;
};

static json_t *
av_s(const char *s)
{
	return json_pack("{s:s}", "S", s);
}

static json_t *
av_n(int64_t v)
{
	char buf[24];

	(void)snprintf(buf, sizeof buf, "%lld", (long long)v);
	return json_pack("{s:s}", "N", buf);
}

static const char *
item_s(const json_t *item, const char *name)
{
	return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

static int64_t
item_n(const json_t *item, const char *name, int64_t none)
{
	const char *v = json_string_value(json_object_get(json_object_get(item, name), "N"));

	return v != NULL ? strtoll(v, NULL, 10) : none;
}

static json_t *
key_of(const char *prefix, const char *id)
{
	char *k = xasprintf("%s%s", prefix, id);
	json_t *key = json_pack("{s:o}", "event_id", av_s(k));

	free(k);
	return key;
}

static json_t *
day_key(const char *prefix, int64_t usec)
{
	char day[16];

	time_format_date(usec >= 0 ? usec / USEC_PER_DAY : -((-usec + USEC_PER_DAY - 1) / USEC_PER_DAY),
	    day);
	return key_of(prefix, day);
}

static int64_t
expires_at(const struct dynamodb_runs *r, int64_t now_usec)
{
	return (now_usec + r->retention_usec) / USEC_PER_SEC;
}

/* op on the table: req gets TableName; takes req. */
static int
call(struct dynamodb_runs *r, const char *op, json_t *req, json_t **resp, struct errctx *ec)
{
	json_t *out = NULL;
	int rc;

	json_object_set_new(req, "TableName", json_string(r->table));
	rc = aws_client_call(r->client, op, req, &out, NULL, ec);
	json_decref(req);
	if (rc < 0) {
		json_decref(out);
		return errctx_prefix(ec, "DynamoDB %s on '%s'", op, r->table);
	}
	if (resp != NULL)
		*resp = out;
	else
		json_decref(out);
	return 0;
}

/* ADD id to the day set under prefix. */
static int
add_to_day(struct dynamodb_runs *r, const char *prefix, const char *id, int64_t time_usec,
    struct errctx *ec)
{
	return call(r, "UpdateItem", json_pack("{s:o, s:s, s:{s:s, s:s}, s:{s:{s:[s]}, s:o}}",
	    "Key", day_key(prefix, time_usec), "UpdateExpression", "ADD #i :i SET #x = :x",
	    "ExpressionAttributeNames", "#i", "ids", "#x", "expires_at",
	    "ExpressionAttributeValues", ":i", "SS", id, ":x", av_n(expires_at(r, time_usec))), NULL, ec);
}

int
dynamodb_runs_record(struct dynamodb_runs *r, const char *detail_type, const char *detail,
    int64_t time_usec, struct errctx *ec)
{
	json_t *d = json_loads(detail, 0, NULL), *vals, *names;
	const char *corr = json_string_value(json_object_get(d, "correlation_id"));
	const char *id = json_string_value(json_object_get(d, "event_id"));
	bool completed = strcmp(detail_type, "WorkflowCompleted") == 0;
	bool failed = strcmp(detail_type, "WorkflowFailed") == 0;
	char expr[320];
	int rc;

	if (corr == NULL || *corr == '\0') {
		json_decref(d);
		return 0;
	}
	names = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "#c", "correlation_id", "#s", "started_usec",
	    "#l", "last_usec", "#p", "steps", "#e", "events", "#x", "expires_at");
	/* The event id lets a read drop the copy a retried publish appends again. */
	vals = json_pack("{s:o, s:o, s:{s:[{s:{s:o, s:o, s:o}}]}, s:{s:[{s:{s:o, s:o, s:o, s:o}}]}, s:{s:[]}, s:o}",
	    ":c", av_s(corr), ":t", av_n(time_usec),
	    ":step", "L", "M", "t", av_n(time_usec), "type", av_s(detail_type), "id", av_s(id ?: ""),
	    ":ev", "L", "M", "t", av_n(time_usec), "type", av_s(detail_type), "id", av_s(id ?: ""),
	    "detail", av_s(detail),
	    ":nil", "L", ":x", av_n(expires_at(r, time_usec)));
	(void)snprintf(expr, sizeof expr, "SET #c = :c, #s = if_not_exists(#s, :t), #l = :t, "
	    "#p = list_append(if_not_exists(#p, :nil), :step), "
	    "#e = list_append(if_not_exists(#e, :nil), :ev), #x = :x%s",
	    completed || failed ? ", #f = :t, #o = :o" : "");
	if (completed || failed) {
		json_object_set_new(names, "#f", json_string("finished_usec"));
		json_object_set_new(names, "#o", json_string("outcome"));
		json_object_set_new(vals, ":o", av_s(!completed ? "failure" :
		    json_is_string(json_object_get(d, "superseded_by")) ? "superseded" : "success"));
	}
	rc = call(r, "UpdateItem", json_pack("{s:o, s:s, s:o, s:o}", "Key", key_of("run#", corr),
	    "UpdateExpression", expr, "ExpressionAttributeNames", names,
	    "ExpressionAttributeValues", vals), NULL, ec);
	if (rc == 0)
		rc = add_to_day(r, "runs#day#", corr, time_usec, ec);
	if (rc < 0)
		errctx_prefix(ec, "run record of %s", corr);
	json_decref(d);
	return rc;
}

/* BatchGetItem of keys (any number), *items gets every item found (in no
 * particular order). projection and names may be NULL. */
static int
batch_get(struct dynamodb_runs *r, json_t *keys, const char *projection, json_t *names,
    json_t **items, struct errctx *ec)
{
	size_t off = 0;
	int rc = 0;

	*items = json_array();
	while (rc == 0 && off < json_array_size(keys)) {
		json_t *chunk = json_array(), *pending;
		size_t i, round;

		for (i = off; i < json_array_size(keys) && i < off + BATCH_GET_MAX; i++)
			json_array_append(chunk, json_array_get(keys, i));
		off = i;
		pending = json_pack("{s:o, s:b}", "Keys", chunk, "ConsistentRead", 1);
		if (projection != NULL) {
			json_object_set_new(pending, "ProjectionExpression", json_string(projection));
			json_object_set(pending, "ExpressionAttributeNames", names);
		}
		for (round = 0; pending != NULL && rc == 0; round++) {
			json_t *resp = NULL, *got, *req;

			if (round == BATCH_GET_ROUNDS) {
				rc = errctx_set(ec, -EAGAIN, "DynamoDB BatchGetItem on '%s': keys still "
				    "unprocessed after %d rounds", r->table, BATCH_GET_ROUNDS);
				break;
			}
			req = json_pack("{s:{s:o}}", "RequestItems", r->table, pending);
			pending = NULL;
			rc = aws_client_call(r->client, "BatchGetItem", req, &resp, NULL, ec);
			json_decref(req);
			if (rc < 0) {
				errctx_prefix(ec, "DynamoDB BatchGetItem on '%s'", r->table);
				json_decref(resp);
				break;
			}
			got = json_object_get(json_object_get(resp, "Responses"), r->table);
			json_array_extend(*items, got);
			pending = json_incref(json_object_get(json_object_get(resp, "UnprocessedKeys"),
			    r->table));
			if (pending != NULL && json_array_size(json_object_get(pending, "Keys")) == 0) {
				json_decref(pending);
				pending = NULL;
			}
			json_decref(resp);
		}
		json_decref(pending);
	}
	if (rc < 0) {
		json_decref(*items);
		*items = NULL;
	}
	return rc;
}

/* The ids of the day sets under prefix, newest day first, until at least
 * max ids or DYNAMODB_RUNS_LOOKBACK_DAYS days: a JSON object used as a set. */
static int
day_ids(struct dynamodb_runs *r, const char *prefix, int64_t now_usec, size_t max, json_t **ret,
    struct errctx *ec)
{
	json_t *keys = json_array(), *items = NULL, *ids = json_object(), *names;
	int64_t d;
	int rc;

	for (d = 0; d < DYNAMODB_RUNS_LOOKBACK_DAYS; d++)
		json_array_append_new(keys, day_key(prefix, now_usec - d * USEC_PER_DAY));
	names = json_pack("{s:s, s:s}", "#k", "event_id", "#i", "ids");
	rc = batch_get(r, keys, "#k, #i", names, &items, ec);
	json_decref(names);
	if (rc == 0) {
		/* Newest day first: the order of the keys, not of the answer. */
		for (d = 0; d < DYNAMODB_RUNS_LOOKBACK_DAYS && json_object_size(ids) < max; d++) {
			const char *want = item_s(json_array_get(keys, (size_t)d), "event_id");
			const json_t *it, *id;
			size_t i, j;

			json_array_foreach(items, i, it) {
				if (strcmp(item_s(it, "event_id") ?: "", want) != 0)
					continue;
				json_array_foreach(json_object_get(json_object_get(it, "ids"), "SS"), j, id)
					json_object_set_new(ids, json_string_value(id), json_true());
			}
		}
	}
	json_decref(items);
	json_decref(keys);
	if (rc < 0) {
		json_decref(ids);
		return rc;
	}
	*ret = ids;
	return 0;
}

static int
by_number(const void *a, const void *b, const char *field, int dir)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, field));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, field));

	return x < y ? -dir : x > y ? dir : 0;
}

static int
newest_first(const void *a, const void *b)
{
	return by_number(a, b, "started_usec", -1);
}

static int
oldest_first(const void *a, const void *b)
{
	return by_number(a, b, "parked_usec", 1);
}

/* Equal times keep the order they were appended in (qsort is not stable). */
static int
by_time(const void *a, const void *b)
{
	return by_number(a, b, "t", 1) ?: by_number(a, b, "seq", 1);
}

/* A JSON array sorted with cmp (the elements keep their references). */
static json_t *
sorted(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr), i;
	json_t **v = xcalloc(n + 1, sizeof *v), *out = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof *v, cmp);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* [{t, type}] of a steps or events attribute, in time order (stable for
 * equal times), each event id once. */
static json_t *
timeline(const json_t *list_attr, bool with_detail)
{
	json_t *tmp = json_array(), *out, *seen = json_object();
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(list_attr, "L"), i, e) {
		const json_t *m = json_object_get(e, "M");
		const char *id = item_s(m, "id");
		json_t *x;

		if (id != NULL && *id != '\0') {
			if (json_object_get(seen, id) != NULL)
				continue;
			json_object_set_new(seen, id, json_true());
		}
		x = json_pack("{s:I, s:s?, s:I}", "t", (json_int_t)item_n(m, "t", 0), "type",
		    item_s(m, "type"), "seq", (json_int_t)i);

		if (with_detail)
			json_object_set_new(x, "detail", json_string(item_s(m, "detail") ?: "{}"));
		json_array_append_new(tmp, x);
	}
	out = sorted(tmp, by_time);
	json_decref(tmp);
	json_decref(seen);
	return out;
}

int
dynamodb_runs_list(struct dynamodb_runs *r, int64_t now_usec, size_t max, json_t **ret,
    struct errctx *ec)
{
	json_t *ids = NULL, *keys, *items = NULL, *runs, *all, *names;
	const char *id;
	json_t *v;
	size_t i;
	int rc;

	*ret = NULL;
	rc = day_ids(r, "runs#day#", now_usec, max, &ids, ec);
	if (rc < 0)
		return rc;
	keys = json_array();
	json_object_foreach(ids, id, v)
		json_array_append_new(keys, key_of("run#", id));
	json_decref(ids);
	names = json_pack("{s:s, s:s, s:s, s:s, s:s}", "#c", "correlation_id", "#s", "started_usec",
	    "#f", "finished_usec", "#o", "outcome", "#p", "steps");
	rc = batch_get(r, keys, "#c, #s, #f, #o, #p", names, &items, ec);
	json_decref(names);
	json_decref(keys);
	if (rc < 0)
		return rc;
	all = json_array();
	json_array_foreach(items, i, v) {
		json_t *tl = timeline(json_object_get(v, "steps"), false), *steps = json_array(), *s;
		int64_t fin = item_n(v, "finished_usec", -1), prev = item_n(v, "started_usec", 0);
		size_t j;

		if (item_s(v, "correlation_id") == NULL) {
			json_decref(tl);
			json_decref(steps);
			continue;
		}
		json_array_foreach(tl, j, s) {
			json_int_t t = json_integer_value(json_object_get(s, "t"));

			json_array_append_new(steps, json_pack("{s:O, s:I, s:I}", "detail_type",
			    json_object_get(s, "type"), "claimed_usec", (json_int_t)prev, "completed_usec", t));
			prev = t;
		}
		json_decref(tl);
		json_array_append_new(all, json_pack("{s:s, s:I, s:o, s:s, s:o}", "correlation_id",
		    item_s(v, "correlation_id"), "started_usec", (json_int_t)item_n(v, "started_usec", 0),
		    "finished_usec", fin >= 0 ? json_integer(fin) : json_null(),
		    "outcome", item_s(v, "outcome") ?: "running", "steps", steps));
	}
	json_decref(items);
	runs = sorted(all, newest_first);
	json_decref(all);
	while (json_array_size(runs) > max)
		json_array_remove(runs, json_array_size(runs) - 1);
	*ret = runs;
	return 0;
}

int
dynamodb_runs_events(struct dynamodb_runs *r, const char *correlation_id, json_t **ret,
    struct errctx *ec)
{
	json_t *resp = NULL, *tl, *events, *e;
	size_t i;
	int rc;

	*ret = NULL;
	rc = call(r, "GetItem", json_pack("{s:o, s:b}", "Key", key_of("run#", correlation_id),
	    "ConsistentRead", 1), &resp, ec);
	if (rc < 0)
		return rc;
	tl = timeline(json_object_get(json_object_get(resp, "Item"), "events"), true);
	json_decref(resp);
	events = json_array();
	json_array_foreach(tl, i, e) {
		json_t *detail = json_loads(json_string_value(json_object_get(e, "detail")), 0, NULL);

		json_array_append_new(events, json_pack("{s:O, s:O, s:o}", "detail_type",
		    json_object_get(e, "type"), "time_usec", json_object_get(e, "t"),
		    "detail", detail != NULL ? detail : json_object()));
	}
	json_decref(tl);
	*ret = events;
	return 0;
}

int
dynamodb_runs_park(struct dynamodb_runs *r, const char *message_id, const char *reason,
    unsigned receive_count, const char *body, int64_t time_usec, struct errctx *ec)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	char *kept, *key = xasprintf("dead#%s", message_id);
	int rc;

	if (blen > DYNAMODB_RUNS_BODY_MAX) {
		blen = DYNAMODB_RUNS_BODY_MAX;
		while (blen > 0 && ((unsigned char)body[blen] & 0xC0) == 0x80)
			blen--;	/* not inside a UTF-8 sequence */
	}
	kept = xstrndup(body != NULL ? body : "", blen);
	rc = call(r, "PutItem", json_pack("{s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o}}", "Item",
	    "event_id", av_s(key), "message_id", av_s(message_id), "reason", av_s(reason != NULL ? reason : ""),
	    "receive_count", av_n(receive_count), "parked_usec", av_n(time_usec), "body", av_s(kept),
	    "expires_at", av_n(expires_at(r, time_usec))), NULL, ec);
	free(kept);
	free(key);
	if (rc == 0)
		rc = add_to_day(r, "dead#day#", message_id, time_usec, ec);
	return rc < 0 ? errctx_prefix(ec, "record of parked message %s", message_id) : 0;
}

static int
parked_items(struct dynamodb_runs *r, int64_t now_usec, size_t max, json_t **items,
    struct errctx *ec)
{
	json_t *ids = NULL, *keys;
	const char *id;
	json_t *v;
	int rc;

	rc = day_ids(r, "dead#day#", now_usec, max, &ids, ec);
	if (rc < 0)
		return rc;
	keys = json_array();
	json_object_foreach(ids, id, v)
		json_array_append_new(keys, key_of("dead#", id));
	json_decref(ids);
	rc = batch_get(r, keys, NULL, NULL, items, ec);
	json_decref(keys);
	return rc;
}

int
dynamodb_runs_parked(struct dynamodb_runs *r, int64_t now_usec, size_t max, json_t **ret,
    struct errctx *ec)
{
	json_t *items = NULL, *all = json_array(), *v;
	size_t i;
	int rc;

	*ret = NULL;
	rc = parked_items(r, now_usec, SIZE_MAX, &items, ec);
	if (rc < 0) {
		json_decref(all);
		return rc;
	}
	json_array_foreach(items, i, v) {
		const char *reason = item_s(v, "reason");

		if (item_s(v, "message_id") == NULL)
			continue;
		json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:s?, s:s}", "message_id",
		    item_s(v, "message_id"), "receive_count", (json_int_t)item_n(v, "receive_count", 0),
		    "parked_usec", (json_int_t)item_n(v, "parked_usec", 0),
		    "reason", reason != NULL && *reason != '\0' ? reason : NULL,
		    "body", item_s(v, "body") ?: ""));
	}
	json_decref(items);
	*ret = sorted(all, oldest_first);
	json_decref(all);
	while (json_array_size(*ret) > max)
		json_array_remove(*ret, json_array_size(*ret) - 1);
	return 0;
}

int
dynamodb_runs_unpark(struct dynamodb_runs *r, const char *message_id, int64_t now_usec,
    size_t *removed, struct errctx *ec)
{
	json_t *items = NULL, *v;
	size_t i, n = 0;
	int rc = 0;

	if (message_id != NULL)
		items = json_pack("[{s:o}]", "message_id", av_s(message_id));
	else
		rc = parked_items(r, now_usec, SIZE_MAX, &items, ec);
	json_array_foreach(items, i, v) {
		const char *id = item_s(v, "message_id");

		if (rc < 0)
			break;
		if (id == NULL)
			continue;
		/* The day sets keep the id; a read finds no record and skips it. */
		rc = call(r, "DeleteItem", json_pack("{s:o}", "Key", key_of("dead#", id)), NULL, ec);
		if (rc == 0)
			n++;
	}
	json_decref(items);
	if (removed != NULL)
		*removed = n;
	return rc;
}

int
dynamodb_runs_new(const struct dynamodb_runs_options *o, struct aws_credentials *creds,
    struct dynamodb_runs **ret, struct errctx *ec)
{
	struct dynamodb_runs *r;
	int rc;

	if (o->table_name == NULL || *o->table_name == '\0')
		return errctx_set(ec, -EINVAL, "DynamoDB run records: no table name");
	r = xcalloc(1, sizeof *r);
	rc = aws_client_new(&(struct aws_client_options){ .service = "dynamodb",
	    .endpoint_prefix = "dynamodb", .target_prefix = "DynamoDB_20120810",
	    .content_type = "application/x-amz-json-1.0", .region = o->region, .endpoint = o->endpoint,
	    .max_attempts = o->max_attempts, .connect_timeout_usec = o->connect_timeout_usec,
	    .timeout_usec = o->timeout_usec, .ca_file = o->ca_file, .creds = creds }, &r->client, ec);
	if (rc < 0) {
		free(r);
		return errctx_prefix(ec, "DynamoDB run records");
	}
	r->table = xstrdup(o->table_name);
	r->retention_usec = o->retention_usec > 0 ? o->retention_usec : DEFAULT_RETENTION_USEC;
	*ret = r;
	return 0;
}

void
dynamodb_runs_free(struct dynamodb_runs *r)
{
	if (r == NULL)
		return;
	aws_client_free(r->client);
	free(r->table);
	free(r);
}
