"""Log lines: one writer thread batches inserts; readers page by sequence."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from panda_tui.store import budget
from panda_tui.store import db as store_db
from panda_tui.text import char_boundary

FLUSH_INTERVAL = 0.03  # under a steady flow, one commit per this long at most; after a pause, at once
MAX_BATCH = 5000
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


def columns(cap: int | None) -> str:
    """The columns of a LogLine; with `cap`, the text's first `cap` characters and the bytes left out, so a
    20 MB line costs a reader 2 KB (SQL cuts it; `more` comes from the stored length)."""
    if cap is None:
        return "run_id, seq, ts, stream, text"
    cap = int(cap)
    return (f"run_id, seq, ts, stream, substr(text, 1, {cap}), "
            f"length(CAST(text AS BLOB)) - length(CAST(substr(text, 1, {cap}) AS BLOB))")


class LogWriter:
    """The one writer of log lines. put() never blocks on SQLite; a thread commits in batches."""

    def __init__(self, path: str, interval: float = FLUSH_INTERVAL, max_batch: int = MAX_BATCH,
                 lock: threading.Lock | None = None):
        self.path = path
        self.interval = interval
        self.max_batch = max_batch
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="panda-log-writer", daemon=True)
        self._committed: dict[int, int] = {}  # run_id -> last committed seq
        self._cv = threading.Condition()
        self._stopped = False
        self._stopping = False
        self.error: str | None = None  # the last write error, while writes fail
        self.backlog = 0  # lines handed over and not yet committed (approximate: read without a lock)
        self.lock = lock or threading.Lock()  # shared with the scheduler's Database: see db.Database
        self.budget: tuple[int | float | None, int | float | None] = (None, None)  # [store] max_size, keep_free
        self.budget_of: Callable[[], tuple] | None = None  # gives the budget as configured now (over `budget`)
        self.shedding: set[int] = set()  # runs whose output no longer fits the budget: the rest is dropped
        self._shed: dict[int, int] = {}  # run_id -> lines this writer dropped for the budget
        self._full = False  # as last recorded in the store (budget.FACT)
        self._tuned = -1
        self._thread.start()

    def set_budget(self, max_size: int | float | None, keep_free: int | float | None) -> None:
        """The [store] budget (None: the defaults); takes effect at the next commit."""
        self.budget = (max_size, keep_free)

    def take_shed(self, run_id: int) -> int:
        """Lines of the run the writer dropped for the budget (once its lines are committed), and forget them."""
        with self._cv:
            return self._shed.pop(run_id, 0)

    def put(self, item: tuple[Any, ...]) -> None:
        """item: (run_id, seq, ts, stream, text, out_n, err_n, lines, bytes, dropped)."""
        self.backlog += 1
        self._q.put(item)

    def put_many(self, items: list[tuple[Any, ...]]) -> None:
        self.backlog += len(items)
        self._q.put(items)

    def flush_run(self, run_id: int, seq: int, timeout: float = 30.0) -> bool:
        """Block until the run's lines up to `seq` are committed."""
        self._q.put(("flush",))
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._committed.get(run_id, 0) < seq and not self._stopped:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def forget(self, run_id: int) -> None:
        with self._cv:
            self._committed.pop(run_id, None)
            self._shed.pop(run_id, None)
        if run_id in self.shedding:
            self.shedding.discard(run_id)
            self._q.put(("flush",))  # records that the store is no longer full, if no run sheds now

    def close(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._q.put(("stop",))
        self._thread.join(timeout)

    def _loop(self) -> None:
        """Group commit: the first lines after a pause are committed at once (a live tail shows them
        without waiting), and while lines keep coming a batch gathers until FLUSH_INTERVAL after the last
        commit (or MAX_BATCH lines), so a flood costs few, large transactions."""
        conn = store_db.connect(self.path)
        batch: list[tuple[Any, ...]] = []
        stop = False
        last_commit = 0.0
        while not stop:
            item = self._q.get()
            gather_until = max(time.monotonic(), last_commit + self.interval)
            while True:
                if isinstance(item, list):
                    batch.extend(item)
                elif len(item) == 1:
                    stop = item[0] == "stop"
                    break  # flush now
                else:
                    batch.append(item)
                if len(batch) >= self.max_batch:
                    break
                try:
                    wait = gather_until - time.monotonic()
                    item = self._q.get(timeout=wait) if wait > 0 else self._q.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(conn, batch)
                batch = []
                last_commit = time.monotonic()
            elif self._full and not self.shedding:
                self._commit(conn, [])
            else:
                with self._cv:
                    self._cv.notify_all()
        conn.close()
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    def _commit(self, conn: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
        last: dict[int, tuple[Any, ...]] = {}
        for item in batch:
            last[item[0]] = item
        counters = [(i[5], i[6], i[7], i[8], i[9], i[0]) for i in last.values()]
        attempt = 0
        while True:  # a full disk empties again: lines wait for it (bounded: see RunLog), never vanish
            try:
                with store_db.transaction(conn, self.lock):
                    rows = self._fit(conn, batch)
                    conn.executemany("INSERT OR IGNORE INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)",
                                     rows)
                    conn.executemany("UPDATE runs SET out_lines=?, err_lines=?, log_lines=?, log_bytes=?, "
                                     "log_dropped=? WHERE id=?", counters)
                self.error = None
                break
            except sqlite3.Error as exc:
                self.error = str(exc)
                attempt += 1
                if self._stopping and attempt > 20:
                    break  # shutting down on a store that stays unwritable: the restart reads what is left
                time.sleep(min(0.05 * 2 ** min(attempt, 6), 2.0))
        self.backlog -= len(batch)
        with self._cv:
            for run_id, item in last.items():
                self._committed[run_id] = max(self._committed.get(run_id, 0), item[1])
            self._cv.notify_all()

    def _fit(self, conn: sqlite3.Connection, batch: list[tuple]) -> list[tuple]:
        """The rows of `batch` the budget has room for, after pruning the oldest logs if need be; the rest of
        a run's lines (not panda-tui's own) are dropped, counted, and the run sheds from then on."""
        usage = budget.measure(conn, self.path, *(self.budget_of() if self.budget_of else self.budget))
        if usage.limit != self._tuned:
            budget.tune(conn, usage)
            self._tuned = usage.limit
        need = sum(len(i[4]) for i in batch) + budget.ROW_OVERHEAD * len(batch)
        room = usage.log_room
        if need > room:
            room += budget.prune_oldest(conn, need - room, set(self._committed) | {i[0] for i in batch})
        rows: list[tuple] = []
        for item in batch:
            size = len(item[4]) + budget.ROW_OVERHEAD
            if item[3] == "sys" or (size <= room and item[0] not in self.shedding):
                rows.append(item[:5])
                room -= size
            else:
                self.shedding.add(item[0])
                self._shed[item[0]] = self._shed.get(item[0], 0) + 1
        full = bool(self.shedding)
        if full != self._full:
            budget.record(conn, full, usage)
            self._full = full
        return rows


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
            for text in texts:
                self._line(stream, text, ts, out)
            if out:
                if self.tee is not None:
                    for item in out:
                        self.tee(item[3], item[4])
                self.writer.put_many(out)

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
                        f"{self.max_bytes // 1024 // 1024} MiB): further output is not stored", 0, ts)
            return
        self._emit(stream, text, size, ts)

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
        item = (self.run_id, self.seq, ts or time.time(), stream, text,
                self.counts["out"], self.counts["err"], self.lines, self.bytes, self.dropped)
        if out is not None:
            out.append(item)
            return
        if self.tee is not None:
            self.tee(stream, text)
        self.writer.put(item)

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


def read(conn: sqlite3.Connection, run_id: int, after_seq: int = 0, limit: int = 1000,
         cap: int | None = None) -> list[LogLine]:
    rows = conn.execute(f"SELECT {columns(cap)} FROM logs WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?",
                        (run_id, after_seq, limit))
    return [LogLine(*r) for r in rows]


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
