"""The log pane's reads, run on its worker thread: a window of a run's lines, then, from the newest ones and
while the run goes on, every line as it is committed. What is read goes back to the pane as messages; new
lines wait in a `Tail` the pane drains, so a burst of them costs the UI one message, not one per batch."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from panda_tui.store import data_version, ledger, log_queries, pieces
from panda_tui.store.ledger import Run
from panda_tui.store.logs import DISPLAY_CAP, LogLine
from panda_tui.tui.log_window import Place, keep_errors, load

TAIL_EVERY = 0.02  # while a run goes on: PRAGMA data_version is cheap; a line waits at most this long
BATCH = 20_000  # lines read at once while following
HOLD = 1.0  # seconds a long line whose pieces keep coming waits to be shown whole


class Tail:
    """One load of one run's log, as one view (errors only or not): it tells the pane which messages are
    still its own (a newer load makes the older one's stale), and holds the lines read and not yet shown.
    The worker adds, the UI thread takes."""

    def __init__(self, run_id: int, errors_only: bool) -> None:
        self.run_id = run_id
        self.errors_only = errors_only
        self._lock = threading.Lock()
        self._lines: list[LogLine] = []
        self._run: Run | None = None

    def add(self, lines: list[LogLine], run: Run) -> None:
        with self._lock:
            self._lines.extend(lines)
            self._run = run

    def take(self) -> tuple[list[LogLine], Run | None]:
        with self._lock:
            lines, self._lines = self._lines, []
            return lines, self._run


@dataclass
class TailWindow(Message):
    """A new window of lines: it replaces what the pane holds."""

    tail: Tail
    lines: list[LogLine]
    run: Run | None  # None: the run is gone (pruned)
    focus: int | None = None  # the seq to bring into view
    older: bool = False  # the run has older lines (of this view) than the window holds


@dataclass
class TailLines(Message):
    """New lines wait in `tail` (or the run ended). A burst collapses to the newest: the pane takes them all."""

    tail: Tail

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TailLines) and message.tail is self.tail


def read(conn: sqlite3.Connection, tail: Tail, place: Place, focus: int | None,
         post: Callable[[Message], object], cancelled: Callable[[], bool]) -> None:
    """Post the window at `place`; from the newest lines, follow the run until it ends or `cancelled`."""
    run = ledger.get(conn, tail.run_id)
    if run is None:
        post(TailWindow(tail, [], None))
        return
    lines, older = load(conn, tail.run_id, place, tail.errors_only)
    if cancelled():
        return
    post(TailWindow(tail, lines, run, focus, older))
    if place.kind == "tail":
        follow(conn, tail, run, pieces.last_seq(lines[-1]) if lines else 0, post, cancelled)


def follow(conn: sqlite3.Connection, tail: Tail, run: Run, last: int, post: Callable[[Message], object],
           cancelled: Callable[[], bool]) -> None:
    """While the run is active: look every TAIL_EVERY whether the store changed, and read what came. A long
    line's pieces that keep coming are held back and shown as one line (store.pieces) once its last piece
    is in, or after HOLD (then the pieces after it follow as lines of their own)."""
    version = -1
    held: list[LogLine] = []  # a long line whose pieces are still coming
    since = 0.0
    while run.active and not cancelled():
        time.sleep(TAIL_EVERY)
        current = data_version(conn)
        if current == version and not held:
            continue
        version = current
        batch = log_queries.around(conn, tail.run_id, last + 1, 0, BATCH, DISPLAY_CAP)
        now = ledger.get(conn, tail.run_id)
        if now is None:  # pruned under us
            return
        run = now
        if batch or held or not run.active:
            last = batch[-1].seq if batch else last
            lines, going_on = pieces.fold(batch, held[0] if held else None)
            since = since if held else time.monotonic()
            held = lines[-1:] if going_on and run.active and time.monotonic() - since < HOLD else []
            lines = lines[:-1] if held else lines
            if lines or not run.active:
                tail.add(keep_errors(lines, tail.errors_only), run)
                post(TailLines(tail))
