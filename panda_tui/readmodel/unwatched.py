"""Runs `running` in the ledger that no scheduler follows (the one that started them died): a line each for
`status`, saying since when and what to do."""

from __future__ import annotations

import sqlite3

from panda_tui.config import Config
from panda_tui.readmodel.health import UNWATCHED, JobHealth
from panda_tui.schedule import human_duration
from panda_tui.store import lease, ledger
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.store.run_dirs import KeeperEnd, keeper_ends
from panda_tui.text import coarse_ago, when

RECORDS = "the next scheduler records it"


def unwatched_lines(conn: sqlite3.Connection, h: JobHealth, now: float) -> list[str]:
    """`backup: run 7 running (unwatched) since 03:10:04 (12m ago): …`, one per run of the job nobody follows.
    A run a `run` or `exec` process carries out is its process's to follow, and is left out."""
    if not h.unwatched:
        return []
    seen = lease.last_seen(conn)
    return [f"{h.name}: run {run.id} {h.ended_unwatched[run.id]}: {RECORDS}" if run.id in h.ended_unwatched
            else unwatched_line(h.name, run, seen, now)
            for run in ledger.active(conn, h.name) if run.status == RunStatus.RUNNING and not run.owner]


def mark_ended(conn: sqlite3.Connection, config: Config | None, jobs: list[JobHealth], now: float) -> None:
    """Of the runs nobody follows, those a local keeper saw end (at their timeout, or on their own): said so,
    not `running`, until a scheduler records them. One look at each run's directory, only while none runs."""
    for h in jobs:
        if h.unwatched:
            job = config.jobs.get(h.name) if config is not None else None
            ends = keeper_ends(conn, h.running)
            h.ended_unwatched = {run_id: ended_words(end, job.timeout if job else None, now)
                                 for run_id, end in ends.items()}
            h.ended_outcome = outcome(ends[max(ends)]) if ends else None


def outcome(end: KeeperEnd) -> RunStatus:
    """The status a scheduler will record: timed out if its watchdog stopped it, else by its exit code."""
    if end.stopped_at is not None:
        return RunStatus.TIMED_OUT
    return RunStatus.SUCCEEDED if end.code == 0 else RunStatus.FAILED


def ended_words(end: KeeperEnd, timeout: float | None, now: float) -> str:
    """`ended (timed out after 20s, its keeper stopped it at 10:16:17) while no scheduler ran`."""
    if end.stopped_at is not None:
        after = f" after {human_duration(timeout)}" if timeout is not None else ""
        how = f"timed out{after}, its keeper stopped it at {when(end.stopped_at, now)}"
    else:
        how = f"exit {end.code}" + (f" at {when(end.ended_at, now)}" if end.ended_at is not None else "")
    return f"ended ({how}) while no scheduler ran"


def unwatched_line(job: str, run: Run, seen: float | None, now: float) -> str:
    """Since when: the later of its start and the last sign of a scheduler (unsaid when the store knows neither).
    `kill` is a request to a scheduler: with none, it refuses, so the way out starts one."""
    since = max((t for t in (seen, run.started_at) if t is not None), default=None)
    at = f" since {when(since, now)} ({coarse_ago(now - since)} ago)" if since is not None else ""
    return (f"{job}: run {run.id} {UNWATCHED}{at}: no scheduler follows it; start `panda-tui daemon` (or a "
            f"console, S) to follow it, then `panda-tui kill {run.id}` stops it (kill needs a scheduler)")
