"""Acknowledgements that still silence a job's reminders, for `status`, the API and the console."""

from __future__ import annotations

import sqlite3

from panda_tui.readmodel.health import JobHealth
from panda_tui.store.acking import holds_words
from panda_tui.store.acks import Ack, all_current
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.store.verdicts import FAILURES
from panda_tui.text import iso


def current_acks(conn: sqlite3.Connection, now: float) -> dict[str, Ack]:
    return all_current(conn, now)


def ack_json(ack: Ack) -> dict:
    return {"by": ack.by, "at": iso(ack.at), "until": iso(ack.until) if ack.until else None, "note": ack.note}


def acks_json(conn: sqlite3.Connection, now: float, jobs: list[JobHealth]) -> dict[str, dict]:
    """`status --json`'s and the API's `acks`: the acks that hold on the jobs shown, the very jobs whose rows
    read `acked` (the `acked` count); one that ended is left out, as the row reads the job's own state."""
    held = current_acks(conn, now)
    return {h.name: ack_json(held[h.name]) for h in jobs if h.acked and h.name in held}


def ack_line(job: str, ack: Ack, missed: int = 0) -> str:
    """One line: who is on it, since when, how long it holds (and the `missed` runs of the last 24 h it covers,
    which stay acknowledged once it no longer silences anything), and their note."""
    note = f": {ack.note}" if ack.note else ""
    return f"{job}: acknowledged by {ack.by} at {iso(ack.at)} {holds_words(ack, missed)}{note}"


def acked_runs(runs: list[Run], ack: Ack | None) -> set[int]:
    """The failures an ack covers, among `runs` (newest first): the streak it acknowledged (those since the
    last success before it) and those that came while it holds (a `--for` ack holds through successes)."""
    if ack is None:
        return set()
    successes = [r.finished_at for r in runs if r.status == RunStatus.SUCCEEDED and r.finished_at is not None
                 and r.finished_at <= ack.at]
    since = max(successes, default=float("-inf"))
    return {r.id for r in runs if r.status in FAILURES and (r.finished_at or r.queued_at or 0.0) > since}
