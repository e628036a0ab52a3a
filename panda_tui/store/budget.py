"""The store's disk budget, as journald's SystemMaxUse= / SystemKeepFree=: the store takes at most `max_size`
and leaves `keep_free` of its file system free. Logs shed first: the oldest finished runs' logs are pruned,
then new output is dropped (each run says how much, in one marker line). The last `reserve` bytes under the
limit are never given to logs, so the ledger, the outbox and control requests go on being recorded."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from panda_tui.store import state

GiB = 1024 ** 3
MiB = 1024 ** 2
DEFAULT_MAX = 0.10  # of the file system, as journald; capped at MAX_CAP, at least MIN_MAX
DEFAULT_KEEP_FREE = 0.15
MAX_CAP = 4 * GiB
MIN_MAX = 1 * MiB
ROW_OVERHEAD = 40  # bytes a stored line takes besides its text (key, ts, stream, b-tree cell)
FACT = "store_budget"  # meta key: {"full", "since", "until", "limit", "used"} for consoles and `status`


@dataclass(frozen=True)
class Usage:
    used: int  # bytes the store holds: the file and its -wal, less the free pages SQLite reuses
    limit: int  # what it may hold: max_size, or less when keep_free says so

    @property
    def reserve(self) -> int:
        """Kept for the ledger, outbox and control: a quarter of the limit, 256 KiB to 64 MiB."""
        return max(256 * 1024, min(self.limit // 4, 64 * MiB))

    @property
    def log_room(self) -> int:
        """Bytes logs may still take."""
        return self.limit - self.reserve - self.used


def resolve(size: int | float | None, default: float, fs_size: int, cap: int) -> int:
    """A configured size in bytes: a float is a share of the file system; None is the default share, capped."""
    if size is None:
        return min(int(fs_size * default), cap)
    if isinstance(size, float):
        return int(fs_size * size)
    return size


def measure(conn: sqlite3.Connection, path: str, max_size: int | float | None = None,
            keep_free: int | float | None = None) -> Usage:
    """What the store at `path` holds now, and may hold (a few system calls and two pragmas)."""
    on_disk = _size(path) + _size(f"{path}-wal")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    free_pages = conn.execute("PRAGMA freelist_count").fetchone()[0]
    try:
        vfs = os.statvfs(os.path.dirname(os.path.abspath(path)))
        fs_size, fs_free = vfs.f_blocks * vfs.f_frsize, vfs.f_bavail * vfs.f_frsize
    except OSError:
        fs_size, fs_free = 0, 0
    top = resolve(max_size, DEFAULT_MAX, fs_size, MAX_CAP)
    if max_size is None:
        top = max(top, min(MIN_MAX, fs_size))
    keep = resolve(keep_free, DEFAULT_KEEP_FREE, fs_size, MAX_CAP)
    limit = min(top, on_disk + fs_free - keep) if fs_size else top
    return Usage(used=on_disk - free_pages * page_size, limit=max(0, limit))


def tune(conn: sqlite3.Connection, usage: Usage) -> None:
    """Checkpoint the -wal often enough, and truncate it after, that it never outgrows a small budget."""
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = max(16, min(1000, usage.limit // 16 // page_size))
    conn.execute(f"PRAGMA wal_autocheckpoint={pages}")
    conn.execute(f"PRAGMA journal_size_limit={pages * page_size}")


def prune_oldest(conn: sqlite3.Connection, need: int, keep: set[int]) -> int:
    """Delete the logs of the oldest runs (not those in `keep`, the runs still writing) until about `need`
    bytes are freed; their ledger rows stay, marked logs_pruned. Returns the bytes freed (estimated)."""
    freed, after = 0, 0
    while freed < need:
        row = conn.execute("SELECT run_id FROM logs WHERE run_id>? ORDER BY run_id LIMIT 1", (after,)).fetchone()
        if row is None:
            break
        after = row[0]
        status = conn.execute("SELECT status FROM runs WHERE id=?", (after,)).fetchone()
        if after in keep or (status is not None and status[0] in ("queued", "running")):
            continue
        size = conn.execute("SELECT COALESCE(SUM(LENGTH(CAST(text AS BLOB))), 0) + COUNT(*) * ? FROM logs "
                            "WHERE run_id=?", (ROW_OVERHEAD, after)).fetchone()[0]
        conn.execute("DELETE FROM logs WHERE run_id=?", (after,))
        conn.execute("UPDATE runs SET logs_pruned=1 WHERE id=?", (after,))
        freed += size
    return freed


def record(conn: sqlite3.Connection, full: bool, usage: Usage, now: float | None = None) -> None:
    """The fact consoles and `status` show: the store is (or was, until when) at its size limit."""
    now = time.time() if now is None else now
    before = state.get_meta(conn, FACT) or {}
    since = before.get("since") if full and before.get("full") else now
    fact = {"full": full, "since": since if full else before.get("since"), "until": None if full else now,
            "limit": usage.limit, "used": usage.used}
    state.put_meta(conn, FACT, fact, now)


def fact(conn: sqlite3.Connection) -> dict[str, Any] | None:
    value = state.get_meta(conn, FACT)
    return value if isinstance(value, dict) else None


def count_words(n: int) -> str:
    """1234567 → "1.2M", 12345 → "12.3k", 950 → "950"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.1f}k"
    return str(n)


def dropped_marker(n: int) -> str:
    return f"… {count_words(n)} lines dropped: the store is at its size limit"


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
