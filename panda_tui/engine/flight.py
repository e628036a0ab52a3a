"""The runs in flight: admitted by the one rule, started, followed to their end, queued, retried, stopped.

Everything a scheduler starts comes through here: a slot that comes due, a manual trigger, a catch-up
slot, a retry, a queue that drains, a run adopted after a restart. The control verbs that ask for these
(trigger, pause, resume, kill) are engine/commands.py's.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import Any

from panda_tui import decisions as d
from panda_tui.config import Job
from panda_tui.engine.admission import Action, Admission, admit
from panda_tui.engine.events import EventLog
from panda_tui.engine.execution import Execution, RunContext
from panda_tui.runners.base import Handle
from panda_tui.store.db import Unit
from panda_tui.store import logs, state
from panda_tui.store.db import data_version
from panda_tui.store.ledger import Ledger, NewRun, Run, RunChanged, RunStatus, Trigger, get
from panda_tui.store.ledger import active as ledger_active
from panda_tui.store.verdicts import retry_follows



class ForeignRuns:
    """Running runs that name an owner process (`run`, `exec`), by job: read again only after another
    connection committed (PRAGMA data_version) or a change of ours touched such a run, so dispatch stays
    cheap. Within one unit of work (which holds the write lock) the version is asked once."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self._runs: dict[str, list[int]] = {}
        self._version: int | None = None
        self._asked_in: Unit | None = None  # the unit the version was last asked in
        ledger.subscribe(self._on_change)

    def of(self, job: str) -> list[int]:
        unit = self.ledger.db.outermost
        if unit is not None and unit is self._asked_in and self._version is not None:
            return self._runs.get(job, [])
        self._asked_in = unit
        version = data_version(self.ledger.conn)
        if version != self._version:
            found: dict[str, list[int]] = defaultdict(list)
            for run in ledger_active(self.ledger.conn):
                if run.owner and run.status == RunStatus.RUNNING:
                    found[run.job].append(run.id)
            self._runs, self._version = found, version
        return self._runs.get(job, [])

    def _on_change(self, change: RunChanged) -> None:
        if change.run.owner is not None or change.previous == RunStatus.RUNNING:
            self._version = None  # our own commits do not move data_version


class Flight:
    def __init__(self, ctx: RunContext, events: EventLog, jobs: Callable[[], Mapping[str, Job]],
                 add_retry: Callable[[float, int], None], wake: Callable[[], None]):
        self.ctx = ctx
        self.ledger = ctx.ledger
        self.clock = ctx.clock
        self.events = events
        self.jobs = jobs  # the running config's jobs, as they are now
        self.add_retry = add_retry
        self.wake = wake
        self.paused: set[str] = set()
        self.active: dict[str, dict[int, Execution]] = defaultdict(dict)
        self.queues: dict[str, deque[Run]] = defaultdict(deque)
        self._foreign = ForeignRuns(ctx.ledger)

    def executions(self, job: str | None = None) -> list[Execution]:
        """The runs in progress, of one job or of all."""
        if job is not None:
            return list(self.active.get(job, {}).values())
        return [e for per_job in self.active.values() for e in per_job.values()]

    def batch(self) -> AbstractContextManager[Unit]:
        """One unit of work for many decisions: runs start only once it has committed; if it fails, the
        in-memory queues and active sets are put back as they were (its on_rollback actions)."""
        return self.ledger.db.unit(join=True)

    def _later(self, do: Callable[[], Any] | None, undo: Callable[[], Any] | None = None) -> None:
        if undo is not None:
            self.ledger.db.on_rollback(undo)
        if do is not None:
            self.ledger.db.on_commit(do)

    # --- admission ----------------------------------------------------------------------
    def dispatch(self, job: Job, scheduled_at: float, trigger: Trigger, *, slot: float | None = None,
                 attempt: int = 1, check_deadline: bool = True, in_order: bool = False, last_slot: bool = True) -> str:
        """Write a new run as a ledger row, then admit it. Returns what happened, for control answers.
        `slot`: the scheduled slot it is, recorded as the job's last one unless the caller does (`last_slot`)."""
        now = self.clock.now()
        with self.batch():
            conn = self.ledger.conn
            late = check_deadline and trigger != Trigger.MANUAL and now - scheduled_at > job.starting_deadline
            # admitted before the row is written (the rule reads nothing of it), so a run that starts is
            # written running at once: a batch of slots stamps each run after fewer writes before it
            admission = None if late else self._admit(job, trigger, in_order=in_order)
            run = self.ledger.insert(job.name, scheduled_at, trigger=trigger, now=now, attempt=attempt,
                                     runner=job.runner_kind, spec_id=self.ledger.specs.of(conn, job, now),
                                     started=_starts(admission))
            if slot is not None and last_slot:
                state.set_last_slot(conn, job.name, slot, now)
            return self._decided(job, run, admission, now, scheduled_at)

    def dispatch_slots(self, due: list[tuple[Job, float]], until: Callable[[], None] = lambda: None) -> None:
        """Slots of different jobs due together (the scheduler's batch), as dispatch() would take them one by
        one, but made ahead: each is admitted and its row made but for the stamp (which alone decides whether
        it came past its starting deadline); then, once `until` returns (at the slot), each row is stamped and
        written right after the row before it (Ledger.insert_on_time), and what each answer asks for (the start,
        queue or skip) comes once all are written. Admitting ahead answers as admitting at the slot would: the
        unit is open (no other writer commits) and the loop waits for `until`. The jobs must differ: a job's
        second slot would be admitted without seeing its first, which only takes its place in the active runs
        afterwards."""
        with self.batch() as unit:
            begun = self.clock.now()
            admissions = [self._admit(job, Trigger.SCHEDULE) for job, _ in due]
            rows = [NewRun(job.name, at, Trigger.SCHEDULE, begun, runner=job.runner_kind, started=_starts(admission),
                           spec_id=self.ledger.specs.of(unit.conn, job, begun))
                    for (job, at), admission in zip(due, admissions)]
            written = self.ledger.insert_on_time(rows, [job.starting_deadline for job, _ in due], self.clock.now, until)
            for (job, at), admission, (now, run) in zip(due, admissions, written):
                self._decided(job, run, admission if now - at <= job.starting_deadline else None, now, at)

    def _decided(self, job: Job, run: Run | None, admission: Admission | None, now: float, scheduled_at: float) -> str:
        """What a new row's admission asks for (None: it came past its starting deadline)."""
        if run is None:
            return "already in the ledger"
        if admission is None:
            reason = f"started too late: {int(now - scheduled_at)}s after its slot (starting_deadline)"
            self.ledger.finish(run.id, RunStatus.MISSED, now, reason=reason)
            return f"run {run.id} missed: {reason}"
        if _starts(admission):
            self._track(job, run)
            return f"run {run.id} started"
        return self._apply(job, run, admission, now)

    def readmit(self, job: Job, run: Run) -> str:
        """A queued run accepted earlier: a retry that came due, or one a previous scheduler left."""
        with self.batch():
            return self._apply(job, run, self._admit(job, run.trigger, accepted=True), self.clock.now())

    def readmit_id(self, run_id: int) -> None:
        run = get(self.ledger.conn, run_id)
        if run is None or run.status != RunStatus.QUEUED:
            return  # killed or settled while it waited
        job = self.jobs().get(run.job)
        if job is None:
            self.ledger.skip(run.id, "job removed from jobs.toml", self.clock.now())
        else:
            self.readmit(job, run)

    def follow(self, job: Job, run: Run, handle: Handle) -> None:
        """A run adopted after a restart: supervised from here on like any other."""
        execution = Execution(self.ctx, run, job, self._finished)
        self.active[job.name][run.id] = execution
        self._go(execution, execution.resume(handle))

    def _admit(self, job: Job, trigger: Trigger, **how: Any) -> Admission:
        catching_up = [i for i, e in self.active[job.name].items() if e.run.trigger == Trigger.CATCHUP]
        return admit(job, active=self._running(job), queued=len(self.queues[job.name]),
                     paused=job.name in self.paused, trigger=trigger, catching_up=catching_up, **how)

    def _running(self, job: Job) -> list[int]:
        """The job's runs in progress: ours, and, where the policy skips an overlap, those a `run` or `exec`
        process carries out (this loop does not see those end, so it cannot queue behind them)."""
        ours = self.active[job.name]
        if job.concurrency not in ("forbid", "allow"):
            return list(ours)
        theirs = [run_id for run_id in self._foreign.of(job.name) if run_id not in ours]
        return sorted([*ours, *theirs])

    def _apply(self, job: Job, run: Run, admission: Admission, now: float) -> str:
        if admission.action == Action.START:
            self._start(job, run, now)
            return f"run {run.id} started"
        if admission.action == Action.SKIP:
            self.ledger.skip(run.id, admission.reason or "", now)
            return f"run {run.id} skipped: {admission.reason}"
        if admission.action == Action.REPLACE:
            victims = self.executions(job.name)
            self._enqueue(job, run, front=True)
            self._later(lambda: _kill_all(victims, f"replaced by run {run.id}"))
            return f"run {run.id} {admission.reason}"
        self._enqueue(job, run)
        if admission.reason == "paused":
            return f"run {run.id} held until {job.name} is resumed"
        return f"run {run.id} queued {admission.reason}"

    def _enqueue(self, job: Job, run: Run, front: bool = False) -> None:
        queue = self.queues[job.name]
        queue.appendleft(run) if front else queue.append(run)
        self._later(None, lambda: queue.remove(run))

    def _start(self, job: Job, run: Run, now: float) -> None:
        started = self.ledger.start(run.id, now)  # in the batch's transaction: running before the runner acts
        if started is not None:
            self._track(job, started)

    def _track(self, job: Job, started: Run) -> None:
        """A run written running in the open unit: its runner is started once the unit has committed."""
        execution = Execution(self.ctx, started, job, self._finished)
        self.active[job.name][started.id] = execution
        self._later(lambda: self._go(execution, execution.start_new()),
                    lambda: self.active[job.name].pop(started.id, None))

    def _go(self, execution: Execution, coro: Coroutine[Any, Any, None]) -> None:
        execution.task = asyncio.ensure_future(self._guard(execution, coro))

    async def _guard(self, execution: Execution, coro: Coroutine[Any, Any, None]) -> None:
        """An unexpected error in one run must not take the scheduler down: record it as lost."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self.events.emit(d.RunError(execution.job.name, execution.run_id, reason))
            now, what = self.clock.now(), f"record run {execution.run_id} lost"
            self.ctx.store.attempt(what, lambda: self._finished(execution, self.ledger.finish(
                execution.run_id, RunStatus.LOST, now, reason=reason)), keep=True)

    def _finished(self, execution: Execution, run: Run | None) -> None:
        name = execution.job.name
        self.active[name].pop(execution.run_id, None)
        live = self.jobs().get(name, execution.job)

        def settle() -> None:
            with self.batch():
                if run is not None and retry_follows(run, live.retries):
                    self._schedule_retry(live, run)
                logs.prune(self.ledger.conn, name, live.log_keep_runs)
                self._drain(live)
        self.ctx.store.attempt(f"retry or move on after run {execution.run_id}", settle, keep=True)
        self.wake()

    def _schedule_retry(self, job: Job, run: Run) -> None:
        now = self.clock.now()
        due = now + job.retry_delay * (2 ** (run.attempt - 1)) * random.uniform(1.0, 1.25)
        retry = self.ledger.insert(job.name, run.scheduled_at, trigger=Trigger.RETRY, now=now,
                                   attempt=run.attempt + 1, not_before=due, runner=job.runner_kind,
                                   spec_id=self.ledger.specs.of(self.ledger.conn, job, now))
        if retry is not None:
            self._later(lambda: self.add_retry(due, retry.id))

    def _drain(self, job: Job) -> None:
        queue = self.queues[job.name]
        while queue:
            head = queue[0]
            if self._admit(job, head.trigger, head=True).action != Action.START:
                return
            queue.popleft()
            self._later(None, functools.partial(queue.appendleft, head))
            self._start(job, head, self.clock.now())

    # --- for the control verbs (engine/commands.py) --------------------------------------
    def drain(self, job: Job) -> None:
        """Start what the job's queue may start now (after a resume), in one unit of work."""
        with self.batch():
            self._drain(job)

    def dequeue(self, run_id: int, job: str) -> None:
        queue = self.queues.get(job, deque())
        for waiting in [r for r in queue if r.id == run_id]:
            queue.remove(waiting)

    def tracked(self, job: str, run_id: int) -> Execution | None:
        return self.active.get(job, {}).get(run_id)

    def kill_all(self, reason: str) -> None:
        for execution in self.executions():
            execution.kill(reason)

    async def stop_runs(self, grace: float) -> None:
        """Give runs `grace` to finish, then stop them (recorded killed) and wait for their records."""
        pending = self.executions()
        tasks = [e.task for e in pending if e.task]
        if not tasks:
            return
        self.events.emit(d.Stopping(len(pending), grace))
        _, still = await asyncio.wait(tasks, timeout=grace)
        for execution in pending:
            if execution.task in still:
                execution.kill("scheduler stopped")
        if still:
            await asyncio.wait(still, timeout=max(e.job.kill_grace for e in pending) + 5)


def _starts(admission: Admission | None) -> bool:
    return admission is not None and admission.action == Action.START


def _kill_all(executions: list[Execution], why: str) -> None:
    for execution in executions:
        execution.kill(why)
