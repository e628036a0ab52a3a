"""One watcher of the store for every log follower: a single connection polls `PRAGMA data_version` (cheap,
on the loop), and only when another connection committed does it read, in one query, the status and the last
line of each followed run, waking the followers whose run changed. Idle followers cost nothing; fifty of them
polled one by one, each with a connection of its own, kept serve at 47 % of a core."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from panda_tui.store import connect, data_version

POLL = 0.2  # seconds between looks at data_version while anyone follows

Signature = tuple[str, int] | None  # a run's status and its last line's number; None: no such run


def signatures(conn: sqlite3.Connection, run_ids: list[int]) -> dict[int, Signature]:
    marks = ",".join("?" * len(run_ids))
    rows = conn.execute(f"SELECT id, status, (SELECT MAX(seq) FROM logs WHERE run_id = runs.id) FROM runs "
                        f"WHERE id IN ({marks})", run_ids).fetchall()
    found: dict[int, Signature] = {run_id: None for run_id in run_ids}
    found.update({row[0]: (row[1], row[2] or 0) for row in rows})
    return found


class StoreWatcher:
    """Followers register an event per run; it is set when that run's status or lines change (and on close)."""

    def __init__(self, db_path: str, poll: float = POLL, open_conn: Callable[[str], sqlite3.Connection] | None = None):
        self.db_path, self.poll = db_path, poll
        self._open = open_conn or (lambda path: connect(path, readonly=True))
        self._followers: dict[int, set[asyncio.Event]] = {}
        self._seen: dict[int, Signature] = {}
        self._task: asyncio.Task | None = None
        self._closed = False

    def follow(self, run_id: int) -> asyncio.Event:
        event = asyncio.Event()
        self._followers.setdefault(run_id, set()).add(event)
        if self._closed:
            event.set()
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())
        return event

    def unfollow(self, run_id: int, event: asyncio.Event) -> None:
        events = self._followers.get(run_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._followers[run_id]
                self._seen.pop(run_id, None)

    def close(self) -> None:
        """Wake every follower (serve is stopping) and stop watching."""
        self._closed = True
        for events in self._followers.values():
            for event in events:
                event.set()
        if self._task is not None:
            self._task.cancel()

    async def _watch(self) -> None:
        conn = await asyncio.to_thread(self._open, self.db_path)
        try:
            version = data_version(conn)
            while self._followers and not self._closed:
                await asyncio.sleep(self.poll)
                now = data_version(conn)  # microseconds: no thread hop while nothing changes
                if now == version:
                    continue
                version = now
                await self._compare(conn)
        finally:
            conn.close()

    async def _compare(self, conn: sqlite3.Connection) -> None:
        run_ids = list(self._followers)
        if not run_ids:
            return
        current = await asyncio.to_thread(signatures, conn, run_ids)
        for run_id, signature in current.items():
            if self._seen.get(run_id, ...) != signature:
                self._seen[run_id] = signature
                for event in self._followers.get(run_id, ()):
                    event.set()
