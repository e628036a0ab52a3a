"""The runs ledger: one row per expected or actual run; transitions only move forward."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields

ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "timed_out", "killed", "skipped", "missed", "lost")
BAD = ("failed", "timed_out", "killed", "lost")


@dataclass(frozen=True)
class Run:
    id: int
    job: str
    scheduled_at: float
    attempt: int
    trigger: str
    status: str
    queued_at: float | None = None
    not_before: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    runner: str | None = None
    runner_ref: str | None = None
    engine: str | None = None
    out_lines: int = 0
    err_lines: int = 0
    log_lines: int = 0
    log_bytes: int = 0
    log_dropped: int = 0
    logs_pruned: int = 0

    @property
    def lateness(self) -> float | None:
        return None if self.started_at is None else self.started_at - self.scheduled_at

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["lateness_s"] = self.lateness
        return out


COLUMNS = ", ".join(f.name for f in fields(Run))


def _run(row) -> Run | None:
    return Run(*row) if row else None


def insert(conn: sqlite3.Connection, job: str, scheduled_at: float, *, trigger: str, now: float,
           attempt: int = 1, status: str = "queued", reason: str | None = None,
           not_before: float | None = None, runner: str | None = None) -> int | None:
    """Write a slot; None when (job, slot, attempt) is already in the ledger."""
    finished = now if status in FINAL else None
    cur = conn.execute(
        "INSERT OR IGNORE INTO runs(job, scheduled_at, attempt, trigger, status, queued_at, not_before,"
        " finished_at, reason, runner) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (job, scheduled_at, attempt, trigger, status, now, not_before, finished, reason, runner),
    )
    return cur.lastrowid if cur.rowcount else None


def mark_running(conn: sqlite3.Connection, run_id: int, started_at: float,
                 runner_ref: str | None = None, engine: str | None = None) -> bool:
    cur = conn.execute(
        "UPDATE runs SET status='running', started_at=?, runner_ref=?, engine=? WHERE id=? AND status='queued'",
        (started_at, runner_ref, engine, run_id),
    )
    return cur.rowcount == 1


def set_ref(conn: sqlite3.Connection, run_id: int, runner_ref: str) -> None:
    conn.execute("UPDATE runs SET runner_ref=? WHERE id=?", (runner_ref, run_id))


def finish(conn: sqlite3.Connection, run_id: int, status: str, now: float, *,
           exit_code: int | None = None, reason: str | None = None) -> bool:
    """Move an active run to a final status; False if it was already final."""
    assert status in FINAL, status
    cur = conn.execute(
        "UPDATE runs SET status=?, finished_at=?, exit_code=?, reason=?,"
        " duration_s=CASE WHEN started_at IS NULL THEN NULL ELSE MAX(0, ? - started_at) END"
        " WHERE id=? AND status IN ('queued','running')",
        (status, now, exit_code, reason, now, run_id),
    )
    return cur.rowcount == 1


def get(conn: sqlite3.Connection, run_id: int) -> Run | None:
    return _run(conn.execute(f"SELECT {COLUMNS} FROM runs WHERE id=?", (run_id,)).fetchone())


def active(conn: sqlite3.Connection, job: str | None = None) -> list[Run]:
    # the planner would rather walk a job's whole history by its job index: point it at the small one
    sql = f"SELECT {COLUMNS} FROM runs INDEXED BY runs_active WHERE status IN ('queued','running')"
    args: tuple = ()
    if job is not None:
        sql += " AND job=?"
        args = (job,)
    return [Run(*r) for r in conn.execute(sql + " ORDER BY id", args)]


def history(conn: sqlite3.Connection, job: str, limit: int = 100, before_id: int | None = None) -> list[Run]:
    """Newest first."""
    if before_id is None:
        rows = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? ORDER BY id DESC LIMIT ?", (job, limit))
    else:
        rows = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? AND id<? ORDER BY id DESC LIMIT ?",
                            (job, before_id, limit))
    return [Run(*r) for r in rows]


def latest(conn: sqlite3.Connection, job: str, statuses: tuple[str, ...] | None = None) -> Run | None:
    if statuses:
        marks = ",".join("?" * len(statuses))
        row = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? AND status IN ({marks})"
                           " ORDER BY id DESC LIMIT 1", (job, *statuses)).fetchone()
    else:
        row = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? ORDER BY id DESC LIMIT 1", (job,)).fetchone()
    return _run(row)


def recent_outcomes(conn: sqlite3.Connection, job: str, limit: int = 20) -> list[Run]:
    """The last runs that actually ran (or should have), newest first; skipped slots left out."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM runs WHERE job=? AND status NOT IN ('queued','running','skipped')"
        " ORDER BY id DESC LIMIT ?", (job, limit))
    return [Run(*r) for r in rows]


def missed_since(conn: sqlite3.Connection, since: float, job: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM runs WHERE status IN ('missed','lost') AND scheduled_at >= ?"
    args: tuple = (since,)
    if job is not None:
        sql += " AND job=?"
        args += (job,)
    return conn.execute(sql, args).fetchone()[0]
