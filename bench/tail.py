"""Live tail latency: a line printed in a container to the line on the console's log pane, while the job
prints 10,000 lines/s. Probe lines carry /proc/uptime (CLOCK_BOOTTIME, shared with the host kernel, 10 ms
resolution), read with a shell builtin so printing them costs nothing.

    python bench/tail.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

from common import IMAGE, daemon, ensure_image, pct, report

SCRIPT = ("end=$(( $(cut -d. -f1 /proc/uptime) + {seconds} )); i=0; "
          "while :; do read up _ < /proc/uptime; echo \"T $up\"; "
          "j=0; while [ $j -lt 99 ]; do j=$((j+1)); i=$((i+1)); echo \"line $i\"; done; "
          "[ ${{up%.*}} -ge $end ] && break; usleep 10000; done")


async def measure(cfg: str, db: str, seconds: float) -> tuple[list[float], int]:
    from panda_tui.config import load_config
    from panda_tui.store import connect, control
    from panda_tui.tui.app import PandaApp
    from panda_tui.tui.widgets import log_view
    latencies: list[float] = []
    counted = [0]
    original = log_view.LogView.append

    def observe(self, lines, run):
        original(self, lines, run)  # the tail's new lines are on the pane (written to the Log widget) after this
        now = time.clock_gettime(time.CLOCK_BOOTTIME)
        counted[0] += len(lines)
        latencies.extend(now - float(l.text[2:]) for l in lines if l.text.startswith("T "))

    log_view.LogView.append = observe
    app = PandaApp(load_config(cfg), db, mode="attached")
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.main and app.main.jobs.rows_shown):
            await pilot.pause(0.05)
        conn = connect(db)
        control.submit(conn, "trigger", job="talk")
        await asyncio.sleep(seconds + 4)
    return latencies, counted[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    ensure_image()
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/p.db"
        script = SCRIPT.format(seconds=args.seconds).replace('"', '\\"')
        open(cfg, "w").write(f'[jobs.talk]\nschedule = "@yearly"\nimage = "{IMAGE}"\nnetwork_mode = "none"\n'
                             f'pull = "never"\ncommand = ["sh", "-c", "{script}"]\nlog_max_lines = 10000000\n'
                             'log_max_bytes = "1g"\n')
        proc = daemon(cfg, db)
        time.sleep(1.5)
        try:
            latencies, lines = asyncio.run(measure(cfg, db, args.seconds))
        finally:
            proc.terminate()
            proc.wait(30)
        import sqlite3
        stored = sqlite3.connect(db).execute("SELECT COUNT(*) FROM logs").fetchone()[0]
    steady = latencies[len(latencies) // 10:]  # skip the first probes, printed before the pane opened
    figures = {"probes": len(steady), "lines_per_s": stored / args.seconds, "p50_ms": pct(steady, 50) * 1000,
               "p95_ms": pct(steady, 95) * 1000, "max_ms": max(steady) * 1000,
               "note": "uptime has 10 ms resolution: figures may read up to 10 ms high"}
    report("tail", figures, {"p95 <= 100 ms": figures["p95_ms"] <= 100})


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
