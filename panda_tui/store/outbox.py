"""The durable outbox: alerts and pings are rows first, so nothing is lost while a network or we are down."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from panda_tui.store.ledger import TROUBLE, sql_in

MAX_ATTEMPTS = 12
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 3600.0


@dataclass(frozen=True)
class Item:
    id: int
    event: str
    job: str | None
    run_id: int | None
    target: str  # an [alerts.NAME], or "ping" for heartbeat URLs
    payload: dict[str, Any]
    attempts: int


def enqueue(conn: sqlite3.Connection, event: str, target: str, payload: dict[str, Any], now: float,
            job: str | None = None, run_id: int | None = None, release: float | None = None) -> int:
    """One row to send at `release` (now unless held: group_wait, a maintenance window)."""
    cur = conn.execute(
        "INSERT INTO outbox(event, job, run_id, target, payload, created_at, next_attempt_at)"
        " VALUES (?,?,?,?,?,?,?)", (event, job, run_id, target, json.dumps(payload, default=str), now,
                                    now if release is None else release))
    return int(cur.lastrowid or 0)


def due(conn: sqlite3.Connection, now: float, limit: int = 200, run_id: int | None = None) -> list[Item]:
    """Items to send now, oldest first; of one run only when `run_id` is given."""
    only = " AND run_id = ?" if run_id is not None else ""
    rows = conn.execute(
        "SELECT id, event, job, run_id, target, payload, attempts FROM outbox"
        " WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?" + only +
        " ORDER BY next_attempt_at LIMIT ?", (now, *((run_id,) if run_id is not None else ()), limit))
    return [Item(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6]) for r in rows]


def went_through(status: int | None, error: str | None) -> bool:
    """A 2xx, or no error and no status (an Apprise channel has no HTTP answer of its own)."""
    return error is None if status is None else 200 <= status < 300


def record(conn: sqlite3.Connection, item: Item, now: float, status: int | None, error: str | None,
           elapsed: float) -> None:
    """Write one attempt's outcome; one that went through delivers, anything else backs off (and gives up)."""
    conn.execute("INSERT INTO alert_attempts(outbox_id, at, status, error, elapsed_s) VALUES (?,?,?,?,?)",
                 (item.id, now, status, error, elapsed))
    attempts = item.attempts + 1
    if went_through(status, error):
        conn.execute("UPDATE outbox SET attempts=?, delivered_at=?, last_status=?, last_error=NULL WHERE id=?",
                     (attempts, now, status, item.id))
        return
    delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (attempts - 1))
    give_up = now if attempts >= MAX_ATTEMPTS else None
    conn.execute("UPDATE outbox SET attempts=?, next_attempt_at=?, last_status=?, last_error=?, given_up_at=?"
                 " WHERE id=?", (attempts, now + delay, status, error, give_up, item.id))


def withdraw(conn: sqlite3.Connection, job: str, events: tuple[str, ...], now: float, why: str) -> int:
    """Take back `job`'s alerts of `events` not sent yet (an ack: the person is on it); pings still go."""
    cur = conn.execute("UPDATE outbox SET given_up_at=?, last_error=? WHERE job=? AND target != 'ping' AND"
                       " delivered_at IS NULL AND given_up_at IS NULL AND event IN " + sql_in(events),
                       (now, why, job))
    return cur.rowcount


def listing(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, event, job, run_id, target, created_at, attempts, delivered_at, given_up_at, last_status,"
        " last_error, next_attempt_at FROM outbox ORDER BY id DESC LIMIT ?", (limit,))
    keys = ("id", "event", "job", "run_id", "target", "created_at", "attempts", "delivered_at", "given_up_at",
            "last_status", "last_error", "next_attempt_at")
    return [dict(zip(keys, r)) for r in rows]


def undelivered(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND attempts > 0").fetchone()[0])


def last_failure_alert(conn: sqlite3.Connection, job: str, since: float) -> float | None:
    return last_alert(conn, job, TROUBLE, since)


def last_alert(conn: sqlite3.Connection, job: str, events: tuple[str, ...], since: float) -> float | None:
    """When one of `events` last alerted for `job` (queued at or after `since`), or None."""
    row = conn.execute(
        "SELECT MAX(created_at) FROM outbox WHERE job=? AND target != 'ping' AND created_at >= ?"
        f" AND event IN {sql_in(events)}", (job, since)).fetchone()
    return None if row[0] is None else float(row[0])


def open_release(conn: sqlite3.Connection, target: str, now: float) -> float | None:
    """When the group waiting for `target` goes out (group_wait), if one is waiting."""
    row = conn.execute("SELECT MAX(next_attempt_at) FROM outbox WHERE target=? AND attempts=0 AND"
                       " delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at > ?", (target, now)).fetchone()
    return None if row[0] is None else float(row[0])
