"""Acknowledgements that still silence a job's reminders, for `status`, the API and the console."""

from __future__ import annotations

import sqlite3

from panda_tui.store.acks import Ack, all_current
from panda_tui.text import iso


def current_acks(conn: sqlite3.Connection, now: float) -> dict[str, Ack]:
    return all_current(conn, now)


def ack_json(ack: Ack) -> dict:
    return {"by": ack.by, "at": iso(ack.at), "until": iso(ack.until) if ack.until else None, "note": ack.note}


def acks_json(conn: sqlite3.Connection, now: float) -> dict[str, dict]:
    return {job: ack_json(ack) for job, ack in current_acks(conn, now).items()}


def ack_line(job: str, ack: Ack) -> str:
    """One line: who is on it, since when, until when, and their note."""
    until = f" until {iso(ack.until)}" if ack.until else " until it recovers"
    return f"{job}: acknowledged by {ack.by} at {iso(ack.at)}{until}" + (f": {ack.note}" if ack.note else "")
