"""Per-job state (paused, last slot seen) and scheduler-wide key/values (engine up/down, config errors)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def paused_jobs(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT job FROM job_state WHERE paused=1")}


def set_paused(conn: sqlite3.Connection, job: str, paused: bool, now: float) -> None:
    conn.execute(
        "INSERT INTO job_state(job, paused, paused_at, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT(job) DO UPDATE SET paused=excluded.paused, paused_at=excluded.paused_at,"
        " updated_at=excluded.updated_at",
        (job, int(paused), now if paused else None, now))


def last_slots(conn: sqlite3.Connection) -> dict[str, float]:
    return {r[0]: r[1] for r in conn.execute("SELECT job, last_slot FROM job_state WHERE last_slot IS NOT NULL")}


def set_last_slot(conn: sqlite3.Connection, job: str, slot: float, now: float) -> None:
    conn.execute(
        "INSERT INTO job_state(job, last_slot, updated_at) VALUES (?,?,?)"
        " ON CONFLICT(job) DO UPDATE SET last_slot=MAX(COALESCE(last_slot, 0), excluded.last_slot),"
        " updated_at=excluded.updated_at", (job, slot, now))


def put_meta(conn: sqlite3.Connection, key: str, value: Any, now: float) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value, updated_at) VALUES (?,?,?)",
                 (key, json.dumps(value), now))


def get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    if row is None:
        return default
    try:
        return json.loads(row[0])
    except (TypeError, ValueError):
        return row[0]
