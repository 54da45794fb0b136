#!/usr/bin/env python3
"""moto_server with its DynamoDB requests taken one at a time.

Why: moto_server answers on many threads, and moto 5's TransactWriteItems
keeps a deep copy of each table it touches and, when the transaction is
cancelled, puts that copy back. A write another thread made in between (a
claim, a completion of another message, another daemon's work) is silently
undone, and a copy taken while another thread writes can fail with HTTP 500.
Real DynamoDB serialises transactions against conflicting writes; taking
moto's DynamoDB requests one at a time gives the tests that behaviour. SQS
and EventBridge stay concurrent (SQS long polls must not block each other).

This is not a test double: the requests are moto's own, unchanged; only their
concurrency is restricted. Same arguments as moto_server.
"""
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialised_call_action

if __name__ == "__main__":
    sys.exit(main())
