"""The 3 AM answer's facts, on the drill's store: 8 jobs with 200 runs each, one failed run with 10,000 log
lines (Python logging on stderr, the one ERROR at line 3,000). Measures what the console pays every refresh:
the snapshot with every job's last failure line and last success (first read, and once the finished run's
answer is kept), `status --json` as a process, and `diff` of the failed run (10,000 + 10,000 lines compared).

    python bench/answer_facts.py [--lines 10000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, pct, report

from panda_tui.config import load_config
from panda_tui.readmodel import facts
from panda_tui.readmodel.run_diff import diff_for_run
from panda_tui.readmodel.snapshot import read_snapshot
from panda_tui.store.db import Database
from panda_tui.store.ledger import Ledger, RunStatus

JOBS = 8


def build(folder: str, lines: int) -> tuple[str, str, int]:
    cfg = os.path.join(folder, "jobs.toml")
    with open(cfg, "w") as fh:
        fh.write("".join(f'[jobs.job-{n}]\nschedule = "@hourly"\ncommand = "true"\n' for n in range(JOBS)))
    db = os.path.join(folder, "panda.db")
    book = Ledger(Database(db))
    now = time.time() - 200 * 3600
    failed = 0
    for i in range(200):
        for n in range(JOBS):
            at = now + i * 3600 + n
            run = book.insert(f"job-{n}", at, trigger="schedule", now=at)
            book.start(run.id, at)
            bad = n == 0 and i in (150, 199)
            book.finish(run.id, RunStatus.FAILED if bad else RunStatus.SUCCEEDED, at + 5, exit_code=1 if bad else 0)
            if n == 0 and i in (198, 199):
                text = [f"2026-12-02 03:00:{k % 60:02d},000 INFO app: batch {k} written errors=0" for k in range(lines)]
                if bad:
                    text[2999] = "2026-12-02 03:49:59,000 ERROR app: disk full writing batch 2999"
                with book.db.transaction() as conn:
                    conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)",
                                     [(run.id, k + 1, at, "err", t) for k, t in enumerate(text)])
                    conn.execute("UPDATE runs SET log_lines=? WHERE id=?", (lines, run.id))
                failed = run.id
    book.db.close()
    return cfg, db, failed


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cfg, db, failed = build(folder, args.lines)
        config = load_config(cfg)
        database = Database(db)
        conn = database.conn
        run = facts.last_failed_run(conn, "job-0")
        first = timed(lambda: facts.first_error(conn, run), 1)[0]  # nothing kept yet: the log is read
        snap = timed(lambda: read_snapshot(conn, config), args.repeat)
        assert read_snapshot(conn, config).jobs[0].last_failure.line.endswith("disk full writing batch 2999")
        diff = timed(lambda: diff_for_run(conn, failed), max(3, args.repeat // 5))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        status = timed(lambda: subprocess.run([sys.executable, "-m", "panda_tui", "status", "--json", "--config",
                                               cfg, "--db", db], capture_output=True, env=env), 5)
        database.close()
    figures = {"first_error_line_uncached_ms": round(first, 2),
               "snapshot_8_jobs_median_ms": round(statistics.median(snap), 2),
               "snapshot_8_jobs_p95_ms": round(pct(snap, 95), 2),
               "diff_10k_vs_10k_lines_median_ms": round(statistics.median(diff), 1),
               "status_json_process_median_ms": round(statistics.median(status), 1)}
    report("answer_facts", figures, {"snapshot <= 50 ms": figures["snapshot_8_jobs_p95_ms"] <= 50})


if __name__ == "__main__":
    main()
