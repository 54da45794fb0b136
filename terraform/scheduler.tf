# The daily trade command: weekdays 09:35 New York time (daylight saving followed),
# sent straight to the work queue as the message body {"mode":"trade"} (Scheduler
# adds no envelope). Market holidays are the daemon's business (calendar check).

resource "aws_scheduler_schedule" "trade" {
  name        = "${var.name}-daily-trade"
  description = "alchemiserd trade command on US trading-day mornings"
  group_name  = "default"
  state       = var.schedule_enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sqs_queue.work.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = var.schedule_input

    # A trade command delivered hours late would trade at a time nobody chose:
    # give up after max_event_age and leave the failure in the DLQ instead.
    retry_policy {
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    # Confused-deputy guard: only schedules of this account may use the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "EventBridge Scheduler: send the daily trade command to the alchemiserd queue"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "SendTradeCommand"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work.arn]
  }
  # Scheduler writes its dead letters with the same role (not the queue policy).
  statement {
    sid       = "SendDeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "send-trade-command"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
