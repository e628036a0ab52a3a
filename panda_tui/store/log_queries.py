"""Queries over a whole run's log, however long: which lines are errors, which match a search, the lines
around one of them. Consoles page through these instead of a window they happen to hold."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from panda_tui.store.levels import Level, level_of
from panda_tui.store.logs import LogLine

LEVEL_KEYS = ("level", "severity", "lvl", "levelname")  # JSON fields that name a line's level (for display)
MAX_FOUND = 100_000  # matches kept per query; a counter says when there are more
_COLS = "run_id, seq, ts, stream, text"


def parse_json(text: str) -> dict[str, Any] | None:
    if not text.startswith("{") or not text.endswith("}"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def is_error(stream: str, text: str) -> bool:
    """The line's own level is error or worse (see store.levels); a line that states none, when on stderr."""
    return level_of(stream, text) >= Level.ERROR


def smart_case(query: str) -> bool:
    """As vim's smartcase and less -i: a pattern with a capital letter matches case, so `ERROR` finds
    the error lines and not every `errors=0`; one without matches any case."""
    return query != query.lower()


def _with_function(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.create_function("panda_is_error", 2, lambda stream, text: is_error(stream, text), deterministic=True)
    return conn


def error_seqs(conn: sqlite3.Connection, run_id: int, limit: int = MAX_FOUND) -> list[int]:
    """The sequence numbers of the run's error lines, oldest first."""
    rows = _with_function(conn).execute(
        "SELECT seq FROM logs WHERE run_id=? AND panda_is_error(stream, text) ORDER BY seq LIMIT ?", (run_id, limit))
    return [r[0] for r in rows]


def match_seqs(conn: sqlite3.Connection, run_id: int, query: str, errors_only: bool = False,
               limit: int = MAX_FOUND) -> list[int]:
    """Lines that contain `query`, oldest first: in any case (ASCII letters) unless it holds a capital."""
    if smart_case(query):
        sql, pattern = "SELECT seq FROM logs WHERE run_id=? AND instr(text, ?) > 0", query
    else:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = "SELECT seq FROM logs WHERE run_id=? AND text LIKE ? ESCAPE '\\'"
    if errors_only:
        sql += " AND panda_is_error(stream, text)"
    rows = _with_function(conn).execute(sql + " ORDER BY seq LIMIT ?", (run_id, pattern, limit))
    return [r[0] for r in rows]


def lines_at(conn: sqlite3.Connection, run_id: int, seqs: list[int]) -> list[LogLine]:
    """The lines with these sequence numbers, in order."""
    out: list[LogLine] = []
    for start in range(0, len(seqs), 500):
        chunk = seqs[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out += [LogLine(*r) for r in conn.execute(
            f"SELECT {_COLS} FROM logs WHERE run_id=? AND seq IN ({marks}) ORDER BY seq", (run_id, *chunk))]
    return out


def around(conn: sqlite3.Connection, run_id: int, seq: int, before: int, after: int) -> list[LogLine]:
    """Up to `before` lines before `seq`, the line itself, and up to `after` lines after it."""
    head = conn.execute(f"SELECT {_COLS} FROM logs WHERE run_id=? AND seq<? ORDER BY seq DESC LIMIT ?",
                        (run_id, seq, before)).fetchall()
    rest = conn.execute(f"SELECT {_COLS} FROM logs WHERE run_id=? AND seq>=? ORDER BY seq LIMIT ?",
                        (run_id, seq, after + 1)).fetchall()
    return [LogLine(*r) for r in reversed(head)] + [LogLine(*r) for r in rest]


def each_line(conn: sqlite3.Connection, run_id: int, page: int = 5000) -> Iterator[LogLine]:
    """Every line of the run, in pages (to save a whole log without holding it)."""
    seq = 0
    while True:
        rows = conn.execute(f"SELECT {_COLS} FROM logs WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?",
                            (run_id, seq, page)).fetchall()
        if not rows:
            return
        yield from (LogLine(*r) for r in rows)
        seq = rows[-1][1]
