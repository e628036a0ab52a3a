"""The console on a big store: 1,000,000 runs and 10,000,000 log lines (generated here).
Measures start to first screen, time to open the newest run's logs, and peak RSS, headless with Pilot.

    python bench/console.py [--runs 1000000] [--lines 10000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

from common import big_ledger, peak_rss_mb, report

JOBS = 100


def generate(db: str, cfg: str, total_runs: int, total_lines: int) -> None:
    conn = big_ledger(db, cfg, total_runs, JOBS)
    now = time.time()
    newest = conn.execute("SELECT MAX(id) FROM runs WHERE job='job-000'").fetchone()[0]
    big = 50_000
    per_run = max(1, (total_lines - big) // (total_runs - 1))
    # the newest run of job-000 has 50,000 lines; every other run has a few
    conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {big})
        INSERT INTO logs(run_id, seq, ts, stream, text)
        SELECT {newest}, i, {now}, CASE WHEN i % 50 = 0 THEN 'err' ELSE 'out' END, 'line ' || i FROM n""")
    conn.execute(f"""
        WITH RECURSIVE k(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM k WHERE s < {per_run})
        INSERT INTO logs(run_id, seq, ts, stream, text)
        SELECT r.id, k.s, r.started_at, 'out', 'processed batch ' || k.s || ' of run ' || r.id
        FROM runs r, k WHERE r.id != {newest} AND r.status != 'missed'""")
    conn.execute("UPDATE runs SET log_lines=50000 WHERE id=?", (newest,))
    conn.execute("COMMIT")
    conn.close()


async def measure(db: str, cfg: str) -> dict:
    from panda_tui.config import load_config
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.screens.logs import LogScreen
    from panda_tui.tui.widgets.log_view import LogView
    started = time.perf_counter()
    app = PandaApp(load_config(cfg), db, mode="read-only")
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.main and app.main.jobs.rows_shown):
            await pilot.pause(0.01)
        first_screen = time.perf_counter() - started
        table = app.main.jobs
        table.move_cursor(row=table.rows_shown.index("job-000"))
        await pilot.pause(0.3)
        # What `enter` on a job row does, called directly: pilot.press() itself waits ~300 ms for the
        # whole app to go idle, which would measure Pilot rather than the console.
        opened = time.perf_counter()
        app.main._open_logs_for_job("job-000", failing=False)
        while not (isinstance(app.screen, LogScreen) and app.screen.query_one(LogView).log_widget.window):
            await asyncio.sleep(0.002)
        logs_open = time.perf_counter() - opened
        view = app.screen.query_one(LogView)
        shown = len(view.log_widget.lines)
        started_keys = time.perf_counter()
        await pilot.press("e")
        await pilot.press("e")
        keys = (time.perf_counter() - started_keys) / 2
    return {"first_screen_s": first_screen, "open_newest_logs_s": logs_open, "lines_in_window": shown,
            "filter_key_s": keys, "peak_rss_mb": peak_rss_mb(os.getpid())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--keep", default=None, help="Reuse/keep the generated store in this folder.")
    parser.add_argument("--measure", nargs=2, metavar=("DB", "CFG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # a fresh process, so peak RSS is the console's own
        import json
        print(json.dumps(asyncio.run(measure(*args.measure))))
        return
    folder = args.keep or tempfile.mkdtemp()
    os.makedirs(folder, exist_ok=True)
    db, cfg = f"{folder}/big.db", f"{folder}/jobs.toml"
    if not os.path.exists(db):
        started = time.perf_counter()
        generate(db, cfg, args.runs, args.lines)
        print(f"generated {args.runs} runs, ~{args.lines} log lines in {time.perf_counter() - started:.0f}s "
              f"({os.path.getsize(db) / 1024**2:.0f} MiB)")
    out = subprocess.run([sys.executable, __file__, "--measure", db, cfg], capture_output=True, text=True)
    import json
    figures = {"runs": args.runs, "log_lines": args.lines, **json.loads(out.stdout.strip().splitlines()[-1])}
    report("console", figures, {"first screen <= 1 s": figures["first_screen_s"] <= 1,
                                "logs <= 200 ms": figures["open_newest_logs_s"] <= 0.2,
                                "RSS <= 150 MB": figures["peak_rss_mb"] <= 150})
    if not args.keep:
        import shutil
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
