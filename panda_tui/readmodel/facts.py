"""The few facts a paged admin asks first of a job, read from the store: its last failure (the first error
line of that run, or its reason when it wrote none) and when it last succeeded.

A kill on purpose is not a failure (FAILURES leaves it out), and a run that left no log (lost) says its reason."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from panda_tui.store import ledger, log_queries
from panda_tui.store.ledger import Run, RunStatus, sql_in
from panda_tui.store.verdicts import FAILURES

# The ledger's partial index `runs_bad` covers these; a query must name them exactly to use it.
_BAD_SQL = sql_in(ledger.BAD)
MAX_LINE = 300  # characters of an error line kept: enough to read, never a whole minified JSON blob


@dataclass(frozen=True)
class Failure:
    """A job's last failed run, in one line: the first line its log marks as an error, else its reason."""
    run_id: int
    status: str
    at: float | None  # when it ended
    line: str  # the first error line, or the reason ("exit 3", "docker engine unreachable: ...")
    from_log: bool  # True: `line` is a log line (its number in `seq`); False: the run's reason
    seq: int | None = None

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "status": self.status, "line": self.line, "from_log": self.from_log,
                "seq": self.seq}


def last_failed_run(conn: sqlite3.Connection, job: str, before_id: int | None = None) -> Run | None:
    """The job's newest failed, timed out or lost run (a kill on purpose is none of these)."""
    row = conn.execute(
        f"SELECT id FROM runs WHERE job=? AND status IN {_BAD_SQL} AND status != 'killed' AND id < ?"
        " ORDER BY id DESC LIMIT 1", (job, 1 << 62 if before_id is None else before_id)).fetchone()
    return ledger.get(conn, row[0]) if row else None


_SEEN: dict[tuple, Failure] = {}  # (database, run, its stored lines) -> its failure: a finished log is read once
_SEEN_MAX = 512


def first_error(conn: sqlite3.Connection, run: Run) -> Failure:
    """The run's first error line (its level read as store.levels does), or its reason when none. A finished
    run's answer is kept: the console asks every second, and the line may be 3,000 lines in."""
    key = (_database(conn), run.id, run.status, run.log_lines, run.logs_pruned)
    found = _SEEN.get(key)
    if found is None:
        found = _first_error(conn, run)
        if run.status in FAILURES:
            if len(_SEEN) >= _SEEN_MAX:
                _SEEN.clear()
            _SEEN[key] = found
    return found


def _database(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else ""


def _first_error(conn: sqlite3.Connection, run: Run) -> Failure:
    if run.status == RunStatus.TIMED_OUT and run.reason:  # its stop's `Terminated` is no cause: the deadline is
        return Failure(run.id, str(run.status), run.finished_at, _cut(run.reason), False)
    seqs = log_queries.error_seqs(conn, run.id, limit=1)
    if seqs:
        for line in log_queries.lines_at(conn, run.id, seqs):
            return Failure(run.id, str(run.status), run.finished_at, _cut(line.text), True, line.seq)
    return Failure(run.id, str(run.status), run.finished_at, _cut(run.reason or str(run.status)), False)


def last_failure(conn: sqlite3.Connection, job: str) -> Failure | None:
    run = last_failed_run(conn, job)
    return None if run is None else first_error(conn, run)


def last_success_at(conn: sqlite3.Connection, job: str) -> float | None:
    """When the job last succeeded (its end), kept per job by the store's totals: no scan of its history,
    and still known after retention pruned that run."""
    row = conn.execute("SELECT last_finished_at FROM run_totals WHERE job=? AND status='succeeded'",
                       (job,)).fetchone()
    return row[0] if row else None


def last_success_run(conn: sqlite3.Connection, job: str, before_id: int | None = None) -> Run | None:
    """The job's newest successful run before `before_id` (any, when None)."""
    row = conn.execute("SELECT id FROM runs WHERE job=? AND status='succeeded' AND id < ? ORDER BY id DESC LIMIT 1",
                       (job, 1 << 62 if before_id is None else before_id)).fetchone()
    return ledger.get(conn, row[0]) if row else None


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"
