# Idempotency records: one item per claimed event, keyed by the event id. The
# daemon compares the expiry in its conditions; TTL only garbage-collects (lazily,
# within days), so TTL is never relied on for correctness.

resource "aws_dynamodb_table" "idempotency" {
  name         = "${var.name}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "event_id"

  attribute {
    name = "event_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  # Encrypted at rest with the AWS owned key (the default): no KMS permission for
  # the daemon to manage.

  # Losing this table means losing the memory of which events (and orders) were
  # already handled: a replay would trade again.
  deletion_protection_enabled = var.deletion_protection

  tags = var.tags
}
