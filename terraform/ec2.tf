# Optional: instances that build, install and start alchemiserd from a release
# tarball (instance_count, default 0). More instances on the same queue scale out;
# the idempotency table keeps them from trading twice.

locals {
  create_instances = var.instance_count > 0
  ami_arch         = var.instance_architecture == "arm64" ? "arm64" : "x86_64"
}

# Debian 12 (systemd 252), as published by Debian's own AWS account.
data "aws_ami" "debian" {
  count       = local.create_instances && var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-${var.instance_architecture}-*"]
  }
  filter {
    name   = "architecture"
    values = [local.ami_arch]
  }
}

data "aws_subnet" "instances" {
  count = local.create_instances ? 1 : 0
  id    = var.subnet_id
}

# Nothing comes in; out only what the daemon (and the install) needs. The VPC
# resolver, IMDS and the Amazon Time Sync Service are not filtered by security groups.
resource "aws_security_group" "daemon" {
  count       = local.create_instances ? 1 : 0
  name_prefix = "${var.name}-daemon-"
  description = "alchemiserd: egress only"
  vpc_id      = data.aws_subnet.instances[0].vpc_id

  egress {
    description      = "HTTPS: AWS APIs, Alpaca, Debian mirrors"
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
  egress {
    description      = "HTTP: Debian mirrors (apt verifies signatures)"
    from_port        = 80
    to_port          = 80
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
  egress {
    description      = "SMTP submission (STARTTLS)"
    from_port        = var.smtp_port
    to_port          = var.smtp_port
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  tags = merge(var.tags, { Name = "${var.name}-daemon" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_instance" "daemon" {
  count = var.instance_count

  ami                         = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = concat([aws_security_group.daemon[0].id], var.extra_security_group_ids)
  iam_instance_profile        = aws_iam_instance_profile.daemon.name
  key_name                    = var.key_name
  associate_public_ip_address = var.associate_public_ip_address

  # The daemon gets its credentials from IMDSv2 only; hop limit 1 keeps them away
  # from containers on the host.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
    volume_size = var.root_volume_size_gb
  }

  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    source_url    = var.source_tarball_url
    source_sha256 = var.source_tarball_sha256
    daemon_config = var.daemon_config != null ? var.daemon_config : local.daemon_config
  })
  user_data_replace_on_change = true

  tags = merge(var.tags, { Name = "${var.name}-daemon-${count.index}" })

  lifecycle {
    precondition {
      condition     = var.subnet_id != null
      error_message = "instance_count > 0 needs subnet_id."
    }
    precondition {
      condition     = var.source_tarball_url != null && var.source_tarball_sha256 != null
      error_message = "instance_count > 0 needs source_tarball_url and source_tarball_sha256 (a release tarball made by `make dist`)."
    }
  }
}
