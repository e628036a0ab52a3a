"""The runs ledger: one row per expected or actual run. Statuses only move forward, and every change is
announced to subscribers (alerts, the decision log), so no reaction to a run can be forgotten."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any

from panda_tui.store.db import Database, Unit


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    KILLED = "killed"
    SKIPPED = "skipped"
    MISSED = "missed"
    LOST = "lost"


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    CATCHUP = "catchup"
    EXTERNAL = "external"  # `panda-tui exec`: a run started by someone else's scheduler (cron)


S = RunStatus
# Tuples in a fixed order: their SQL form must match the partial indexes' WHERE clauses exactly.
ACTIVE = (S.QUEUED, S.RUNNING)
FINAL = (S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.KILLED, S.SKIPPED, S.MISSED, S.LOST)
BAD = (S.FAILED, S.TIMED_OUT, S.KILLED, S.LOST)  # it ran, or should have, and went wrong
GONE = (S.MISSED, S.LOST)  # a slot that left no result
TROUBLE = (S.FAILED, S.TIMED_OUT, S.KILLED, S.LOST, S.MISSED)  # what alerts and `status` call trouble
HAS_LOGS = (S.RUNNING, S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.KILLED, S.LOST)


def sql_in(statuses: tuple[str, ...]) -> str:
    """`('a', 'b')`, for IN clauses a partial index can match (bound parameters cannot)."""
    return "(" + ", ".join(f"'{s}'" for s in statuses) + ")"


@dataclass(frozen=True)
class Run:
    id: int
    job: str
    scheduled_at: float
    attempt: int
    trigger: Trigger
    status: RunStatus
    queued_at: float | None = None
    not_before: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    runner: str | None = None
    runner_ref: str | None = None
    docker_host: str | None = None  # the Docker engine a container run lives on
    out_lines: int = 0
    err_lines: int = 0
    log_lines: int = 0
    log_bytes: int = 0
    log_dropped: int = 0
    logs_pruned: int = 0
    owner: str | None = None  # the foreground process carrying the run out (`run`, `exec`), if any
    node: str | None = None  # the Swarm node that ran it (its hostname)
    spec_id: int | None = None  # what it ran with (store.specs); None for runs recorded before that
    image_id: str | None = None  # the image a container run started from (sha256:...), when known

    @property
    def lateness(self) -> float | None:
        """How long after it was due the run started. A retry is due after its backoff, a manual run when it
        was asked for (even with a slot in the past); a slot when it came."""
        return None if self.started_at is None else self.started_at - self.due_at

    @property
    def due_at(self) -> float:
        due = self.scheduled_at
        if self.not_before is not None:
            due = max(due, self.not_before)
        if self.trigger in (Trigger.MANUAL, Trigger.EXTERNAL) and self.queued_at is not None:
            due = max(due, self.queued_at)
        return due

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["status"] = str(self.status)
        out["lateness_s"] = self.lateness
        return out


def lateness_s(run: Run) -> float | None:
    """Run.lateness as every output writes it: seconds, to the millisecond (the decision log's `lateness_s`,
    `executions`' LATE, the API's `lateness_s`)."""
    return None if run.lateness is None else round(run.lateness, 3)


COLUMNS = ", ".join(f.name for f in fields(Run))
# what the stamp decides last (status, queued_at, finished_at, started_at): a row made ahead adds only those
INSERT = ("INSERT OR IGNORE INTO runs(job, scheduled_at, attempt, trigger, not_before, reason, runner, owner, spec_id,"
          " status, queued_at, finished_at, started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


@dataclass(frozen=True)
class NewRun:
    """A row for Ledger.insert / insert_on_time: a slot written at `now`; `started`: admitted at once, so written
    running (started at `now`) in the same statement."""
    job: str
    scheduled_at: float
    trigger: Trigger
    now: float
    attempt: int = 1
    status: RunStatus = RunStatus.QUEUED
    reason: str | None = None
    not_before: float | None = None
    runner: str | None = None
    owner: str | None = None
    spec_id: int | None = None
    started: bool = False

    def head(self) -> tuple[Any, ...]:
        """The INSERT's parameters the stamp does not decide."""
        return (self.job, self.scheduled_at, self.attempt, self.trigger, self.not_before, self.reason, self.runner,
                self.owner, self.spec_id)

    def values(self) -> tuple[Any, ...]:
        """The INSERT's parameters."""
        status = RunStatus.RUNNING if self.started else self.status
        finished = self.now if self.status in FINAL else None
        return self.head() + (status, self.now, finished, self.now if self.started else None)

    def written(self, run_id: int, status: RunStatus) -> Run:
        """The row as written, queued (or its final status), or running once started."""
        running = status == RunStatus.RUNNING
        return Run(run_id, self.job, self.scheduled_at, self.attempt, self.trigger, status, queued_at=self.now,
                   not_before=self.not_before, started_at=self.now if running else None,
                   finished_at=self.now if status in FINAL else None, reason=self.reason, runner=self.runner,
                   owner=self.owner, spec_id=self.spec_id)


def _run(row: Sequence[Any]) -> Run:
    return Run(*row[:4], Trigger(row[4]), RunStatus(row[5]), *row[6:])  # type: ignore[call-arg]  # a column a field


def _maybe_run(row: Sequence[Any] | None) -> Run | None:
    return _run(row) if row else None


@dataclass(frozen=True)
class RunChanged:
    """A run's status changed. `previous` is None for a new row."""
    run: Run
    previous: RunStatus | None


InTransaction = Callable[[RunChanged, sqlite3.Connection], None]
AfterCommit = Callable[[RunChanged], None]


class Ledger:
    """The one writer of run statuses, and the owner of the write connection (`db`): every verb runs in
    a unit of work (its caller's, or one of its own), and every change is announced twice: at once, inside
    the unit, to subscribers whose rows must commit with it (the alerts' outbox; undone with it), and after
    the outermost commit, to those that report it (the decision log, the scheduler's own bookkeeping).
    A change whose unit rolls back is never announced after."""

    def __init__(self, db: Database, on_error: Callable[[str, BaseException], None] | None = None):
        self.db = db
        self.conn = db.conn
        self.on_error = on_error  # a subscriber that fails is reported, and never undoes the change
        self._within: list[InTransaction] = []
        self._after: list[AfterCommit] = []
        from panda_tui.store import specs  # the writers' (with hashlib): a reader, as a console, goes without
        self.specs = specs.SpecIds(db.on_commit)  # each job's spec row, for insert(spec_id=…)

    def subscribe(self, fn: AfterCommit) -> None:
        self._after.append(fn)

    def subscribe_in_transaction(self, fn: InTransaction) -> None:
        self._within.append(fn)

    def unit(self) -> AbstractContextManager[Unit]:
        """A unit of work on the write connection (see Database.unit)."""
        return self.db.unit()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A step of the open unit (no SAVEPOINT: most steps, as the verbs, are one statement), or a unit of
        its own; for callers that only need its connection."""
        with self.db.unit(join=True) as unit:
            yield unit.conn

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except sqlite3.Error:
            raise  # the transaction itself is broken: the caller must know
        except Exception as exc:
            if self.on_error is None:
                raise
            self.on_error(getattr(fn, "__qualname__", repr(fn)), exc)

    def _announce(self, run: Run, previous: RunStatus | None) -> Run:
        change = RunChanged(run, previous)
        for fn in self._within:
            self._call(fn, change, self.conn)
        self.db.on_commit(lambda: self._after_commit(change))
        return run

    def _after_commit(self, change: RunChanged) -> None:
        for fn in self._after:
            self._call(fn, change)

    # --- verbs: each runs in the caller's transaction, or in one of its own -------------------
    def insert(self, job: str, scheduled_at: float, *, trigger: Trigger | str, now: float, attempt: int = 1,
               status: RunStatus = S.QUEUED, reason: str | None = None, not_before: float | None = None,
               runner: str | None = None, owner: str | None = None, spec: Mapping[str, Any] | None = None,
               spec_id: int | None = None, started: bool = False) -> Run | None:
        """Write a slot; None when (job, slot, attempt) is already in the ledger. `spec`: what the run runs
        with (store.specs.job_spec), kept once per distinct content; or `spec_id`, its row (store.specs.SpecIds).
        `started`: a queued run admitted at once, written running in the same statement (one write where
        insert then start take two, which a batch of slots pays per run); announced as insert then start
        would announce it."""
        from panda_tui.store import specs
        with self.transaction() as conn:
            kept = specs.spec_id(conn, spec, now) if spec is not None else spec_id
            new = NewRun(job, scheduled_at, Trigger(trigger), now, attempt, status, reason, not_before, runner, owner,
                         kept, started)
            cur = conn.execute(INSERT, new.values())
            return self._announce_new(new, int(cur.lastrowid or 0)) if cur.rowcount else None

    def insert_on_time(self, rows: Sequence[NewRun], within: Sequence[float], now: Callable[[], float],
                       until: Callable[[], None] = lambda: None) -> list[tuple[float, Run | None]]:
        """Queued rows made ahead of their time (their `now` unused): once `until` returns (at their slot), each
        is stamped (`now()`) right before its own INSERT, one right after the other, with nothing else between
        two stamps. A row admitted at once (`started`) is written running if its stamp is within `within`
        seconds of its slot, else queued. Then all are announced, in order, as insert() announces one. Returns
        each row's stamp, and its run (None: its (job, slot, attempt) is already in the ledger)."""
        assert all(new.status == S.QUEUED for new in rows)
        with self.transaction() as conn:
            cur, heads = conn.cursor(), [new.head() for new in rows]
            written: list[tuple[float, bool, int | None]] = []
            until()
            for new, head, limit in zip(rows, heads, within):
                at = now()
                starts = new.started and at - new.scheduled_at <= limit
                cur.execute(INSERT, head + (("running", at, None, at) if starts else ("queued", at, None, None)))
                written.append((at, starts, int(cur.lastrowid or 0) if cur.rowcount else None))
            return [(at, None if run_id is None else self._announce_new(replace(new, now=at, started=starts), run_id))
                    for new, (at, starts, run_id) in zip(rows, written)]

    def _announce_new(self, new: NewRun, run_id: int) -> Run:
        run = new.written(run_id, S.QUEUED if new.started else new.status)
        self._announce(run, None)
        if not new.started:
            return run
        assert new.status == S.QUEUED, new.status
        return self._announce(new.written(run_id, S.RUNNING), S.QUEUED)

    def start(self, run_id: int, now: float) -> Run | None:
        """queued → running; None if the run was not queued."""
        with self.transaction() as conn:
            row = conn.execute(f"UPDATE runs SET status='running', started_at=? WHERE id=? AND status='queued'"
                               f" RETURNING {COLUMNS}", (now, run_id)).fetchone()
            return self._announce(_run(row), S.QUEUED) if row else None

    def finish(self, run_id: int, status: RunStatus, now: float, *, exit_code: int | None = None,
               reason: str | None = None, node: str | None = None) -> Run | None:
        """An active run → a final status; None if it was already final."""
        assert status in FINAL, status
        with self.transaction() as conn:
            before = conn.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()
            if before is None or before[0] not in ACTIVE:
                return None
            row = conn.execute(
                "UPDATE runs SET status=?, finished_at=?, exit_code=?, reason=?, node=COALESCE(?, node),"
                " duration_s=CASE WHEN started_at IS NULL THEN NULL ELSE MAX(0, ? - started_at) END"
                f" WHERE id=? RETURNING {COLUMNS}", (status, now, exit_code, reason, node, now, run_id)).fetchone()
            return self._announce(_run(row), RunStatus(before[0]))

    def skip(self, run_id: int, reason: str, now: float) -> Run | None:
        return self.finish(run_id, S.SKIPPED, now, reason=reason)

    def release(self, run_id: int) -> None:
        """The foreground process that owned the run is gone: a scheduler follows it from here on."""
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET owner=NULL WHERE id=?", (run_id,))

    def forget(self, job: str) -> int:
        """Remove every trace of a job no config declares (its runs, their logs, its state): `panda-tui
        forget`. The caller checks that it is not declared and not running. Returns the runs removed."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM logs WHERE run_id IN (SELECT id FROM runs WHERE job=?)", (job,))
            removed = conn.execute("DELETE FROM runs WHERE job=?", (job,)).rowcount
            conn.execute("DELETE FROM job_state WHERE job=?", (job,))
            conn.execute("DELETE FROM run_totals WHERE job=? AND n <= 0", (job,))
            conn.execute("DELETE FROM run_durations WHERE job=? AND n <= 0", (job,))
            return removed

    def set_ref(self, run_id: int, runner_ref: str, docker_host: str | None = None, node: str | None = None,
                image_id: str | None = None) -> None:
        """Where the run lives (container id, service id, or pid:starttime), so a restart can find it again;
        and the image it started from, when the runner knows it."""
        with self.transaction() as conn:
            conn.execute("UPDATE runs SET runner_ref=?, docker_host=COALESCE(?, docker_host), node=COALESCE(?, node),"
                         " image_id=COALESCE(?, image_id) WHERE id=?", (runner_ref, docker_host, node, image_id, run_id))


# --- reads: any connection, read-only ones included ------------------------------------------
def get(conn: sqlite3.Connection, run_id: int) -> Run | None:
    return _maybe_run(conn.execute(f"SELECT {COLUMNS} FROM runs WHERE id=?", (run_id,)).fetchone())


def wait_final(conn: sqlite3.Connection, run_id: int, timeout: float, interval: float = 0.2) -> Run | None:
    """Poll until the run reached a final status (as control.wait_done waits for an answer); None when
    it has not by `timeout`, or there is no such run."""
    deadline = time.monotonic() + timeout
    while (run := get(conn, run_id)) is not None and run.status not in FINAL:
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    return run


def active(conn: sqlite3.Connection, job: str | None = None) -> list[Run]:
    # the planner would rather walk a job's whole history by its job index: point it at the small one
    sql = f"SELECT {COLUMNS} FROM runs INDEXED BY runs_active WHERE status IN {sql_in(ACTIVE)}"
    args: tuple[str, ...] = ()
    if job is not None:
        sql += " AND job=?"
        args = (job,)
    return [_run(r) for r in conn.execute(sql + " ORDER BY id", args)]


def newest_id(conn: sqlite3.Connection) -> int:
    """The highest run id so far (0 for none): runs made after this moment have higher ones."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM runs").fetchone()[0])


def history(conn: sqlite3.Connection, job: str, limit: int = 100, before_id: int | None = None) -> list[Run]:
    """Newest first."""
    if before_id is None:
        rows = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? ORDER BY id DESC LIMIT ?", (job, limit))
    else:
        rows = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? AND id<? ORDER BY id DESC LIMIT ?",
                            (job, before_id, limit))
    return [_run(r) for r in rows]


def latest(conn: sqlite3.Connection, job: str, statuses: tuple[str, ...] | None = None) -> Run | None:
    if statuses:
        row = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? AND status IN {sql_in(statuses)}"
                           " ORDER BY id DESC LIMIT 1", (job,)).fetchone()
    else:
        row = conn.execute(f"SELECT {COLUMNS} FROM runs WHERE job=? ORDER BY id DESC LIMIT 1", (job,)).fetchone()
    return _maybe_run(row)


def recent_outcomes(conn: sqlite3.Connection, job: str, limit: int = 20, before_id: int | None = None) -> list[Run]:
    """The last runs that actually ran (or should have), newest first. Skipped slots are left out, and so are
    queued runs cancelled before they started (killed, never started): they say nothing of the job."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM runs WHERE job=? AND id<? AND status NOT IN {sql_in(ACTIVE + (S.SKIPPED,))}"
        " AND NOT (status='killed' AND started_at IS NULL) ORDER BY id DESC LIMIT ?",
        (job, 1 << 62 if before_id is None else before_id, limit))
    return [_run(r) for r in rows]


def last_success_finished(conn: sqlite3.Connection, job: str, before_id: int) -> float | None:
    found: float | None = conn.execute("SELECT MAX(finished_at) FROM runs WHERE job=? AND status='succeeded'"
                                       " AND id<?", (job, before_id)).fetchone()[0]
    return found


def newest_paused_slot(conn: sqlite3.Connection, job: str) -> tuple[float, int] | None:
    """(slot, highest attempt) of the newest slot skipped while the job was paused."""
    row = conn.execute(
        "SELECT scheduled_at, MAX(attempt) FROM runs WHERE job=? AND status='skipped' AND reason='paused'"
        " GROUP BY scheduled_at ORDER BY scheduled_at DESC LIMIT 1", (job,)).fetchone()
    return (row[0], row[1]) if row else None

