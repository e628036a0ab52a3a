"""What the main screen reads of the store in one go (on its polling worker, never on the UI thread), and
how often: a store that changes all the time is read less often, so that the console keeps to its share of
the CPU and leaves the scheduler its core."""

from __future__ import annotations

import sqlite3
import time

from panda_tui.readmodel.acks import acked_runs, current_acks
from panda_tui.readmodel.snapshot import read_history, read_snapshot, read_trend
from panda_tui.store import StoreError, connect, lease
from panda_tui.tui.messages import Refreshed
from panda_tui.tui.services import JobReader

POLL_EVERY = 0.5
CPU_BUDGET = 0.1  # of one core, for everything the console does between two reads of the store
MAX_PAUSE = 2.0  # however busy: the screen is never staler than this
FULL_READ_EVERY = 5.0  # read even when nothing changed: ages, a lease that lapsed, a clock that moved


def read_screen(conn: sqlite3.Connection, jobs: JobReader, now: float, job: str | None) -> Refreshed:
    """Jobs, health and alarms; and for the selected job (else the most urgent) its history and trend."""
    source = jobs.read(conn, now)
    snap = read_snapshot(conn, source.config, now)
    if snap.holder is None or (source.refused and source.origin != "scheduler"):
        snap.config_errors = source.refused  # with no scheduler, the file as it is now, not a dead one's refusal
    if job is None and snap.jobs:
        job = snap.jobs[0].name
    history = read_history(conn, job) if job else []
    trend = read_trend(conn, source.config, job, now) if job and source.config else None
    ack = current_acks(conn, now).get(job) if job else None
    return Refreshed(snap, source, job, history, trend, ack, frozenset(acked_runs(history, ack)))


def holder_gone(conn: sqlite3.Connection, shown: str | None, now: float) -> bool:
    """The scheduler last shown holds the lease no more, by `status`'s check (lease.live_holder): a daemon
    `kill -9`'d on this host writes nothing that would make the store change, yet is gone at once. One row
    read, and a pid check only when the holder is on this host."""
    if shown is None:
        return False
    live = lease.live_holder(conn, now)
    return live is None or live.owner != shown


def read_first(db_path: str, jobs: JobReader, now: float) -> Refreshed | None:
    """The main screen's first read, done before the app runs (cli/console_cmd.py), so that the first frame
    already shows the jobs rather than waiting for the worker's read. None when the store cannot be read now:
    the worker's reads say why."""
    try:
        conn = connect(db_path, readonly=True)
    except (StoreError, sqlite3.Error):
        return None
    try:
        return read_screen(conn, jobs, now, None)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


class Pace:
    """How long until the next read: POLL_EVERY, or longer when the console used more than its CPU budget
    since the last read."""

    def __init__(self) -> None:
        self.pause = POLL_EVERY
        self._cpu = time.process_time()

    def after_read(self) -> float:
        cpu = time.process_time()
        self.pause = min(MAX_PAUSE, max(POLL_EVERY, (cpu - self._cpu) / CPU_BUDGET))
        self._cpu = cpu
        return self.pause
