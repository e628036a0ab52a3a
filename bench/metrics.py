"""/metrics over a big ledger: 1,000,000 runs of 100 jobs (generated here, through the real triggers).
Measures a scrape three ways: the collector in this process, and GET /metrics from a real `panda-tui serve`
(median and p95), next to what a plain GROUP BY over `runs` would cost. Target: a scrape ≤ 50 ms.

    python bench/metrics.py [--runs 1000000] [--scrapes 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, big_ledger, pct, report

JOBS = 100
TOKEN = "bench-token-0123456789abcdef"


def generate(db: str, cfg: str, total_runs: int) -> None:
    conn = big_ledger(db, cfg, total_runs, JOBS)
    now = time.time()
    conn.execute("UPDATE runs SET status='running', finished_at=NULL, duration_s=NULL"
                 " WHERE id > (SELECT MAX(id) FROM runs) - 5")
    # a year of once-a-minute heartbeat pings, all delivered, and three alerts that are not
    conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 525599)
        INSERT INTO outbox(event, job, target, payload, created_at, next_attempt_at, attempts, delivered_at)
        SELECT 'ping', NULL, 'ping', '{{}}', {now} - i * 60, {now} - i * 60, 1, {now} - i * 60 FROM n""")
    conn.execute(f"""INSERT INTO outbox(event, job, target, payload, created_at, next_attempt_at, attempts)
                     VALUES ('failed', 'job-001', 'ops', '{{}}', {now}, {now} + 60, 3),
                            ('failed', 'job-002', 'ops', '{{}}', {now}, {now} + 60, 2),
                            ('missed', 'job-003', 'ops', '{{}}', {now}, {now} + 60, 1)""")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def in_process(db: str, cfg: str, scrapes: int) -> list[float]:
    """The collector as serve runs it: a fresh read-only connection and a full render, per scrape."""
    from prometheus_client import CollectorRegistry, generate_latest

    from panda_tui.config import load_config
    from panda_tui.readmodel.figures import read_figures
    from panda_tui.store import connect
    from panda_tui.web.metrics import LedgerCollector
    config = load_config(cfg)

    def read():
        conn = connect(db, readonly=True)
        try:
            return read_figures(conn, config, time.time())
        finally:
            conn.close()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(read))
    generate_latest(registry)  # warm: imports, page cache
    times = []
    for _ in range(scrapes):
        started = time.perf_counter()
        body = generate_latest(registry)
        times.append(time.perf_counter() - started)
    assert b'panda_runs_total{job="job-000",status="succeeded"}' in body
    return times


def over_http(db: str, cfg: str, scrapes: int) -> tuple[list[float], int]:
    import httpx
    env = {**os.environ, "PANDA_WEB_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "panda_tui", "serve", "--config", cfg, "--db", db,
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        port = None
        for line in proc.stdout:
            if match := re.search(r"on http://127\.0\.0\.1:(\d+)/", line):
                port = int(match.group(1))
                break
        assert port, "serve did not start"
        times = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            size = len(http.get("/metrics").content)  # warm
            for _ in range(scrapes):
                started = time.perf_counter()
                answer = http.get("/metrics")
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200
        return times, size
    finally:
        proc.terminate()
        proc.wait(30)


def naive(db: str) -> float:
    """What the same figures would cost read from `runs` itself (why the totals are kept by triggers)."""
    import sqlite3
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    started = time.perf_counter()
    conn.execute("SELECT job, status, COUNT(*), MAX(finished_at) FROM runs GROUP BY job, status").fetchall()
    conn.execute("SELECT job, SUM(duration_s <= 1), SUM(duration_s <= 60), COUNT(duration_s), SUM(duration_s)"
                 " FROM runs GROUP BY job").fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--keep", default=None, help="Reuse/keep the generated store in this folder.")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp()
    os.makedirs(folder, exist_ok=True)
    db, cfg = f"{folder}/metrics.db", f"{folder}/jobs.toml"
    generated = 0.0
    if not os.path.exists(db):
        started = time.perf_counter()
        generate(db, cfg, args.runs)
        generated = time.perf_counter() - started
        print(f"generated {args.runs} runs through the totals triggers in {generated:.0f}s "
              f"({os.path.getsize(db) / 1024**2:.0f} MiB)")
    collect = in_process(db, cfg, args.scrapes)
    http, size = over_http(db, cfg, args.scrapes)
    figures = {"runs": args.runs, "jobs": JOBS, "generate_s": generated, "metrics_bytes": size,
               "collect_p50_ms": statistics.median(collect) * 1000, "collect_p95_ms": pct(collect, 95) * 1000,
               "http_p50_ms": statistics.median(http) * 1000, "http_p95_ms": pct(http, 95) * 1000,
               "naive_group_by_ms": naive(db) * 1000}
    report("metrics", figures, {"scrape p95 <= 50 ms (HTTP)": figures["http_p95_ms"] <= 50,
                                "collect p95 <= 50 ms": figures["collect_p95_ms"] <= 50})
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
