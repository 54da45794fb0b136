#!/usr/bin/env python3
"""bench/lib/backtest_bench.py: `alchemiserd --backtest` speed (issue 15).

  backtest_bench.py --bin BIN --gen GEN --srcdir SRC --shared SHARED --work DIR [--runs N]

Generates deterministic bars with tools/gen-sample-data (the generator of
etc/sample-data, extended back in time) and times whole --backtest runs:
  - the sample set (etc/strategies/strategy.json) over 3 years of sessions,
    goal <= 2 s;
  - the seed dev set (SHARED/testdata/strategies/strategy.dev.json, 7 files
    with the 2.2 MB 3-Starburst and 7-Phoenix) over 500 sessions, goal <= 5 s;
  - the dev set again with --out (CSV files and the HTML report).
Wall time is the median of N runs; peak memory is the child's max RSS
(getrusage). Prints one markdown table. Measures, never asserts.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        raise SystemExit("backtest failed (%d): %s" % (p.returncode, " ".join(cmd)))
    return wall, cpu, json.loads(p.stdout)


def case(name, cmd, runs, goal):
    walls, cpus, summary = [], [], None
    for _ in range(runs):
        w, c, summary = run_once(cmd)
        walls.append(w)
        cpus.append(c)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB): the
    # cases run smallest first, so each row's figure is its own.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall = statistics.median(walls)
    n = summary["sessions"]
    print("| %s | %d (%s to %s) | %.2f s | %.2f s | %.0f | %.1f MiB | %s |" % (
        name, n, summary["from"], summary["to"], wall, statistics.median(cpus), n / wall, rss, goal))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    conf = os.path.join(a.work, "empty.conf")
    open(conf, "w").close()
    sample = os.path.join(a.work, "bt-sample")
    dev = os.path.join(a.work, "bt-dev")
    sample_set = os.path.join(a.srcdir, "etc/strategies/strategy.json")
    dev_set = os.path.join(a.shared, "testdata/strategies/strategy.dev.json")
    os.makedirs(sample, exist_ok=True)
    # 3 years of sessions plus a year of warm-up for the 200-day averages.
    subprocess.run([a.gen, "--days", "1050", sample, sample_set, "SPY"], check=True,
                   stdout=subprocess.DEVNULL)
    print("| backtest | sessions | wall (median of %d) | CPU | sessions/s | peak RSS | goal |" % a.runs)
    print("| --- | --- | --- | --- | --- | --- | --- |")
    base = [a.bin, "-c", conf, "--backtest"]
    case("sample set (2 files)", base + [sample_set, "--data", sample, "--from", "2023-11-20",
         "--to", "2026-11-20"], a.runs, "<= 2 s")
    if not os.path.exists(dev_set):
        print("| seed dev set | skipped: %s not found | | | | | |" % dev_set)
        return
    os.makedirs(dev, exist_ok=True)
    subprocess.run([a.gen, "--days", "1300", dev, dev_set, "SPY"], check=True,
                   stdout=subprocess.DEVNULL)
    dev_cmd = base + [dev_set, "--data", dev, "--from", "2024-11-22", "--to", "2026-11-20"]
    case("seed dev set (7 files)", dev_cmd, a.runs, "<= 5 s")
    case("seed dev set, --out (CSV + HTML)", dev_cmd + ["--out", os.path.join(a.work, "bt-out")],
         a.runs, "")


if __name__ == "__main__":
    main()
