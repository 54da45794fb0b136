#!/usr/bin/env python3
"""Checks of a --backtest output folder, independent of the daemon's code
(tests/e2e/backtest.sh runs them):

  stats OUT          every statistic of summary.json recomputed here with the
                     standard library (statistics, math) from equity.csv,
                     trades.csv, holdings.csv and files.csv; |diff| <= 1e-9
                     (relative for money amounts)
  dates OUT BIN SET DATA N
                     N random sessions: the allocation the backtest used is,
                     byte for byte, what `--evaluate SET --as-of AS_OF` prints
  dom OUT DUMP PROBE the report as Chromium rendered it: DUMP is --dump-dom of
                     report.html, PROBE the JSON the probe script measured in
                     the live page (path lengths, cell texts)
Exit 0 when everything holds; otherwise one line per failure and exit 1.
"""
import csv
import html
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def close(name, got, want, rel=False):
    if want is None or got is None:
        if want is not got:
            fail("%s: got %r want %r" % (name, got, want))
        return
    tol = 1e-9 * (max(1.0, abs(want)) if rel else 1.0)
    if not abs(got - want) <= tol:
        fail("%s: got %.17g want %.17g (diff %.3g)" % (name, got, want, abs(got - want)))


def load(out, name):
    with open(os.path.join(out, name), newline="") as f:
        return list(csv.DictReader(f))


def series_stats(eq, start, dates, prev_date):
    n = len(eq)
    r = [eq[i] / (eq[i - 1] if i else start) - 1 for i in range(n)]
    mean = statistics.fmean(r)
    sd = statistics.stdev(r)
    down = math.sqrt(math.fsum(min(x, 0.0) ** 2 for x in r) / n)
    ann = math.sqrt(252)
    cagr = (eq[-1] / start) ** (252 / n) - 1
    peak, peak_i, mdd, dd_peak, dd_trough = start, -1, 0.0, -1, -1
    for i, e in enumerate(eq):
        if e > peak:
            peak, peak_i = e, i
        dd = 1 - e / peak
        if dd > mdd:
            mdd, dd_peak, dd_trough = dd, peak_i, i
    rec = None
    if mdd > 0:
        top = start if dd_peak < 0 else eq[dd_peak]
        rec = next((dates[i] for i in range(dd_trough + 1, n) if eq[i] >= top), None)
    day = lambda i: prev_date if i < 0 else dates[i]
    return {
        "start_equity": start, "end_equity": eq[-1], "total_return": eq[-1] / start - 1,
        "cagr": cagr, "volatility": sd * ann, "sharpe": mean / sd * ann if sd else None,
        "sortino": mean / down * ann if down else None, "max_drawdown": mdd,
        "calmar": cagr / mdd if mdd else None,
        "max_drawdown_peak": day(dd_peak), "max_drawdown_trough": day(dd_trough),
        "max_drawdown_recovery": rec,
    }


MONEY = {"start_equity", "end_equity", "traded", "costs", "contribution"}


def compare(prefix, got, want):
    for k, v in want.items():
        if isinstance(v, str) or v is None and not isinstance(got.get(k), float):
            if got.get(k) != v:
                fail("%s%s: got %r want %r" % (prefix, k, got.get(k), v))
        else:
            close(prefix + k, got.get(k), v, rel=k in MONEY)


def cmd_stats(out):
    s = json.load(open(os.path.join(out, "summary.json")))
    eq_rows = load(out, "equity.csv")
    dates = [r["date"] for r in eq_rows]
    eq = [float(r["equity"]) for r in eq_rows]
    be = [float(r["benchmark"]) for r in eq_rows]
    cap = s["capital"]
    # The start counts as a peak dated the session before the first: the
    # first as_of under the open fill model (unknown here under close).
    prev = eq_rows[0]["as_of"] if s["fill"] == "open" else None
    if len(eq) != s["sessions"]:
        fail("sessions: %d rows, summary says %d" % (len(eq), s["sessions"]))
    for prefix, got, series in (("", s, eq), ("benchmark.", s["benchmark"], be)):
        want = series_stats(series, cap, dates, prev)
        for k in ("max_drawdown_peak", "max_drawdown_trough"):
            if want[k] is None:
                del want[k]
        compare(prefix, got, want)
    trades = load(out, "trades.csv")
    traded = math.fsum(float(t["notional"]) for t in trades)
    turnover = traded / 2 / statistics.fmean(eq)
    close("traded", s["traded"], traded, rel=True)
    close("turnover", s["turnover"], turnover)
    close("turnover_annual", s["turnover_annual"], turnover / (len(eq) / 252))
    close("costs", s["costs"], math.fsum(float(t["cost"]) for t in trades), rel=True)
    if s["trades"] != len(trades):
        fail("trades: %d rows, summary says %d" % (len(trades), s["trades"]))
    invested = {h["date"] for h in load(out, "holdings.csv") if float(h["weight"]) > 0}
    if s["days_invested"] != len(invested):
        fail("days_invested: %d in holdings.csv, summary says %d" % (len(invested), s["days_invested"]))
    # Per-file accounts: the last row of files.csv, each file's share of the capital.
    frows = load(out, "files.csv")
    for f in s["files"]:
        end = float(frows[-1][f["file"]])
        start = cap * f["weight"]
        close("files.%s.end_equity" % f["file"], f["end_equity"], end, rel=True)
        close("files.%s.start_equity" % f["file"], f["start_equity"], start, rel=True)
        close("files.%s.total_return" % f["file"], f["total_return"], end / start - 1)
        close("files.%s.contribution" % f["file"], f["contribution"], end - start, rel=True)
    # Every failure of the summary is in failures.csv.
    fails = load(out, "failures.csv")
    if s["failures_total"] != len(fails):
        fail("failures_total %d, failures.csv has %d" % (s["failures_total"], len(fails)))
    print("stats: %d sessions, %d trades, %d figures checked" % (len(eq), len(trades), 3 + 2 * 13))


def cmd_dates(out, binary, target, data, n):
    rows = load(out, "allocations.csv")
    by_as_of = {}
    for r in rows:
        by_as_of.setdefault(r["as_of"], []).append((r["symbol"], r["weight"]))
    seed = int(os.environ.get("SEED", random.randrange(1 << 30)))
    print("dates: SEED=%d (set SEED to repeat)" % seed)
    rnd = random.Random(seed)
    picks = rnd.sample(sorted(by_as_of), min(n, len(by_as_of)))
    before = len(FAILS)
    if len(picks) < n:
        fail("only %d sessions with an allocation, %d wanted" % (len(picks), n))
    for d in sorted(picks):
        want = "{" + ", ".join('"%s": %s' % (sym, w) for sym, w in sorted(by_as_of[d])) + "}\n"
        p = subprocess.run([binary, "--evaluate", target, "--data", data, "--as-of", d],
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            fail("--evaluate --as-of %s exited %d: %s" % (d, p.returncode, p.stderr.decode()[:300]))
        elif p.stdout.decode() != want:
            fail("as of %s: backtest used %r, --evaluate printed %r" % (d, want, p.stdout.decode()))
    print("dates: %d of %d sessions equal to --evaluate" % (len(picks) - (len(FAILS) - before), len(picks)))


def fmt_cell(v, kind):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if kind == "p":
        return "%.2f%%" % (v * 100)
    if kind == "r":
        return "%.2f" % v
    if kind == "m":
        s = "{:,.2f}".format(abs(v))
        return ("-" if v < 0 and s != "0.00" else "") + "$" + s
    return "%.0f" % v


KINDS = {"start_equity": "m", "end_equity": "m", "total_return": "p", "cagr": "p",
         "volatility": "p", "sharpe": "r", "sortino": "r", "max_drawdown": "p",
         "max_drawdown_peak": "d", "max_drawdown_trough": "d", "max_drawdown_recovery": "d",
         "calmar": "r", "turnover_annual": "r", "trades": "n", "costs": "m",
         "days_invested": "n", "sessions_held": "n"}


def cmd_dom(out, dump, probe):
    s = json.load(open(os.path.join(out, "summary.json")))
    dom = open(dump, encoding="utf-8").read()
    # What the browser parsed: four charts, each an <svg> with drawn series.
    svgs = re.findall(r'<svg[^>]*class="svgchart"[^>]*id="([^"]+)"', dom)
    if sorted(svgs) != ["allocation", "drawdown", "equity", "files"]:
        fail("charts in the rendered DOM: %r" % svgs)
    for m in re.finditer(r'<svg[^>]*id="([^"]+)".*?</svg>', dom, re.S):
        ds = re.findall(r'<path class="series"[^>]*\sd="([^"]*)"', m.group(0))
        if not ds or any(len(re.findall(r"[ML]", d)) < 2 for d in ds):
            fail("chart %s: series paths %r" % (m.group(1), [d[:40] for d in ds]))
    if re.search(r"<script|<link|<img|<iframe|\ssrc=|@import|url\(", dom):
        fail("the report refers to something outside itself")
    if re.search(r"https?://(?!www\.w3\.org/2000/svg)", dom):
        fail("the report names a network address")
    # What the browser laid out (the probe ran in the page).
    m = re.search(r'<pre id="probe">(.*?)</pre>', open(probe, encoding="utf-8").read(), re.S)
    if not m:
        fail("the probe did not run")
        return
    p = json.loads(html.unescape(m.group(1)))
    if len(p["charts"]) != 4:
        fail("probe saw %d charts" % len(p["charts"]))
    for c in p["charts"]:
        if c["paths"] == 0 or c["drawn"] != c["paths"] or c["width"] < 100:
            fail("chart %s: %d of %d series drawn, %.0f px wide" % (c["id"], c["drawn"], c["paths"], c["width"]))
    n = 0
    for key, cell in p["cells"].items():
        obj, k = (s["benchmark"], key[10:]) if key.startswith("benchmark.") else (s, key)
        v = obj.get(k)
        want_value = "null" if v is None else (v if isinstance(v, str) else
                                               ("%d" % v if isinstance(v, int) and not isinstance(v, bool) else repr(float(v))))
        got = cell["value"]
        if isinstance(v, float):
            ok = float(got) == v
        else:
            ok = got == want_value
        if not ok:
            fail("cell %s: data-value %r, summary.json %r" % (key, got, v))
        if cell["text"].strip() != fmt_cell(v, KINDS[k]):
            fail("cell %s shows %r, summary.json %r formats as %r" % (key, cell["text"], v, fmt_cell(v, KINDS[k])))
        n += 1
    if n < 25:
        fail("only %d summary cells in the rendered page" % n)
    print("dom: %d charts drawn, %d summary cells equal to summary.json" % (len(p["charts"]), n))


def main(argv):
    if len(argv) >= 2 and argv[0] == "stats":
        cmd_stats(argv[1])
    elif len(argv) >= 6 and argv[0] == "dates":
        cmd_dates(argv[1], argv[2], argv[3], argv[4], int(argv[5]))
    elif len(argv) >= 4 and argv[0] == "dom":
        cmd_dom(argv[1], argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
