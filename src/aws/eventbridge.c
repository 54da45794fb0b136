/* EventBridge bus: see include/alchemiser/aws/eventbridge.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alchemiser/aws/client.h"
#include "alchemiser/aws/eventbridge.h"
#include "alchemiser/aws/retry.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/xalloc.h"

struct eb_bus {
	struct bus		 base;
	struct aws_client	*client;
	char			*bus_name;
	unsigned		 entry_attempts;
};

static const struct bus_ops eb_ops;

static size_t
entry_size(const struct bus_entry *e)
{
	return strlen(e->source) + strlen(e->detail_type) + strlen(e->detail);
}

static bool
code_retryable(const char *code)
{
	return code != NULL && (strcmp(code, "InternalFailure") == 0 ||
	    strcmp(code, "ThrottlingException") == 0 || strcmp(code, "InternalException") == 0);
}

static int
code_errno(const char *code)
{
	if (code_retryable(code))
		return -EAGAIN;
	if (code != NULL && (strstr(code, "AccessDenied") != NULL || strstr(code, "NotAuthorized") != NULL))
		return -EACCES;
	return -EINVAL;
}

static void
entry_fail(struct bus_entry *e, int r, const char *code, const char *msg)
{
	e->result = r;
	(void)snprintf(e->error, sizeof e->error, "%s: %s", code != NULL ? code : errno_name(r),
	    msg != NULL ? msg : "");
}

/* One batch (<= 10 entries, < 256 KB): PutEvents, then only the retryable
 * failures again. */
static void
put_batch(struct eb_bus *b, struct bus_entry **batch, size_t n)
{
	struct bus_entry *pending[BUS_MAX_BATCH];
	size_t np = n, i;
	unsigned attempt;

	memcpy(pending, batch, n * sizeof *batch);
	for (attempt = 1; np > 0; attempt++) {
		json_t *entries = json_array(), *req, *resp = NULL, *out;
		struct aws_error err;
		struct errctx ec;
		size_t still = 0;
		int r;

		for (i = 0; i < np; i++)
			json_array_append_new(entries, json_pack("{s:s, s:s, s:s, s:s}", "Source",
			    pending[i]->source, "DetailType", pending[i]->detail_type, "Detail",
			    pending[i]->detail, "EventBusName", b->bus_name));
		req = json_pack("{s:o}", "Entries", entries);
		r = aws_client_call(b->client, "PutEvents", req, &resp, &err, &ec);
		json_decref(req);
		if (r < 0) {
			for (i = 0; i < np; i++) {
				pending[i]->result = r;
				(void)snprintf(pending[i]->error, sizeof pending[i]->error, "%.159s", ec.msg);
			}
			json_decref(resp);
			return;
		}
		out = json_object_get(resp, "Entries");
		for (i = 0; i < np; i++) {
			json_t *e = json_array_get(out, i);
			const char *code = json_string_value(json_object_get(e, "ErrorCode"));
			const char *msg = json_string_value(json_object_get(e, "ErrorMessage"));

			if (e == NULL) {
				entry_fail(pending[i], -EPROTO, "PutEvents", "no result for this entry");
			} else if (code == NULL && json_string_value(json_object_get(e, "EventId")) != NULL) {
				pending[i]->result = 0;
				pending[i]->error[0] = '\0';
			} else {
				entry_fail(pending[i], code_errno(code), code != NULL ? code : "PutEvents", msg);
				if (code_retryable(code))
					pending[still++] = pending[i];
			}
		}
		json_decref(resp);
		np = still;
		if (np > 0 && attempt < b->entry_attempts) {
			int64_t d = retry_backoff_usec(attempt);
			struct timespec ts = { d / 1000000, (d % 1000000) * 1000 };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		} else {
			break;
		}
	}
}

static int
eb_publish(struct bus *bb, struct bus_entry *entries, size_t n, struct errctx *ec)
{
	struct eb_bus *b = (struct eb_bus *)bb;
	struct bus_entry *batch[BUS_MAX_BATCH];
	size_t i, nb = 0, bytes = 0, ok = 0;
	int permanent = 0, transient = 0;
	const char *first_error = NULL;

	for (i = 0; i < n; i++) {
		struct bus_entry *e = &entries[i];
		size_t sz;

		e->result = 0;
		e->error[0] = '\0';
		if (e->source == NULL || e->detail_type == NULL || e->detail == NULL) {
			entry_fail(e, -EINVAL, "InvalidArgument", "source, detail_type and detail are required");
			continue;
		}
		sz = entry_size(e);
		if (sz >= BUS_MAX_BATCH_BYTES) {
			entry_fail(e, -E2BIG, "EntryTooLarge", "entry is 256 KB or more");
			continue;
		}
		if (nb == BUS_MAX_BATCH || bytes + sz >= BUS_MAX_BATCH_BYTES) {
			put_batch(b, batch, nb);
			nb = 0;
			bytes = 0;
		}
		batch[nb++] = e;
		bytes += sz;
	}
	if (nb > 0)
		put_batch(b, batch, nb);
	for (i = 0; i < n; i++) {
		if (entries[i].result == 0) {
			ok++;
			continue;
		}
		if (first_error == NULL)
			first_error = entries[i].error;
		if (entries[i].result == -EAGAIN || entries[i].result == -ETIMEDOUT ||
		    entries[i].result == -ECONNRESET)
			transient++;
		else if (permanent == 0)
			permanent = entries[i].result;
	}
	if (ok == n)
		return 0;
	return errctx_set(ec, permanent != 0 ? permanent : -EAGAIN,
	    "EventBridge PutEvents to %s: %zu of %zu entries failed (%d transient), first: %s",
	    b->bus_name, n - ok, n, transient, first_error);
}

static int
eb_preflight(struct bus *bb, struct errctx *ec)
{
	struct eb_bus *b = (struct eb_bus *)bb;
	json_t *req = json_pack("{s:s}", "Name", b->bus_name), *resp = NULL;
	int r = aws_client_call(b->client, "DescribeEventBus", req, &resp, NULL, ec);

	json_decref(req);
	json_decref(resp);
	return r < 0 ? errctx_prefix(ec, "EventBridge bus '%s'", b->bus_name) : 0;
}

static void
eb_free(struct bus *bb)
{
	struct eb_bus *b = (struct eb_bus *)bb;

	if (b == NULL)
		return;
	aws_client_free(b->client);
	free(b->bus_name);
	free(b);
}

static const struct bus_ops eb_ops = {
	.name = "eventbridge",
	.publish = eb_publish,
	.preflight = eb_preflight,
	.free = eb_free,
};

int
eventbridge_bus_new(const struct eventbridge_options *o, struct aws_credentials *creds,
    struct bus **ret, struct errctx *ec)
{
	struct eb_bus *b;
	int r;

	if (o->bus_name == NULL || *o->bus_name == '\0')
		return errctx_set(ec, -EINVAL, "EventBridge: bus name is required");
	b = xcalloc(1, sizeof *b);
	r = aws_client_new(&(struct aws_client_options){ .service = "events", .endpoint_prefix = "events",
	    .target_prefix = "AWSEvents", .content_type = "application/x-amz-json-1.1",
	    .region = o->region, .endpoint = o->endpoint, .max_attempts = o->max_attempts,
	    .connect_timeout_usec = o->connect_timeout_usec, .timeout_usec = o->timeout_usec,
	    .ca_file = o->ca_file, .creds = creds }, &b->client, ec);
	if (r < 0) {
		free(b);
		return errctx_prefix(ec, "EventBridge");
	}
	b->base.ops = &eb_ops;
	b->bus_name = xstrdup(o->bus_name);
	b->entry_attempts = o->entry_attempts > 0 ? o->entry_attempts : 3;
	*ret = &b->base;
	return 0;
}
