#!/usr/bin/env python3
"""Open a delivered email the way its reader sees it, and check what it says.

    mail_render.py KIND MAILFILE ARTDIR NAME [key=value ...]

Takes the RFC 5322 message the daemon wrote to the maildir, extracts its
text/html part, loads it in headless Chromium (tests/lib/browser.py: the DOM
Chromium built, and a screenshot: ARTDIR/NAME.png, kept for people to look at), reads
the sections (h2 headings and their tables) out of Chromium's DOM and asserts
that the report tells the truth about the run: numbers that must agree do
agree (orders listed vs placed, amounts vs the total, weights vs 100 %), the
session and bar dates are the ones given, no cell reads n/a or is empty where
the run knows the value, and the text/plain part carries the same facts.

KIND is one of: trading, partial, signal-only, error, pnl, superseded.
Keys: as_of=DATE, bars=DATE, orders=N (filled orders in the paper broker),
correlation=ID, reason=TEXT (a phrase the error must contain), newer=RUN.
Exit 0 if every check holds; otherwise 1 with the failed checks on stderr.
"""
import email
import email.policy
import html.parser
import os
import re
import sys
import tempfile

import browser

class Dom(html.parser.HTMLParser):
    """Headings, tables (rows of cell texts), paragraphs and all text, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = {}      # h2 text -> list of tables (list of rows)
        self.order = []
        self.header = []        # texts inside the first div (the banner)
        self.text = []
        self.scripts = 0
        self.remote = []        # src/href that would fetch from the network
        self._h2 = None
        self._cur = "(top)"
        self._row = None
        self._cell = None
        self._banner_depth = 0
        self._depth = 0
        self._banner_done = False
        self._buf = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            v = a.get(k) or ""
            if re.match(r"(?i)^(https?:)?//", v) and tag != "a":
                self.remote.append(v)
        if tag == "script":
            self.scripts += 1
        if tag == "div":
            self._depth += 1
            if not self._banner_done and self._banner_depth == 0:
                self._banner_depth = self._depth
        if tag == "h2":
            self._h2 = []
        elif tag == "table":
            self.sections.setdefault(self._cur, []).append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "div":
            if self._banner_depth and self._depth == self._banner_depth:
                self._banner_done = True
                self._banner_depth = 0
            self._depth -= 1
        if tag == "h2" and self._h2 is not None:
            self._cur = " ".join("".join(self._h2).split())
            self.order.append(self._cur)
            self._h2 = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            tables = self.sections.setdefault(self._cur, [[]])
            tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._h2 is not None:
            self._h2.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._banner_depth and not self._banner_done and data.strip():
            self.header.append(" ".join(data.split()))


class Checks:
    def __init__(self, name):
        self.name = name
        self.failed = []
        self.passed = 0

    def that(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
        return cond


def money(s):
    m = re.fullmatch(r"-?\$-?[\d,]+\.\d\d", s or "")
    return float(s.replace("$", "").replace(",", "")) if m else None


def pct(s):
    m = re.fullmatch(r"(-?[\d.]+)%", s or "")
    return float(m.group(1)) if m else None


def table(dom, section, n=0):
    t = dom.sections.get(section, [])
    return t[n] if len(t) > n else []


def kv(dom, section):
    """A two-column key/value table as a dict."""
    return {r[0]: r[1] for r in table(dom, section) if len(r) == 2}


def rows_as_dicts(rows):
    if not rows:
        return []
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


def allocation_sum(text):
    """'IEF 31.6%, SOXL 15.0%' -> 46.6; None if the text is not an allocation."""
    parts = [p.strip() for p in text.split(",")]
    total = 0.0
    for p in parts:
        m = re.fullmatch(r"[A-Z][A-Z0-9.]* (\d+(?:\.\d+)?)%", p)
        if not m:
            return None
        total += float(m.group(1))
    return total


def render(html_path, artdir, name, work):
    png = os.path.join(artdir, name + ".png")
    if os.path.exists(png):
        os.unlink(png)
    try:
        dom = browser.load("file://" + os.path.abspath(html_path), png, 900, 1600,
                           os.path.join(work, "chrome-profile"))
    except browser.BrowserError as e:
        sys.exit(f"{name}: chromium: {e}")
    if "<body" not in dom:
        sys.exit(f"{name}: chromium's DOM has no body")
    return dom, png


def check_common(c, msg, dom, plain, png, kw):
    c.that(dom.scripts == 0, "the email carries a script")
    c.that(not dom.remote, f"the email loads remote content: {dom.remote[:3]}")
    with open(png, "rb") as f:
        head = f.read(8)
    c.that(head == b"\x89PNG\r\n\x1a\n", "screenshot is not a PNG")
    c.that(os.path.getsize(png) > 15000, f"screenshot nearly empty ({os.path.getsize(png)} bytes)")
    c.that(bool(dom.header) and dom.header[0] == "The Alchemiser", f"banner: {dom.header}")
    c.that(plain is not None and len(plain.strip()) > 40, "no text/plain part for plain-text readers")
    if kw.get("correlation"):
        c.that(kw["correlation"] in " ".join(dom.text), "the correlation id is not in the email")


def check_trading(c, msg, dom, plain, kw, kind):
    subj = str(msg["Subject"])
    summary = kv(dom, "Execution Summary")
    c.that(bool(summary), "no Execution Summary table")
    status = summary.get("Status", "")
    if kind == "superseded":
        c.that(subj.startswith("[SUPERSEDED]"), f"subject: {subj}")
        c.that(status == "SUPERSEDED", f"summary Status {status!r}, want SUPERSEDED")
        c.that(any(h.startswith("Status: Superseded by run") for h in dom.header), f"banner: {dom.header}")
        newer = kw.get("newer")
        if newer:
            c.that(newer in " ".join(dom.text), f"the report does not name the newer run {newer}")
        if kw.get("earlier"):
            # What the run placed before it was stopped is listed, not hidden.
            n = int(kw["earlier"])
            rows = rows_as_dicts(table(dom, "Orders This Run Placed Before It Was Superseded"))
            c.that(len(rows) == n, f"{len(rows)} earlier order rows, the run placed {n}")
            if n > 0:
                c.that(re.search(rf"this run placed {n} orders?", " ".join(" ".join(dom.text).split())) is not None,
                       "the report does not say how many orders the run placed before")
    elif kind == "partial":
        # Traded, but not on every file: the subject and the banner say so.
        c.that(subj.startswith("[SUCCESS][PARTIAL]"), f"subject: {subj}")
        c.that(status == "SUCCESS", f"summary Status {status!r}, want SUCCESS")
        c.that(any(re.search(r"Completed, but \d+ of \d+ strategy files failed", h) for h in dom.header),
               f"banner: {dom.header}")
        c.that(re.fullmatch(r"\d+ of \d+ strategy files failed \(.*\)", summary.get("Strategy Files", "")),
               f"summary Strategy Files {summary.get('Strategy Files')!r}")
    else:
        c.that(subj.startswith("[SUCCESS] "), f"subject: {subj}")
        c.that(status == "SUCCESS", f"summary Status {status!r}, want SUCCESS")
        c.that(any("Completed Successfully" in h for h in dom.header), f"banner: {dom.header}")
        c.that(re.fullmatch(r"(\d+) of \1 OK", summary.get("Strategy Files", "")),
               f"summary Strategy Files {summary.get('Strategy Files')!r}")
    for k in ("Mode", "Correlation ID", "Orders Placed", "Orders Succeeded", "Total Trade Value", "Time"):
        c.that(summary.get(k, "") not in ("", "n/a"), f"summary {k} is {summary.get(k)!r}")
    if kw.get("as_of"):
        c.that(summary.get("Session") == kw["as_of"], f"Session {summary.get('Session')!r}, want {kw['as_of']}")
    if kw.get("bars"):
        c.that(summary.get("Bars As Of") == kw["bars"], f"Bars As Of {summary.get('Bars As Of')!r}, want {kw['bars']}")

    # Signals: one row per file, weights adding to 100 %, OK rows with an
    # allocation adding to 100 %, failed rows with their error.
    sig = rows_as_dicts(table(dom, "Strategy Signals"))
    c.that(len(sig) >= 1, "the Strategy Signals table is empty")
    wsum = 0.0
    for r in sig:
        for col in ("Strategy", "Weight", "Status", "Bars As Of", "Allocation / Error"):
            c.that(r.get(col, "") not in ("", "n/a"), f"signal row {r.get('Strategy')}: {col} is {r.get(col)!r}")
        w = pct(r.get("Weight"))
        c.that(w is not None, f"signal weight {r.get('Weight')!r}")
        wsum += w or 0
        if r.get("Status") == "OK":
            s = allocation_sum(r.get("Allocation / Error", ""))
            c.that(s is not None and abs(s - 100) <= 0.6,
                   f"{r.get('Strategy')}: allocation {r.get('Allocation / Error')!r} adds to {s}")
        else:
            c.that(r.get("Status") == "FAILED" and r.get("Allocation / Error", "").startswith("Error: "),
                   f"{r.get('Strategy')}: status {r.get('Status')!r} without its error")
        if kw.get("bars"):
            c.that(r.get("Bars As Of") == kw["bars"], f"{r.get('Strategy')}: bars {r.get('Bars As Of')!r}")
    c.that(abs(wsum - 100) <= 0.2, f"strategy weights add to {wsum}%")
    failed = [r for r in sig if r.get("Status") != "OK"]
    if kind == "partial":
        c.that(len(failed) >= 1, "no failed strategy row in a partial run")
        c.that("Kept in cash for the failed strategy files" in " ".join(dom.text), "no kept-in-cash note")
    elif kind in ("trading", "signal-only"):
        c.that(not failed, f"failed strategy rows in a clean run: {failed}")

    # Plan: target weights add to at most 100 % (the cash reserve stays out).
    plan = rows_as_dicts(table(dom, "Portfolio Rebalancing Plan"))
    c.that(len(plan) >= 1, "the plan table is empty")
    tsum = sum(pct(r.get("Target %")) or 0 for r in plan)
    cash = 0.0
    if kind == "partial":
        cash = sum(pct(r.get("Weight")) or 0 for r in failed)
    c.that(90 - cash <= tsum <= 100.05 - cash, f"plan targets add to {tsum}% (cash for failed files {cash}%)")
    for r in plan:
        c.that(r.get("Action") in ("BUY", "SELL", "HOLD"), f"plan {r.get('Symbol')}: action {r.get('Action')!r}")

    # Orders: as many rows as placed, amounts adding to the total.
    orders = rows_as_dicts(table(dom, "Order Execution Details"))
    placed = summary.get("Orders Placed", "")
    total = money(summary.get("Total Trade Value"))
    if kind in ("signal-only", "superseded"):
        if kind == "signal-only":
            c.that(placed == "0", f"signal-only run: Orders Placed {placed!r}")
        return
    c.that(placed.isdigit() and int(placed) == len(orders), f"Orders Placed {placed!r} but {len(orders)} order rows")
    if kw.get("orders"):
        c.that(placed == kw["orders"], f"Orders Placed {placed!r}, the broker filled {kw['orders']}")
    c.that(summary.get("Orders Succeeded") == placed, f"Orders Succeeded {summary.get('Orders Succeeded')!r} of {placed}")
    amounts = [money(r.get("Amount")) for r in orders]
    c.that(all(a is not None and a > 0 for a in amounts), f"order amounts {[r.get('Amount') for r in orders]}")
    c.that(total is not None and abs(sum(a or 0 for a in amounts) - total) <= 0.05 * max(1, len(amounts)),
           f"order amounts add to {sum(a or 0 for a in amounts):.2f}, Total Trade Value {summary.get('Total Trade Value')}")
    for r in orders:
        c.that(r.get("Status") == "Filled", f"order {r.get('Symbol')}: status {r.get('Status')!r}")
        c.that(money(r.get("Avg Price")) is not None, f"order {r.get('Symbol')}: price {r.get('Avg Price')!r}")
    c.that({r.get("Symbol") for r in orders} <= {r.get("Symbol") for r in plan},
           "an order for a symbol the plan does not have")
    # The plain part tells the same story.
    if plain is not None:
        c.that(summary.get("Total Trade Value", "?") in plain, "text/plain lacks the total trade value")
        for r in orders:
            c.that(r.get("Symbol", "?") in plain, f"text/plain lacks {r.get('Symbol')}")


def check_error(c, msg, dom, plain, kw):
    subj = str(msg["Subject"])
    c.that(subj.startswith("[FAILURE]"), f"subject: {subj}")
    s = kv(dom, "Error Summary")
    for k in ("Title", "Severity", "Error Code", "Correlation ID", "Time"):
        c.that(s.get(k, "") not in ("", "n/a"), f"error summary {k} is {s.get(k)!r}")
    c.that(any(h.startswith("Status: Error") for h in dom.header), f"banner: {dom.header}")
    body = " ".join(" ".join(dom.text).split())
    if kw.get("reason"):
        c.that(kw["reason"] in body, f"the error does not say {kw['reason']!r}")
        if plain is not None:
            c.that(kw["reason"] in " ".join(plain.split()), f"text/plain does not say {kw['reason']!r}")
    if kw.get("step"):
        c.that(s.get("Error Code") == kw["step"], f"Error Code {s.get('Error Code')!r}, want {kw['step']}")


def check_pnl(c, msg, dom, plain, kw):
    s = kv(dom, "Summary")
    for k in ("Period", "Starting Value", "Ending Value", "Total P&L", "Total P&L %"):
        c.that(s.get(k, "") not in ("", "n/a"), f"P&L summary {k} is {s.get(k)!r}")
    start, end, pl = money(s.get("Starting Value")), money(s.get("Ending Value")), money(s.get("Total P&L"))
    c.that(None not in (start, end, pl) and abs((end - start) - pl) <= 0.01,
           f"P&L {s.get('Total P&L')} is not ending {s.get('Ending Value')} minus starting {s.get('Starting Value')}")
    c.that(any(("Period: " + s.get("Period", "?")) == h for h in dom.header), f"banner {dom.header} vs period")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    kind, mailfile, artdir, name = sys.argv[1:5]
    kw = dict(a.split("=", 1) for a in sys.argv[5:])
    os.makedirs(artdir, exist_ok=True)
    with open(mailfile, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    html_part = msg.get_body(preferencelist=("html",))
    plain_part = msg.get_body(preferencelist=("plain",))
    if html_part is None:
        sys.exit(f"{name}: no text/html part in {mailfile}")
    plain = plain_part.get_content() if plain_part is not None else None
    with tempfile.TemporaryDirectory(prefix="mail-render-") as work:
        html_path = os.path.join(work, name + ".html")
        with open(html_path, "w") as f:
            f.write(html_part.get_content())
        dom_text, png = render(html_path, artdir, name, work)
    dom = Dom()
    dom.feed(dom_text)
    c = Checks(name)
    check_common(c, msg, dom, plain, png, kw)
    if kind in ("trading", "partial", "signal-only", "superseded"):
        check_trading(c, msg, dom, plain, kw, kind)
    elif kind == "error":
        check_error(c, msg, dom, plain, kw)
    elif kind == "pnl":
        check_pnl(c, msg, dom, plain, kw)
    else:
        sys.exit(f"unknown kind {kind}")
    if c.failed:
        for f in c.failed:
            print(f"{name}: {f}", file=sys.stderr)
        print(f"{name}: sections seen: {dom.order}", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: {c.passed} checks on the rendered {kind} email ({png})")


if __name__ == "__main__":
    main()
