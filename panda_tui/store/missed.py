"""A job's missed (and lost) runs: the slots that never ran or whose run was lost, for a day (the header's
`missed/24h`, `status`, the API and `ack`)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from panda_tui.store.ledger import GONE, sql_in


def missed_since(conn: sqlite3.Connection, since: float, job: str | None = None) -> int:
    sql = f"SELECT COUNT(*) FROM runs WHERE status IN {sql_in(GONE)} AND scheduled_at >= ?"
    args: tuple[float | str, ...] = (since,)
    if job is not None:
        sql += " AND job=?"
        args += (job,)
    return int(conn.execute(sql, args).fetchone()[0])


MISSED_WINDOW_S = 86400.0  # missed runs count for a day: the header's `missed/24h`, `status`, the API, `ack`


@dataclass(frozen=True)
class Missed:
    """A job's missed (or lost) runs in a stretch: how many, their first and last slot, the newest's reason."""
    count: int
    first: float | None = None
    last: float | None = None
    reason: str | None = None


def missed_after(conn: sqlite3.Connection, job: str, since: float, after: float | None = None) -> Missed:
    """`job`'s runs missed or lost with a slot from `since` on, and after `after` (those an ack does not cover)."""
    where = f"job=? AND status IN {sql_in(GONE)} AND scheduled_at >= ? AND scheduled_at > ?"
    args = (job, since, float("-inf") if after is None else after)
    count, first, last = conn.execute(f"SELECT COUNT(*), MIN(scheduled_at), MAX(scheduled_at) FROM runs WHERE {where}",
                                      args).fetchone()
    if not count:
        return Missed(0)
    reason = conn.execute(f"SELECT reason FROM runs WHERE {where} ORDER BY scheduled_at DESC, id DESC LIMIT 1",
                          args).fetchone()[0]
    return Missed(int(count), first, last, reason)
