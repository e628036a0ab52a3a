"""Log ingestion: a container prints 1,000,000 numbered lines; time until all are in the store, each once.
Peer: reading the same container's output with `docker logs` into /dev/null. The two take turns (--rounds);
the figures are medians.

    python bench/ingest.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time

from common import IMAGE, ensure_image, report


async def panda(lines: int) -> tuple[float, int, int, str]:
    from panda_tui.config import load_config
    from panda_tui.engine.wiring import build
    from panda_tui.store import ledger
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/jobs.toml", "w").write(
            f'[jobs.c]\nschedule = "@daily"\nimage = "{IMAGE}"\ncommand = ["seq", "1", "{lines}"]\n'
            f'network_mode = "none"\npull = "never"\nlog_max_lines = {lines * 2}\nlog_max_bytes = "1g"\n')
        sched = build(load_config(f"{tmp}/jobs.toml"), f"{tmp}/p.db", watch_config=False)
        started = time.perf_counter()
        sched.flight.dispatch(sched.config.jobs["c"], time.time(), "manual")
        (execution,) = sched.flight.executions("c")
        await execution.task  # returns once every line is committed
        elapsed = time.perf_counter() - started
        run = ledger.get(sched.conn, execution.run_id)
        numbers = [int(r[0]) for r in sched.conn.execute(
            "SELECT text FROM logs WHERE run_id=? AND stream='out'", (run.id,))]
        distinct = len(set(numbers))
        ok = distinct == len(numbers) == lines and min(numbers) == 1 and max(numbers) == lines
        await sched.shutdown(grace=1)
        return elapsed, len(numbers), lines - distinct, "every number once" if ok else "MISMATCH"


def docker_logs(lines: int) -> float:
    cid = subprocess.run(["docker", "run", "-d", "--network", "none", IMAGE, "seq", "1", str(lines)],
                         capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["docker", "wait", cid], capture_output=True, check=True)
    started = time.perf_counter()
    with open("/dev/null", "w") as sink:
        subprocess.run(["docker", "logs", cid], stdout=sink, stderr=sink, check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="turns of panda-tui then docker logs; medians")
    args = parser.parse_args()
    ensure_image()
    ours: list[float] = []
    peers: list[float] = []
    stored, lost, check = 0, 0, ""
    for _ in range(args.rounds):  # taking turns: a machine that gets busier slows both sides alike
        elapsed, stored, lost, check = asyncio.run(panda(args.lines))
        ours.append(elapsed)
        peers.append(docker_logs(args.lines))
    mine, peer = statistics.median(ours), statistics.median(peers)
    figures = {"lines": args.lines, "rounds": args.rounds, "panda_s": mine, "panda_lines_per_s": args.lines / mine,
               "stored": stored, "lost_or_duplicated": lost, "check": check,
               "docker_logs_s": peer, "docker_logs_lines_per_s": args.lines / peer,
               "ratio_per_round": " ".join(f"{p / o:.2f}" for o, p in zip(ours, peers))}
    figures["ratio_to_peer"] = figures["panda_lines_per_s"] / figures["docker_logs_lines_per_s"]
    report("ingest", figures, {">= 100k lines/s": figures["panda_lines_per_s"] >= 100_000,
                               ">= 1.5 x docker logs": figures["ratio_to_peer"] >= 1.5,
                               "0 lost": lost == 0 and stored == args.lines})


if __name__ == "__main__":
    main()
