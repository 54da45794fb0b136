/*
 * backends_aws: the AWS family: SQS (transport), EventBridge (bus) and
 * DynamoDB (idempotency), sharing one credential chain.
 */
#include <errno.h>
#include <string.h>

#include "alchemiser/aws/credentials.h"
#include "alchemiser/aws/dynamodb.h"
#include "alchemiser/aws/eventbridge.h"
#include "alchemiser/aws/sqs.h"
#include "alchemiser/core/config.h"
#include "alchemiser/core/err.h"
#include "alchemiser/core/log.h"
#include "alchemiser/runtime/backends.h"
#include "backends_internal.h"

static const char *
or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
backends_open_aws(const struct config *cfg, struct event_base *base, struct backends *b,
    struct errctx *ec)
{
	const char *region = config_str(cfg, "aws.region");
	const char *ca = or_null(config_str(cfg, "aws.ca_file"));
	int64_t connect = config_usec(cfg, "aws.connect_timeout");
	int64_t timeout = config_usec(cfg, "aws.request_timeout");
	unsigned attempts = (unsigned)config_int(cfg, "aws.max_attempts");
	struct aws_credentials_options co = {
		.access_key_id = or_null(config_str(cfg, "aws.access_key_id")),
		.secret_access_key = config_secret(cfg, "aws.secret_access_key"),
		.profile = or_null(config_str(cfg, "aws.profile")),
		.region = region,
		.session_token = config_secret(cfg, "aws.session_token"),
		.sts_endpoint = or_null(config_str(cfg, "aws.sts_endpoint")),
		.imds_endpoint = or_null(config_str(cfg, "aws.imds_endpoint")),
		.imds_disabled = !config_bool(cfg, "aws.imds"),
		.metadata_timeout_usec = config_usec(cfg, "aws.metadata_timeout"),
		.ca_file = ca,
	};
	struct sqs_options so = {
		.region = region, .endpoint = or_null(config_str(cfg, "aws.sqs_endpoint")),
		.queue_url = config_str(cfg, "aws.queue_url"),
		.dlq_url = or_null(config_str(cfg, "aws.dead_letter_queue_url")),
		.connect_timeout_usec = connect, .timeout_usec = timeout, .max_attempts = attempts,
		.ca_file = ca,
	};
	struct eventbridge_options eo = {
		.region = region, .endpoint = or_null(config_str(cfg, "aws.events_endpoint")),
		.bus_name = config_str(cfg, "aws.event_bus"),
		.connect_timeout_usec = connect, .timeout_usec = timeout, .max_attempts = attempts,
		.ca_file = ca,
	};
	struct dynamodb_options dopt = {
		.region = region, .endpoint = or_null(config_str(cfg, "aws.dynamodb_endpoint")),
		.table_name = config_str(cfg, "aws.idempotency_table"),
		.connect_timeout_usec = connect, .timeout_usec = timeout, .max_attempts = attempts,
		.ca_file = ca,
	};
	int r;

	r = aws_credentials_new(&co, &b->aws_credentials, ec);
	if (r < 0)
		return errctx_prefix(ec, "AWS credentials");
	r = sqs_transport_new(base, &so, b->aws_credentials, &b->transport, ec);
	if (r < 0)
		return errctx_prefix(ec, "SQS");
	r = eventbridge_bus_new(&eo, b->aws_credentials, &b->bus, ec);
	if (r < 0)
		return errctx_prefix(ec, "EventBridge");
	r = dynamodb_idem_store_new(&dopt, b->aws_credentials, &b->idem, ec);
	if (r < 0)
		return errctx_prefix(ec, "DynamoDB");
	return 0;
}

/* After the preflight: how claims and completions of a batch will travel. */
void
backends_aws_note_store(struct backends *b)
{
	struct dynamodb_table_info info;

	if (dynamodb_table_info(b->idem, &info) < 0)
		return;
	if (info.transactions)
		log_debug("DynamoDB: claims and completions of a batch go as one TransactWriteItems");
	else
		log_info("DynamoDB: the endpoint has no TransactWriteItems (UnknownOperation); claims "
		    "and completions go one conditional call per message");
}

void
backends_close_aws(struct backends *b)
{
	aws_credentials_free(b->aws_credentials);
	b->aws_credentials = NULL;
}
