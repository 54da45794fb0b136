#!/usr/bin/env python3
"""Fault-injecting loopback proxy for the reliability tests (stdlib only).

Listens on 127.0.0.1 (a port it picks, written to --port-file once it accepts)
and forwards to --upstream 127.0.0.1:PORT.

--mode http: one request per client connection (the answer carries
  "Connection: close"). Each request draws a fault with probability --rate from
  --faults (comma list):
    5xx       a 500/502/503 answer, before or after the upstream saw the request
    throttle  the service's own throttling error: DynamoDB/EventBridge
              ThrottlingException, SQS RequestThrottled (400), HTTP 429 elsewhere
    429       HTTP 429 with Retry-After: 1
    slow      the answer is held back --slow-ms (random up to that)
    reset     the connection is reset (RST), before or after the upstream saw it
    truncate  the upstream answer is cut in the middle of its body
--mode tcp (SMTP): each connection draws a fault with probability --rate:
    reset     RST at once, or after a random number of client bytes
    slow      every server chunk is held back (random up to --slow-ms)
    421       a "421 service not available" greeting, then close
    truncate  the session is cut after a random number of server chunks
When the file --outage exists, every request (http) / connection (tcp) fails
(5xx and resets in turn): a dependency that is down. While the file --calm
exists, no random fault is drawn (a test's start-up, see faults.sh).
Every request/connection is logged to --log as one JSON line:
  {"t": epoch, "op": "...", "fault": "..." or null, "status": N}
and the totals per fault go to --stats (JSON, rewritten each second and on
SIGTERM). --max-seconds bounds the proxy's life: it stops by itself.
"""
import argparse
import asyncio
import faulthandler
import sys
import json
import os
import random
import signal
import socket
import struct
import time

ap = argparse.ArgumentParser()
ap.add_argument("--upstream", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--mode", choices=("http", "tcp"), default="http")
ap.add_argument("--rate", type=float, default=0.0)
ap.add_argument("--faults", default="5xx,throttle,429,slow,reset,truncate")
ap.add_argument("--slow-ms", type=int, default=1500)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--outage", default="")
ap.add_argument("--calm", default="",
                help="while this file exists no random fault is drawn (an outage still applies)")
ap.add_argument("--log", default="")
ap.add_argument("--stats", default="")
ap.add_argument("--spare", default="",
                help="comma list of operations never faulted (substring match)")
ap.add_argument("--only", default="",
                help="comma list: fault only the operations that contain one of these")
ap.add_argument("--no-after", default="",
                help="comma list: for these operations only faults before the upstream acts")
ap.add_argument("--first-per-body", action="store_true",
                help="fault a request only the first time its body is seen (a retry goes through)")
ap.add_argument("--max-seconds", type=float, default=900)
a = ap.parse_args()

UP_HOST, UP_PORT = a.upstream.rsplit(":", 1)
UP_PORT = int(UP_PORT)
FAULTS = [f for f in a.faults.split(",") if f]
SPARE = [s for s in a.spare.split(",") if s]
ONLY = [s for s in a.only.split(",") if s]
NO_AFTER = [s for s in a.no_after.split(",") if s]
rng = random.Random(a.seed)
seen_bodies = set()
stats = {"requests": 0, "faults": {}, "outage": 0}
logf = open(a.log, "a", buffering=1) if a.log else None


def note(op, fault, status=None):
    stats["requests"] += 1
    if fault:
        stats["faults"][fault] = stats["faults"].get(fault, 0) + 1
    if logf:
        logf.write(json.dumps({"t": round(time.time(), 3), "op": op, "fault": fault,
                               "status": status}) + "\n")


def write_stats():
    if a.stats:
        with open(a.stats + ".tmp", "w") as f:
            json.dump(stats, f)
        os.replace(a.stats + ".tmp", a.stats)


def in_outage():
    return bool(a.outage) and os.path.exists(a.outage)


def calm():
    return bool(a.calm) and os.path.exists(a.calm)


def rst(writer):
    """Close with RST (SO_LINGER 0) instead of FIN."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


# ---- HTTP ------------------------------------------------------------------

async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return start, headers


def hget(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


async def read_body(reader, headers, until_eof=False):
    te = (hget(headers, "Transfer-Encoding") or "").lower()
    if "chunked" in te:
        out = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return out
            out += await reader.readexactly(size)
            await reader.readexactly(2)
    cl = hget(headers, "Content-Length")
    if cl is not None:
        return await reader.readexactly(int(cl))
    return await reader.read() if until_eof else b""


def operation(start, headers, body):
    target = hget(headers, "X-Amz-Target")
    if target:
        return target
    if body.startswith(b"Action="):
        return body.split(b"&")[0][7:].decode("latin-1")
    return " ".join(start.split(" ")[:2])


def throttle_answer(op):
    if op.startswith("DynamoDB_"):
        return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(
            {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
             "message": "Rate of requests exceeds the allowed throughput."}).encode()
    if op.startswith("AmazonSQS."):
        return 400, {"Content-Type": "application/x-amz-json-1.0",
                     "x-amzn-query-error": "RequestThrottled;Sender"}, json.dumps(
            {"__type": "com.amazonaws.sqs#RequestThrottled",
             "message": "Request is throttled."}).encode()
    if op.startswith("AWSEvents."):
        return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
            {"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    if op[:1].isupper() and " " not in op:  # SQS query protocol
        return 400, {"Content-Type": "text/xml"}, (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>RequestThrottled</Code>"
            b"<Message>Request is throttled.</Message></Error><RequestId>x</RequestId></ErrorResponse>")
    return 429, {"Content-Type": "application/json", "Retry-After": "1"}, \
        b'{"code":42910000,"message":"rate limit exceeded"}'


def render(status, headers, body):
    reason = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error",
              502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Status")
    out = "HTTP/1.1 %d %s\r\n" % (status, reason)
    skip = {"content-length", "transfer-encoding", "connection", "keep-alive"}
    for k, v in (headers.items() if isinstance(headers, dict) else headers):
        if k.lower() not in skip:
            out += "%s: %s\r\n" % (k, v)
    out += "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    return out.encode("latin-1") + body


async def upstream_exchange(start, headers, body):
    r, w = await asyncio.open_connection(UP_HOST, UP_PORT)
    try:
        out = start + "\r\n"
        for k, v in headers:
            if k.lower() in ("connection", "keep-alive", "expect", "proxy-connection"):
                continue
            out += "%s: %s\r\n" % (k, v)
        out += "Connection: close\r\n\r\n"
        w.write(out.encode("latin-1") + body)
        await w.drain()
        st, hs = await read_head(r)
        rb = await read_body(r, hs, until_eof=True)
        return int(st.split(" ")[1]), hs, rb
    finally:
        w.close()


async def handle_http(reader, writer):
    try:
        start, headers = await read_head(reader)
        if (hget(headers, "Expect") or "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await read_body(reader, headers)
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        writer.close()
        return
    op = operation(start, headers, body)
    fault = None
    if in_outage():
        stats["outage"] += 1
        fault = "outage-reset" if stats["outage"] % 2 else "outage-5xx"
    elif a.rate > 0 and FAULTS and not calm() and not any(s in op for s in SPARE) and \
            (not ONLY or any(s in op for s in ONLY)) and \
            not (a.first_per_body and body in seen_bodies) and rng.random() < a.rate:
        seen_bodies.add(body)
        fault = rng.choice(FAULTS)
        if fault in ("5xx", "reset"):
            fault += rng.choice(("-before", "-after"))
        if any(s in op for s in NO_AFTER) and fault in ("5xx-after", "reset-after", "truncate"):
            fault = "5xx-before" if fault != "reset-after" else "reset-before"
    try:
        if fault in ("reset-before", "outage-reset"):
            note(op, fault)
            rst(writer)
            return
        if fault in ("5xx-before", "outage-5xx"):
            status = rng.choice((500, 502, 503))
            writer.write(render(status, {"Content-Type": "application/json"},
                                b'{"message":"injected %d"}' % status))
            note(op, fault, status)
            await writer.drain()
            writer.close()
            return
        if fault in ("throttle", "429"):
            status, hs, b = throttle_answer(op) if fault == "throttle" else \
                (429, {"Content-Type": "application/json", "Retry-After": "1"}, b'{"message":"too many requests"}')
            writer.write(render(status, hs, b))
            note(op, fault, status)
            await writer.drain()
            writer.close()
            return
        if fault == "slow":
            await asyncio.sleep(rng.uniform(0.2, 1.0) * a.slow_ms / 1000.0)
        status, hs, b = await upstream_exchange(start, headers, body)
        if fault == "reset-after":
            note(op, fault, status)
            rst(writer)
            return
        if fault == "5xx-after":
            status = rng.choice((500, 502, 503))
            writer.write(render(status, {"Content-Type": "application/json"},
                                b'{"message":"injected %d after processing"}' % status))
        elif fault == "truncate":
            full = render(status, hs, b)
            cut = len(full) - len(b) + len(b) // 2
            if len(b) < 2:
                cut = len(full) - len(b) - 4  # inside the header block
            writer.write(full[:max(cut, 1)])
            await writer.drain()
            note(op, fault, status)
            rst(writer)
            return
        else:
            writer.write(render(status, hs, b))
        note(op, fault, status)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
        note(op, "upstream-error:" + type(e).__name__, None)
        try:
            writer.write(render(502, {}, b'{"message":"upstream error"}'))
            await writer.drain()
        except Exception:
            pass
    writer.close()


# ---- TCP (SMTP) --------------------------------------------------------------

async def pump(src, dst, limit=None, delay=None, counter=None):
    """Copy src to dst; stop after `limit` chunks (None: no limit)."""
    n = 0
    while True:
        data = await src.read(65536)
        if not data:
            break
        if delay:
            await asyncio.sleep(rng.uniform(0.1, 1.0) * delay)
        dst.write(data)
        await dst.drain()
        n += 1
        if counter is not None:
            counter[0] += len(data)
        if limit is not None and n >= limit:
            return "cut"
    return "eof"


async def handle_tcp(reader, writer):
    fault = None
    if in_outage():
        stats["outage"] += 1
        fault = "outage-421" if stats["outage"] % 2 else "outage-reset"
    elif a.rate > 0 and FAULTS and not calm() and rng.random() < a.rate:
        fault = rng.choice(FAULTS)
    if fault in ("reset-now", "outage-reset") or fault == "reset" and rng.random() < 0.3:
        note("smtp", fault)
        rst(writer)
        return
    if fault in ("421", "outage-421"):
        note("smtp", fault)
        writer.write(b"421 4.3.2 Service not available (injected)\r\n")
        await writer.drain()
        writer.close()
        return
    try:
        ur, uw = await asyncio.open_connection(UP_HOST, UP_PORT)
    except OSError:
        note("smtp", "upstream-down")
        rst(writer)
        return
    note("smtp", fault)
    c2s_limit = s2c_limit = None
    if fault == "reset":
        c2s_limit = rng.randint(1, 12)
    if fault == "truncate":
        s2c_limit = rng.randint(1, 12)
    delay = a.slow_ms / 1000.0 if fault == "slow" else None
    t1 = asyncio.ensure_future(pump(reader, uw, limit=c2s_limit))
    t2 = asyncio.ensure_future(pump(ur, writer, limit=s2c_limit, delay=delay))
    done, pending = await asyncio.wait({t1, t2}, return_when=asyncio.FIRST_COMPLETED)
    cut = any(t.result() == "cut" for t in done if not t.exception())
    for t in pending:
        t.cancel()
    if cut:
        rst(writer)
        uw.transport.abort()
    else:
        uw.close()
        writer.close()


def dump_tasks():
    """Every pending task's stack and the open connection count, to stderr."""
    tasks = asyncio.all_tasks()
    print("---- faultproxy %s: %d tasks, stats %s" % (a.upstream, len(tasks), json.dumps(stats)),
          file=sys.stderr)
    for t in tasks:
        t.print_stack(limit=8, file=sys.stderr)
    faulthandler.dump_traceback(file=sys.stderr)
    sys.stderr.flush()


async def main():
    handler = handle_http if a.mode == "http" else handle_tcp
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.replace(a.port_file + ".tmp", a.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # SIGUSR1: the stacks of every task (a test that stalls asks for them).
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
    deadline = time.monotonic() + a.max_seconds
    while not stop.is_set() and time.monotonic() < deadline:
        write_stats()
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
    server.close()
    write_stats()


asyncio.run(main())
