"""Log lines: one writer thread batches inserts; readers page by sequence."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from panda_tui.store import budget
from panda_tui.store.log_writer import FLUSH_INTERVAL as FLUSH_INTERVAL  # their home was here
from panda_tui.store.log_writer import MAX_BATCH as MAX_BATCH
from panda_tui.store.log_writer import LogWriter as LogWriter
from panda_tui.text import char_boundary

MAX_BACKLOG = 200_000  # lines waiting for a store that cannot be written (a full disk): past this, dropped;
# a writer that is merely behind (a flood into a healthy store) is waited for, as before


DISPLAY_CAP = 2000  # characters of a line a console or the API reads; the rest is counted (`more`), not read


@dataclass(frozen=True)
class LogLine:
    run_id: int
    seq: int
    ts: float
    stream: str
    text: str
    more: int = 0  # bytes of the stored line not read (a read capped at DISPLAY_CAP): 0, the line is whole
    upto: int = 0  # the seq of the line's last piece, when it stands for a long line's pieces (store.pieces)


def columns(cap: int | None) -> str:
    """The columns of a LogLine; with `cap`, the text's first `cap` characters and the bytes left out, so a
    20 MB line costs a reader 2 KB (SQL cuts it; `more` comes from the stored length)."""
    if cap is None:
        return "run_id, seq, ts, stream, text"
    cap = int(cap)
    return (f"run_id, seq, ts, stream, substr(text, 1, {cap}), "
            f"length(CAST(text AS BLOB)) - length(CAST(substr(text, 1, {cap}) AS BLOB))")


class RunLog:
    """The sink for one run's output: redacts, numbers, caps, and hands lines to the writer."""

    def __init__(self, writer: LogWriter, run_id: int, *, redact: Callable[[str], str] | None = None,
                 max_lines: int = 50_000, max_bytes: int = 20 * 1024 * 1024,
                 start_seq: int = 0, out_lines: int = 0, err_lines: int = 0,
                 stored_lines: int = 0, stored_bytes: int = 0, dropped: int = 0,
                 tee: Callable[[str, str], None] | None = None):
        self.writer = writer
        self.run_id = run_id
        self.redact = redact
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.seq = start_seq
        self.counts = {"out": out_lines, "err": err_lines}
        self.lines = stored_lines
        self.bytes = stored_bytes
        self.dropped = dropped
        self.dropped_bytes = 0
        self.over_cap = 0  # of `dropped`, the lines past the log cap
        self.capped = stored_lines >= max_lines or stored_bytes >= max_bytes
        self.lost = 0  # lines not stored while the store could not keep up (a full disk), not yet told
        self.shed = 0  # lines dropped here because the store is at its size limit (see budget)
        self.tee = tee  # sees each stored line (redacted), e.g. to stream `panda-tui run` to the terminal
        self._lock = threading.Lock()  # the reader thread and the scheduler loop may both write

    def cut_point(self, data: bytes, limit: int) -> int:
        """Where an overlong line may be cut into pieces: never through a secret (see Redactor.safe_cut)."""
        safe_cut = getattr(self.redact, "safe_cut", None)
        if safe_cut is not None:
            return int(safe_cut(data, limit))
        return char_boundary(data, min(limit, len(data)))

    @property
    def hold(self) -> int:
        """Bytes a secret may still need to arrive before a piece can be cut safely."""
        return getattr(self.redact, "hold", 0)

    @property
    def consumed(self) -> tuple[int, int]:
        """stdout and stderr lines consumed so far, stored or not: where a re-read stream resumes."""
        return self.counts["out"], self.counts["err"]

    def line(self, stream: str, text: str, ts: float | None = None) -> None:
        self.lines_of(stream, [text], ts)

    def lines_of(self, stream: str, texts: list[str], ts: float | None = None) -> None:
        """Many lines of one stream that arrived together (one lock, one hand-off to the writer)."""
        ts = ts or time.time()
        with self._lock:
            out: list[tuple[Any, ...]] = []
            if not self._all_of(stream, texts, ts, out):
                for text in texts:
                    self._line(stream, text, ts, out)
            if out:
                if self.tee is not None:
                    for item in out:
                        self.tee(item[3], item[4])
                self._hand(out)

    def _all_of(self, stream: str, texts: list[str], ts: float, out: list[tuple[Any, ...]]) -> bool:
        """The common case in one pass, without a call per line: nothing to mask, capped, shed or lost. The
        lines go to the writer as one span."""
        if (self.redact is not None or self.capped or self.lost or self.run_id in self.writer.shedding
                or (self.writer.backlog > MAX_BACKLOG and self.writer.error)):
            return False
        joined = "".join(texts)
        size = len(joined) if joined.isascii() else sum(len(t.encode("utf-8", "replace")) for t in texts)
        if self.lines + len(texts) > self.max_lines or self.bytes + size > self.max_bytes:
            return False
        first = self.seq + 1
        self.counts[stream] += len(texts)
        self.seq += len(texts)
        self.lines += len(texts)
        self.bytes += size
        if self.tee is not None:
            for text in texts:
                self.tee(stream, text)
        self.writer.put_span(self.run_id, first, ts, stream, texts, self._counters())
        return True

    def _counters(self) -> tuple[Any, ...]:
        return self.counts["out"], self.counts["err"], self.lines, self.bytes, self.dropped

    def _hand(self, rows: list[tuple[Any, ...]]) -> None:
        self.writer.put_many(rows, self.run_id, self._counters())

    def _line(self, stream: str, text: str, ts: float, out: list[tuple[Any, ...]]) -> None:
        self.counts[stream] += 1
        if self.writer.backlog > MAX_BACKLOG and self.writer.error:  # behind because it cannot write
            self.lost += 1
            self.dropped += 1
            return
        if self.lost:
            self._tell_lost(ts, out)
        if self.run_id in self.writer.shedding:  # the store is at its size limit (see budget)
            self.dropped += 1
            self.shed += 1
            return
        if self.capped:
            self.dropped += 1
            self.over_cap += 1
            self.dropped_bytes += len(text)
            return
        if self.redact is not None:
            text = self.redact(text)
        size = len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        if self.lines + 1 > self.max_lines or self.bytes + size > self.max_bytes:
            self.capped = True
            self.dropped += 1
            self.over_cap += 1
            self.dropped_bytes += size
            self._emit("sys", f"[panda] log cap reached ({self.max_lines} lines or "
                        f"{self.max_bytes // 1024 // 1024} MiB): further output is not stored", 0, ts, out)
            return
        self._emit(stream, text, size, ts, out)

    def _tell_lost(self, ts: float, out: list[tuple[Any, ...]] | None = None) -> None:
        self._emit("sys", f"[panda] {self.lost} lines were not stored: the store could not be written "
                          f"({self.writer.error or 'it fell behind'})", 0, ts, out)
        self.lost = 0

    def system(self, text: str, ts: float | None = None) -> None:
        """A line from panda-tui itself (markers, reasons); not counted against the cap."""
        with self._lock:
            self._emit("sys", text, len(text), ts)

    def _emit(self, stream: str, text: str, size: int, ts: float | None,
              out: list[tuple[Any, ...]] | None = None) -> None:
        self.seq += 1
        if stream != "sys":
            self.lines += 1
            self.bytes += size
        item = (self.run_id, self.seq, ts or time.time(), stream, text)
        if out is not None:
            out.append(item)
            return
        if self.tee is not None:
            self.tee(stream, text)
        self._hand([item])

    def close(self, timeout: float = 30.0) -> bool:
        """Add the cap marker if lines were dropped, then wait until everything is committed."""
        if self.lost:
            with self._lock:
                self._tell_lost(time.time())
        if self.capped and self.over_cap:
            self.system(f"[panda] {self.over_cap} lines ({self.dropped_bytes / 1024 / 1024:.1f} MiB) "
                        "dropped after the log cap")
        ok = self.writer.flush_run(self.run_id, self.seq, timeout) if self.seq else True
        shed = self.shed + self.writer.take_shed(self.run_id)
        if shed:
            self.shed = 0
            self.system(budget.dropped_marker(shed))
            ok = self.writer.flush_run(self.run_id, self.seq, timeout) and ok
        self.writer.forget(self.run_id)
        return ok


def resume_state(conn: sqlite3.Connection, run_id: int) -> dict[str, Any]:
    """Counters for a RunLog that continues a run after a restart (from committed rows only)."""
    row = conn.execute("SELECT out_lines, err_lines, log_lines, log_bytes, log_dropped FROM runs WHERE id=?",
                       (run_id,)).fetchone()
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM logs WHERE run_id=?", (run_id,)).fetchone()[0]
    out, err, lines, size, dropped = row or (0, 0, 0, 0, 0)
    return {"start_seq": seq, "out_lines": out, "err_lines": err, "stored_lines": lines,
            "stored_bytes": size, "dropped": dropped}


PAGE_CHARS = 8_000_000  # a page of whole lines holds about this much text: 5,000 pieces of a long line would be 320 MB


def read(conn: sqlite3.Connection, run_id: int, after_seq: int = 0, limit: int = 1000,
         cap: int | None = None, max_chars: int | None = None) -> list[LogLine]:
    """Up to `limit` lines after `after_seq`; with `max_chars`, fewer once their text holds that many."""
    rows = conn.execute(f"SELECT {columns(cap)} FROM logs WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?",
                        (run_id, after_seq, limit))
    out: list[LogLine] = []
    size = 0
    for r in rows:
        out.append(LogLine(*r))
        size += len(r[4])
        if max_chars is not None and size >= max_chars:
            break
    rows.close()
    return out


def read_before(conn: sqlite3.Connection, run_id: int, before_seq: int, limit: int = 1000,
                cap: int | None = None) -> list[LogLine]:
    """The `limit` lines before `before_seq`, in order."""
    rows = conn.execute(f"SELECT {columns(cap)} FROM logs WHERE run_id=? AND seq<?"
                        " ORDER BY seq DESC LIMIT ?", (run_id, before_seq, limit)).fetchall()
    return [LogLine(*r) for r in reversed(rows)]


def tail(conn: sqlite3.Connection, run_id: int, limit: int = 20, cap: int | None = None) -> list[LogLine]:
    return read_before(conn, run_id, 1 << 62, limit, cap)


def prune(conn: sqlite3.Connection, job: str, keep_runs: int) -> int:
    """Delete the logs of the run that just fell out of the newest `keep_runs`; ledger rows stay.

    Called after every finished run, so one run leaves the window each time: the cost stays constant
    however long the history grows."""
    row = conn.execute("SELECT id, logs_pruned, log_lines FROM runs WHERE job=? ORDER BY id DESC LIMIT 1 OFFSET ?",
                       (job, keep_runs)).fetchone()
    if row is None or row[1] or not row[2]:
        return 0
    conn.execute("DELETE FROM logs WHERE run_id=?", (row[0],))
    conn.execute("UPDATE runs SET logs_pruned=1 WHERE id=?", (row[0],))
    return 1
