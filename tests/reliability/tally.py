#!/usr/bin/env python3
"""End-state tallies of the reliability tests (stdlib only).

  tally.py last-closes DATA_DIR
      {"SYM": last close, ...} of the sample CSV bars (prices for the broker fixture)
  tally.py mail DIR
      one line per delivered email: CORRELATION KIND MESSAGE-ID FILE
      (DIR is a maildir, whose new/ and cur/ are read, or a folder of *.eml)
  tally.py verify-mail DIR PREFIX N [DLQ_BODIES_FILE]
      runs PREFIX1..PREFIXN: each has exactly one trading report, or its reason in
      the dead-letter queue; no correlation id has two emails of one kind.
      Prints a summary; exit 1 on a lost run or a duplicate email.
  tally.py orders-sim STATE_FILE
      the paper broker's ledger: a duplicate order is a second client_order_id for
      the same run, symbol and side (market orders: one order per leg)
  tally.py orders-fixture URL
      the same over the POST /v2/orders requests the Alpaca fixture recorded (printed),
      then judged by the fixture's order states and fills (judge_chains): a
      later attempt of a leg must follow a short attempt or another run's trade
  tally.py failed-mailed DIR DAEMON_LOG PREFIX
      every run PREFIX* the log says failed ("workflow X failed at", warning)
      has an error email, or is named in a storm-guard summary email
  tally.py recovery FILE [GOAL_SECONDS]
      FILE lines "RESTART_USEC LIFE_END_USEC DEAD_PID KEY OWNER CLAIMED_USEC":
      a claim the killed process DEAD_PID held, and where it was when the next
      life ended. Prints the recovery times (restart to takeover) and how many
      claims were not yet resumed when that life ended (and whether that life
      lasted longer than the goal)
  tally.py receives DAEMON_LOG REDRIVE
      the daemon's receives per SQS message and life (a life starts at each
      "alchemiserd started"): no message received twice in one life (a wait
      or retry that spent a receive count; issue #17 B1), and how many messages
      were received in REDRIVE lives (each life but the last ended by a kill
      while the message was in flight: the queue's redrive parks it on the next
      receive, as it must park a message that crashes the daemon). Prints
      "spent_by_kills=K"; exit 1 on a receive spent within a life.
"""
import collections
import email
import email.policy
import glob
import json
import os
import re
import sqlite3
import sys
import urllib.request

FINAL_STATES = ("filled", "canceled", "expired", "rejected", "replaced", "done_for_day", "calculated")
CORR_RE = re.compile(r"Correlation ID:\s*([A-Za-z0-9._:-]+)")


def last_closes(d):
    out = {}
    for path in sorted(glob.glob(os.path.join(d, "*.csv"))):
        with open(path) as f:
            rows = [l for l in f.read().splitlines() if l.strip()]
        out[os.path.basename(path)[:-4]] = float(rows[-1].split(",")[4])
    print(json.dumps(out))


def mail_files(d):
    files = glob.glob(os.path.join(d, "new", "*")) + glob.glob(os.path.join(d, "cur", "*"))
    return sorted(files + glob.glob(os.path.join(d, "*.eml")))


def mails(d):
    out = []
    for path in mail_files(d):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        subj = str(msg.get("Subject", ""))
        kind = ("trading" if "Trading Report" in subj else "error" if "Error Report" in subj
                else "pnl" if "P&L" in subj else "other")
        corr = "?"
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                m = CORR_RE.search(part.get_content())
                if m:
                    corr = m.group(1)
                    break
        out.append((corr, kind, str(msg.get("Message-ID", "")).strip(), path))
    return out


def body_corr(text):
    try:
        b = json.loads(text)
        if isinstance(b, str):
            b = json.loads(b)
    except ValueError:
        return None
    if not isinstance(b, dict):
        return None
    d = b.get("detail") if isinstance(b.get("detail"), dict) else b
    return d.get("correlation_id")


def verify_mail(d, prefix, n, dlq_file=None):
    got = mails(d)
    per = collections.defaultdict(collections.Counter)
    ids = collections.defaultdict(collections.Counter)
    files = collections.defaultdict(list)
    for corr, kind, mid, path in got:
        per[corr][kind] += 1
        ids[corr][(kind, mid)] += 1
        files[(corr, kind, mid)].append(path)
    dlq = collections.Counter()
    if dlq_file and os.path.exists(dlq_file):
        with open(dlq_file) as f:
            for line in f:
                c = body_corr(line.strip())
                if c:
                    dlq[c] += 1
    problems = []
    lost = dup = in_dlq = 0
    for i in range(1, n + 1):
        c = "%s%d" % (prefix, i)
        t = per[c]["trading"]
        if t == 0:
            if dlq[c]:
                in_dlq += 1
            else:
                lost += 1
                problems.append("lost: %s has no trading report and nothing in the DLQ" % c)
    # The SMTP window (documented): a copy the server stored but whose session
    # was cut before the client read the 250 (the sink marks sessions that
    # ended with QUIT: NNN.quit) may be resent with the same Message-ID. Such a
    # resend is counted apart; any other duplicate is a failure.
    window = 0
    for (c, kind, mid), paths in files.items():
        unclean = [p for p in paths if p.endswith(".eml") and not os.path.exists(p[:-4] + ".quit")]
        if len(paths) > 1 and mid and len(unclean) >= len(paths) - 1:
            window += len(paths) - 1
            per[c][kind] -= len(paths) - 1
    for c, kinds in per.items():
        for kind, k in kinds.items():
            if k > 1:
                dup += k - 1
                same = sum(1 for (kd, _), v in ids[c].items() if kd == kind and v > 1)
                problems.append("duplicate: %s got %d %s emails (%s)" % (
                    c, k, kind, "same Message-ID" if same else "different Message-IDs"))
    print("emails=%d runs=%d trading=%d error=%d in_dlq=%d lost=%d duplicates=%d smtp_window=%d" % (
        len(got), n, sum(per[c]["trading"] for c in per), sum(per[c]["error"] for c in per),
        in_dlq, lost, dup, window))
    for p in problems[:20]:
        print("  " + p)
    return 1 if problems else 0


def dup_orders(rows):
    """rows: (client_order_id, symbol, side); a run is the cid's "alc-XXXXXXXXXX" prefix."""
    legs = collections.defaultdict(set)
    for cid, sym, side in rows:
        legs[(cid[:14], sym, side)].add(cid)
    dups = {k: sorted(v) for k, v in legs.items() if len(v) > 1}
    runs = len({k[0] for k in legs})
    return legs, dups, runs


def report_orders(rows, what, extra=""):
    legs, dups, runs = dup_orders(rows)
    print("%s: orders=%d legs=%d runs=%d duplicate_legs=%d%s" % (
        what, len({r[0] for r in rows}), len(legs), runs, len(dups), extra))
    for k, v in list(dups.items())[:10]:
        print("  duplicate order: run %s %s %s: %s" % (k[0], k[2], k[1], " ".join(v)))
    return 1 if dups else 0


def orders_sim(path):
    """Limit orders are re-priced as new ids (attempt 0, 1, ..., then market), so
    a leg may have several ids; a duplicate is a leg with more than one order
    that is not canceled/rejected (two live or filled chains), or an attempt
    number skipped (a re-run that lost track of its orders and started anew)."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    rows = db.execute("SELECT client_order_id, symbol, side, status FROM broker_sim_orders").fetchall()
    live = [(c, s, d) for c, s, d, st in rows if st not in ("canceled", "rejected", "expired")]
    legs, dups, runs = dup_orders(live)
    allegs, _, _ = dup_orders([r[:3] for r in rows])
    gaps = []
    for k, cids in allegs.items():
        att = sorted(int(c.rsplit("-", 1)[1]) for c in cids)
        if att != list(range(len(att))):
            gaps.append((k, att))
    still_open = [r for r in rows if r[3] in ("new", "accepted", "partially_filled", "pending_new")]
    print("paper broker: orders=%d legs=%d runs=%d duplicate_legs=%d attempt_gaps=%d open_at_end=%d" % (
        len(rows), len(allegs), runs, len(dups), len(gaps), len(still_open)))
    for k, v in list(dups.items())[:10]:
        print("  duplicate order: run %s %s %s: %s" % (k[0], k[2], k[1], " ".join(v)))
    for k, att in gaps[:10]:
        print("  attempts skipped: run %s %s %s: %s" % (k[0], k[2], k[1], att))
    return 1 if dups or gaps else 0


def orders_fixture(url):
    with urllib.request.urlopen(url + "/__requests", timeout=30) as r:
        reqs = json.load(r)
    rows, posts = [], 0
    for q in reqs:
        if q["method"] == "POST" and q["path"] == "/v2/orders":
            posts += 1
            try:
                b = json.loads(q["body"])
            except ValueError:
                continue
            rows.append((b.get("client_order_id", "?"), b.get("symbol"), b.get("side")))
    report_orders(rows, "broker fixture", " order_posts=%d requests=%d" % (posts, len(reqs)))
    with urllib.request.urlopen(url + "/__orders", timeout=30) as f:
        orders = json.load(f)
    return judge_chains(orders)


def judge_chains(orders):
    """A run re-plans from the broker when it resumes (plan_is_live), so a leg
    may have attempts 0, 1, ...: attempt k is the rest of a chain whose
    attempt k-1 ended short (cancelled, rejected, partly filled), or a new
    need because another run traded the symbol in between (the resumed run
    rebalances from the positions it finds). An attempt that follows a full
    fill with no other run's order on the symbol in between is a double order;
    so are a skipped attempt number and two orders of a leg open at the end."""
    legs = collections.defaultdict(list)
    by_sym = collections.defaultdict(list)
    for o in orders:
        cid = o.get("client_order_id") or ""
        if not cid.startswith("alc-"):
            continue
        legs[(cid[:14], o["symbol"], o["side"])].append(o)
        by_sym[o["symbol"]].append(o)
    bad, replans, open_end = [], 0, 0
    for (run, sym, side), chain in legs.items():
        chain.sort(key=lambda o: int(o["client_order_id"].rsplit("-", 1)[1]))
        att = [int(o["client_order_id"].rsplit("-", 1)[1]) for o in chain]
        if att != list(range(len(att))):
            bad.append("attempts skipped: run %s %s %s: %s" % (run, side, sym, att))
        live = [o for o in chain if o["status"] not in FINAL_STATES]
        if len(live) > 1:
            open_end += 1
            bad.append("two open orders: run %s %s %s" % (run, side, sym))
        for prev, cur in zip(chain, chain[1:]):
            short = prev["status"] != "filled" or float(prev["filled_qty"]) + 1e-9 < float(prev["qty"])
            others = [o for o in by_sym[sym] if not o["client_order_id"].startswith(run) and
                      prev["created_at"] < o["created_at"] < cur["created_at"]]
            if short or others:
                replans += 1
                continue
            bad.append("double order: run %s %s %s: %s filled %s, then %s for %s with no other "
                       "order on %s in between" % (run, side, sym, prev["client_order_id"],
                       prev["filled_qty"], cur["client_order_id"], cur["qty"], sym))
    print("broker fixture chains: legs=%d later_attempts=%d (after a short attempt or another "
          "run's trade) double_orders=%d" % (len(legs), replans, len(bad)))
    for b in bad[:10]:
        print("  " + b)
    return 1 if bad else 0


# Both stderr forms: "<4>..." (a journal stream) and "TIME warning ..." (a terminal).
FAILED_RE = re.compile(r"(?:^<[0-4]>| (?:emerg|alert|crit|error|warning) )workflow (\S+) failed at ", re.M)


def failed_mailed(d, log, prefix):
    with open(log, errors="replace") as f:
        failed = {c for c in FAILED_RE.findall(f.read()) if c.startswith(prefix)}
    mailed = set()
    for path in mail_files(d):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        subj = str(msg.get("Subject", ""))
        if "Error Report" not in subj:
            continue
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        mailed.update(re.findall(r"Correlation:\s+(\S+)", text))
        mailed.update(re.findall(r"^(\S+) \(", text, re.M))  # storm summary lines
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                m = CORR_RE.search(part.get_content())
                if m:
                    mailed.add(m.group(1))
    missing = sorted(failed - mailed)
    print("failed_runs=%d mailed=%d not_mailed=%d %s" % (
        len(failed), len(failed & mailed), len(missing), " ".join(missing[:10])))
    return 1 if missing else 0


def recovery(path, goal=10.0):
    times, pending = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 6:
                continue
            restart, end, pid, owner, claimed = int(p[0]), int(p[1]), p[2], p[4], int(p[5])
            if owner == "gone":
                continue
            if (":%s:" % pid) in owner:
                pending.append((end - restart) / 1e6)
            else:
                # Taken over after the restart (DynamoDB keeps whole seconds).
                times.append(max(0, claimed - restart) / 1e6)
    times.sort()
    if times:
        med = times[len(times) // 2]
        print("recovery after kill -9: %d claims resumed, restart to takeover: median %.2f s, "
              "max %.2f s (goal %.0f s)" % (len(times), med, times[-1], goal))
    else:
        print("recovery after kill -9: no claim of a killed process was resumed in the next life")
    late = [t for t in pending if t >= goal]
    print("recovery: %d claims not resumed before the next kill (lives of %s s); %d in lives of %.0f s "
          "or more" % (len(pending), ", ".join("%.1f" % t for t in pending[:8]), len(late), goal))
    return 0


RECV_RE = re.compile(r"received message \(receive count (\d+).*SQS_MESSAGE_ID=(\S+)")


def receives(log, redrive):
    life, seen, lives = 0, collections.Counter(), collections.defaultdict(set)
    with open(log, errors="replace") as f:
        for line in f:
            if "alchemiserd started" in line:
                life += 1
                continue
            m = RECV_RE.search(line)
            if m:
                seen[(m.group(2), life)] += 1
                lives[m.group(2)].add(life)
    twice = sorted(k for k, v in seen.items() if v > 1)
    spent = sorted(k for k, v in lives.items() if len(v) >= redrive)
    print("receives: messages=%d lives=%d received_twice_in_a_life=%d spent_by_kills=%d" % (
        len(lives), life, len(twice), len(spent)))
    for msg, lf in twice[:10]:
        print("  received %d times in life %d: %s" % (seen[(msg, lf)], lf, msg))
    for msg in spent[:10]:
        print("  in flight at %d kills: %s" % (len(lives[msg]), msg))
    return 1 if twice else 0


def main(argv):
    cmd = argv[1]
    if cmd == "last-closes":
        last_closes(argv[2])
        return 0
    if cmd == "mail":
        for row in mails(argv[2]):
            print(" ".join(row))
        return 0
    if cmd == "verify-mail":
        return verify_mail(argv[2], argv[3], int(argv[4]), argv[5] if len(argv) > 5 else None)
    if cmd == "orders-sim":
        return orders_sim(argv[2])
    if cmd == "orders-fixture":
        return orders_fixture(argv[2])
    if cmd == "failed-mailed":
        return failed_mailed(argv[2], argv[3], argv[4])
    if cmd == "receives":
        return receives(argv[2], int(argv[3]))
    if cmd == "recovery":
        return recovery(argv[2], float(argv[3]) if len(argv) > 3 else 10.0)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
