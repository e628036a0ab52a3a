"""The scheduler's own health, read from the store: is one running, and if not, was the last one a daemon?

A console opened while the daemon is down must not quietly become the scheduler (and die with the console):
when the store shows that a daemon, not a console, last held the lease and none holds it now, the console
says `no scheduler! daemon last seen 4m ago` and starts one only when asked (`--embed`, or its key)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from panda_tui.store import lease, state
from panda_tui.text import coarse_ago


@dataclass(frozen=True)
class DaemonGone:
    """The daemon that last held the database is not running."""
    owner: str  # host:pid:start:daemon, as it held the lease
    last_seen: float | None  # its last heartbeat, or when it let the lease go
    stopped: bool  # True: it let the lease go (a clean stop); False: its heartbeat just stopped (crash, kill -9)

    @property
    def host(self) -> str:
        return self.owner.split(":", 1)[0]

    def words(self, now: float) -> str:
        """`no scheduler! daemon last seen 4m ago`."""
        seen = "" if self.last_seen is None else f" last seen {coarse_ago(max(0.0, now - self.last_seen))} ago"
        return f"no scheduler! daemon{seen}"

    def as_dict(self) -> dict:
        return {"owner": lease.shown_owner(self.owner), "host": self.host, "last_seen": self.last_seen, "stopped": self.stopped}


def role_of(owner: str) -> str:
    """The role in a lease owner (host:pid:start:role): daemon or console; "" for an older store's owner."""
    parts = owner.split(":")
    return parts[3] if len(parts) > 3 else ""


def daemon_gone(conn: sqlite3.Connection, now: float) -> DaemonGone | None:
    """Set when no scheduler holds the lease now and the last one that did was a daemon; None when one runs,
    when a console (or nobody) held it last."""
    current = lease.holder(conn)
    if current is not None:
        if current.alive(now):
            return None
        return DaemonGone(current.owner, current.heartbeat_at, stopped=False) if role_of(current.owner) == "daemon" \
            else None
    last = state.get_meta(conn, "last_scheduler", None)
    if not isinstance(last, dict) or role_of(str(last.get("owner", ""))) != "daemon":
        return None
    seen = last.get("seen_at")
    return DaemonGone(str(last["owner"]), float(seen) if isinstance(seen, (int, float)) else None, stopped=True)
