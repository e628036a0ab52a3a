"""Dispatch lateness: a local `true` job on "@every 1s" (from the ledger) vs APScheduler 3 (its own events).

    python bench/dispatch.py [--seconds 65]
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import tempfile
import threading
import time

from common import daemon, pct, report


def panda_lateness(seconds: float) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = f"{tmp}/jobs.toml"
        open(cfg, "w").write('[jobs.tick]\nschedule = "@every 1s"\ncommand = ["true"]\n')
        proc = daemon(cfg, f"{tmp}/p.db")
        time.sleep(seconds)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        conn = sqlite3.connect(f"{tmp}/p.db")
        rows = conn.execute("SELECT started_at - scheduled_at FROM runs WHERE job='tick' AND started_at IS NOT NULL"
                            " ORDER BY id").fetchall()
        return [r[0] for r in rows[1:]]  # the first slot may be the one that was due at start-up


def apscheduler_lateness(seconds: float) -> list[float]:
    from apscheduler.events import EVENT_JOB_SUBMITTED
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    lateness: list[float] = []
    lock = threading.Lock()

    def on_submit(event):
        now = time.time()
        with lock:
            lateness.extend(now - t.timestamp() for t in event.scheduled_run_times)

    sched = BackgroundScheduler(timezone="UTC")
    sched.add_listener(on_submit, EVENT_JOB_SUBMITTED)
    sched.add_job(lambda: None, CronTrigger(second="*", timezone="UTC"))
    sched.start()
    time.sleep(seconds)
    sched.shutdown()
    return lateness[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=65)
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    peer = threading.Thread(target=lambda: results.__setitem__("aps", apscheduler_lateness(args.seconds)))
    peer.start()  # both in the same window, on the same machine
    results["panda"] = panda_lateness(args.seconds)
    peer.join()
    ours, theirs = results["panda"], results["aps"]
    figures = {
        "firings": len(ours), "panda_p50_ms": pct(ours, 50) * 1000, "panda_p99_ms": pct(ours, 99) * 1000,
        "panda_max_ms": max(ours) * 1000, "apscheduler_firings": len(theirs),
        "apscheduler_p50_ms": pct(theirs, 50) * 1000, "apscheduler_p99_ms": pct(theirs, 99) * 1000,
    }
    report("dispatch", figures, {
        "60+ firings": len(ours) >= 60,
        "p99 <= 10 ms": figures["panda_p99_ms"] <= 10,
        "p50 below APScheduler's": figures["panda_p50_ms"] < figures["apscheduler_p50_ms"],
    })


if __name__ == "__main__":
    main()
