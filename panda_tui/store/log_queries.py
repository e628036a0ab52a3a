"""Queries over a whole run's log, however long: which lines are errors, which match a search, the lines
around one of them. Consoles page through these instead of a window they happen to hold."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from panda_tui.store.db import StoreError, connect
from panda_tui.store.levels import Level, level_of
from panda_tui.store.logs import PAGE_CHARS, LogLine, columns, read

LEVEL_KEYS = ("level", "severity", "lvl", "levelname")  # JSON fields that name a line's level (for display)
MAX_FOUND = 100_000  # matches kept per query; a counter says when there are more
CHUNK = 50_000  # lines a search reads per step: the first matches are shown before the whole run is read
MMAP = 256 * 1024 * 1024  # a scan reads pages mapped, not copied: a third faster over a long run
# Every line is_error() can call an error says one of these words (any case), starts with one of these
# characters (JSON, syslog, glog, Ruby), or came on stderr or from panda-tui: SQL tries these cheap tests
# first, so the Python level reader sees a few lines, not the whole run. Keep in step with store.levels.
_ERROR_WORDS = ("err", "fatal", "crit", "panic", "alert", "emerg", "sever", "fail", "eror", "exception",
                "traceback")
MAYBE_ERROR = ("(stream != 'out' OR substr(text, 1, 1) IN ('{', '<', 'E', 'F') OR "
               + " OR ".join(f"text LIKE '%{w}%'" for w in _ERROR_WORDS) + ")")


def parse_json(text: str) -> dict[str, Any] | None:
    if not text.startswith("{") or not text.endswith("}"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


MESSAGE_KEYS = ("msg", "message", "event")


def readable(text: str) -> str:
    """A JSON log line as people read it (`ERROR upstream refused  code=503`); any other line as it is."""
    record = parse_json(text)
    if record is None:
        return text
    level = next((str(record[k]) for k in LEVEL_KEYS if k in record), "")
    message = next((str(record[k]) for k in MESSAGE_KEYS if k in record), "")
    rest = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in record.items()
            if k not in LEVEL_KEYS and k not in MESSAGE_KEYS and k not in ("ts", "time", "timestamp")]
    head = f"{level.upper():5} " if level else ""
    return f"{head}{message}" + (f"  {' '.join(rest[:8])}" if rest else "")


def is_error(stream: str, text: str) -> bool:
    """The line's own level is error or worse (see store.levels); a line that states none, when on stderr."""
    return level_of(stream, text) >= Level.ERROR


def smart_case(query: str) -> bool:
    """As vim's smartcase and less -i: a pattern with a capital letter matches case, so `ERROR` finds
    the error lines and not every `errors=0`; one without matches any case."""
    return query != query.lower()


def _with_function(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.create_function("panda_is_error", 2, lambda stream, text: is_error(stream, text), deterministic=True)
    conn.execute(f"PRAGMA mmap_size={MMAP}")
    return conn


_IS_ERROR = f"{MAYBE_ERROR} AND panda_is_error(stream, text)"


def error_seqs(conn: sqlite3.Connection, run_id: int, limit: int = MAX_FOUND) -> list[int]:
    """The sequence numbers of the run's error lines, oldest first."""
    rows = _with_function(conn).execute(
        f"SELECT seq FROM logs WHERE run_id=? AND {_IS_ERROR} ORDER BY seq LIMIT ?", (run_id, limit))
    return [r[0] for r in rows]


class _ErrorChunks:
    """The error lines of each complete CHUNK of a run's log, read once: lines are only ever appended (or a run's
    logs pruned whole), so a stretch that is complete never changes. Kept for the few runs read last."""

    RUNS = 4

    def __init__(self) -> None:
        self._runs: dict[tuple[str, int], dict[int, list[int]]] = {}

    def get(self, conn: sqlite3.Connection, run_id: int, index: int, last: int) -> list[int]:
        key = (conn.execute("PRAGMA database_list").fetchone()[2], run_id)
        chunks = self._runs.pop(key, {})
        self._runs[key] = chunks  # the newest at the end
        while len(self._runs) > self.RUNS:
            del self._runs[next(iter(self._runs))]
        if index in chunks:
            return chunks[index]
        seqs = [r[0] for r in conn.execute(f"SELECT seq FROM logs WHERE run_id=? AND seq>? AND seq<=? AND "
                                           f"{_IS_ERROR} ORDER BY seq", (run_id, index * CHUNK, (index + 1) * CHUNK))]
        if (index + 1) * CHUNK <= last:
            chunks[index] = seqs
        return seqs


_ERROR_CHUNKS = _ErrorChunks()


def errors_near(conn: sqlite3.Connection, run_id: int, seq: int, before: int, after: int) -> tuple[list[int], bool]:
    """Up to `before` error lines before `seq` and `after` from it on, and whether there are older ones: read a
    stretch of the run at a time, only as far as the window reaches (and each stretch once, see _ErrorChunks)."""
    _with_function(conn)
    last = conn.execute("SELECT MAX(seq) FROM logs WHERE run_id=?", (run_id,)).fetchone()[0] or 0
    seq = min(seq, last + 1)
    home = max(0, (seq - 1) // CHUNK)
    head: list[int] = []
    index = home
    while index >= 0 and len(head) <= before:
        head = [s for s in _ERROR_CHUNKS.get(conn, run_id, index, last) if s < seq] + head
        index -= 1
    rest: list[int] = []
    index = home
    while after and index * CHUNK < last and len(rest) < after:
        rest += [s for s in _ERROR_CHUNKS.get(conn, run_id, index, last) if s >= seq]
        index += 1
    return (head[max(0, len(head) - before):] if before else []) + rest[:after], len(head) > before


def _match_sql(query: str, errors_only: bool) -> tuple[str, str]:
    if smart_case(query):  # GLOB matches case, and reads faster than instr(), which counts characters
        pattern = "*" + "".join(f"[{c}]" if c in "*?[" else c for c in query) + "*"
        sql = "SELECT seq FROM logs WHERE run_id=? AND text GLOB ?"
    else:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = "SELECT seq FROM logs WHERE run_id=? AND text LIKE ? ESCAPE '\\'"
    if errors_only:
        sql += f" AND {_IS_ERROR}"
    return sql, pattern


def match_chunks(conn: sqlite3.Connection, run_id: int, query: str, errors_only: bool = False,
                 limit: int = MAX_FOUND, chunk: int = CHUNK) -> Iterator[list[int]]:
    """match_seqs a stretch of CHUNK lines at a time, oldest first, so a console shows the first match
    without waiting for the whole run to be read (and says how far it has looked). Two stretches are read at
    once, the second on a second connection in a thread (SQLite's scan runs without Python's lock)."""
    sql, pattern = _match_sql(query, errors_only)
    sql += " AND seq>? AND seq<=? ORDER BY seq LIMIT ?"
    _with_function(conn)
    last = conn.execute("SELECT MAX(seq) FROM logs WHERE run_id=?", (run_id,)).fetchone()[0] or 0

    def scan(on: sqlite3.Connection, lo: int, left: int) -> list[int]:
        return [r[0] for r in on.execute(sql, (run_id, pattern, lo, lo + chunk, left))]

    helper = _second_reader(conn) if last > chunk else None
    pool = ThreadPoolExecutor(1, thread_name_prefix="panda-search") if helper is not None else None
    try:
        lo, left = 0, limit
        while lo < last and left > 0:
            ahead = pool.submit(scan, helper, lo + chunk, left) if pool and helper and lo + chunk < last else None
            for seqs in (scan(conn, lo, left), ahead.result() if ahead else None):
                if seqs is None or left <= 0:
                    continue
                seqs = seqs[:left]
                left -= len(seqs)
                yield seqs
            lo += 2 * chunk if ahead else chunk
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        if helper is not None:
            helper.close()


def _second_reader(conn: sqlite3.Connection) -> sqlite3.Connection | None:
    """A read-only connection to the same file, or None (a store in memory, or one that cannot be opened)."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    if not path:
        return None
    try:
        return _with_function(connect(path, readonly=True))
    except (StoreError, sqlite3.Error):
        return None


def match_seqs(conn: sqlite3.Connection, run_id: int, query: str, errors_only: bool = False,
               limit: int = MAX_FOUND) -> list[int]:
    """Lines that contain `query`, oldest first: in any case (ASCII letters) unless it holds a capital."""
    return [seq for seqs in match_chunks(conn, run_id, query, errors_only, limit) for seq in seqs]


def lines_at(conn: sqlite3.Connection, run_id: int, seqs: list[int], cap: int | None = None) -> list[LogLine]:
    """The lines with these sequence numbers, in order (each cut at `cap` characters, see logs.columns)."""
    out: list[LogLine] = []
    for start in range(0, len(seqs), 500):
        chunk = seqs[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out += [LogLine(*r) for r in conn.execute(
            f"SELECT {columns(cap)} FROM logs WHERE run_id=? AND seq IN ({marks}) ORDER BY seq", (run_id, *chunk))]
    return out


def around(conn: sqlite3.Connection, run_id: int, seq: int, before: int, after: int,
           cap: int | None = None) -> list[LogLine]:
    """Up to `before` lines before `seq`, the line itself, and up to `after` lines after it."""
    cols = columns(cap)
    head = conn.execute(f"SELECT {cols} FROM logs WHERE run_id=? AND seq<? ORDER BY seq DESC LIMIT ?",
                        (run_id, seq, before)).fetchall()
    rest = conn.execute(f"SELECT {cols} FROM logs WHERE run_id=? AND seq>=? ORDER BY seq LIMIT ?",
                        (run_id, seq, after + 1)).fetchall()
    return [LogLine(*r) for r in reversed(head)] + [LogLine(*r) for r in rest]


def each_line(conn: sqlite3.Connection, run_id: int, page: int = 5000) -> Iterator[LogLine]:
    """Every line of the run, in pages of at most `page` lines or logs.PAGE_CHARS of text (to save a whole log
    without holding it)."""
    seq = 0
    while True:
        rows = read(conn, run_id, seq, page, max_chars=PAGE_CHARS)
        if not rows:
            return
        yield from rows
        seq = rows[-1].seq
