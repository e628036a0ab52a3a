"""Every job's health and the runs, as plain data: what `status --json`, `executions --json` and the web API
print, from one place so they can never disagree."""

from __future__ import annotations

import sqlite3
from typing import Any
from dataclasses import dataclass

from panda_tui.config import Config
from panda_tui.readmodel.health import (ACKED, JobHealth, acked_count, all_health, failing_count, flapping_count,
                                      mark_unwatched, missed_count)
from panda_tui.readmodel.scheduler_health import DaemonGone, daemon_gone
from panda_tui.readmodel.unwatched import mark_ended
from panda_tui.store import budget, lease, state
from panda_tui.store.ledger import Run, lateness_s
from panda_tui.text import iso


@dataclass
class Status:
    holder: str | None  # the scheduler holding the lease, or None when none runs
    docker_hosts: dict  # Docker engine host → {up, error, checked_at}
    jobs: list[JobHealth]  # most urgent first
    lease: lease.Holder | None = None  # the live holder, whole: host, pid, since, last heartbeat
    daemon_gone: DaemonGone | None = None  # none holds it, and the last one was a daemon
    store_budget: dict[str, Any] | None = None  # the store at (or, until when, last at) its size limit: store.budget

    @property
    def trouble(self) -> bool:
        """No scheduler runs (every slot goes missing), a job needs a person (failing, missed, flapping), its
        last run went missing, or a run went missing in 24 h: `status` exits 1. A job someone acknowledged
        (acked) does not: the person is on it."""
        return self.lease is None or any(h.trouble for h in self.jobs)


def read_status(conn: sqlite3.Connection, config: Config, now: float) -> Status:
    healths = all_health(conn, config, now)
    holder = lease.live_holder(conn, now)
    mark_unwatched(healths, holder is not None)
    mark_ended(conn, config, healths, now)
    return Status(holder=holder.owner if holder else None, docker_hosts=state.get_meta(conn, "engines", {}) or {},
                  jobs=healths, lease=holder, daemon_gone=None if holder else daemon_gone(conn, now),
                  store_budget=budget.fact(conn))


def describe_holder(holder: lease.Holder, now: float) -> dict:
    """The lease holder in words a person checks: host, pid, since when, last heartbeat."""
    host, pid, _, role = (holder.owner.split(":") + ["", "", "", ""])[:4]
    return {"host": host, "pid": holder.pid, "role": role or None, "since": iso(holder.acquired_at),
            "heartbeat_s_ago": round(max(0.0, now - holder.heartbeat_at), 1)}


def status_json(status: Status, now: float | None = None, refused: list[str] | None = None) -> dict:
    import time
    now = time.time() if now is None else now
    return {
        "scheduler": None if status.holder is None else lease.shown_owner(status.holder),
        "lease": describe_holder(status.lease, now) if status.lease else None,
        "daemon_gone": None if status.daemon_gone is None else {
            **status.daemon_gone.as_dict(), "last_seen": _iso(status.daemon_gone.last_seen),
            "words": status.daemon_gone.words(now)},
        "jobs_toml_refused": refused or [],
        "engines": {host: _engine_json(info) for host, info in status.docker_hosts.items()},
        "store_budget": status.store_budget,
        "failing": failing_count(status.jobs),
        "missed_24h": missed_count(status.jobs),
        "flapping": flapping_count(status.jobs),
        "acked": acked_count(status.jobs),
        "jobs": [job_json(h) for h in status.jobs],
        "trouble": status.trouble}


def _engine_json(info: object) -> object:
    """An engine's last check, its time in ISO 8601 as every time `--json` prints."""
    if not isinstance(info, dict) or not isinstance(info.get("checked_at"), (int, float)):
        return info
    return {**info, "checked_at": _iso(info["checked_at"])}


def job_json(h: JobHealth) -> dict:
    """One job as `status --json` and `/api/jobs` give it."""
    failure = h.last_failure
    return {"job": h.name, "state": h.shown_mark, "words": ACKED if h.acked else h.words, "failing": h.failing, "paused": h.paused,
            "next_run": _iso(h.next_at), "enabled": h.enabled, "in_jobs_toml": h.declared,
            "last_status": h.last.status if h.last else None,
            "last_run_id": h.last.id if h.last else None,
            "last_success_at": _iso(h.last_success_at),
            "last_failure": None if failure is None else {**failure.as_dict(), "at": _iso(failure.at)},
            "last_failure_line": failure.line if failure else None,
            "failure_rate_20": h.failure_rate, "failed_10": list(h.failed_recent),
            "timed_out_10": list(h.timed_out_recent) if h.timed_out_recent else None,
            "missed_24h": h.missed_24h, "missed_24h_acked": h.missed_acked, "running": h.running, "acked_by": h.acked_by}


def run_json(run: Run) -> dict:
    out = run.as_dict()
    for key in ("scheduled_at", "started_at", "finished_at", "queued_at", "not_before"):
        out[key] = _iso(out[key])
    out["lateness_s"] = lateness_s(run)
    return out


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso(ts)
