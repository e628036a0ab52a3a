"""Which lines of a run the log pane holds: a window around a place in the run, the whole run's error
lines, a search's matches. Blocking reads, called from the pane's workers."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from panda_tui.store import log_queries, logs
from panda_tui.store.logs import LogLine
from panda_tui.tui.log_format import is_error, render

PAGE = 2000  # lines loaded at once around a place; the pane holds at most WINDOW
WINDOW = 5000


@dataclass(frozen=True)
class Place:
    """Where in the run to look: the newest lines, the first ones, or around one line."""
    kind: str  # "tail" | "head" | "at" | "before"
    seq: int = 0


def load(conn: sqlite3.Connection, run_id: int, place: Place, errors_only: bool) -> list[LogLine]:
    if errors_only:
        return _error_window(conn, run_id, place)
    if place.kind == "tail":
        return logs.tail(conn, run_id, PAGE)
    if place.kind == "head":
        return logs.read(conn, run_id, 0, PAGE)
    if place.kind == "before":
        return logs.read_before(conn, run_id, place.seq, PAGE)
    return log_queries.around(conn, run_id, place.seq, PAGE // 2, PAGE // 2)


def _error_window(conn: sqlite3.Connection, run_id: int, place: Place) -> list[LogLine]:
    seqs = log_queries.error_seqs(conn, run_id)
    if place.kind == "tail":
        chosen = seqs[-PAGE:]
    elif place.kind == "head":
        chosen = seqs[:PAGE]
    else:
        index = next((i for i, s in enumerate(seqs) if s >= place.seq), len(seqs))
        if place.kind == "before":
            chosen = seqs[max(0, index - PAGE):index]
        else:
            chosen = seqs[max(0, index - PAGE // 2):index + PAGE // 2]
    return log_queries.lines_at(conn, run_id, chosen)


def keep_errors(lines: list[LogLine], errors_only: bool) -> list[LogLine]:
    return [line for line in lines if not errors_only or is_error(line)]


def save(conn: sqlite3.Connection, run_id: int, job: str, stamps_format: bool = True) -> tuple[str, int]:
    """Write the whole run's log (as stored: masked) to a file of its own; returns (path, lines)."""
    for folder in (os.getcwd(), os.path.expanduser("~"), "/tmp"):
        path = _free_name(folder, f"{job}-run-{run_id}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            continue
        count = 0
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in log_queries.each_line(conn, run_id):
                fh.write(render(line, raw=True, stamps=stamps_format) + "\n")
                count += 1
        return path, count
    raise OSError("no folder to write to (tried the current one, home and /tmp)")


def _free_name(folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    stem, dot, ext = name.rpartition(".")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(folder, f"{stem}-{n}{dot}{ext}")
    return path
