# The daemon's identity: a role for EC2 (instance profile), allowed exactly the
# calls alchemiserd makes and nothing else. Batch API calls are authorised by
# their single-message action (DeleteMessageBatch by sqs:DeleteMessage,
# ChangeMessageVisibilityBatch by sqs:ChangeMessageVisibility, SendMessageBatch by
# sqs:SendMessage).

data "aws_iam_policy_document" "daemon_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "daemon" {
  name               = "${var.name}-daemon"
  description        = "alchemiserd: consume the work queue, publish to the bus, idempotency table"
  assume_role_policy = data.aws_iam_policy_document.daemon_assume.json
  tags               = var.tags
}

resource "aws_iam_instance_profile" "daemon" {
  name = "${var.name}-daemon"
  role = aws_iam_role.daemon.name
  tags = var.tags
}

data "aws_iam_policy_document" "daemon" {
  statement {
    sid = "ConsumeWorkQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",           # also DeleteMessageBatch
      "sqs:ChangeMessageVisibility", # also ChangeMessageVisibilityBatch (heartbeat, release)
      "sqs:GetQueueAttributes",      # preflight: VisibilityTimeout, RedrivePolicy, MaximumMessageSize
    ]
    resources = [aws_sqs_queue.work.arn]
  }

  statement {
    sid = "ParkInDeadLetterQueue"
    actions = [
      "sqs:SendMessage", # rejected messages, with the reason as attributes
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",          # the dead-letter watch (aws.dlq_watch_interval) reads what SQS parked
      "sqs:ChangeMessageVisibility", # ... and makes it visible again (it never deletes one)
    ]
    resources = [aws_sqs_queue.dlq.arn]
  }

  statement {
    sid = "PublishEvents"
    actions = [
      "events:PutEvents",
      "events:DescribeEventBus", # preflight: the bus exists (PutEvents to a missing bus can look like success)
    ]
    resources = [aws_cloudwatch_event_bus.this.arn]
  }

  statement {
    # and the dashboard's run records (runs_table: BatchGetItem reads them)
    sid = "IdempotencyRecords"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:PutItem",    # conditional claim
      "dynamodb:UpdateItem", # fenced completion, lease renewal, step progress
      "dynamodb:DeleteItem", # fenced release
      "dynamodb:DescribeTable",
      "dynamodb:DescribeTimeToLive",
    ]
    resources = [aws_dynamodb_table.idempotency.arn]
  }
}

resource "aws_iam_role_policy" "daemon" {
  name   = "alchemiserd"
  role   = aws_iam_role.daemon.id
  policy = data.aws_iam_policy_document.daemon.json
}
