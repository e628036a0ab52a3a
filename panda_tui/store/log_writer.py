"""The one writer of log lines: a thread commits them in batches (group commit), within the store's budget."""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from panda_tui.store import budget
from panda_tui.store import db as store_db

FLUSH_INTERVAL = 0.03  # under a steady flow, one commit per this long at most; after a pause, at once
MAX_BATCH = 20_000
INSERT = "INSERT OR IGNORE INTO logs(run_id, seq, ts, stream, text) VALUES (?,?,?,?,?)"
# A span (lines of one stream that came together, numbered in a row) goes in as one statement: SQLite walks
# the JSON array in C, with Python's lock released, 3-4x faster than binding each row from Python.
INSERT_SPAN = ("INSERT OR IGNORE INTO logs(run_id, seq, ts, stream, text) "
               "SELECT ?, ? + key, ?, ?, value FROM json_each(?)")


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
        self.budget_of: Callable[[], tuple[Any, ...]] | None = None  # gives the budget as configured now (over `budget`)
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

    def put_many(self, rows: list[tuple[Any, ...]], run_id: int, counters: tuple[Any, ...]) -> None:
        """rows: (run_id, seq, ts, stream, text) of one run, in order; counters: the run's (out_lines,
        err_lines, log_lines, log_bytes, log_dropped) once they are stored, committed with them."""
        self.backlog += len(rows)
        self._q.put((rows, run_id, counters))

    def put_span(self, run_id: int, first_seq: int, ts: float, stream: str, texts: list[str],
                 counters: tuple[Any, ...]) -> None:
        """Lines of one stream numbered first_seq, first_seq + 1, …: stored as put_many would, faster."""
        self.backlog += len(texts)
        self._q.put(((run_id, first_seq, ts, stream, texts), run_id, counters, "span"))

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
        batch: list[tuple[Any, ...]] = []  # rows, and spans: (run_id, first_seq, ts, stream, [text, …])
        counters: dict[int, tuple[Any, ...]] = {}  # run_id -> its counters with the last rows of the batch
        stop = False
        lines = 0
        last_commit = 0.0
        while not stop:
            item = self._q.get()
            gather_until = max(time.monotonic(), last_commit + self.interval)
            while True:
                if len(item) == 1:
                    stop = item[0] == "stop"
                    break  # flush now
                if len(item) == 4:
                    batch.append(item[0])
                    lines += len(item[0][4])
                else:
                    batch += item[0]
                    lines += len(item[0])
                counters[item[1]] = item[2]
                if lines >= self.max_batch:
                    break
                try:
                    wait = gather_until - time.monotonic()
                    item = self._q.get(timeout=wait) if wait > 0 else self._q.get_nowait()
                except queue.Empty:
                    break
            if batch or counters:
                self._commit(conn, batch, counters, lines)
                batch, counters, lines = [], {}, 0
                last_commit = time.monotonic()
            elif self._full and not self.shedding:
                self._commit(conn, [], {}, 0)
            else:
                with self._cv:
                    self._cv.notify_all()
        conn.close()
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    def _commit(self, conn: sqlite3.Connection, batch: list[tuple[Any, ...]], runs: dict[int, tuple[Any, ...]], lines: int) -> None:
        last: dict[int, int] = {}
        for item in batch:  # rows and spans come in order per run: the last one holds the highest seq
            last[item[0]] = item[1] + len(item[4]) - 1 if isinstance(item[4], list) else item[1]
        counters = [(*c, run_id) for run_id, c in runs.items()]
        attempt = 0
        while True:  # a full disk empties again: lines wait for it (bounded: see RunLog), never vanish
            try:
                usage = self._measure(conn)  # before the lock the scheduler's loop shares: ~1 ms of system calls
                with store_db.transaction(conn, self.lock):
                    self._insert(conn, self._fit(conn, batch, usage))
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
        self.backlog -= lines
        with self._cv:
            for run_id, seq in last.items():
                self._committed[run_id] = max(self._committed.get(run_id, 0), seq)
            self._cv.notify_all()

    @staticmethod
    def _insert(conn: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
        rows: list[tuple[Any, ...]] = []
        for item in batch:
            if not isinstance(item[4], list):
                rows.append(item)
                continue
            if rows:
                conn.executemany(INSERT, rows)
                rows = []
            texts = json.dumps(item[4])
            if "\\u0000" in texts:  # SQLite's JSON would end the text at a NUL: bind such lines one by one
                conn.executemany(INSERT, _rows(item))
            else:
                conn.execute(INSERT_SPAN, (*item[:4], texts))
        if rows:
            conn.executemany(INSERT, rows)

    def _budget(self) -> tuple[Any, ...]:
        try:
            return self.budget_of() if self.budget_of else self.budget
        except Exception:  # noqa: BLE001 - a config that cannot say now: the last budget set stands
            return self.budget

    def _measure(self, conn: sqlite3.Connection) -> budget.Usage:
        """The store's usage and limit now (read outside the transaction: a few KB the ledger writes meanwhile
        are what the reserve is for), and the -wal's checkpointing kept in step with the limit."""
        usage = budget.measure(conn, self.path, *self._budget())
        if usage.limit != self._tuned:
            budget.tune(conn, usage)
            self._tuned = usage.limit
        return usage

    def _fit(self, conn: sqlite3.Connection, batch: list[tuple[Any, ...]], usage: budget.Usage) -> list[tuple[Any, ...]]:
        """The rows of `batch` the budget has room for, after pruning the oldest logs if need be; the rest of
        a run's lines (not panda-tui's own) are dropped, counted, and the run sheds from then on."""
        need = sum(_size(i) for i in batch)
        room = usage.log_room
        if need <= room and not self.shedding:
            if self._full:
                budget.record(conn, False, usage)
                self._full = False
            return batch
        batch = [row for item in batch for row in _rows(item)]
        if need > room:
            room += budget.prune_oldest(conn, need - room, set(self._committed) | {i[0] for i in batch})
        rows: list[tuple[Any, ...]] = []
        for item in batch:
            size = len(item[4]) + budget.ROW_OVERHEAD
            if item[3] == "sys" or (size <= room and item[0] not in self.shedding):
                rows.append(item)
                room -= size
            else:
                self.shedding.add(item[0])
                self._shed[item[0]] = self._shed.get(item[0], 0) + 1
        full = bool(self.shedding)
        if full != self._full:
            budget.record(conn, full, usage)
            self._full = full
        return rows


def _rows(item: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A row as it is; a span as its rows."""
    if not isinstance(item[4], list):
        return [item]
    run_id, first, ts, stream, texts = item
    return [(run_id, first + n, ts, stream, text) for n, text in enumerate(texts)]


def _size(item: tuple[Any, ...]) -> int:
    """Bytes a row or span takes in the store, about (its text in characters, and the row's own)."""
    if isinstance(item[4], list):
        return sum(map(len, item[4])) + budget.ROW_OVERHEAD * len(item[4])
    return len(item[4]) + budget.ROW_OVERHEAD
