/* SQS dead-letter queue tool: see include/alchemiser/aws/sqs_dlq.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/aws/sqs_dlq.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"

#define DLQ_READ_VISIBILITY	30	/* s a message stays hidden while we look at it */
#define DLQ_MOVE_VISIBILITY	60	/* s to send its copy and delete it */
#define DLQ_MAX_RECEIVES	1000	/* bound on receive calls of one command */
#define DLQ_MOVE_TASK_POLLS	300	/* x 200 ms: how long we wait for a move task */

struct dlq_ctx {
	struct aws_client	*client;
	const char		*queue_url;
	const char		*dlq_url;
};

static int
dlq_ctx_init(struct transport *t, struct dlq_ctx *c, struct errctx *ec)
{
	c->client = sqs_transport_client(t, &c->queue_url, &c->dlq_url);
	if (c->dlq_url == NULL)
		return errctx_set(ec, -EINVAL, "SQS: no dead-letter queue configured "
		    "(aws.dead_letter_queue_url)");
	return 0;
}

static const char *
attr_str(const json_t *mattrs, const char *name)
{
	return json_string_value(json_object_get(json_object_get(mattrs, name), "StringValue"));
}

/* One ReceiveMessage on the DLQ; *ret the Messages array (owned) or NULL. */
static int
receive_some(struct dlq_ctx *c, int visibility, json_t **ret, struct errctx *ec)
{
	json_t *req = json_pack("{s:s, s:i, s:i, s:i, s:[s], s:[s], s:[s]}", "QueueUrl", c->dlq_url,
	    "MaxNumberOfMessages", 10, "VisibilityTimeout", visibility, "WaitTimeSeconds", 1,
	    "MessageAttributeNames", "All", "AttributeNames", "All",
	    "MessageSystemAttributeNames", "All");
	json_t *resp = NULL;
	int r = aws_client_call(c->client, "ReceiveMessage", req, &resp, NULL, ec);

	json_decref(req);
	*ret = NULL;
	if (r < 0) {
		json_decref(resp);
		return errctx_prefix(ec, "receiving from the dead-letter queue");
	}
	*ret = json_incref(json_object_get(resp, "Messages"));
	json_decref(resp);
	return 0;
}

/* Visible again now: what we only looked at stays where it was. */
static void
release(struct dlq_ctx *c, char **receipts, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i += 10) {
		json_t *entries = json_array(), *req, *resp = NULL;
		struct errctx ec = { 0 };

		for (j = i; j < n && j < i + 10; j++) {
			char id[16];

			(void)snprintf(id, sizeof id, "r%zu", j - i);
			json_array_append_new(entries, json_pack("{s:s, s:s, s:i}", "Id", id,
			    "ReceiptHandle", receipts[j], "VisibilityTimeout", 0));
		}
		req = json_pack("{s:s, s:o}", "QueueUrl", c->dlq_url, "Entries", entries);
		/* A failure only leaves them hidden until their timeout. */
		(void)aws_client_call(c->client, "ChangeMessageVisibilityBatch", req, &resp, NULL, &ec);
		json_decref(resp);
		json_decref(req);
	}
}

static void
free_receipts(char **receipts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(receipts[i]);
	free(receipts);
}

int
sqs_dlq_count(struct transport *t, uint64_t *visible, uint64_t *in_flight, struct errctx *ec)
{
	struct dlq_ctx c;
	json_t *req, *resp = NULL, *attrs;
	const char *v;
	int r;

	r = dlq_ctx_init(t, &c, ec);
	if (r < 0)
		return r;
	req = json_pack("{s:s, s:[ss]}", "QueueUrl", c.dlq_url, "AttributeNames",
	    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible");
	r = aws_client_call(c.client, "GetQueueAttributes", req, &resp, NULL, ec);
	json_decref(req);
	if (r == 0) {
		attrs = json_object_get(resp, "Attributes");
		v = json_string_value(json_object_get(attrs, "ApproximateNumberOfMessages"));
		*visible = v != NULL ? strtoull(v, NULL, 10) : 0;
		v = json_string_value(json_object_get(attrs, "ApproximateNumberOfMessagesNotVisible"));
		*in_flight = v != NULL ? strtoull(v, NULL, 10) : 0;
	}
	json_decref(resp);
	return r < 0 ? errctx_prefix(ec, "dead-letter queue %s", c.dlq_url) : 0;
}

static void
fill_message(const json_t *m, struct sqs_dlq_message *out)
{
	const json_t *mattrs = json_object_get(m, "MessageAttributes");
	const char *sent = json_string_value(json_object_get(json_object_get(m, "Attributes"),
	    "SentTimestamp"));
	const char *count = attr_str(mattrs, "alchemiser.receive_count");

	memset(out, 0, sizeof *out);
	out->message_id = xstrdup(json_string_value(json_object_get(m, "MessageId")));
	out->receipt = xstrdup(json_string_value(json_object_get(m, "ReceiptHandle")));
	out->source_message_id = xstrdup_or_null(attr_str(mattrs, "alchemiser.source_message_id"));
	out->body = xstrdup(json_string_value(json_object_get(m, "Body")));
	out->reason = xstrdup_or_null(attr_str(mattrs, "alchemiser.reject_reason"));
	out->receive_count = count != NULL ? (unsigned)strtoul(count, NULL, 10) : 0;
	out->parked_usec = sent != NULL ? strtoll(sent, NULL, 10) * 1000 : 0;
}

static bool
well_formed(const json_t *m)
{
	return json_string_value(json_object_get(m, "MessageId")) != NULL &&
	    json_string_value(json_object_get(m, "ReceiptHandle")) != NULL &&
	    json_string_value(json_object_get(m, "Body")) != NULL;
}

static bool
seen_before(const struct sqs_dlq_message *out, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(out[i].message_id, id) == 0)
			return true;
	return false;
}

/* Receive up to max distinct messages in at most max_calls calls, hidden for
 * visibility_s. The receipts of what is not the caller's (beyond max, or a
 * second copy: a standard queue may deliver one twice), and with give_back
 * of everything, are made visible again before returning. *ret holds what
 * was collected even when a call failed (the return value says so). */
static int
collect(struct dlq_ctx *c, size_t max, unsigned max_calls, int visibility_s, bool give_back,
    struct sqs_dlq_message **ret, size_t *n, struct errctx *ec)
{
	struct sqs_dlq_message *out = NULL;
	char **back = NULL;
	size_t got = 0, n_back = 0, k;
	json_t *msgs, *m;
	unsigned calls;
	int r = 0;

	for (calls = 0; got < max && calls < max_calls; calls++) {
		r = receive_some(c, visibility_s, &msgs, ec);
		if (r < 0 || json_array_size(msgs) == 0) {
			json_decref(msgs);
			break;
		}
		json_array_foreach(msgs, k, m) {
			bool mine;

			if (!well_formed(m))
				continue;
			mine = got < max && !seen_before(out, got, json_string_value(json_object_get(m, "MessageId")));
			if (mine) {
				out = xreallocarray(out, got + 1, sizeof *out);
				fill_message(m, &out[got++]);
			}
			if (!mine || give_back) {
				back = xreallocarray(back, n_back + 1, sizeof *back);
				back[n_back++] = xstrdup(json_string_value(json_object_get(m, "ReceiptHandle")));
			}
		}
		json_decref(msgs);
	}
	release(c, back, n_back);
	free_receipts(back, n_back);
	*ret = out;
	*n = got;
	return r;
}

int
sqs_dlq_peek(struct transport *t, size_t max, struct sqs_dlq_message **ret, size_t *n,
    struct errctx *ec)
{
	struct dlq_ctx c;
	int r;

	*ret = NULL;
	*n = 0;
	r = dlq_ctx_init(t, &c, ec);
	if (r == 0)
		r = collect(&c, max, DLQ_MAX_RECEIVES, DLQ_READ_VISIBILITY, true, ret, n, ec);
	if (r < 0) {
		sqs_dlq_messages_free(*ret, *n);
		*ret = NULL;
		*n = 0;
	}
	return r;
}

int
sqs_dlq_receive(struct transport *t, size_t max, unsigned max_calls, int visibility_s,
    struct sqs_dlq_message **ret, size_t *n, struct errctx *ec)
{
	struct dlq_ctx c;
	int r;

	*ret = NULL;
	*n = 0;
	r = dlq_ctx_init(t, &c, ec);
	if (r == 0)
		r = collect(&c, max, max_calls, visibility_s, false, ret, n, ec);
	/* What arrived before a failed call is still the caller's to give back. */
	return r < 0 && *n == 0 ? r : 0;
}

void
sqs_dlq_release(struct transport *t, const struct sqs_dlq_message *m, size_t n)
{
	struct errctx ec = { 0 };
	struct dlq_ctx c;
	char **receipts;
	size_t i;

	if (n == 0 || dlq_ctx_init(t, &c, &ec) < 0)
		return;
	receipts = xcalloc(n, sizeof *receipts);
	for (i = 0; i < n; i++)
		receipts[i] = m[i].receipt;
	release(&c, receipts, n);
	free(receipts);
}

void
sqs_dlq_messages_free(struct sqs_dlq_message *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < n; i++) {
		free(m[i].message_id);
		free(m[i].receipt);
		free(m[i].source_message_id);
		free(m[i].body);
		free(m[i].reason);
	}
	free(m);
}

/* The message attributes to send back: the original ones, without ours. */
static json_t *
original_attributes(const json_t *mattrs)
{
	json_t *out = json_object(), *v;
	const char *k;

	json_object_foreach((json_t *)mattrs, k, v) {
		json_t *copy;
		const char *dt = json_string_value(json_object_get(v, "DataType"));

		if (strncmp(k, "alchemiser.", 11) == 0 || dt == NULL)
			continue;
		copy = json_pack("{s:s}", "DataType", dt);
		if (json_object_get(v, "StringValue") != NULL)
			json_object_set(copy, "StringValue", json_object_get(v, "StringValue"));
		if (json_object_get(v, "BinaryValue") != NULL)
			json_object_set(copy, "BinaryValue", json_object_get(v, "BinaryValue"));
		json_object_set_new(out, k, copy);
	}
	return out;
}

/* Send a copy to the work queue, then delete the original from the DLQ. */
static int
move_one(struct dlq_ctx *c, const json_t *m, struct errctx *ec)
{
	json_t *attrs = original_attributes(json_object_get(m, "MessageAttributes"));
	json_t *req, *resp = NULL;
	int r;

	req = json_pack("{s:s, s:O}", "QueueUrl", c->queue_url, "MessageBody", json_object_get(m, "Body"));
	if (json_object_size(attrs) > 0)
		json_object_set(req, "MessageAttributes", attrs);
	json_decref(attrs);
	r = aws_client_call(c->client, "SendMessage", req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r < 0)
		return errctx_prefix(ec, "sending message %s back to the work queue",
		    json_string_value(json_object_get(m, "MessageId")));
	resp = NULL;
	req = json_pack("{s:s, s:O}", "QueueUrl", c->dlq_url, "ReceiptHandle",
	    json_object_get(m, "ReceiptHandle"));
	r = aws_client_call(c->client, "DeleteMessage", req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r < 0)
		return errctx_prefix(ec, "message %s was copied to the work queue but not deleted "
		    "from the dead-letter queue (it will be processed once; delete it by hand)",
		    json_string_value(json_object_get(m, "MessageId")));
	return 0;
}

static bool
matches(const json_t *m, const char *id)
{
	const char *src;

	if (id == NULL)
		return true;
	if (strcmp(json_string_value(json_object_get(m, "MessageId")), id) == 0)
		return true;
	src = attr_str(json_object_get(m, "MessageAttributes"), "alchemiser.source_message_id");
	return src != NULL && strcmp(src, id) == 0;
}

static int
receive_and_send(struct dlq_ctx *c, const char *id, uint64_t *moved, struct errctx *ec)
{
	char **skipped = NULL;
	size_t n_skipped = 0, k;
	json_t *msgs, *m;
	unsigned calls;
	bool found = false;
	int r = 0;

	for (calls = 0; calls < DLQ_MAX_RECEIVES && !(id != NULL && found); calls++) {
		r = receive_some(c, DLQ_MOVE_VISIBILITY, &msgs, ec);
		if (r < 0 || json_array_size(msgs) == 0) {
			json_decref(msgs);
			break;
		}
		json_array_foreach(msgs, k, m) {
			if (!well_formed(m))
				continue;
			if (r == 0 && matches(m, id) && !(id != NULL && found)) {
				r = move_one(c, m, ec);
				if (r == 0) {
					(*moved)++;
					found = true;
					continue;
				}
			}
			skipped = xreallocarray(skipped, n_skipped + 1, sizeof *skipped);
			skipped[n_skipped++] = xstrdup(json_string_value(json_object_get(m, "ReceiptHandle")));
		}
		json_decref(msgs);
		if (r < 0)
			break;
	}
	release(c, skipped, n_skipped);
	free_receipts(skipped, n_skipped);
	return r;
}

static int
queue_arn(struct dlq_ctx *c, const char *url, char *buf, size_t size, struct errctx *ec)
{
	json_t *req = json_pack("{s:s, s:[s]}", "QueueUrl", url, "AttributeNames", "QueueArn");
	json_t *resp = NULL;
	const char *arn;
	int r = aws_client_call(c->client, "GetQueueAttributes", req, &resp, NULL, ec);

	json_decref(req);
	if (r == 0) {
		arn = json_string_value(json_object_get(json_object_get(resp, "Attributes"), "QueueArn"));
		if (arn == NULL)
			r = errctx_set(ec, -EPROTO, "GetQueueAttributes: no QueueArn for %s", url);
		else
			(void)snprintf(buf, size, "%s", arn);
	}
	json_decref(resp);
	return r;
}

/* Start a move task and wait (bounded) for it to end; *started tells whether
 * the service took it (then its result is the answer). */
static int
move_task(struct dlq_ctx *c, uint64_t *moved, bool *started, struct errctx *ec)
{
	char src[256], dst[256];
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
	json_t *req, *resp = NULL, *task;
	const char *status;
	unsigned i;
	int r;

	*started = false;
	r = queue_arn(c, c->dlq_url, src, sizeof src, ec);
	if (r == 0)
		r = queue_arn(c, c->queue_url, dst, sizeof dst, ec);
	if (r < 0)
		return r;
	req = json_pack("{s:s, s:s}", "SourceArn", src, "DestinationArn", dst);
	r = aws_client_call(c->client, "StartMessageMoveTask", req, &resp, NULL, ec);
	json_decref(req);
	json_decref(resp);
	if (r < 0)
		return r;
	*started = true;
	for (i = 0; i < DLQ_MOVE_TASK_POLLS; i++) {
		resp = NULL;
		req = json_pack("{s:s, s:i}", "SourceArn", src, "MaxResults", 1);
		r = aws_client_call(c->client, "ListMessageMoveTasks", req, &resp, NULL, ec);
		json_decref(req);
		if (r < 0) {
			json_decref(resp);
			return errctx_prefix(ec, "the move task started; watching it failed");
		}
		task = json_array_get(json_object_get(resp, "Results"), 0);
		status = json_string_value(json_object_get(task, "Status"));
		if (status != NULL && strcmp(status, "RUNNING") != 0) {
			*moved = (uint64_t)json_integer_value(json_object_get(task,
			    "ApproximateNumberOfMessagesMoved"));
			r = strcmp(status, "COMPLETED") == 0 ? 0 : errctx_set(ec, -EIO,
			    "message-move task ended %s: %s", status,
			    json_string_value(json_object_get(task, "FailureReason")) ?: "no reason given");
			json_decref(resp);
			return r;
		}
		json_decref(resp);
		nanosleep(&pause, NULL);
	}
	return errctx_set(ec, -ETIMEDOUT, "the message-move task is still running after %d s; "
	    "see aws sqs list-message-move-tasks", DLQ_MOVE_TASK_POLLS / 5);
}

int
sqs_dlq_redrive(struct transport *t, const char *id, bool try_move_task, uint64_t *moved,
    enum sqs_redrive_method *method, char *why, size_t why_size, struct errctx *ec)
{
	struct errctx tec = { 0 };
	struct dlq_ctx c;
	bool started;
	int r;

	*moved = 0;
	*method = SQS_REDRIVE_NONE;
	if (why != NULL && why_size > 0)
		why[0] = '\0';
	r = dlq_ctx_init(t, &c, ec);
	if (r < 0)
		return r;
	if (id == NULL && try_move_task) {
		r = move_task(&c, moved, &started, &tec);
		/* Started: its result is the answer, whatever it is. */
		if (started) {
			*method = SQS_REDRIVE_MOVE_TASK;
			if (r < 0)
				*ec = tec;
			return r;
		}
		/* Not started (not offered, or refused): move them one by one. */
		if (why != NULL)
			(void)snprintf(why, why_size, "%s", errctx_msg(&tec));
	}
	*method = SQS_REDRIVE_RECEIVE_SEND;
	return receive_and_send(&c, id, moved, ec);
}

const char *
sqs_redrive_method_to_string(enum sqs_redrive_method m)
{
	static const char *const names[_SQS_REDRIVE_MAX] = {
		[SQS_REDRIVE_NONE] = "none",
		[SQS_REDRIVE_MOVE_TASK] = "message-move task",
		[SQS_REDRIVE_RECEIVE_SEND] = "receive and send",
	};

	return m < _SQS_REDRIVE_MAX ? names[m] : "?";
}
