"""The lease: exactly one scheduler owns a database at a time."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass

from panda_tui.store.db import transaction

TTL = 10.0
HEARTBEAT_EVERY = 2.0


@dataclass(frozen=True)
class Holder:
    owner: str
    acquired_at: float
    heartbeat_at: float
    ttl: float

    def alive(self, now: float) -> bool:
        """Heartbeat within the TTL, unless it is provably dead: on this host, with its pid gone."""
        if now - self.heartbeat_at >= self.ttl:
            return False
        host = self.owner.split(":", 1)[0]
        if host == socket.gethostname() and self.pid is not None and not _pid_exists(self.pid):
            return False
        return True

    @property
    def pid(self) -> int | None:
        try:
            return int(self.owner.split(":")[1])
        except (IndexError, ValueError):
            return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_owner(role: str = "daemon") -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{time.time():.3f}:{role}"


def shown_owner(owner: str) -> str:
    """An owner as JSON and messages name it: host:pid:role. Its start, an epoch number in the stored
    owner (which tells a reused pid apart), is left out: when it started is `since`, in ISO 8601."""
    parts = owner.split(":")
    return ":".join(parts[:2] + parts[3:]) if len(parts) > 3 else owner


def holder(conn: sqlite3.Connection) -> Holder | None:
    row = conn.execute("SELECT owner, acquired_at, heartbeat_at, ttl FROM lease WHERE id=1").fetchone()
    return Holder(*row) if row else None


def live_holder(conn: sqlite3.Connection, now: float | None = None) -> Holder | None:
    h = holder(conn)
    return h if h and h.alive(time.time() if now is None else now) else None


def try_acquire(conn: sqlite3.Connection, owner: str, now: float, ttl: float = TTL) -> Holder | None:
    """Take the lease if free or expired. Returns None on success, else the live holder."""
    with transaction(conn):
        current = holder(conn)
        if current and current.owner != owner and current.alive(now):
            return current
        record(conn, owner, now, now, ttl)
        return None


@dataclass(frozen=True)
class Claim:
    """A lease taken before the scheduler that will hold it is built (a console takes it at once and builds
    its scheduler after its first screen; engine.ownership adopts it): who holds it, and the heartbeat of the
    holder before it."""
    owner: str
    previous_heartbeat: float | None


def claim(conn: sqlite3.Connection, role: str, now: float, ttl: float = TTL) -> Claim | None:
    """Take the lease if free or expired, as a new owner of `role`; None while a live holder has it."""
    old = holder(conn)
    owner = make_owner(role)
    if try_acquire(conn, owner, now, ttl) is not None:
        return None
    return Claim(owner, old.heartbeat_at if old else None)


def record(conn: sqlite3.Connection, owner: str, acquired_at: float, heartbeat_at: float, ttl: float) -> None:
    """Write the holder outright (acquire decides whether it may)."""
    conn.execute("INSERT OR REPLACE INTO lease(id, owner, acquired_at, heartbeat_at, ttl) VALUES (1,?,?,?,?)",
                 (owner, acquired_at, heartbeat_at, ttl))


def heartbeat(conn: sqlite3.Connection, owner: str, now: float) -> bool:
    """Renew; False means someone else holds the lease now."""
    cur = conn.execute("UPDATE lease SET heartbeat_at=? WHERE id=1 AND owner=?", (now, owner))
    return cur.rowcount == 1


def release(conn: sqlite3.Connection, owner: str) -> None:
    conn.execute("DELETE FROM lease WHERE id=1 AND owner=?", (owner,))


def last_seen(conn: sqlite3.Connection) -> float | None:
    """When a scheduler was last known alive: the lease's heartbeat, or when the last one let it go."""
    current = holder(conn)
    if current is not None:
        return current.heartbeat_at
    row = conn.execute("SELECT value FROM meta WHERE key='last_scheduler'").fetchone()
    try:
        return float(json.loads(row[0])["seen_at"]) if row else None
    except (ValueError, KeyError, TypeError):
        return None
