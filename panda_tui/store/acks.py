"""Acknowledgements: "I'm on it" for a job's current failure streak, with who, when and a note.

Kept as meta rows (one per job, "ack:JOB"); the control request that made each one stays in `control`."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from dataclasses import asdict, dataclass

from panda_tui.store import state

PREFIX = "ack:"


@dataclass(frozen=True)
class Ack:
    job: str
    by: str  # user@host
    at: float
    until: float | None = None  # None: until the job's next success
    note: str = ""

    def silences(self, now: float, last_success_at: float | None) -> bool:
        """Whether it holds now. One with a time (`--for 2h`) holds for that time, successes and flapping
        included; one without ends at the job's next success after it."""
        if self.until is not None:
            return now < self.until
        return last_success_at is None or last_success_at < self.at

    def missed_until(self, now: float, last_success_at: float | None) -> float:
        """The slot up to which it acknowledges the job's missed runs: those before it, and those while it holds."""
        if self.silences(now, last_success_at):
            return now
        return max(self.at, self.until or self.at)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def put(conn: sqlite3.Connection, ack: Ack) -> None:
    state.put_meta(conn, PREFIX + ack.job, ack.as_dict(), ack.at)


def clear(conn: sqlite3.Connection, job: str) -> bool:
    return conn.execute("DELETE FROM meta WHERE key=?", (PREFIX + job,)).rowcount > 0


def get(conn: sqlite3.Connection, job: str) -> Ack | None:
    value = state.get_meta(conn, PREFIX + job)
    return _ack(value)


def every(conn: sqlite3.Connection) -> dict[str, Ack]:
    """Every ack on record, by job (whether it still silences anything is the alert rules' question)."""
    rows = conn.execute("SELECT value FROM meta WHERE key >= ? AND key < ?", (PREFIX, PREFIX[:-1] + ";"))
    out = {}
    for (raw,) in rows:
        ack = _ack(_json(raw))
        if ack is not None:
            out[ack.job] = ack
    return out


def _json(raw: str) -> object:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def _ack(value: object) -> Ack | None:
    if not isinstance(value, dict):
        return None
    try:
        return Ack(job=str(value["job"]), by=str(value["by"]), at=float(value["at"]),
                   until=None if value.get("until") is None else float(value["until"]), note=str(value.get("note") or ""))
    except (KeyError, TypeError, ValueError):
        return None


def current(conn: sqlite3.Connection, job: str, now: float) -> Ack | None:
    """The ack that still silences `job`'s reminders, or None (recovered since, or run out)."""
    from panda_tui.store.ledger import latest
    ack = get(conn, job)
    if ack is None:
        return None
    success = latest(conn, job, ("succeeded",))
    return ack if ack.silences(now, success.finished_at if success is not None else None) else None


def all_current(conn: sqlite3.Connection, now: float) -> dict[str, Ack]:
    return {job: ack for job in every(conn) if (ack := current(conn, job, now)) is not None}
