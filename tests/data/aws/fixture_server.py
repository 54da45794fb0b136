#!/usr/bin/env python3
"""Scripted HTTP fixture for the aws unit tests (stdlib only, loopback only).

usage: fixture_server.py PORT ROUTES_JSON LOG_JSONL [CERT_PEM KEY_PEM]
(with a certificate and key it speaks HTTPS)

ROUTES_JSON: [{"method": "PUT", "path": "/latest/api/token",
               "responses": [{"status": 200, "headers": {...}, "body": "...",
                              "delay_ms": 0, "date_offset_s": 0}, ...]}, ...]
A route answers its responses in order and repeats the last one. "path" may
end with "*" to match a prefix. A response with "drop": true closes the
connection without answering. Unknown routes get 404. Every request is
appended to LOG_JSONL as {"method", "path", "peer_port", "headers", "body"} before the
answer is written, so a test can read what the client sent.
"""
import email.utils
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
ROUTES = json.load(open(sys.argv[2]))
LOG = sys.argv[3]
LOCK = threading.Lock()
COUNTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    date_offset = 0

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        # send_response() adds Date itself: shift it here for clock-skew tests.
        return email.utils.formatdate(time.time() + self.date_offset, usegmt=True)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "peer_port": self.client_address[1],
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body}) + "\n")
        route = None
        for i, r in enumerate(ROUTES):
            p = r["path"]
            if r.get("method", self.command) != self.command:
                continue
            if p == self.path or (p.endswith("*") and self.path.startswith(p[:-1])):
                route = (i, r)
                break
        if route is None:
            resp = {"status": 404, "body": "no route"}
        else:
            with LOCK:
                k = COUNTS.get(route[0], 0)
                COUNTS[route[0]] = k + 1
            rs = route[1]["responses"]
            resp = rs[min(k, len(rs) - 1)]
        if resp.get("delay_ms"):
            time.sleep(resp["delay_ms"] / 1000.0)
        if resp.get("drop"):
            self.close_connection = True
            return
        data = resp.get("body", "")
        if not isinstance(data, str):
            data = json.dumps(data)
        data = data.encode()
        self.date_offset = resp.get("date_offset_s", 0)
        self.send_response(resp.get("status", 200))
        hdrs = dict(resp.get("headers", {}))
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
if len(sys.argv) > 5:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
