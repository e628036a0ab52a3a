"""Overhead of one container attempt (busybox `true`): scheduled to result recorded, vs `docker run --rm`.
The two sides take turns (ABAB...), so a change in the machine's load lands on both; the figure is the
median of the per-pair ratios.

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


def docker_run() -> float:
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, "true"], check=True)
    return time.perf_counter() - started


async def pairs(runs: int) -> list[tuple[float, float]]:
    from panda_tui.config import load_config
    from panda_tui.engine.wiring import build
    from panda_tui.store import ledger
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/jobs.toml", "w").write(
            f'[jobs.c]\nschedule = "@daily"\nimage = "{IMAGE}"\ncommand = ["true"]\nnetwork_mode = "none"\n'
            'pull = "never"\n')
        sched = build(load_config(f"{tmp}/jobs.toml"), f"{tmp}/p.db", watch_config=False)

        async def panda() -> float:
            sched.flight.dispatch(sched.config.jobs["c"], time.time(), "manual")
            (execution,) = sched.flight.executions("c")
            await execution.task
            row = ledger.get(sched.conn, execution.run_id)
            assert row.status == "succeeded", row
            return row.finished_at - row.scheduled_at

        await panda()  # warm both: the client, the image in the page cache
        docker_run()
        out = [(await panda(), docker_run()) for _ in range(runs)]
        await sched.shutdown(grace=1)
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    ensure_image()
    measured = asyncio.run(pairs(args.runs))
    ours, theirs = [p for p, _ in measured], [d for _, d in measured]
    ratios = [p / d for p, d in measured]
    figures = {"pairs": args.runs, "panda_median_s": statistics.median(ours),
               "docker_run_rm_median_s": statistics.median(theirs), "ratio_median_of_pairs": statistics.median(ratios),
               "ratio_min": min(ratios), "ratio_max": max(ratios)}
    report("run_overhead", figures, {"ratio <= 0.95": figures["ratio_median_of_pairs"] <= 0.95})


if __name__ == "__main__":
    main()
