"""What the console shows, read from the store in one go (runs in a worker thread, never on the UI)."""

from __future__ import annotations

import sqlite3
from typing import Any
import statistics
import time
from dataclasses import dataclass, field

from panda_tui.store import outbox
from panda_tui.config import Config
from panda_tui.readmodel.health import (DAY, RATE_WINDOW, JobHealth, acked_count, all_health,
                                      failing_count, flapping_count, mark_unwatched, missed_count, rated_slots,
                                      running_count, timed_durations)
from panda_tui.readmodel.scheduler_health import DaemonGone, daemon_gone
from panda_tui.readmodel.unwatched import mark_ended
from panda_tui.store import budget, lease, ledger, state
from panda_tui.store.ledger import BAD, Run
from panda_tui.store.missed import missed_since


@dataclass
class Trend:
    durations: list[float]  # oldest first, last 100 finished runs
    statuses: list[str]  # of each duration's run
    median: float | None
    p95: float | None
    failure_rate: float | None  # of the last RATE_WINDOW finished runs, as the job list and `status` give it
    missed: int
    expected_every: float | None  # seconds between slots, from the schedule
    actual_every: float | None  # median seconds between actual starts
    slow: list[int] = field(default_factory=list)  # run ids slower than 2 x p95
    ids: list[int] = field(default_factory=list)  # run id of each duration


@dataclass
class Snapshot:
    taken_at: float
    holder: str | None  # the live scheduler holding the database, or None
    heartbeat_at: float | None  # its last heartbeat; with no live holder, the last one of the one before
    docker_hosts: dict  # Docker engine host → {up, error, checked_at}
    config_errors: list[str]
    jobs: list[JobHealth]
    running: int
    failing: int
    missed_24h: int
    undelivered_alerts: int = 0
    flapping: int = 0  # jobs shown `≈ flapping` (readmodel.health.flapping_count, as `status` counts them)
    daemon_gone: DaemonGone | None = None  # no scheduler runs, and the last one was a daemon: say so
    acked: int = 0  # jobs in trouble someone acknowledged (readmodel.health.acked_count): not failing
    store_full: dict[str, Any] | None = None  # the store is at its size limit: logs are being dropped (store.budget)
    stopping: dict[str, Any] | None = None  # the scheduler is stopping: {runs, grace, since} (store.state.put_stopping)


def read_snapshot(conn: sqlite3.Connection, config: Config | None, now: float | None = None) -> Snapshot:
    """`config`: the jobs to show (None: no job known, only the scheduler's state)."""
    now = time.time() if now is None else now
    healths = all_health(conn, config, now)
    holder = lease.live_holder(conn, now)  # `status`'s check: a holder on this host whose pid is gone is gone
    mark_unwatched(healths, holder is not None)
    mark_ended(conn, config, healths, now)
    return Snapshot(
        taken_at=now, holder=holder.owner if holder else None, heartbeat_at=lease.last_seen(conn),
        docker_hosts=state.engines(conn),
        config_errors=state.config_errors(conn),
        jobs=healths, running=running_count(healths),
        failing=failing_count(healths),  # the rows marked failing, and `status`'s count
        missed_24h=missed_count(healths), flapping=flapping_count(healths), acked=acked_count(healths),
        undelivered_alerts=outbox.undelivered(conn),
        daemon_gone=None if holder else daemon_gone(conn, now),
        store_full=_store_full(conn), stopping=state.stopping(conn, holder.owner if holder else None))


def _store_full(conn: sqlite3.Connection) -> dict[str, Any] | None:
    fact = budget.fact(conn)
    return fact if fact and fact.get("full") else None


def read_trend(conn: sqlite3.Connection, config: Config, job_name: str, now: float) -> Trend:
    finished = [r for r in reversed(ledger.recent_outcomes(conn, job_name, 100)) if r.duration_s is not None]
    durations = [r.duration_s for r in finished if r.duration_s is not None]  # all of them, typed
    timed = timed_durations(finished)
    p95 = _percentile(timed, 95)
    starts = [r.started_at for r in finished if r.trigger == "schedule" and r.started_at]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    job = config.jobs.get(job_name)
    expected = None
    if job is not None:
        from datetime import datetime, timezone
        fires = job.schedule.next_after(datetime.fromtimestamp(now, timezone.utc), 2)
        expected = (fires[1] - fires[0]).total_seconds()
    outcomes = rated_slots(ledger.recent_outcomes(conn, job_name, 2 * RATE_WINDOW), job.retries if job else 0)
    return Trend(
        durations=durations, statuses=[str(r.status) for r in finished],
        median=statistics.median(timed) if timed else None, p95=p95,
        failure_rate=(sum(r.status in BAD for r in outcomes) / len(outcomes)) if outcomes else None,
        missed=missed_since(conn, now - DAY, job_name), expected_every=expected,
        actual_every=statistics.median(gaps) if gaps else None,
        slow=[r.id for r, d in zip(finished, durations) if p95 and len(durations) >= 5 and d > 2 * p95],
        ids=[r.id for r in finished])


def read_history(conn: sqlite3.Connection, job_name: str, limit: int = 200) -> list[Run]:
    return ledger.history(conn, job_name, limit)


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
