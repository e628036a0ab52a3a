"""Whether the store can be written, and what to do when it cannot.

A full disk or an I/O error is a passing trouble: the write is tried again later, in order, and whatever
can go on (runs in progress, their timeouts) goes on; the decision log says when the trouble began and
when it ended. A store that can never be written again (read-only, corrupt, gone) is not: the scheduler
stops at once with a non-zero exit, so the service manager restarts it, and its runs are re-attached.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from panda_tui import decisions as d
from panda_tui.clock import Clock
from panda_tui.store.errors import is_fatal


class Unwritten(Enum):
    """What attempt() returns when the store refused the write (a full disk): the write did not happen."""

    NOT_WRITTEN = "not written"


NOT_WRITTEN = Unwritten.NOT_WRITTEN


class StoreFailed(Exception):
    """The store cannot be written and will not recover by waiting; the message says why, in one line."""


class StoreHealth:
    def __init__(self, clock: Clock, report: Callable[[d.Decision], None]):
        self.clock = clock
        self.report = report
        self.failing_since: float | None = None
        self.deferred: deque[tuple[str, Callable[[], Any]]] = deque()

    def attempt(self, what: str, write: Callable[[], Any], keep: bool = False,
                later: Callable[[Any], Any] | None = None) -> Any:
        """Run `write`; on a passing store error, report it (once per outage) and, with `keep` or `later`,
        try it again later (then `later` gets its result). Returns its result, or NOT_WRITTEN."""
        try:
            result = write()
        except sqlite3.Error as exc:
            self.failed(what, exc)
            if later is not None:
                self.deferred.append((what, lambda: later(write())))
            elif keep:
                self.deferred.append((what, write))
            return NOT_WRITTEN
        self.ok()
        return result

    def retry(self) -> None:
        """The writes kept for later, oldest first, until one fails again."""
        while self.deferred:
            what, write = self.deferred[0]
            try:
                write()
            except sqlite3.Error as exc:
                self.failed(what, exc)
                return
            self.deferred.popleft()
            self.ok()

    def failed(self, what: str, exc: sqlite3.Error) -> None:
        if is_fatal(exc):
            raise StoreFailed(f"the store cannot be written ({exc}) while trying to {what}") from None
        if self.failing_since is None:
            self.failing_since = self.clock.now()
            self.report(d.StoreWriteFailed(what, str(exc)))

    def ok(self) -> None:
        if self.failing_since is not None and not self.deferred:
            self.report(d.StoreWriteRecovered(round(self.clock.now() - self.failing_since, 3)))
            self.failing_since = None
