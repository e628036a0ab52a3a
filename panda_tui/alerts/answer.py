"""The answer inside an alert: the first error lines (stored lines: already masked), when the job last
succeeded, what changed since then, its runbook, and where to read the whole log.

The cheap facts are written with the alert, inside the ledger's write (`answer`); the ones that read a run's
log (error lines, what changed) are added when it is sent, off the loop, on a connection of their own
(`complete`)."""

from __future__ import annotations

import re
import shlex
import sqlite3
from collections.abc import Callable

from panda_tui.config import Config, Job
from panda_tui.store import ledger
from panda_tui.store.db import StoreError, connect
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.store.levels import Level, LevelReader
from panda_tui.text import coarse_ago, iso

ERROR_LINES = 5
LINE_CHARS = 200
SCAN_LINES = 20_000  # a run's first lines read for its error lines: bounded, as this runs in the ledger's write
SCAN_CHARS = 8192  # of each line read for its level (SQL cuts it): a flood of 64 KiB pieces costs 8 KB a line

# What changed since the last good run, as a few lines. readmodel.run_diff (the diff built in this wave) sits
# above alerts in the layers, so the command line hands it in (cli/__init__.py: wire_changes); alone, none.
ChangesSource = Callable[[sqlite3.Connection, Run], list[str]]
changes_source: ChangesSource | None = None


def changes_for(conn: sqlite3.Connection, run: Run) -> list[str]:
    """The "what changed" summary of a bad run; [] when no source is wired or it has nothing to say."""
    if changes_source is None or run.status == RunStatus.SUCCEEDED:
        return []
    try:
        return list(changes_source(conn, run))[:5]
    except Exception:  # the summary is a courtesy: an alert goes out without it rather than not at all
        return []


# Lines that may be at error level, picked by one regular expression before store.levels reads each (that
# costs ~20 µs a line, and this runs inside the ledger's write): stderr and panda-tui's notes, and any line
# naming a level or an error.
_CANDIDATE = re.compile(r"(?i)err|fatal|crit|panic|exception|emerg|alert|level|lvl|severity|^<|^[EF]\d{4} |^[EF], \[")


def error_lines(conn: sqlite3.Connection, run_id: int) -> list[str]:
    """The first lines at error level or worse among the run's first SCAN_LINES (store.levels reads them),
    the job's own before panda-tui's notes."""
    reader = LevelReader()
    own: list[str] = []
    notes: list[str] = []
    rows = conn.execute("SELECT stream, substr(text, 1, ?) FROM logs WHERE run_id=? ORDER BY seq LIMIT ?",
                        (SCAN_CHARS, run_id, SCAN_LINES))
    for stream, text in rows:
        if stream == "out" and not _CANDIDATE.search(text):
            continue
        if reader.read(stream, text) >= Level.ERROR:
            (notes if stream == "sys" else own).append(text[:LINE_CHARS])
            if len(own) >= ERROR_LINES:
                break
    return (own or notes)[:ERROR_LINES]


def last_success(conn: sqlite3.Connection, job: str, run: Run, now: float) -> tuple[str | None, str]:
    """(ISO time, words) of the job's last success before this run: "2026-12-02T10:00:00Z (3h ago)"."""
    at = ledger.last_success_finished(conn, job, run.id)
    if at is None:
        return None, "never"
    return iso(at), f"{iso(at)} ({coarse_ago(now - at)} ago)"


def answer(conn: sqlite3.Connection, run: Run, job: Job | None, config: Config, event: str, now: float) -> dict:
    """The fields an alert adds to the run's facts."""
    out: dict = {"logs_command": f"panda-tui logs {shlex.quote(run.job)} --run {run.id}"}
    if config.public_url:
        out["link"] = f"{config.public_url}/api/runs/{run.id}/log"
    if job is not None and job.runbook:
        out["runbook"] = job.runbook
    if event in ("started", "slow"):
        return out
    out["last_success_at"], out["last_success"] = last_success(conn, run.job, run, now)
    if run.status != RunStatus.SUCCEEDED:
        out[PENDING] = True  # error lines and what changed: read from the log when it is sent
    return out


PENDING = "answer_pending"


def complete(db_path: str, event: dict) -> dict:
    """The event with its error lines and "what changed" (blocking: call it in a worker thread). A group
    completes each of its alerts. Whatever cannot be read is left out: the alert goes out without it."""
    if event.get("event") == "group":
        return {**event, "alerts": [complete(db_path, a) for a in event.get("alerts", [])]}
    if not event.get(PENDING) or event.get("run_id") is None:
        return event
    try:
        conn = connect(db_path, readonly=True)
    except (StoreError, sqlite3.Error):
        return event
    try:
        run = ledger.get(conn, int(event["run_id"]))
        if run is None:
            return event
        out = {k: v for k, v in event.items() if k != PENDING}
        out["error_lines"] = error_lines(conn, run.id)
        out["changes"] = changes_for(conn, run)
        return out
    except sqlite3.Error:
        return event
    finally:
        conn.close()
