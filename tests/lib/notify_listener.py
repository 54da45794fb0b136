#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (no systemd runs here, see
shared/design/test-env.md §9): binds an AF_UNIX datagram socket and appends
every datagram the daemon sends to a log file, one message per line with its
fields joined by '|'. Stops after --timeout seconds or on SIGTERM."""
import argparse, os, signal, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("log")
ap.add_argument("--timeout", type=float, default=120.0)
a = ap.parse_args()

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(a.socket)
s.settimeout(0.2)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
deadline = time.monotonic() + a.timeout
with open(a.log, "a", buffering=1) as out:
    out.write("LISTENING\n")
    while time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        out.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
