"""Launch to first screen: from the process start to the first frame that shows every job name, over a real
pty at 80x24, with the sample jobs.toml. Both ways a console opens: embedded (no daemon: it starts the
scheduler itself) and attached (a daemon runs). Each is launched several times; the first, which creates
the store and warms the disk cache, is not counted. The floor (bench/floor_app.py: Header, a DataTable with
the six job names, Footer; the smallest Textual app showing the same) is launched in turn after each
launch, so both see the same load; `embedded_to_floor` and `attached_to_floor` are ratios of medians. Beside
the wall-clock figures, the CPU seconds each process spent by its first screen (`*_cpu_s`), which a busy
machine disturbs less.

All of them run byte-compiled, as an installed panda-tui does (pip compiles on install) and as Textual
does from site-packages: the children write their bytecode under one temporary PYTHONPYCACHEPREFIX, even
where PYTHONDONTWRITEBYTECODE is set, and the first launch of each kind, which writes it, is not counted.
Without this (--from-source, where PYTHONDONTWRITEBYTECODE is set) the console compiled its ~70 modules
from source at every launch and the floor did not.

    python bench/launch.py [--launches 10] [--no-floor] [--from-source]
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

from common import ROOT, cpu_seconds, env, pct, report
from console_bytes import JOBS, _has_lease
from terminal import Terminal, panda


FLOOR = [sys.executable, str(ROOT / "bench" / "floor_app.py")]


def compiled_env(pycache: str) -> dict:
    """env() with bytecode written and read under `pycache` (see the module's docstring)."""
    # Empty, not absent: Terminal lays this over os.environ, and Python reads an empty value as unset.
    return {**env(), "PYTHONPYCACHEPREFIX": pycache, "PYTHONDONTWRITEBYTECODE": ""}


def first_screen(argv: list[str], environ: dict) -> tuple[float, float]:
    """(seconds from the start to the first screen with every job, CPU seconds the process spent by then)."""
    term = Terminal(argv, env=environ)
    try:
        took = term.wait_for(*JOBS)
        return took, cpu_seconds(term.pid)
    finally:
        term.close()


def launches(argv: list[str], environ: dict, count: int, floor: list[tuple[float, float]] | None = None
             ) -> list[tuple[float, float]]:
    """The console's launches; with `floor`, the floor app is launched in turn after each (same load)."""
    times = []
    for i in range(count + 1):
        took = first_screen(argv, environ)
        floor_took = first_screen(FLOOR, environ) if floor is not None else None
        if i:
            times.append(took)
            if floor is not None and floor_took is not None:
                floor.append(floor_took)
    return times


def medians(name: str, runs: list[tuple[float, float]]) -> dict:
    wall = [took for took, _ in runs]
    return {f"{name}_median_s": statistics.median(wall), f"{name}_p90_s": pct(wall, 90),
            f"{name}_cpu_s": statistics.median(cpu for _, cpu in runs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--no-floor", action="store_true", help="the console alone (the tests' quick check)")
    parser.add_argument("--from-source", action="store_true",
                        help="no bytecode cache of its own: as the environment says (PYTHONDONTWRITEBYTECODE)")
    args = parser.parse_args()
    figures: dict = {"launches": args.launches, "bytecode": not args.from_source}
    with tempfile.TemporaryDirectory() as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        shutil.copy(ROOT / "jobs.toml", cfg)
        environ = env() if args.from_source else compiled_env(f"{tmp}/pycache")
        console = panda("--config", cfg, "--db", db)
        floor: list[tuple[float, float]] = []
        floor_attached: list[tuple[float, float]] = []
        embedded = launches(console, environ, args.launches, None if args.no_floor else floor)
        daemon = subprocess.Popen(panda("daemon", "--config", cfg, "--db", db), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=environ)
        try:
            deadline = time.monotonic() + 30
            while not _has_lease(db) and time.monotonic() < deadline:
                time.sleep(0.05)
            attached = launches(console, environ, args.launches, None if args.no_floor else floor_attached)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    figures.update({**medians("embedded", embedded), **medians("attached", attached),
                    "bare_python_s": time.perf_counter() - started})
    targets = {"embedded <= 0.5 s": figures["embedded_median_s"] <= 0.5,
               "attached <= 0.5 s": figures["attached_median_s"] <= 0.5}
    if floor:
        figures.update({**medians("floor", floor), **medians("floor_attached", floor_attached)})
        for kind in ("embedded", "attached"):
            peer = "floor" if kind == "embedded" else "floor_attached"
            figures[f"{kind}_to_floor"] = figures[f"{kind}_median_s"] / figures[f"{peer}_median_s"]
            figures[f"{kind}_to_floor_cpu"] = figures[f"{kind}_cpu_s"] / figures[f"{peer}_cpu_s"]
            targets[f"{kind} <= 1.3x floor"] = figures[f"{kind}_to_floor"] <= 1.3
    report("launch", figures, targets)


if __name__ == "__main__":
    main()
