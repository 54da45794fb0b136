/* SQS transport: see include/alchemiser/aws/sqs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "alchemiser/aws/awsutil.h"
#include "alchemiser/aws/client.h"
#include "alchemiser/aws/http.h"
#include "alchemiser/aws/reqbuf.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/aws/sqs_receive.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"

#define SQS_POLL_SLACK_USEC (10 * INT64_C(1000000))
#define SQS_MAX_VISIBILITY 43200
#define SQS_MAX_ATTRS 10

enum sqs_op_kind { SQS_OP_RECEIVE, SQS_OP_BATCH, SQS_OP_REJECT_SEND, SQS_OP_REJECT_DELETE,
	SQS_OP_REQUEUE_SEND };

/* The system attributes a receive asks for (JSON array text). */
#define RECEIVE_ATTRS "[\"ApproximateReceiveCount\",\"SentTimestamp\"," \
	"\"ApproximateFirstReceiveTimestamp\"]"

struct sqs_op {
	struct sqs_transport	*t;
	enum sqs_op_kind	 kind;
	struct aws_call		*call;
	transport_receive_cb	 rcb;
	transport_batch_cb	 bcb;
	void			*arg;
	size_t			 n;
	char			*receipt;	/* reject: the message to delete after the send */
	struct sqs_op		*prev, *next;
};

struct sqs_transport {
	struct transport	 base;
	struct event_base	*ev;
	struct http_multi	*multi;
	struct aws_client	*client;
	char			*queue_url;
	char			*dlq_url;
	int64_t			 poll_slack_usec;	/* added to WaitTimeSeconds for a poll's timeout */
	struct sqs_op		*ops;
	struct sqs_op		*receive;	/* the outstanding receive, if any */
	bool			 have_info;
	struct sqs_queue_info	 info;
};

static const struct transport_ops sqs_ops;

static struct sqs_op *
op_new(struct sqs_transport *t, enum sqs_op_kind kind, void *arg)
{
	struct sqs_op *op = xcalloc(1, sizeof *op);

	op->t = t;
	op->kind = kind;
	op->arg = arg;
	op->next = t->ops;
	if (t->ops != NULL)
		t->ops->prev = op;
	t->ops = op;
	return op;
}

static void
op_free(struct sqs_op *op)
{
	struct sqs_transport *t = op->t;

	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		t->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	if (t->receive == op)
		t->receive = NULL;
	free(op->receipt);
	free(op);
}

static int
op_start(struct sqs_op *op, const char *name, json_t *req, int64_t timeout, aws_call_cb cb,
    struct errctx *ec)
{
	int r = aws_client_start(op->t->client, op->t->multi, op->t->ev, name, req, timeout, cb, op,
	    &op->call, ec);

	json_decref(req);
	if (r < 0)
		op_free(op);
	return r;
}

/* The same with a body written directly (reqbuf.h). */
static int
op_start_text(struct sqs_op *op, const char *name, struct reqbuf *b, int64_t timeout,
    aws_call_cb cb, struct errctx *ec)
{
	size_t len;
	char *body = reqbuf_take(b, &len);
	int r = aws_client_start_text(op->t->client, op->t->multi, op->t->ev, name, body, len, timeout,
	    cb, op, &op->call, ec);

	if (r < 0)
		op_free(op);
	return r;
}

static int64_t
ms_text(const char *v)
{
	return v != NULL ? strtoll(v, NULL, 10) * 1000 : 0;
}

static int64_t
ms_attr(const json_t *attrs, const char *name)
{
	return ms_text(json_string_value(json_object_get(attrs, name)));
}

static int
check_md5(const char *id, const char *body, size_t blen, const char *md5, struct errctx *ec)
{
	char got[AWS_MD5_HEX_LEN + 1];

	if (md5 == NULL)
		return 0;
	aws_md5_hex(body, blen, got);
	if (strcasecmp(got, md5) != 0)
		return errctx_set(ec, -EPROTO, "ReceiveMessage: MD5 of body of message %s is %s, "
		    "SQS said %s", id, got, md5);
	return 0;
}

static int
parse_message(const json_t *j, struct queue_message **ret, struct errctx *ec)
{
	const char *id = json_string_value(json_object_get(j, "MessageId"));
	const char *rh = json_string_value(json_object_get(j, "ReceiptHandle"));
	const char *body = json_string_value(json_object_get(j, "Body"));
	const char *md5 = json_string_value(json_object_get(j, "MD5OfBody"));
	const json_t *attrs = json_object_get(j, "Attributes");
	json_t *mattrs = json_object_get(j, "MessageAttributes");
	const char *cnt = json_string_value(json_object_get(attrs, "ApproximateReceiveCount"));
	struct queue_message *m;
	size_t blen;
	int r;

	if (id == NULL || rh == NULL || body == NULL)
		return errctx_set(ec, -EPROTO, "ReceiveMessage: message without MessageId, ReceiptHandle or Body");
	blen = json_string_length(json_object_get(j, "Body"));
	if ((r = check_md5(id, body, blen, md5, ec)) < 0)
		return r;
	m = xcalloc(1, sizeof *m);
	m->message_id = xstrdup(id);
	m->receipt = xstrdup(rh);
	m->body = xmalloc(blen + 1);
	memcpy(m->body, body, blen);
	m->body[blen] = '\0';
	m->body_len = blen;
	m->receive_count = cnt != NULL ? (unsigned)strtoul(cnt, NULL, 10) : 1;
	m->sent_usec = ms_attr(attrs, "SentTimestamp");
	m->first_receive_usec = ms_attr(attrs, "ApproximateFirstReceiveTimestamp");
	m->attributes = json_is_object(mattrs) && json_object_size(mattrs) > 0 ? json_deep_copy(mattrs) : NULL;
	*ret = m;
	return 0;
}

/* The same from sqs_rx_scan's fields, whose strings it takes over. */
static int
rx_message(struct sqs_rx_message *f, struct queue_message **ret, struct errctx *ec)
{
	struct queue_message *m;
	int r;

	if ((r = check_md5(f->message_id, f->body, f->body_len, f->md5, ec)) < 0)
		return r;
	m = xcalloc(1, sizeof *m);
	m->message_id = f->message_id;
	m->receipt = f->receipt;
	m->body = f->body;
	m->body_len = f->body_len;
	f->message_id = f->receipt = f->body = NULL;
	m->receive_count = f->receive_count != NULL ? (unsigned)strtoul(f->receive_count, NULL, 10) : 1;
	m->sent_usec = ms_text(f->sent);
	m->first_receive_usec = ms_text(f->first_receive);
	*ret = m;
	return 0;
}

/* The jansson path, for a response sqs_rx_scan declined: the same result
 * (or error) it always gave. */
static int
parse_receive_tree(const char *body, size_t len, struct queue_message ***msgs, size_t *n,
    struct errctx *ec)
{
	json_error_t jerr;
	json_t *resp = json_loadb(body, len, 0, &jerr);
	json_t *arr;
	size_t i;
	int r = 0;

	if (resp == NULL || !json_is_object(resp)) {
		json_decref(resp);
		return errctx_set(ec, -EPROTO, "ReceiveMessage: response is not a JSON object: %s",
		    jerr.text);
	}
	arr = json_object_get(resp, "Messages");
	*n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (*n > TRANSPORT_MAX_BATCH)
		*n = TRANSPORT_MAX_BATCH;
	if (*n > 0)
		*msgs = xcalloc(*n, sizeof **msgs);
	for (i = 0; i < *n && r == 0; i++)
		r = parse_message(json_array_get(arr, i), &(*msgs)[i], ec);
	json_decref(resp);
	return r;
}

static void
receive_done(const char *body, size_t len, int r, const struct aws_error *err,
    const struct errctx *cec, void *arg)
{
	struct sqs_op *op = arg;
	struct queue_message *none[1] = { NULL };
	struct queue_message **msgs = none;	/* never NULL, even when empty */
	struct sqs_rx_message rx[TRANSPORT_MAX_BATCH];
	struct errctx ec = *cec;
	transport_receive_cb cb = op->rcb;
	void *cbarg = op->arg;
	size_t n = 0, i;

	(void)err;
	if (r == 0 && sqs_rx_scan(body, len, TRANSPORT_MAX_BATCH, rx, &n)) {
		if (n > 0)
			msgs = xcalloc(n, sizeof *msgs);
		for (i = 0; i < n && r == 0; i++)
			r = rx_message(&rx[i], &msgs[i], &ec);
		for (i = 0; i < n; i++)
			sqs_rx_clear(&rx[i]);
	} else if (r == 0) {
		r = parse_receive_tree(body, len, &msgs, &n, &ec);
	}
	if (r < 0) {
		for (i = 0; i < n; i++)
			queue_message_free(msgs[i]);
		n = 0;
	}
	op_free(op);
	cb(msgs, n, r, &ec, cbarg);
	if (msgs != none)
		free(msgs);
}

static int
sqs_receive(struct transport *tr, unsigned max, int64_t wait_usec, int64_t visibility_usec,
    transport_receive_cb cb, void *arg, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	int64_t wait = wait_usec / 1000000;
	int64_t vis = (visibility_usec + 999999) / 1000000;
	struct reqbuf b = { 0 };
	struct sqs_op *op;
	char *body;
	size_t len;
	int r;

	if (t->receive != NULL)
		return errctx_set(ec, -EBUSY, "SQS: a receive is already outstanding");
	if (max < 1 || max > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "SQS: receive of %u messages (1..10)", max);
	if (wait < 0)
		wait = 0;
	if (wait > 20)
		wait = 20;
	if (vis > SQS_MAX_VISIBILITY)
		vis = SQS_MAX_VISIBILITY;
	reqbuf_raw(&b, "{\"QueueUrl\":");
	reqbuf_str(&b, t->queue_url);
	reqbuf_raw(&b, ",\"MaxNumberOfMessages\":");
	reqbuf_int(&b, max);
	reqbuf_raw(&b, ",\"WaitTimeSeconds\":");
	reqbuf_int(&b, wait);
	/* Both spellings: local-aws-sqs only honours the legacy AttributeNames. */
	reqbuf_raw(&b, ",\"MessageSystemAttributeNames\":" RECEIVE_ATTRS ",\"AttributeNames\":"
	    RECEIVE_ATTRS ",\"MessageAttributeNames\":[\"All\"]");
	if (vis >= 0 && visibility_usec > 0) {
		reqbuf_raw(&b, ",\"VisibilityTimeout\":");
		reqbuf_int(&b, vis);
	}
	reqbuf_raw(&b, "}");
	op = op_new(t, SQS_OP_RECEIVE, arg);
	op->rcb = cb;
	t->receive = op;
	body = reqbuf_take(&b, &len);
	r = aws_client_start_raw(t->client, t->multi, t->ev, "ReceiveMessage", body, len,
	    wait * 1000000 + t->poll_slack_usec, receive_done, op, &op->call, ec);
	if (r < 0)
		op_free(op);
	return r;
}

/* Why nothing is aborted: SQS cannot recall a ReceiveMessage. Messages it
 * hands to a request we dropped stay invisible for their visibility timeout
 * (two minutes of a stalled run with the module's settings), so the poll is
 * allowed to return (at most poll_wait, 20 s) and its callback delivers what
 * it got, for the caller to release at once. sqs_free() still cancels it. */
static void
sqs_cancel_receive(struct transport *tr)
{
	(void)tr;
}

static int
entry_errno(const json_t *f)
{
	const char *code = json_string_value(json_object_get(f, "Code"));

	if (code != NULL && strcmp(code, "ReceiptHandleIsInvalid") == 0)
		return -ENOENT;
	return json_is_true(json_object_get(f, "SenderFault")) ? -EINVAL : -EAGAIN;
}

static void
batch_done(json_t *resp, int r, const struct aws_error *err, const struct errctx *cec, void *arg)
{
	struct sqs_op *op = arg;
	struct errctx ec = *cec;
	int results[TRANSPORT_MAX_BATCH];
	transport_batch_cb cb = op->bcb;
	void *cbarg = op->arg;
	size_t n = op->n, i;

	for (i = 0; i < n; i++)
		results[i] = r < 0 ? r : -EPROTO;	/* unmentioned ids stay -EPROTO */
	if (r == 0) {
		json_t *e;
		size_t k;

		json_array_foreach(json_object_get(resp, "Successful"), k, e) {
			const char *id = json_string_value(json_object_get(e, "Id"));

			if (id != NULL && id[0] == 'm' && (size_t)atoi(id + 1) < n)
				results[atoi(id + 1)] = 0;
		}
		json_array_foreach(json_object_get(resp, "Failed"), k, e) {
			const char *id = json_string_value(json_object_get(e, "Id"));

			if (id != NULL && id[0] == 'm' && (size_t)atoi(id + 1) < n)
				results[atoi(id + 1)] = entry_errno(e);
		}
	}
	op_free(op);
	cb(results, n, r, &ec, cbarg);
}

static int
sqs_delete_batch(struct transport *tr, const char *const *receipts, size_t n,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	struct reqbuf b = { 0 };
	struct sqs_op *op;
	size_t i;

	if (n < 1 || n > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "SQS: delete batch of %zu (1..10)", n);
	reqbuf_raw(&b, "{\"QueueUrl\":");
	reqbuf_str(&b, t->queue_url);
	reqbuf_raw(&b, ",\"Entries\":[");
	for (i = 0; i < n; i++) {
		reqbuf_raw(&b, i == 0 ? "{\"Id\":\"m" : ",{\"Id\":\"m");
		reqbuf_int(&b, (int64_t)i);
		reqbuf_raw(&b, "\",\"ReceiptHandle\":");
		reqbuf_str(&b, receipts[i]);
		reqbuf_raw(&b, "}");
	}
	reqbuf_raw(&b, "]}");
	op = op_new(t, SQS_OP_BATCH, arg);
	op->bcb = cb;
	op->n = n;
	return op_start_text(op, "DeleteMessageBatch", &b, 0, batch_done, ec);
}

static int
sqs_change_visibility(struct transport *tr, const struct transport_visibility *v, size_t n,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	struct sqs_op *op;
	json_t *entries;
	size_t i;

	if (n < 1 || n > TRANSPORT_MAX_BATCH)
		return errctx_set(ec, -EINVAL, "SQS: visibility batch of %zu (1..10)", n);
	entries = json_array();
	for (i = 0; i < n; i++) {
		int64_t s = (v[i].timeout_usec + 999999) / 1000000;
		char id[8];

		if (s < 0)
			s = 0;
		if (s > SQS_MAX_VISIBILITY)
			s = SQS_MAX_VISIBILITY;
		snprintf(id, sizeof id, "m%zu", i);
		json_array_append_new(entries, json_pack("{s:s, s:s, s:I}", "Id", id, "ReceiptHandle",
		    v[i].receipt, "VisibilityTimeout", (json_int_t)s));
	}
	op = op_new(t, SQS_OP_BATCH, arg);
	op->bcb = cb;
	op->n = n;
	return op_start(op, "ChangeMessageVisibilityBatch", json_pack("{s:s, s:o}", "QueueUrl",
	    t->queue_url, "Entries", entries), 0, batch_done, ec);
}

static void
reject_delete_done(json_t *resp, int r, const struct aws_error *err, const struct errctx *cec,
    void *arg)
{
	batch_done(resp, r, err, cec, arg);
}

static void
reject_send_done(json_t *resp, int r, const struct aws_error *err, const struct errctx *cec,
    void *arg)
{
	struct sqs_op *op = arg;
	struct sqs_transport *t = op->t;
	struct errctx ec = *cec;
	json_t *req;

	if (r < 0) {
		int res = r;
		transport_batch_cb cb = op->bcb;
		void *cbarg = op->arg;

		/* Not parked (or not copied): leave the message where it is; it
		 * comes back. */
		errctx_prefix(&ec, "%s", op->kind == SQS_OP_REQUEUE_SEND ? "requeue (send a copy)" :
		    "reject (send to DLQ)");
		op_free(op);
		cb(&res, 1, r, &ec, cbarg);
		return;
	}
	op->kind = SQS_OP_REJECT_DELETE;
	req = json_pack("{s:s, s:[{s:s, s:s}]}", "QueueUrl", t->queue_url, "Entries", "Id", "m0",
	    "ReceiptHandle", op->receipt);
	r = aws_client_start(t->client, t->multi, t->ev, "DeleteMessageBatch", req, 0, reject_delete_done,
	    op, &op->call, &ec);
	json_decref(req);
	if (r < 0) {
		int res = r;
		transport_batch_cb cb = op->bcb;
		void *cbarg = op->arg;

		op_free(op);
		cb(&res, 1, r, &ec, cbarg);
	}
}

static int
sqs_reject(struct transport *tr, const struct queue_message *m, const char *reason,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	struct sqs_op *op;
	json_t *attrs;
	const char *k;
	json_t *v;
	char count[16];

	if (t->dlq_url == NULL)
		return errctx_set(ec, -EINVAL, "SQS: reject needs a dead-letter queue URL");
	snprintf(count, sizeof count, "%u", m->receive_count);
	attrs = json_pack("{s:{s:s, s:s%}, s:{s:s, s:s}, s:{s:s, s:s}}",
	    "alchemiser.reject_reason", "DataType", "String", "StringValue", reason,
	    strnlen(reason, 4096),
	    "alchemiser.source_message_id", "DataType", "String", "StringValue", m->message_id,
	    "alchemiser.receive_count", "DataType", "Number", "StringValue", count);
	if (attrs == NULL)
		return errctx_set(ec, -EINVAL, "SQS: reject reason is not valid UTF-8");
	/* Keep what the message carried, within SQS's limit of 10. */
	json_object_foreach(m->attributes, k, v) {
		if (json_object_size(attrs) >= SQS_MAX_ATTRS)
			break;
		if (json_object_get(attrs, k) == NULL)
			json_object_set(attrs, k, v);
	}
	op = op_new(t, SQS_OP_REJECT_SEND, arg);
	op->bcb = cb;
	op->n = 1;
	op->receipt = xstrdup(m->receipt);
	return op_start(op, "SendMessage", json_pack("{s:s, s:s%, s:o}", "QueueUrl", t->dlq_url,
	    "MessageBody", m->body, m->body_len, "MessageAttributes", attrs), 0, reject_send_done, ec);
}

/* A fresh copy on the work queue, then the delete of the old one (the
 * reject's two steps, to the work queue). A kill between them leaves two
 * copies with one idempotency key: the claim lets one run the step, the
 * other ends as its duplicate. */
static int
sqs_requeue(struct transport *tr, const struct queue_message *m, int64_t delay_usec,
    transport_batch_cb cb, void *arg, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	int64_t delay_s = (delay_usec + 999999) / 1000000;
	struct sqs_op *op;
	json_t *req;

	if (delay_s > 900)
		delay_s = 900;	/* SQS's longest DelaySeconds */
	if (delay_s < 0)
		delay_s = 0;
	req = json_pack("{s:s, s:s%, s:I}", "QueueUrl", t->queue_url, "MessageBody", m->body,
	    m->body_len, "DelaySeconds", (json_int_t)delay_s);
	if (req == NULL)
		return errctx_set(ec, -EINVAL, "SQS: message body is not valid UTF-8");
	if (json_object_size(m->attributes) > 0)
		json_object_set(req, "MessageAttributes", m->attributes);
	op = op_new(t, SQS_OP_REQUEUE_SEND, arg);
	op->bcb = cb;
	op->n = 1;
	op->receipt = xstrdup(m->receipt);
	return op_start(op, "SendMessage", req, 0, reject_send_done, ec);
}

static int
sqs_send(struct transport *tr, const char *body, char *ret_id, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	json_t *req = json_pack("{s:s, s:s}", "QueueUrl", t->queue_url, "MessageBody", body);
	json_t *resp = NULL;
	int r;

	if (req == NULL)
		return errctx_set(ec, -EINVAL, "SQS: message body is not valid UTF-8");
	r = aws_client_call(t->client, "SendMessage", req, &resp, NULL, ec);
	if (r == 0) {
		const char *md5 = json_string_value(json_object_get(resp, "MD5OfMessageBody"));
		char want[AWS_MD5_HEX_LEN + 1];

		aws_md5_hex(body, strlen(body), want);
		if (md5 != NULL && strcasecmp(md5, want) != 0)
			r = errctx_set(ec, -EPROTO, "SendMessage: MD5 of body mismatch");
		else if (ret_id != NULL) {
			const char *id = json_string_value(json_object_get(resp, "MessageId"));

			(void)snprintf(ret_id, TRANSPORT_ID_MAX, "%s", id != NULL ? id : "");
		}
	}
	json_decref(resp);
	json_decref(req);
	return r;
}

static int
queue_attributes(struct sqs_transport *t, const char *url, json_t **attrs, struct errctx *ec)
{
	json_t *req = json_pack("{s:s, s:[ssss]}", "QueueUrl", url, "AttributeNames", "VisibilityTimeout",
	    "RedrivePolicy", "MaximumMessageSize", "QueueArn");
	json_t *resp = NULL;
	int r = aws_client_call(t->client, "GetQueueAttributes", req, &resp, NULL, ec);

	json_decref(req);
	if (r < 0) {
		json_decref(resp);
		return errctx_prefix(ec, "SQS queue %s", url);
	}
	*attrs = json_incref(json_object_get(resp, "Attributes"));
	json_decref(resp);
	if (*attrs == NULL)
		*attrs = json_object();
	return 0;
}

static int
sqs_preflight(struct transport *tr, struct errctx *ec)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;
	struct sqs_queue_info info = { 0 };
	json_t *attrs = NULL, *dlq = NULL;
	const char *v;
	int r;

	r = queue_attributes(t, t->queue_url, &attrs, ec);
	if (r < 0)
		return r;
	if ((v = json_string_value(json_object_get(attrs, "VisibilityTimeout"))) != NULL)
		info.visibility_timeout_usec = strtoll(v, NULL, 10) * 1000000;
	if ((v = json_string_value(json_object_get(attrs, "MaximumMessageSize"))) != NULL)
		info.maximum_message_size = strtoll(v, NULL, 10);
	if ((v = json_string_value(json_object_get(attrs, "QueueArn"))) != NULL)
		snprintf(info.queue_arn, sizeof info.queue_arn, "%s", v);
	if ((v = json_string_value(json_object_get(attrs, "RedrivePolicy"))) != NULL) {
		json_t *rp = json_loads(v, 0, NULL);
		json_t *mrc = json_object_get(rp, "maxReceiveCount");

		/* Some tools write the count as a string. */
		info.max_receive_count = json_is_integer(mrc) ? (unsigned)json_integer_value(mrc) :
		    json_is_string(mrc) ? (unsigned)atoi(json_string_value(mrc)) : 0;
		if ((v = json_string_value(json_object_get(rp, "deadLetterTargetArn"))) != NULL)
			snprintf(info.dead_letter_target_arn, sizeof info.dead_letter_target_arn, "%s", v);
		json_decref(rp);
	}
	json_decref(attrs);
	if (t->dlq_url != NULL) {
		r = queue_attributes(t, t->dlq_url, &dlq, ec);
		if (r < 0)
			return errctx_prefix(ec, "dead-letter queue");
		json_decref(dlq);
	}
	t->info = info;
	t->have_info = true;
	return 0;
}

int
sqs_transport_queue_info(const struct transport *tr, struct sqs_queue_info *ret)
{
	const struct sqs_transport *t = (const struct sqs_transport *)tr;

	if (tr->ops != &sqs_ops || !t->have_info)
		return -ENOENT;
	*ret = t->info;
	return 0;
}

static void
sqs_free(struct transport *tr)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;

	if (t == NULL)
		return;
	/* Outstanding operations end now, each with its callback. */
	while (t->ops != NULL)
		aws_call_abort(t->ops->call);
	http_multi_free(t->multi);
	aws_client_free(t->client);
	free(t->queue_url);
	free(t->dlq_url);
	free(t);
}

static const struct transport_ops sqs_ops = {
	.name = "sqs",
	.receive = sqs_receive,
	.cancel_receive = sqs_cancel_receive,
	.delete_batch = sqs_delete_batch,
	.change_visibility = sqs_change_visibility,
	.reject = sqs_reject,
	.requeue = sqs_requeue,
	.send = sqs_send,
	.preflight = sqs_preflight,
	.free = sqs_free,
};

int
sqs_transport_new(struct event_base *base, const struct sqs_options *o,
    struct aws_credentials *creds, struct transport **ret, struct errctx *ec)
{
	struct sqs_transport *t;
	int r;

	if (o->queue_url == NULL || *o->queue_url == '\0')
		return errctx_set(ec, -EINVAL, "SQS: queue URL is required");
	t = xcalloc(1, sizeof *t);
	r = aws_client_new(&(struct aws_client_options){ .service = "sqs", .endpoint_prefix = "sqs",
	    .target_prefix = "AmazonSQS", .content_type = "application/x-amz-json-1.0",
	    .region = o->region, .endpoint = o->endpoint, .max_attempts = o->max_attempts,
	    .connect_timeout_usec = o->connect_timeout_usec, .timeout_usec = o->timeout_usec,
	    .ca_file = o->ca_file, .creds = creds }, &t->client, ec);
	if (r < 0) {
		free(t);
		return errctx_prefix(ec, "SQS");
	}
	t->base.ops = &sqs_ops;
	t->ev = base;
	t->multi = http_multi_new(base, &(struct http_options){ .connect_timeout_usec =
	    o->connect_timeout_usec, .timeout_usec = o->timeout_usec, .ca_file = o->ca_file });
	t->queue_url = xstrdup(o->queue_url);
	t->dlq_url = xstrdup_or_null(o->dlq_url);
	t->poll_slack_usec = o->timeout_usec > 0 ? o->timeout_usec : SQS_POLL_SLACK_USEC;
	*ret = &t->base;
	return 0;
}

/* For sqs_dlq.c: the client and the two queues. */
struct aws_client *
sqs_transport_client(struct transport *tr, const char **queue_url, const char **dlq_url)
{
	struct sqs_transport *t = (struct sqs_transport *)tr;

	*queue_url = t->queue_url;
	*dlq_url = t->dlq_url;
	return t->client;
}
