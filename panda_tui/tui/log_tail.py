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
        going = lines[-1] if lines and pieces.open_end(conn, lines[-1]) else None  # a long line still coming
        follow(conn, tail, run, pieces.last_seq(lines[-1]) if lines else 0, post, cancelled, going)


def follow(conn: sqlite3.Connection, tail: Tail, run: Run, last: int, post: Callable[[Message], object],
           cancelled: Callable[[], bool], going: LogLine | None = None) -> None:
    """While the run is active: look every TAIL_EVERY whether the store changed, and read what came. A long
    line's pieces that keep coming are shown as one line (store.pieces): held back until its last piece is in,
    and meanwhile posted again, grown, every HOLD (the pane puts a line it holds already in its place), so its
    size only grows and ends at the whole line's. `going`: the window's last line, whose last piece was full."""
    version = -1
    shown = going  # the long line as the pane shows it
    since = time.monotonic()  # when `going` was last posted (or began)
    full = False  # the last read filled a batch: read on at once
    while (run.active or full) and not cancelled():
        if not full:
            time.sleep(TAIL_EVERY)
        current = data_version(conn)
        if not full and current == version and (going is None or time.monotonic() - since < HOLD):
            continue
        version = current
        now = ledger.get(conn, tail.run_id)  # before the lines: a run over has all of its lines committed
        if now is None:  # pruned under us
            return
        run = now
        batch = log_queries.around(conn, tail.run_id, last + 1, 0, BATCH, DISPLAY_CAP)
        full = len(batch) == BATCH
        last = batch[-1].seq if batch else last
        lines, going_on = pieces.fold(batch, going)
        before, going = going, lines.pop() if going_on and (run.active or full) else None
        if going is not None and (before is None or going.seq != before.seq):
            since = time.monotonic()  # a new long line began
        if going is not None and time.monotonic() - since >= HOLD:
            lines.append(going)  # shown as it is so far
            since = time.monotonic()
        if lines and lines[0] == shown:  # the line on screen, not grown: what came after it does not go on it
            lines = lines[1:]
        shown = lines[-1] if lines else shown
        if lines or not (run.active or full):
            tail.add(keep_errors(lines, tail.errors_only), run)
            post(TailLines(tail))
