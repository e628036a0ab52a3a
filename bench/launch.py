"""Launch to first screen: from the process start to the first frame that shows every job name, over a real
pty at 80x24, with the sample jobs.toml. Both ways a console opens: embedded (no daemon: it starts the
scheduler itself) and attached (a daemon runs). Each is launched several times; the first, which creates
the store and warms the disk cache, is not counted.

    python bench/launch.py [--launches 10]
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


def launches(cfg: str, db: str, count: int) -> list[float]:
    times = []
    for i in range(count + 1):
        term = Terminal(panda("--config", cfg, "--db", db), env=env())
        try:
            took = term.wait_for(*JOBS)
        finally:
            term.close()
        if i:
            times.append(took)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=10)
    args = parser.parse_args()
    figures: dict = {"launches": args.launches}
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        shutil.copy(ROOT / "jobs.toml", cfg)
        embedded = launches(cfg, db, args.launches)
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
    report("launch", figures, {"embedded <= 0.5 s": figures["embedded_median_s"] <= 0.5,
                               "attached <= 0.5 s": figures["attached_median_s"] <= 0.5})


if __name__ == "__main__":
    main()
