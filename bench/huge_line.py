"""One 20 MB line in a run's log (stored as the runner stores it: 64 KiB pieces): open the run's log in the
console (Pilot), then press `?`. Figures: time until the log pane shows the run, time until help is open, and
the console process's RSS growth. Peer: the same with the pane reading whole lines (the cap turned off), each
in its own process.

    python bench/huge_line.py [--mb 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

from common import env, peak_rss_mb, report, rss_mb


def make_store(db: str, cfg: str, size: int) -> None:
    from panda_tui.runners.lines import MAX_LINE
    from panda_tui.store import connect
    with open(cfg, "w") as fh:
        fh.write('[jobs.huge]\nschedule = "@yearly"\ncommand = "true"\n')
    conn = connect(db)
    conn.execute("BEGIN")
    run_id = conn.execute("INSERT INTO runs(job, scheduled_at, trigger, status, runner, started_at, finished_at,"
                          " duration_s, exit_code) VALUES ('huge', 0, 'manual', 'succeeded', 'local', ?, ?, 1, 0)",
                          (time.time() - 5, time.time() - 4)).lastrowid
    pieces = [(run_id, n + 1, time.time(), "out", "x" * min(MAX_LINE, size - n * MAX_LINE))
              for n in range((size + MAX_LINE - 1) // MAX_LINE)]
    pieces.append((run_id, len(pieces) + 1, time.time(), "out", "done"))
    conn.executemany("INSERT INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)", pieces)
    conn.execute("UPDATE runs SET log_lines=?, out_lines=?, log_bytes=? WHERE id=?",
                 (len(pieces), len(pieces), size, run_id))
    conn.execute("COMMIT")
    conn.close()


async def one(db: str, cfg: str, capped: bool) -> dict:
    from panda_tui.config import load_config
    from panda_tui.tui import log_window
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.screens.help import HelpScreen
    from panda_tui.tui.widgets.log_view import LogView
    if not capped:
        log_window.CAP = None
    app = PandaApp(load_config(cfg), db, mode="attached")
    async with app.run_test(size=(100, 30)) as pilot:
        while not (app.main and app.main.jobs.rows_shown):
            await pilot.pause(0.02)
        before = rss_mb(os.getpid())
        started = time.perf_counter()
        await pilot.press("enter")
        view = None
        while view is None or not (view.shown and view.shown[-1] == "  done"):
            await pilot.pause(0.02)
            if view is None and app.screen.query(LogView):
                view = app.screen.query_one(LogView)
            if time.perf_counter() - started > 120:
                break
        shown = time.perf_counter() - started
        started = time.perf_counter()
        await pilot.press("question_mark")
        while not isinstance(app.screen, HelpScreen) and time.perf_counter() - started < 120:
            await pilot.pause(0.02)
        help_s = time.perf_counter() - started
        return {"log_shown_s": shown, "help_open_s": help_s, "rss_growth_mb": rss_mb(os.getpid()) - before,
                "peak_rss_mb": peak_rss_mb(os.getpid())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--one", choices=["capped", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one(args.db, args.cfg, args.one == "capped"))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        db, cfg = os.path.join(tmp, "p.db"), os.path.join(tmp, "jobs.toml")
        make_store(db, cfg, int(args.mb * 1_000_000))
        got = {}
        for mode in ("capped", "whole"):
            out = subprocess.run([sys.executable, __file__, "--one", mode, "--db", db, "--cfg", cfg],
                                 capture_output=True, text=True, env={**env(), "TERM": "xterm-256color"})
            got[mode] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {}
    figures = {"line_mb": args.mb}
    for mode, values in got.items():
        for key, value in values.items():
            figures[f"{mode}_{key}"] = value
    report("huge_line", figures, {"help opens within 1 s": figures.get("capped_help_open_s", 99) <= 1,
                                  "RSS growth <= 30 MB": figures.get("capped_rss_growth_mb", 999) <= 30})


if __name__ == "__main__":
    main()
