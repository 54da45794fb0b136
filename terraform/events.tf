# The event types alchemiserd publishes, each with the fixed source it publishes it
# under, written as the literal EventBridge patterns of one rule each. A rule
# matches exactly one (source, detail-type) pair, so every event reaches the work
# queue exactly once (the Python system's catch-all rule plus specific rules would
# have delivered some events twice).
#
# tests/ops/test-terraform.sh parses this map from the HCL and checks it against the
# daemon's event catalogue; keep the values literal (no interpolation) so that the
# check can read them.
locals {
  event_rule_patterns = {
    "workflow-started" = {
      "source"      = ["alchemiser.orchestration"]
      "detail-type" = ["WorkflowStarted"]
    }
    "signal-generated" = {
      "source"      = ["alchemiser.strategy"]
      "detail-type" = ["SignalGenerated"]
    }
    "rebalance-planned" = {
      "source"      = ["alchemiser.portfolio"]
      "detail-type" = ["RebalancePlanned"]
    }
    "trade-executed" = {
      "source"      = ["alchemiser.execution"]
      "detail-type" = ["TradeExecuted"]
    }
    "workflow-completed" = {
      "source"      = ["alchemiser.execution"]
      "detail-type" = ["WorkflowCompleted"]
    }
    "workflow-failed" = {
      "source"      = ["alchemiser.execution"]
      "detail-type" = ["WorkflowFailed"]
    }
    "trading-notification-requested" = {
      "source"      = ["alchemiser.notifications"]
      "detail-type" = ["TradingNotificationRequested"]
    }
    "error-notification-requested" = {
      "source"      = ["alchemiser.notifications"]
      "detail-type" = ["ErrorNotificationRequested"]
    }
  }

  # What the archive keeps: everything alchemiserd published (all sources share
  # the prefix), so that a day can be replayed into the rules above.
  archive_pattern = {
    "source" = [{ "prefix" = "alchemiser." }]
  }
}

resource "aws_cloudwatch_event_bus" "this" {
  name = "${var.name}-events"
  tags = var.tags
}

resource "aws_cloudwatch_event_archive" "this" {
  name             = "${var.name}-archive"
  description      = "Every alchemiser.* event, for replay after an incident"
  event_source_arn = aws_cloudwatch_event_bus.this.arn
  retention_days   = var.archive_retention_days
  event_pattern    = jsonencode(local.archive_pattern)
}

resource "aws_cloudwatch_event_rule" "daemon" {
  for_each = local.event_rule_patterns

  name           = "${var.name}-${each.key}"
  description    = "${each.value["detail-type"][0]} from ${each.value["source"][0]} to the alchemiserd work queue"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode(each.value)
  state          = "ENABLED"
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "daemon" {
  for_each = local.event_rule_patterns

  rule           = aws_cloudwatch_event_rule.daemon[each.key].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "work-queue"
  # The whole event is the message body (no Input/InputPath): the daemon needs
  # id, source, detail-type and detail. SQS targets use the queue policy, not a role.
  arn = aws_sqs_queue.work.arn

  retry_policy {
    maximum_event_age_in_seconds = var.rule_target_max_event_age_seconds
    maximum_retry_attempts       = 185
  }

  # Events that cannot be delivered to the queue (policy or queue trouble) go to the
  # same DLQ the daemon parks rejected messages in, where the DLQ alarm sees them.
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}
