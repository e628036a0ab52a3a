"""Overhead of one container attempt (busybox `true`): scheduled to result recorded, vs `docker run --rm`.

    python bench/run_overhead.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time

from common import IMAGE, ensure_image, report


async def panda_times(runs: int) -> list[float]:
    from panda_tui.config import load_config
    from panda_tui.engine.wiring import build
    from panda_tui.store import ledger
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/jobs.toml", "w").write(
            f'[jobs.c]\nschedule = "@daily"\nimage = "{IMAGE}"\ncommand = ["true"]\nnetwork_mode = "none"\n'
            'pull = "never"\n')
        sched = build(load_config(f"{tmp}/jobs.toml"), f"{tmp}/p.db", watch_config=False)
        times = []
        for _ in range(runs + 1):
            sched.flight.dispatch(sched.config.jobs["c"], time.time(), "manual")
            (execution,) = sched.flight.executions("c")
            await execution.task
            row = ledger.get(sched.conn, execution.run_id)
            assert row.status == "succeeded", row
            times.append(row.finished_at - row.scheduled_at)
        await sched.shutdown(grace=1)
        return times[1:]  # the first attempt warms the client


def docker_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, "true"], check=True)
        times.append(time.perf_counter() - started)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_image()
    ours = asyncio.run(panda_times(args.runs))
    theirs = docker_times(args.runs)
    figures = {"runs": args.runs, "panda_median_s": statistics.median(ours),
               "docker_run_rm_median_s": statistics.median(theirs)}
    figures["ratio"] = figures["panda_median_s"] / figures["docker_run_rm_median_s"]
    report("run_overhead", figures, {"ratio <= 1.0": figures["ratio"] <= 1.0})


if __name__ == "__main__":
    main()
