# The work queue alchemiserd long-polls, and its dead-letter queue.

resource "aws_sqs_queue" "dlq" {
  name = "${var.name}-dlq"
  # Longer than the work queue's retention: a message keeps its original enqueue
  # time when SQS moves it here, so it must not expire on arrival.
  message_retention_seconds = var.dlq_message_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "work" {
  name = "${var.name}-work"
  # The daemon sets the visibility explicitly on every receive and extends it at
  # half its value while a handler runs; the queue default is what a message gets
  # from any other consumer (the AWS console, a redrive tool). Keep both the same.
  visibility_timeout_seconds = var.visibility_timeout_seconds
  # Long polling by default too, matching the daemon's WaitTimeSeconds of 20.
  receive_wait_time_seconds = 20
  message_retention_seconds = var.message_retention_seconds
  sqs_managed_sse_enabled   = true

  # After max_receive_count failed attempts SQS moves a message to the DLQ. The
  # daemon warns on the last attempt and parks permanent failures there itself.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Only the work queue may use the DLQ as its dead-letter queue (and be the target
# of a DLQ redrive).
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.work.arn]
  })
}

locals {
  rule_arns = [for r in aws_cloudwatch_event_rule.daemon : r.arn]
}

# EventBridge delivers to SQS under the queue's resource policy (SQS targets take
# no role). Allow exactly this module's rules, and refuse plain-HTTP access.
data "aws_iam_policy_document" "work_queue" {
  statement {
    sid       = "AllowAlchemiserRules"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = local.rule_arns
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.work.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "work" {
  queue_url = aws_sqs_queue.work.id
  policy    = data.aws_iam_policy_document.work_queue.json
}

# The rules' dead-letter config also needs the queue policy to let EventBridge in.
data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "AllowAlchemiserRuleDeadLetters"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = local.rule_arns
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}
