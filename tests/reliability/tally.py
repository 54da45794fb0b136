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
      the same run, symbol and side that is not canceled/rejected/expired (one
      live or filled order per leg), or a skipped attempt number. Kept strict
      (unlike orders-fixture's judge_chains) because with the paper broker a
      legitimate re-plan never makes a second filled order of a leg: a cancel
      there ends an order canceled at once (the fill never wins the race, unless
      the fill_on_cancel test mode is on, which these soaks do not use); a
      resumed run cancels and settles its own orders before it plans (its
      attempts are then terminal when it resolves them) and a leg whose last
      attempt filled is done; and a run planned before the account's last
      completed execution no longer trades at all (superseded), so the case the
      fixture tally allows (attempt k after a full fill because another run
      traded the symbol in between) cannot arise from an old intent either.
  tally.py orders-fixture URL
      the same over the POST /v2/orders requests the Alpaca fixture recorded (printed),
      then judged by the fixture's order states and fills (judge_chains): a
      later attempt of a leg must follow a short attempt or another run's trade
  tally.py failed-mailed DIR DAEMON_LOG PREFIX
      every run PREFIX* the log says failed ("workflow X failed at", warning)
      has an error email, or is named in a storm-guard summary email
  tally.py receives DAEMON_LOG REDRIVE
      the daemon's receives per SQS message and life (a life starts at each
      "alchemiserd started"): no message received twice in one life (a wait
      or retry that spent a receive count; issue #17 B1), and how many messages
      were received in REDRIVE lives (each life but the last ended by a kill
      while the message was in flight: the queue's redrive parks it on the next
      receive, as it must park a message that crashes the daemon). Prints
      "spent_by_kills=K"; exit 1 on a receive spent within a life.
  tally.py resumed LOG LIVES
      exit 0 when every message in flight at the last kill has been received
      again by a later life (or nothing was in flight), 1 otherwise
  tally.py recovery-log LOG LIVES VISIBILITY_SECONDS GOAL_SECONDS
      the recovery after each kill -9, from the daemon's own log (millisecond
      timestamps): for each message in flight at the kill (its last line in the
      killed life is its "received message"), kill time to its next "received
      message" in a later life. VISIBILITY_SECONDS > 0 (SQS): each message's
      goal is the rest of its visibility timeout at the kill (its receive, plus
      the heartbeat's extensions at half-time), plus GOAL_SECONDS; 0: the goal
      is GOAL_SECONDS (the embedded queue gives a dead receiver's messages back
      at once). Printed, never asserted.
  tally.py inflight-receives LOG LIVES
      the highest receive count among the messages the current (last) life
      holds in flight (0 if none)
  LIVES: one line per daemon life, "FIRST_LOG_LINE KILL_USEC" (KILL_USEC "-"
      for a life that was not killed)
"""
import collections
import datetime
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


SQSID_RE = re.compile(r" SQS_MESSAGE_ID=(\S+)")
TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def read_lives(path):
    lives = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                lives.append((int(p[0]), None if p[1] == "-" else int(p[1]) / 1e6))
    return lives


def log_events(path, first=1):
    """(line number, epoch seconds, "recv" | "end", sqs id) per line of a message,
    from line first on."""
    out = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            if n < first:
                continue
            m, t = SQSID_RE.search(line), TS_RE.match(line)
            if not m or not t:
                continue
            ts = datetime.datetime.strptime(t.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            kind = "recv" if "received message" in line else "end" if " OUTCOME=" in line else None
            if kind:
                out.append((n, ts, kind, m.group(1)))
    return out


def kills(log, lives_path, last_only=False):
    """Per killed life: (kill time, {sqs id: last receive time in that life}, the
    later lives' (life index, first receive time) per id). last_only: the last
    killed life only (reads the log from its start)."""
    lives = read_lives(lives_path)
    first = 1
    if last_only:
        killed = [start for start, kill in lives if kill is not None]
        if not killed:
            return []
        first = killed[-1]
    ev = log_events(log, first)
    bounds = [start for start, _ in lives] + [float("inf")]
    life_of = lambda n: max(i for i in range(len(lives)) if bounds[i] <= n)
    per_life = collections.defaultdict(list)
    for n, ts, kind, mid in ev:
        if n >= bounds[0]:
            per_life[life_of(n)].append((ts, kind, mid))
    out = []
    for i, (start, kill) in enumerate(lives):
        if kill is None or start < first:
            continue
        last = {}
        for ts, kind, mid in per_life[i]:
            last[mid] = (kind, ts)
        inflight = {mid: ts for mid, (kind, ts) in last.items() if kind == "recv"}
        again = {}
        for j in range(i + 1, len(lives)):
            for ts, kind, mid in per_life[j]:
                if kind == "recv" and mid in inflight and mid not in again:
                    again[mid] = (j, ts)
        out.append((i, kill, inflight, again))
    return out


def resumed(log, lives_path):
    k = kills(log, lives_path, last_only=True)
    if not k:
        return 0
    _, _, inflight, again = k[-1]
    return 0 if set(inflight) <= set(again) else 1


RECV_RE = re.compile(r"received message \(receive count (\d+)")


def inflight_receives(log, lives_path):
    lives = read_lives(lives_path)
    first = lives[-1][0] if lives else 1
    count, last = {}, {}
    with open(log, errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = SQSID_RE.search(line)
            if n < first or not m:
                continue
            r = RECV_RE.search(line)
            if r:
                count[m.group(1)] = int(r.group(1))
                last[m.group(1)] = "recv"
            elif " OUTCOME=" in line:
                last[m.group(1)] = "end"
    print(max([count[k] for k, v in last.items() if v == "recv"] or [0]))
    return 0


def recovery_log(log, lives_path, vis, goal):
    took_all, rest_all, after_all, later, missing, over = [], [], [], 0, 0, []
    for i, kill, inflight, again in kills(log, lives_path):
        for mid, recv in inflight.items():
            if mid not in again:
                missing += 1
                continue
            j, ts = again[mid]
            if j != i + 1:
                later += 1
                continue
            took = ts - kill
            rest = 0.0
            if vis > 0:
                # The heartbeat (a 1 s tick) extends the visibility to a full
                # timeout once half of it has passed: at most 1 s late.
                half = vis / 2
                ext = int(max(0.0, kill - recv) // half)
                rest = max(0.0, recv + vis + half * ext + (1.0 if ext else 0.0) - kill)
            took_all.append(took)
            rest_all.append(rest)
            after_all.append(took - rest)
            if took > rest + goal:
                over.append("%s %.2f s > %.2f + %g s" % (mid[:8], took, rest, goal))
    med = lambda v: sorted(v)[len(v) // 2]
    if not took_all:
        print("recovery after kill -9: no message in flight at a kill")
    elif vis > 0:
        print("recovery after kill -9 (SQS, visibility timeout %g s): %d messages in flight at a "
              "kill, redelivered to the next life: kill to redelivery median %.2f s, max %.2f s; "
              "the rest of their visibility timeout at the kill median %.2f s, max %.2f s; "
              "redelivery after that median %.2f s, max %.2f s (goal %g s: restart, poll, a free "
              "worker)" % (vis, len(took_all), med(took_all), max(took_all), med(rest_all),
                           max(rest_all), med(after_all), max(after_all), goal))
    else:
        print("recovery after kill -9 (embedded): %d messages in flight at a kill, redelivered "
              "to the next life: kill to redelivery median %.2f s, max %.2f s (goal %g s)" % (
                  len(took_all), med(took_all), max(took_all), goal))
    print("recovery: %d over the goal %s; %d resumed only after a further kill; %d never "
          "received again" % (len(over), " ".join(over[:5]), later, missing))
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
    if cmd == "resumed":
        return resumed(argv[2], argv[3])
    if cmd == "inflight-receives":
        return inflight_receives(argv[2], argv[3])
    if cmd == "recovery-log":
        return recovery_log(argv[2], argv[3], float(argv[4]), float(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
