"""Which run `enter` and `d` open for a job in the console: for a job whose state is about failures
(failing, flapping, timed out, retrying, missed) the newest run that explains that state, not merely its
newest run (a flapping job's newest run succeeded); for any other job its newest run with a log."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from panda_tui.readmodel.facts import last_failed_run
from panda_tui.readmodel.health import HealthState, JobHealth
from panda_tui.store import ledger
from panda_tui.store.ledger import BAD, GONE, HAS_LOGS, Run

FAILURE_STATES = (HealthState.FAILING, HealthState.RETRYING)  # the newest verdict is bad (a kill included)


@dataclass(frozen=True)
class RunToOpen:
    run: Run
    why: str | None = None  # why this run and not the newest: "newest failure (flapping 4/10 failed)"
    errors_only: bool = False  # open it at its error lines


def run_to_open(conn: sqlite3.Connection, job: str, health: JobHealth | None) -> RunToOpen | None:
    """The run that explains the job's state, else its newest run with a log; None when it has neither."""
    explaining = _explaining(conn, job, health) if health is not None else None
    if explaining is not None:
        return explaining
    newest = ledger.latest(conn, job, HAS_LOGS)
    return RunToOpen(newest) if newest is not None else None


def _explaining(conn: sqlite3.Connection, job: str, health: JobHealth) -> RunToOpen | None:
    if health.failing or health.state in FAILURE_STATES:  # the failure the detail line names, else a kill
        run = last_failed_run(conn, job) or ledger.latest(conn, job, BAD)
    elif health.state is HealthState.FLAPPING or health.timed_out_recent:
        run = last_failed_run(conn, job)  # what flapping counts: a kill on purpose is no failure
    elif health.state is HealthState.MISSED:
        run = ledger.latest(conn, job, GONE)
        return RunToOpen(run, f"newest missed slot ({health.words})") if run is not None else None
    else:
        return None
    return RunToOpen(run, f"newest failure ({health.words})", errors_only=True) if run is not None else None
