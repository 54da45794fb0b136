# alchemiserd on AWS: the event bus and its rules, the work queue and its DLQ,
# the daily schedule, the idempotency table, the daemon's IAM role, alarms, and
# optionally EC2 instances running the daemon. One file per concern:
#   events.tf     bus, archive, one rule per event type -> work queue
#   sqs.tf        work queue, DLQ, redrive, queue policies
#   scheduler.tf  weekday 09:35 America/New_York trade command
#   dynamodb.tf   idempotency table
#   iam.tf        least-privilege daemon role + instance profile
#   alarms.tf     DLQ depth, oldest message age
#   ec2.tf        optional instances (instance_count, default 0)
# See README.md.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  # The [aws] part of /etc/alchemiser/alchemiserd.conf for this deployment; the
  # EC2 user data writes it, and the output lets other hosts copy it.
  # NOTE: key names follow the draft configuration table; see alchemiserd.conf(5).
  daemon_config = <<-EOT
    # Written by the alchemiserd Terraform module; see alchemiserd.conf(5).
    # The queue, bus and table below are this module's. Trading and mail keep
    # the paper defaults until you set [trading] (broker = alpaca, keys as
    # LoadCredential= names) and [mail] (transport = smtp, smtp_url, to).
    [daemon]
    backend = aws
    visibility_timeout = ${var.visibility_timeout_seconds}s

    [aws]
    region = ${data.aws_region.current.name}
    queue_url = ${aws_sqs_queue.work.url}
    dead_letter_queue_url = ${aws_sqs_queue.dlq.url}
    event_bus = ${aws_cloudwatch_event_bus.this.name}
    idempotency_table = ${aws_dynamodb_table.idempotency.name}
    # The dashboard's run records share the idempotency table (keys run#, runs#day#, dead#).
    runs_table = ${aws_dynamodb_table.idempotency.name}
  EOT
}
