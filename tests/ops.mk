# operations: systemd unit, terraform and man-page checks.
