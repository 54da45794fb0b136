output "event_bus_name" {
  description = "Bus the daemon publishes to ([aws] event_bus)."
  value       = aws_cloudwatch_event_bus.this.name
}

output "event_bus_arn" {
  description = "ARN of the bus."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "event_rule_arns" {
  description = "Rule ARN per event type (for replays limited to some rules)."
  value       = { for k, r in aws_cloudwatch_event_rule.daemon : k => r.arn }
}

output "archive_arn" {
  description = "Event archive to replay from (aws events start-replay --event-source-arn)."
  value       = aws_cloudwatch_event_archive.this.arn
}

output "work_queue_url" {
  description = "Queue the daemon polls ([aws] queue_url)."
  value       = aws_sqs_queue.work.url
}

output "work_queue_arn" {
  description = "ARN of the work queue."
  value       = aws_sqs_queue.work.arn
}

output "dead_letter_queue_url" {
  description = "DLQ ([aws] dead_letter_queue_url)."
  value       = aws_sqs_queue.dlq.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the DLQ."
  value       = aws_sqs_queue.dlq.arn
}

output "idempotency_table_name" {
  description = "Idempotency table ([aws] idempotency_table)."
  value       = aws_dynamodb_table.idempotency.name
}

output "schedule_arn" {
  description = "ARN of the daily trade schedule."
  value       = aws_scheduler_schedule.trade.arn
}

output "daemon_role_arn" {
  description = "Role with exactly the permissions alchemiserd needs (attach it elsewhere, e.g. IAM Roles Anywhere, if not on EC2)."
  value       = aws_iam_role.daemon.arn
}

output "daemon_instance_profile_name" {
  description = "Instance profile for EC2 hosts running alchemiserd."
  value       = aws_iam_instance_profile.daemon.name
}

output "instance_ids" {
  description = "EC2 instances running alchemiserd (empty when instance_count is 0)."
  value       = aws_instance.daemon[*].id
}

output "daemon_config" {
  description = "The AWS part of /etc/alchemiser/alchemiserd.conf for this deployment."
  value       = local.daemon_config
}
