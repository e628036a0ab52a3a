"""Launch to first screen: from the process start to the first frame that shows every job name, over a real
pty at 80x24, with the sample jobs.toml. Both ways a console opens: embedded (no daemon: it starts the
scheduler itself) and attached (a daemon runs). Each is launched several times; the first, which creates
the store and warms the disk cache, is not counted. The floor (bench/floor_app.py: Header, a DataTable with
the six job names, Footer; the smallest Textual app showing the same) is launched in turn after each
embedded launch, so both see the same load; `embedded_to_floor` is their ratio of medians.

    python bench/launch.py [--launches 10] [--no-floor]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import subprocess
import tempfile
import time

from common import ROOT, env, pct, report
from console_bytes import JOBS, _has_lease
from terminal import Terminal, panda


FLOOR = [sys.executable, str(ROOT / "bench" / "floor_app.py")]


def first_screen(argv: list[str]) -> float:
    term = Terminal(argv, env=env())
    try:
        return term.wait_for(*JOBS)
    finally:
        term.close()


def launches(cfg: str, db: str, count: int, floor: list[float] | None = None) -> list[float]:
    """The console's launches; with `floor`, the floor app is launched in turn after each (same load)."""
    times = []
    for i in range(count + 1):
        took = first_screen(panda("--config", cfg, "--db", db))
        floor_took = first_screen(FLOOR) if floor is not None else None
        if i:
            times.append(took)
            if floor is not None:
                floor.append(floor_took)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--no-floor", action="store_true", help="the console alone (the tests' quick check)")
    args = parser.parse_args()
    figures: dict = {"launches": args.launches}
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        shutil.copy(ROOT / "jobs.toml", cfg)
        floor: list[float] = []
        embedded = launches(cfg, db, args.launches, None if args.no_floor else floor)
        daemon = subprocess.Popen(panda("daemon", "--config", cfg, "--db", db), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env())
        try:
            deadline = time.monotonic() + 30
            while not _has_lease(db) and time.monotonic() < deadline:
                time.sleep(0.05)
            attached = launches(cfg, db, args.launches)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    figures.update({
        "embedded_median_s": statistics.median(embedded), "embedded_p90_s": pct(embedded, 90),
        "attached_median_s": statistics.median(attached), "attached_p90_s": pct(attached, 90),
        "bare_python_s": time.perf_counter() - started})
    targets = {"embedded <= 0.5 s": figures["embedded_median_s"] <= 0.5,
               "attached <= 0.5 s": figures["attached_median_s"] <= 0.5}
    if floor:
        figures.update({"floor_median_s": statistics.median(floor), "floor_p90_s": pct(floor, 90)})
        figures["embedded_to_floor"] = figures["embedded_median_s"] / figures["floor_median_s"]
        figures["attached_to_floor"] = figures["attached_median_s"] / figures["floor_median_s"]
        targets["embedded <= 1.3x floor"] = figures["embedded_to_floor"] <= 1.3
    report("launch", figures, targets)


if __name__ == "__main__":
    main()
