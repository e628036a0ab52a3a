"""From slot to task start: a swarm job (a service on this machine's engine as a single-node swarm) against a
docker job (a container), busybox on both. The job reads the clock first thing (adjtimex: microseconds), so
"start" is when its command runs, not when panda-tui learns of it; "recorded" is the slot to the result in
the ledger. The two take turns (ABAB...). Swarm mode is switched on for the run if the engine is in no swarm,
and off again afterwards.

    python bench/swarm_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from common import IMAGE, ensure_image, pct, report

CLOCK = "adjtimex | grep -E 'tv_(sec|usec)'"  # busybox date has no sub-second format


async def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    from panda_tui.config import load_config
    from panda_tui.engine.wiring import build
    from panda_tui.store import ledger, logs
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/jobs.toml", "w").write(
            f'[defaults]\nimage = "{IMAGE}"\nschedule = "@daily"\ncommand = "{CLOCK}"\n'
            '[jobs.docker]\nnetwork_mode = "none"\npull = "never"\n'
            '[jobs.swarm]\nrunner = "swarm"\n')
        sched = build(load_config(f"{tmp}/jobs.toml"), f"{tmp}/p.db", watch_config=False)

        async def once(name: str) -> tuple[float, float]:
            slot = time.time()
            sched.flight.dispatch(sched.config.jobs[name], slot, "manual")
            (execution,) = sched.flight.executions(name)
            await execution.task
            row = ledger.get(sched.conn, execution.run_id)
            assert row.status == "succeeded", row
            fields = {k.strip(): v for k, v in (line.text.split(":") for line in logs.read(sched.conn, row.id)
                                                if line.stream == "out")}
            began = int(fields["time.tv_sec"]) + int(fields["time.tv_usec"]) / 1e6
            return began - slot, row.finished_at - slot

        await once("docker")  # warm both: clients, the image in the page cache
        await once("swarm")
        out: dict[str, list[tuple[float, float]]] = {"docker": [], "swarm": []}
        for _ in range(runs):
            for name in out:
                out[name].append(await once(name))
        await sched.shutdown(grace=1)
        return out


def main() -> None:
    import docker
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    ensure_image()
    client = docker.from_env()
    made = (client.info().get("Swarm") or {}).get("LocalNodeState") == "inactive"
    if made:
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    try:
        measured = asyncio.run(measure(args.runs))
    finally:
        if made:
            client.swarm.leave(force=True)
    figures: dict[str, float | int] = {"runs_each": args.runs}
    for name, values in measured.items():
        starts, recorded = [s for s, _ in values], [r for _, r in values]
        figures[f"{name}_start_median_s"] = statistics.median(starts)
        figures[f"{name}_start_p90_s"] = pct(starts, 90)
        figures[f"{name}_recorded_median_s"] = statistics.median(recorded)
    figures["swarm_over_docker_start"] = figures["swarm_start_median_s"] / figures["docker_start_median_s"]
    report("swarm_start", figures, {"swarm start median <= 1 s": figures["swarm_start_median_s"] <= 1.0})


if __name__ == "__main__":
    main()
