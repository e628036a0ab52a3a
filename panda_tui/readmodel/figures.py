"""What `/metrics` reports, as plain data: totals kept by the store, and a handful of cheap reads.

No read here grows with the history: the run totals are kept by triggers, the rest are single rows or
partial indexes. One million runs cost what ten do."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from panda_tui.config import Config
from panda_tui.readmodel.health import all_health, next_fire
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
    failing: dict[str, bool] = field(default_factory=dict)  # every job the API lists → failing (health.failing)


def read_figures(conn: sqlite3.Connection, config: Config, now: float) -> Figures:
    """The jobs are the API's (`all_health`): jobs.toml's and those only `exec` runs. A job removed from
    jobs.toml (or forgotten) leaves the figures as it leaves the API (once a run of it going on ends), though its totals stay in the store."""
    engines = state.get_meta(conn, "engines", {}) or {}
    failing = {h.name: h.failing for h in all_health(conn, config, now)}
    return Figures(
        totals=[t for t in totals.totals(conn) if t.job in failing],
        buckets=[b for b in totals.duration_buckets(conn) if b.job in failing], failing=failing,
        next_runs={name: next_fire(job, now) for name, job in config.jobs.items() if job.enabled},
        paused=state.paused_jobs(conn), scheduler_up=lease.live_holder(conn, now) is not None,
        docker_hosts={host: bool(info.get("up")) for host, info in engines.items() if isinstance(info, dict)},
        undelivered_alerts=outbox.undelivered(conn))
