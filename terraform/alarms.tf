# Anything in the DLQ needs a human: a rejected message (parked by the daemon), a
# message that failed max_receive_count times, an event EventBridge could not
# deliver, or a trade command Scheduler could not send.
resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name        = "${var.name}-dlq-not-empty"
  alarm_description = "Messages in ${aws_sqs_queue.dlq.name}: inspect them (alchemiserd --explain) and redrive or delete"
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dlq.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.dlq_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# A message waiting this long means no daemon is consuming (stopped, crashed,
# lost its credentials, or its dependency breaker is open).
resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name        = "${var.name}-work-queue-stalled"
  alarm_description = "Oldest message in ${aws_sqs_queue.work.name} is older than ${var.oldest_message_age_alarm_seconds} s: is alchemiserd running?"
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateAgeOfOldestMessage"
  dimensions = {
    QueueName = aws_sqs_queue.work.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.oldest_message_age_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
