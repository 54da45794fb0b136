terraform {
  # check blocks, optional() attributes and the scheduler resources need >= 1.5.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_scheduler_schedule, aws_sqs_queue_redrive_allow_policy and
      # sqs_managed_sse_enabled are all in 5.x.
      version = ">= 5.0, < 7.0"
    }
  }
}
