"""What the console sends to the terminal: bytes per second over a real pty at 80x24, with the sample
jobs.toml running (a daemon runs them; the console attaches to it, as on a server reached over SSH).
The job `hello` (every 10 s) is selected, so its history, trend and log pane change three times in 30 s.
The screen is read back with pyte to check that it is whole (every job, a ticking clock, the footer).

    python bench/console_bytes.py [--seconds 30] [--embedded] [--cols 80 --rows 24]
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from common import ROOT, env, report
from terminal import Terminal, panda

JOBS = ["hello", "disk-report", "flaky-export", "slow-report", "tmp-cleanup", "nightly-backup"]
# What each screen row holds at 80x24 with the sample's six jobs (the layout moves with other sizes)
ROWS_80X24 = {1: "header", **{r: "jobs" for r in range(2, 10)}, 10: "trend", 11: "trend",
              **{r: "history" for r in range(12, 17)}, 17: "log title", **{r: "log" for r in range(18, 23)},
              23: "notices", 24: "footer", 0: "modes"}


def select(term: Terminal, job: str, tries: int = 10) -> bool:
    """Move the job list's cursor to `job` with the keys a user would press (g, then down); the trend line
    under the list names the selected job."""
    for _ in range(tries):
        lines = term.text().splitlines()
        table = [line.split()[2] if len(line.split()) > 2 else "" for line in lines[3:12]]
        if any(line.split()[:1] == [job] for line in lines[9:12]):
            return True
        if job in table:
            term.send("g" + "\x1b[B" * table.index(job))
        time.sleep(0.5)
    return False


def measure(seconds: float, cols: int, rows: int, embedded: bool, settle: float, job: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        shutil.copy(ROOT / "jobs.toml", cfg)
        daemon = None
        if not embedded:
            daemon = subprocess.Popen(panda("daemon", "--config", cfg, "--db", db), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=env())
            deadline = time.monotonic() + 30
            while not _has_lease(db) and time.monotonic() < deadline:
                time.sleep(0.05)
        term = Terminal(panda("--config", cfg, "--db", db), cols=cols, rows=rows, env=env())
        try:
            first = term.wait_for(*JOBS)
            first_bytes = term.bytes_between(0, time.monotonic())
            selected = select(term, job) if job else True
            time.sleep(settle)  # the first notices time out, the first runs land
            start = time.monotonic()
            time.sleep(seconds)
            end = time.monotonic()
            shown = term.text()
            total = term.bytes_between(start, end)
            per_second = term.bytes_by_second(start, end)
            by_row = term.bytes_by_row(start, end)
        finally:
            term.close()
            if daemon is not None:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(30)
    lines = shown.splitlines()
    sane = (all(job in shown for job in JOBS) and bool(re.search(r"\d\d:\d\d:\d\d", lines[0]))
            and "quit" in lines[-1])
    where: dict[str, int] = {}
    for row, count in by_row.items():
        name = ROWS_80X24.get(row, f"row {row}") if (cols, rows) == (80, 24) else f"row {row}"
        where[name] = where.get(name, 0) + count
    return {"seconds": seconds, "size": f"{cols}x{rows}", "mode": "embedded" if embedded else "attached",
            "first_screen_s": first, "first_screen_bytes": first_bytes,
            "bytes_per_s": total / seconds, "median_second_bytes": statistics.median(per_second),
            "max_second_bytes": max(per_second),
            "bytes_by_area_per_s": {k: round(v / seconds, 1) for k, v in sorted(where.items(), key=lambda kv: -kv[1])},
            "selected": job if selected else f"{job} (not reached)",
            "screen_sane": sane, "screen": shown if not sane else ""}


def _has_lease(db: str) -> bool:
    import sqlite3
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return bool(conn.execute("SELECT COUNT(*) FROM lease").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=10, help="Seconds after the first screen before counting.")
    parser.add_argument("--cols", type=int, default=80)
    parser.add_argument("--rows", type=int, default=24)
    parser.add_argument("--embedded", action="store_true", help="No daemon: the console runs the scheduler.")
    parser.add_argument("--select", default="hello", help="The job to select (its history, trend and log pane "
                        "then change with each of its runs: every 10 s for hello); '' keeps the first row.")
    args = parser.parse_args()
    figures = measure(args.seconds, args.cols, args.rows, args.embedded, args.settle, args.select)
    if figures["screen"]:
        print(figures["screen"])
    report("console_bytes", figures, {"<= 1 KB/s": figures["bytes_per_s"] <= 1024,
                                      "screen whole": figures["screen_sane"]})


if __name__ == "__main__":
    main()
