"""What `/metrics` reports, as plain data: totals kept by the store, and a handful of cheap reads.

No read here grows with the history: the run totals are kept by triggers, the rest are single rows or
partial indexes. One million runs cost what ten do."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from panda_tui.config import Config
from panda_tui.readmodel.health import next_fire
from panda_tui.store import lease, outbox, state, totals
from panda_tui.store.totals import Bucket, Total


@dataclass
class Figures:
    totals: list[Total]
    buckets: list[Bucket]
    next_runs: dict[str, float]  # enabled jobs of the config
    paused: set[str]
    scheduler_up: bool
    docker_hosts: dict[str, bool] = field(default_factory=dict)
    undelivered_alerts: int = 0


def read_figures(conn: sqlite3.Connection, config: Config, now: float) -> Figures:
    engines = state.get_meta(conn, "engines", {}) or {}
    return Figures(
        totals=totals.totals(conn), buckets=totals.duration_buckets(conn),
        next_runs={name: next_fire(job, now) for name, job in config.jobs.items() if job.enabled},
        paused=state.paused_jobs(conn), scheduler_up=lease.live_holder(conn, now) is not None,
        docker_hosts={host: bool(info.get("up")) for host, info in engines.items() if isinstance(info, dict)},
        undelivered_alerts=outbox.undelivered(conn))
