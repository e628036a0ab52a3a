"""Dispatch lateness under contention, as tests/faults/test_load.py sets it up: fifty local jobs due every
second, three consoles attached (headless, moving their cursor), and a loop of CLI calls, all on the same
cores. Lateness is read from the ledger (started_at - scheduled_at), and broken down: the first run of each
slot's batch, the spread of the batch, and when each run's first output line reached the store. The consoles'
CPU is reported too: what they take is what the daemon waits for.

    python bench/contention.py [--seconds 60] [--consoles 3] [--no-cli]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, cpu_seconds, daemon, env, pct, report

PROBE = str(ROOT / "tests" / "faults" / "console_probe.py")


def cli_loop(cfg: str, db: str, stop: threading.Event, calls: list[int]) -> None:
    n = 0
    while not stop.is_set():
        job = f"j{n % 50:02d}"
        for args in (("status", "--json"), ("executions", job, "--json", "-n", "5"), ("trigger", job),
                     ("pause", job), ("resume", job), ("logs", job)):
            subprocess.run([sys.executable, "-m", "panda_tui", *args, "--config", cfg, "--db", db],
                           capture_output=True, env=env(), timeout=60)
            calls[0] += 1
        n += 1


def breakdown(conn: sqlite3.Connection, since: float, until: float) -> dict[str, float]:
    """Where lateness comes from, per slot's batch of runs: the first run written (the wake-up, and the start of
    the batch), the spread from first to last (the batch itself), and the output: when each run's first line
    reached the store (the command had started by then; the rows only promise it)."""
    batches: dict[float, list[float]] = {}
    for slot, started in conn.execute(
            "SELECT scheduled_at, started_at FROM runs WHERE trigger='schedule' AND started_at IS NOT NULL"
            " AND scheduled_at > ? AND scheduled_at <= ? ORDER BY started_at", (since, until)):
        batches.setdefault(slot, []).append(started - slot)
    first = [late[0] for late in batches.values()]
    spread = [late[-1] - late[0] for late in batches.values()]
    output = [r[0] for r in conn.execute(
        "SELECT MIN(l.ts) - r.scheduled_at FROM runs r JOIN logs l ON l.run_id = r.id WHERE r.trigger='schedule'"
        " AND r.scheduled_at > ? AND r.scheduled_at <= ? GROUP BY r.id", (since, until))]
    out = {}
    for name, values in (("first_of_batch", first), ("batch_spread", spread), ("output", output)):
        out[f"{name}_p50_ms"], out[f"{name}_p99_ms"] = pct(values, 50) * 1000, pct(values, 99) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--consoles", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        cfg, db = f"{tmp}/jobs.toml", f"{tmp}/panda.db"
        with open(cfg, "w") as fh:
            for n in range(50):
                fh.write(f'[jobs.j{n:02d}]\nschedule = "@every 1s"\ncommand = "echo line-$PANDA_RUN_ID"\n')
        proc = daemon(cfg, db)
        for line in proc.stdout:
            if '"event": "lease_acquired"' in line:
                break
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        started = time.time()
        consoles = [subprocess.Popen([sys.executable, PROBE, cfg, db, str(args.seconds)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env()) for _ in range(args.consoles)]
        stop, calls = threading.Event(), [0]
        loop = threading.Thread(target=cli_loop, args=(cfg, db, stop, calls))
        if not args.no_cli:
            loop.start()
        time.sleep(1)
        cpu0 = [cpu_seconds(c.pid) for c in consoles] + [cpu_seconds(proc.pid)]
        time.sleep(max(0.0, args.seconds - 2))
        cpu1 = [cpu_seconds(c.pid) for c in consoles] + [cpu_seconds(proc.pid)]
        window = max(1.0, args.seconds - 2)
        stopped = time.time()  # the daemon runs on while the consoles finish: count the slots of the window only
        stop.set()
        if loop.is_alive():
            loop.join()
        errors = []
        for c in consoles:
            out, _ = c.communicate(timeout=120)
            errors += json.loads(out.strip().splitlines()[-1])["errors"]
        proc.terminate()
        proc.wait(60)
        conn = sqlite3.connect(db)
        late = [r[0] for r in conn.execute(
            "SELECT started_at - scheduled_at FROM runs WHERE trigger='schedule' AND started_at IS NOT NULL"
            " AND scheduled_at > ? AND scheduled_at <= ?", (started + 2, stopped))]
        parts = breakdown(conn, started + 2, stopped)
        slots = conn.execute("SELECT COUNT(*), COUNT(DISTINCT job || ' ' || scheduled_at) FROM runs"
                             " WHERE trigger='schedule' AND attempt=1 AND scheduled_at > ? AND scheduled_at <= ?",
                             (started + 2, stopped)).fetchone()
        conn.close()
    console_cpu = [(b - a) / window * 100 for a, b in zip(cpu0[:-1], cpu1[:-1])]
    figures = {"seconds": args.seconds, "consoles": args.consoles, "cli_calls": calls[0], "runs": len(late),
               "slots": slots[0], "slots_twice": slots[0] - slots[1], "load_avg_1m": os.getloadavg()[0],
               "p50_ms": pct(late, 50) * 1000, "p99_ms": pct(late, 99) * 1000, "max_ms": max(late) * 1000,
               "console_cpu_pct_each": round(sum(console_cpu) / max(1, len(console_cpu)), 1),
               "daemon_cpu_pct": round((cpu1[-1] - cpu0[-1]) / window * 100, 1), "console_errors": len(errors)}
    figures.update(parts)
    report("contention", figures, {"p99 <= 10 ms": figures["p99_ms"] <= 10, "no console error": not errors,
                                   "no slot run twice": not figures["slots_twice"]})


if __name__ == "__main__":
    main()
