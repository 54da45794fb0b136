variable "name" {
  description = "Prefix of every resource name (bus <name>-events, queue <name>-work, ...)."
  type        = string
  default     = "alchemiser"

  validation {
    # The archive name (<name>-archive) is limited to 48 characters, queue names
    # to 80 of [A-Za-z0-9_-].
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name: 1-40 characters of A-Z, a-z, 0-9, _ and -."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes them."
  type        = map(string)
  default     = {}
}

# --- Queue --------------------------------------------------------------------

variable "visibility_timeout_seconds" {
  description = "Work queue visibility timeout. Keep it equal to the daemon's visibility timeout (alchemiserd.conf; default 120 s): the daemon extends in-flight messages at half this value."
  type        = number
  default     = 120

  validation {
    condition     = var.visibility_timeout_seconds >= 30 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds: 30 to 43200 (SQS allows 0-43200; below 30 s a heartbeat every 15 s or less is pointless churn)."
  }
}

variable "max_receive_count" {
  description = "Receives before SQS moves a message to the DLQ (redrive policy maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count: an integer from 1 to 1000."
  }
}

variable "message_retention_seconds" {
  description = "Work queue retention (default 4 days)."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds: 60 to 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "DLQ retention (default 14 days, the maximum). Must exceed the work queue's: a message keeps its enqueue time when moved."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds: 60 to 1209600 (14 days)."
  }
}

# --- Bus ----------------------------------------------------------------------

variable "archive_retention_days" {
  description = "Days the event archive keeps events for replay. Keep it below the daemon's idempotency window (default 400 days), or a replay can re-run work."
  type        = number
  default     = 365

  validation {
    condition     = var.archive_retention_days >= 1
    error_message = "archive_retention_days: at least 1 (0 would mean forever, longer than any idempotency window)."
  }
}

variable "rule_target_max_event_age_seconds" {
  description = "How long EventBridge retries delivering an event to the queue before it goes to the DLQ."
  type        = number
  default     = 86400

  validation {
    condition     = var.rule_target_max_event_age_seconds >= 60 && var.rule_target_max_event_age_seconds <= 86400
    error_message = "rule_target_max_event_age_seconds: 60 to 86400."
  }
}

# --- Schedule -----------------------------------------------------------------

variable "schedule_enabled" {
  description = "Whether the daily trade schedule is enabled."
  type        = bool
  default     = true
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression of the trade command (in schedule_timezone)."
  type        = string
  default     = "cron(35 9 ? * MON-FRI *)"
}

variable "schedule_timezone" {
  description = "IANA time zone of schedule_expression (daylight saving time is followed)."
  type        = string
  default     = "America/New_York"
}

variable "schedule_input" {
  description = "Message body the schedule sends to the work queue (a command, delivered verbatim). Without correlation_id it is keyed by its run key (account, mode, NYSE session), so the Scheduler's at-least-once copies start one run a day; a fixed correlation_id or force would defeat that."
  type        = string
  default     = "{\"mode\":\"trade\"}"

  validation {
    condition     = can(jsondecode(var.schedule_input))
    error_message = "schedule_input must be JSON."
  }

  validation {
    condition     = !can(jsondecode(var.schedule_input).correlation_id) && !can(jsondecode(var.schedule_input).force)
    error_message = "schedule_input must not carry correlation_id or force: the daily command is identified by its run key (account, mode, NYSE session), so duplicate deliveries start one run."
  }
}

variable "schedule_max_event_age_seconds" {
  description = "How long Scheduler keeps retrying to send the command; after that it goes to the DLQ instead of trading late."
  type        = number
  default     = 900

  validation {
    condition     = var.schedule_max_event_age_seconds >= 60 && var.schedule_max_event_age_seconds <= 86400
    error_message = "schedule_max_event_age_seconds: 60 to 86400."
  }
}

# --- Table --------------------------------------------------------------------

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery on the idempotency table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Protect the idempotency table from deletion (terraform destroy fails until this is false)."
  type        = bool
  default     = true
}

# --- Alarms -------------------------------------------------------------------

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires or clears (an SNS topic, say)."
  type        = list(string)
  default     = []
}

variable "dlq_alarm_threshold" {
  description = "DLQ depth that raises the alarm."
  type        = number
  default     = 1
}

variable "oldest_message_age_alarm_seconds" {
  description = "Age of the oldest work-queue message that raises the 'stalled' alarm."
  type        = number
  default     = 900
}

# --- Optional EC2 instances ---------------------------------------------------

variable "instance_count" {
  description = "Number of EC2 instances running alchemiserd (0: create only the AWS side)."
  type        = number
  default     = 0

  validation {
    condition     = var.instance_count >= 0 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count: a non-negative integer."
  }
}

variable "instance_type" {
  description = "EC2 instance type (match instance_architecture)."
  type        = string
  default     = "t3.micro"
}

variable "instance_architecture" {
  description = "Debian image architecture: amd64 or arm64."
  type        = string
  default     = "amd64"

  validation {
    condition     = contains(["amd64", "arm64"], var.instance_architecture)
    error_message = "instance_architecture: amd64 or arm64."
  }
}

variable "ami_id" {
  description = "Image to use instead of the latest official Debian 12 image."
  type        = string
  default     = null
}

variable "subnet_id" {
  description = "Subnet of the instances (needs a route to the internet or NAT, or VPC endpoints for SQS, EventBridge and DynamoDB)."
  type        = string
  default     = null
}

variable "extra_security_group_ids" {
  description = "Security groups added to the module's egress-only group (for SSH, say)."
  type        = list(string)
  default     = []
}

variable "key_name" {
  description = "EC2 key pair for SSH (null: none; use SSM Session Manager or a serial console)."
  type        = string
  default     = null
}

variable "associate_public_ip_address" {
  description = "Give the instances a public IPv4 address (needed in a public subnet without NAT)."
  type        = bool
  default     = false
}

variable "root_volume_size_gb" {
  description = "Root volume size in GiB."
  type        = number
  default     = 8
}

variable "smtp_port" {
  description = "SMTP submission port the instances may reach (STARTTLS)."
  type        = number
  default     = 587
}

variable "source_tarball_url" {
  description = "HTTPS URL of an alchemiserd release tarball (made by `make dist`) that the instances build and install."
  type        = string
  default     = null
}

variable "source_tarball_sha256" {
  description = "SHA-256 of that tarball; the install stops if it does not match."
  type        = string
  default     = null

  validation {
    condition     = var.source_tarball_sha256 == null || can(regex("^[0-9a-f]{64}$", var.source_tarball_sha256))
    error_message = "source_tarball_sha256: 64 lower-case hex digits."
  }
}

variable "daemon_config" {
  description = "Full text of /etc/alchemiser/alchemiserd.conf for the instances (null: the module's generated AWS configuration, see the daemon_config output). Never put secrets here."
  type        = string
  default     = null
}
