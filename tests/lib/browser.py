#!/usr/bin/env python3
"""Load one page in headless Chromium: its DOM and a screenshot, or why not.

    browser.py URL DOM_OUT PNG_OUT [--size W,H] [--profile DIR] [--timeout S] [--status N]
    (or from Python: browser.load(url, png, ...) -> DOM text; PNG_OUT "-": no
    screenshot, the DOM only)

Why not `chromium --dump-dom` / `--screenshot`: those exit 0 without writing
a file when the capture fails inside Chromium (a renderer that crashed, a
Page.captureScreenshot that answered an error under load): the tests then
saw "an empty screenshot" and nothing said why. This drives the same
browser over the DevTools protocol on a pipe (--remote-debugging-pipe: no
port to pick or race for) and waits for the real conditions, each bounded
and each named when it fails:
  1. the browser starts and answers on the pipe;
  2. the navigation is answered (no network error) with the HTTP status
     expected (--status, default 200; http URLs);
  3. the page's load event fires, then two animation frames (painted);
  4. the screenshot is taken: Chromium answers Page.captureScreenshot with
     data (an error answer is asked again, at most 3 times, each error kept
     for the message), a PNG of exactly W x H pixels that is not one colour.
Exit 0 when all hold; otherwise 1 with "browser: <condition>: <detail>" on
stderr. Chromium's own stderr goes to PROFILE/chrome.log.
"""
import base64
import json
import os
import select
import struct
import subprocess
import sys
import time
import zlib

CHROMIUM = os.environ.get("CHROMIUM", "chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe"]
CAPTURE_TRIES = 3


class BrowserError(Exception):
    """One condition did not hold: str() names it."""


class Cdp:
    """The DevTools protocol over Chromium's pipe: NUL-terminated JSON."""

    def __init__(self, proc, wfd, rfd, deadline):
        self.proc, self.wfd, self.rfd, self.deadline = proc, wfd, rfd, deadline
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_one(self, what):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{what}: no answer before the deadline")
            r, _, _ = select.select([self.rfd], [], [], min(left, 1.0))
            if not r:
                if self.proc.poll() is not None:
                    raise BrowserError(f"{what}: chromium exited ({self.proc.returncode})")
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise BrowserError(f"{what}: chromium closed the pipe (exit {self.proc.poll()})")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        """The result of one command; BrowserError with Chromium's message if it failed."""
        self.next_id += 1
        req = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            req["sessionId"] = session
        data = json.dumps(req).encode() + b"\0"
        while data:
            try:
                data = data[os.write(self.wfd, data):]
            except BrokenPipeError:
                raise BrowserError(f"{method}: chromium closed the pipe "
                                   f"(exit {self.proc.poll()})") from None
        while True:
            m = self._read_one(method)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise BrowserError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, what, match):
        """The first event (seen or to come) for which match(event) holds."""
        while True:
            for i, e in enumerate(self.events):
                if match(e):
                    return self.events.pop(i)
            self.events.append(self._read_one(what))


def png_check(data, width, height):
    """None if data is a W x H PNG that is not one colour, else what is wrong."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    if (w, h) != (width, height):
        return f"{w}x{h} pixels, not {width}x{height}"
    idat, pos = b"", 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        return f"its image data does not decompress ({e})"
    # A page in one colour (nothing painted) filters to a handful of byte
    # values; text and charts bring dozens.
    if len(set(raw)) < 8:
        return "blank (one colour: nothing painted)"
    return None


def _spawn(profile, width, height):
    os.makedirs(profile, exist_ok=True)
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def fds():
        # Chromium reads commands on fd 3 and answers on fd 4.
        a, b = os.dup(to_child_r), os.dup(from_child_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    log = open(os.path.join(profile, "chrome.log"), "ab")
    proc = subprocess.Popen([CHROMIUM] + FLAGS + [f"--user-data-dir={profile}",
                            f"--window-size={width},{height}", "about:blank"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            preexec_fn=fds, pass_fds=(3, 4))
    log.close()
    os.close(to_child_r)
    os.close(from_child_w)
    return proc, to_child_w, from_child_r


def load(url, png, width=1200, height=1800, profile=None, timeout=90, status=200):
    """The page's DOM text; its screenshot written to png (unless "-")."""
    if profile is None:
        raise BrowserError("a profile folder is required")
    proc, wfd, rfd = _spawn(profile, width, height)
    cdp = Cdp(proc, wfd, rfd, time.monotonic() + timeout)
    try:
        return _drive(cdp, url, png, width, height, status)
    except BrowserError as e:
        raise BrowserError(f"{e}{_log_tail(profile)}") from None
    finally:
        try:
            cdp.deadline = time.monotonic() + 10
            cdp.call("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(wfd)
        os.close(rfd)


def _log_tail(profile):
    """Chromium's last words (its D-Bus complaints left out), for a failure."""
    try:
        with open(os.path.join(profile, "chrome.log"), errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip() and "dbus" not in ln]
    except OSError:
        return ""
    return f" (chromium's log: {' | '.join(lines[-3:])})" if lines else ""


def _drive(cdp, url, png, width, height, status):
    """The steps of load() on a started browser."""
    try:
        target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    except BrowserError as e:
        raise BrowserError(f"the browser did not start: {e}") from None
    s = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    cdp.call("Page.enable", session=s)
    cdp.call("Network.enable", session=s)
    cdp.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
             "deviceScaleFactor": 1, "mobile": False}, session=s)
    nav = cdp.call("Page.navigate", {"url": url}, session=s)
    if nav.get("errorText"):
        raise BrowserError(f"the page did not load: {url}: {nav['errorText']}")
    if url.startswith("http"):
        resp = cdp.wait_event(f"the answer to {url}", lambda e: e.get("sessionId") == s and
                              e.get("method") == "Network.responseReceived" and
                              e["params"].get("type") == "Document")["params"]["response"]
        if resp.get("status") != status:
            raise BrowserError(f"the page did not load: {url}: HTTP {resp.get('status')}, "
                               f"not {status}")
    cdp.wait_event(f"the load event of {url}", lambda e: e.get("sessionId") == s and
                   e.get("method") == "Page.loadEventFired")
    dom = cdp.call("Runtime.evaluate", {"returnByValue": True, "expression":
                   "(document.doctype ? new XMLSerializer().serializeToString("
                   "document.doctype) + '\\n' : '') + document.documentElement.outerHTML"},
                   session=s)["result"].get("value") or ""
    # Painted: a frame after the load, and the one after it.
    cdp.call("Runtime.evaluate", {"awaitPromise": True, "expression": "new Promise(r => "
             "requestAnimationFrame(() => requestAnimationFrame(() => r(1))))"}, session=s)
    if png == "-":
        return dom
    errors = []
    for _ in range(CAPTURE_TRIES):
        try:
            data = base64.b64decode(cdp.call("Page.captureScreenshot", {"format": "png"},
                                             session=s)["data"])
        except BrowserError as e:
            errors.append(str(e))
            continue
        bad = png_check(data, width, height)
        if bad is None:
            with open(png, "wb") as f:
                f.write(data)
            break
        errors.append(f"the screenshot is {bad}")
    else:
        raise BrowserError(f"no screenshot of {url} in {CAPTURE_TRIES} tries: "
                           + "; ".join(errors))
    if errors:
        print(f"browser: {url}: screenshot taken after {len(errors)} failed tries: "
              + "; ".join(errors), file=sys.stderr)
    return dom


def main():
    args = sys.argv[1:]
    opts = {"--size": "1200,1800", "--profile": None, "--timeout": "90", "--status": "200"}
    # BrowserError names the condition that failed.
    pos = []
    while args:
        a = args.pop(0)
        if a in opts and args:
            opts[a] = args.pop(0)
        else:
            pos.append(a)
    if len(pos) != 3:
        sys.exit(__doc__)
    url, dom_out, png = pos
    w, h = (int(x) for x in opts["--size"].split(","))
    try:
        dom = load(url, png, w, h, opts["--profile"], float(opts["--timeout"]),
                   int(opts["--status"]))
    except BrowserError as e:
        print(f"browser: {e}", file=sys.stderr)
        return 1
    with open(dom_out, "w") as f:
        f.write(dom)
    return 0


if __name__ == "__main__":
    sys.exit(main())
