"""Runs `running` in the ledger that no scheduler follows (the one that started them died): a line each for
`status`, saying since when and what to do."""

from __future__ import annotations

import sqlite3

from panda_tui.readmodel.health import UNWATCHED, JobHealth
from panda_tui.store import lease, ledger
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.text import coarse_ago, when


def unwatched_lines(conn: sqlite3.Connection, h: JobHealth, now: float) -> list[str]:
    """`backup: run 7 running (unwatched) since 03:10:04 (12m ago): …`, one per run of the job nobody follows.
    A run a `run` or `exec` process carries out is its process's to follow, and is left out."""
    if not h.unwatched:
        return []
    seen = lease.last_seen(conn)
    return [unwatched_line(h.name, run, seen, now) for run in ledger.active(conn, h.name)
            if run.status == RunStatus.RUNNING and not run.owner]


def unwatched_line(job: str, run: Run, seen: float | None, now: float) -> str:
    """Since when: the later of its start and the last sign of a scheduler (unsaid when the store knows neither).
    `kill` is a request to a scheduler: with none, it refuses, so the way out starts one."""
    since = max((t for t in (seen, run.started_at) if t is not None), default=None)
    at = f" since {when(since, now)} ({coarse_ago(now - since)} ago)" if since is not None else ""
    return (f"{job}: run {run.id} {UNWATCHED}{at}: no scheduler follows it; start `panda-tui daemon` (or a "
            f"console, S) to follow it, then `panda-tui kill {run.id}` stops it (kill needs a scheduler)")
