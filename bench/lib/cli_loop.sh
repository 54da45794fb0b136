#!/bin/sh
# The naive baseline: an AWS CLI receive/delete loop over QUEUE_URL at ENDPOINT
# until a receive comes back empty (bench/lib/alchbench.py measures its CPU,
# all the aws processes included). Receives 10 at a time, deletes in batches.
set -u
E="--endpoint-url $ENDPOINT"
while :; do
	handles=$(aws $E sqs receive-message --queue-url "$QUEUE_URL" --max-number-of-messages 10 \
	    --wait-time-seconds 1 --query 'Messages[].ReceiptHandle' --output text) || exit 1
	case "$handles" in "" | None) break ;; esac
	i=0
	set --
	for h in $handles; do
		set -- "$@" "Id=m$i,ReceiptHandle=$h"
		i=$((i + 1))
	done
	aws $E sqs delete-message-batch --queue-url "$QUEUE_URL" --entries "$@" >/dev/null || exit 1
done
