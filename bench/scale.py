"""10,000 jobs: validate time, daemon start to first dispatch, idle CPU over 30 s, memory; vs APScheduler 3.

    python bench/scale.py [--jobs 10000] [--idle 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time

from common import cpu_seconds, daemon, report, rss_mb

SCHEDULES = ["0 3 * * *", "*/15 * * * *", "30 2 * * 1-5", "0 */6 * * *", "45 23 * * 0"]


def write_jobs(path: str, count: int) -> None:
    with open(path, "w") as fh:
        fh.write('[jobs.first]\nschedule = "@every 1s"\ncommand = ["true"]\n')
        for i in range(count - 1):
            fh.write(f'[jobs.job-{i}]\nschedule = "{SCHEDULES[i % len(SCHEDULES)]}"\n'
                     f'timezone = "{"Europe/Berlin" if i % 2 else "UTC"}"\ncommand = ["true"]\n')


def panda(count: int, idle: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = f"{tmp}/jobs.toml"
        write_jobs(cfg, count)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "panda_tui", "validate", "--config", cfg], check=True,
                       capture_output=True)
        validate = time.perf_counter() - started
        started = time.perf_counter()
        proc = daemon(cfg, f"{tmp}/p.db")
        ready = None
        for line in proc.stdout:
            if ready is None and '"event": "lease_acquired"' in line:
                ready = time.perf_counter() - started
            if '"event": "started"' in line:
                break
        first = time.perf_counter() - started
        # idle: only "first" fires, once a second; everything else sleeps in the heap
        # (drain stdout in the background so the daemon never blocks on a full pipe)
        import threading
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        time.sleep(2)
        cpu0 = cpu_seconds(proc.pid)
        time.sleep(idle)
        cpu = (cpu_seconds(proc.pid) - cpu0) / idle * 100
        rss = rss_mb(proc.pid)
        proc.terminate()
        proc.wait(30)
        return {"validate_s": validate, "start_to_ready_s": ready, "start_to_first_dispatch_s": first, "idle_cpu_pct": cpu, "rss_mb": rss}


APS_SCRIPT = textwrap.dedent("""
    import sys, time
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    count = int(sys.argv[1])
    schedules = {schedules!r}
    t0 = time.perf_counter()
    s = BackgroundScheduler(timezone="UTC")
    for i in range(count):
        m, h, d, mo, dow = schedules[i % len(schedules)].split()
        s.add_job(lambda: None, CronTrigger(minute=m, hour=h, day=d, month=mo, day_of_week=dow,
                  timezone="Europe/Berlin" if i % 2 else "UTC"))
    s.start()
    print(time.perf_counter() - t0, flush=True)
    time.sleep(10_000)
""").format(schedules=SCHEDULES)


def apscheduler(count: int, idle: float) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", APS_SCRIPT, str(count)], stdout=subprocess.PIPE, text=True)
    start = float(proc.stdout.readline())
    time.sleep(2)
    cpu0 = cpu_seconds(proc.pid)
    time.sleep(idle)
    cpu = (cpu_seconds(proc.pid) - cpu0) / idle * 100
    rss = rss_mb(proc.pid)
    proc.kill()
    return {"apscheduler_start_s": start, "apscheduler_idle_cpu_pct": cpu, "apscheduler_rss_mb": rss}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=30)
    args = parser.parse_args()
    figures = {"jobs": args.jobs, **panda(args.jobs, args.idle), **apscheduler(args.jobs, args.idle)}
    # the first dispatch waits for the next whole second of "@every 1s" (0-1 s) after the scheduler is ready
    report("scale", figures, {"start <= 2 s": figures["start_to_first_dispatch_s"] <= 2,
                              "idle CPU <= 2 %": figures["idle_cpu_pct"] <= 2})


if __name__ == "__main__":
    main()
