"""Which lines of a run the log pane holds: a window around a place in the run, or of the whole run's error
lines. Blocking reads, called from the pane's worker."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from panda_tui.store import log_queries, logs, pieces
from panda_tui.store.logs import LogLine
from panda_tui.tui.log_format import is_error

PAGE = 2000  # lines loaded at once around a place; the pane holds at most WINDOW
WINDOW = 5000
CAP = logs.DISPLAY_CAP  # characters of a line read for the pane: a 20 MB line costs it 2 KB


Where = Literal["tail", "head", "at", "before"]  # the newest lines, the first ones, around a line, before it


@dataclass(frozen=True)
class Place:
    """Where in the run to look."""
    kind: Where
    seq: int = 0


def load(conn: sqlite3.Connection, run_id: int, place: Place, errors_only: bool) -> tuple[list[LogLine], bool]:
    """The lines (a long line's pieces as one, see store.pieces), and whether the run has older ones (of this
    view) before them."""
    if errors_only:
        lines, older = _error_window(conn, run_id, place)
    else:
        lines = _window(conn, run_id, place)
        older = bool(lines) and lines[0].seq > 1
    lines, going_on = pieces.fold(lines)
    if going_on and not errors_only:  # the window ends inside a long line: its size counts the rest
        lines[-1] = pieces.rest(conn, lines[-1])
    return lines, older


def _window(conn: sqlite3.Connection, run_id: int, place: Place) -> list[LogLine]:
    if place.kind == "tail":
        return logs.tail(conn, run_id, PAGE, CAP)
    if place.kind == "head":
        return logs.read(conn, run_id, 0, PAGE, CAP)
    if place.kind == "before":
        return logs.read_before(conn, run_id, place.seq, PAGE, CAP)
    return log_queries.around(conn, run_id, place.seq, PAGE // 2, PAGE // 2, CAP)


def _error_window(conn: sqlite3.Connection, run_id: int, place: Place) -> tuple[list[LogLine], bool]:
    """The error lines around the place, read only as far as the window reaches (not the whole run)."""
    if place.kind == "tail":
        seqs, older = log_queries.errors_near(conn, run_id, 1 << 62, PAGE, 0)
    elif place.kind == "head":
        seqs, older = log_queries.errors_near(conn, run_id, 0, 0, PAGE)
    elif place.kind == "before":
        seqs, older = log_queries.errors_near(conn, run_id, place.seq, PAGE, 0)
    else:
        seqs, older = log_queries.errors_near(conn, run_id, place.seq, PAGE // 2, PAGE // 2)
    return log_queries.lines_at(conn, run_id, seqs, CAP), older


def keep_errors(lines: list[LogLine], errors_only: bool) -> list[LogLine]:
    return [line for line in lines if not errors_only or is_error(line)]
