"""The runs in flight: admitted by the one rule, started, followed to their end, queued, retried, killed.

Everything that can start a run comes through here: a slot that comes due, a manual trigger, a catch-up
slot, a retry, a queue that drains, a run adopted after a restart.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager

from panda_tui.config import Job
from panda_tui.engine import owners
from panda_tui.engine.admission import Action, Admission, admit
from panda_tui.engine.events import EventLog
from panda_tui.engine.execution import Execution, RunContext
from panda_tui.engine.requests import RequestError
from panda_tui.runners.base import Handle
from panda_tui.store.specs import job_spec
from panda_tui.store import logs, state
from panda_tui.store.ledger import Run, RunStatus, Trigger, get, newest_paused_slot
from panda_tui.store.ledger import active as ledger_active
from panda_tui.text import iso

RETRYABLE = (RunStatus.FAILED, RunStatus.TIMED_OUT)


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
        self._pending: list[tuple[Callable | None, Callable | None]] | None = None  # (do, undo) in a batch

    def executions(self, job: str | None = None) -> list[Execution]:
        """The runs in progress, of one job or of all."""
        if job is not None:
            return list(self.active.get(job, {}).values())
        return [e for per_job in self.active.values() for e in per_job.values()]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for many decisions. Runs start only once it has committed; if it fails, the
        in-memory queues and active sets are put back as they were."""
        if self._pending is not None:
            yield
            return
        self._pending = []
        try:
            with self.ledger.transaction():
                yield
        except BaseException:
            pending, self._pending = self._pending, None
            for _, undo in reversed(pending):
                if undo is not None:
                    undo()
            raise
        pending, self._pending = self._pending, None
        for do, _ in pending:
            if do is not None:
                do()

    def _later(self, do: Callable | None, undo: Callable | None = None) -> None:
        if self._pending is None:
            if do is not None:
                do()
        else:
            self._pending.append((do, undo))

    # --- admission ----------------------------------------------------------------------
    def dispatch(self, job: Job, scheduled_at: float, trigger: str, *, slot: float | None = None,
                 attempt: int = 1, check_deadline: bool = True, in_order: bool = False) -> str:
        """Write a new run as a ledger row, then admit it. Returns what happened, for control answers."""
        now = self.clock.now()
        with self.batch():
            if slot is not None:
                state.set_last_slot(self.ledger.conn, job.name, slot, now)
            run = self.ledger.insert(job.name, scheduled_at, trigger=trigger, now=now, attempt=attempt,
                                     runner=job.runner_kind, spec=job_spec(job))
            if run is None:
                return "already in the ledger"
            if check_deadline and trigger != Trigger.MANUAL and now - scheduled_at > job.starting_deadline:
                reason = f"started too late: {int(now - scheduled_at)}s after its slot (starting_deadline)"
                self.ledger.finish(run.id, RunStatus.MISSED, now, reason=reason)
                return f"run {run.id} missed: {reason}"
            return self._apply(job, run, self._admit(job, run, in_order=in_order), now)

    def readmit(self, job: Job, run: Run) -> str:
        """A queued run accepted earlier: a retry that came due, or one a previous scheduler left."""
        with self.batch():
            return self._apply(job, run, self._admit(job, run, accepted=True), self.clock.now())

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

    def _admit(self, job: Job, run: Run, **how) -> Admission:
        return admit(job, active=list(self.active[job.name]), queued=len(self.queues[job.name]),
                     paused=job.name in self.paused, trigger=run.trigger, **how)

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
            self._later(lambda: [e.kill(f"replaced by run {run.id}") for e in victims])
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
        if started is None:
            return
        execution = Execution(self.ctx, started, job, self._finished)
        self.active[job.name][run.id] = execution
        self._later(lambda: self._go(execution, execution.start_new()),
                    lambda: self.active[job.name].pop(run.id, None))

    def _go(self, execution: Execution, coro: Coroutine) -> None:
        execution.task = asyncio.ensure_future(self._guard(execution, coro))

    async def _guard(self, execution: Execution, coro: Coroutine) -> None:
        """An unexpected error in one run must not take the scheduler down: record it as lost."""
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"internal error: {type(exc).__name__}: {exc}"
            self.events.emit("error", execution.job.name, execution.run_id, error=reason)
            now, what = self.clock.now(), f"record run {execution.run_id} lost"
            self.ctx.store.attempt(what, lambda: self._finished(execution, self.ledger.finish(
                execution.run_id, RunStatus.LOST, now, reason=reason)), keep=True)

    def _finished(self, execution: Execution, run: Run | None) -> None:
        name = execution.job.name
        self.active[name].pop(execution.run_id, None)
        live = self.jobs().get(name, execution.job)

        def settle() -> None:
            with self.batch():
                if run is not None and run.status in RETRYABLE and run.attempt <= live.retries:
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
                                   spec=job_spec(job))
        if retry is not None:
            self._later(lambda: self.add_retry(due, retry.id))

    def _drain(self, job: Job) -> None:
        queue = self.queues[job.name]
        while queue:
            head = queue[0]
            if self._admit(job, head, head=True).action != Action.START:
                return
            queue.popleft()
            self._later(None, lambda run=head: queue.appendleft(run))
            self._start(job, head, self.clock.now())

    # --- commands (see requests.RunCommands) --------------------------------------------
    def knows(self, name: str) -> bool:
        return name in self.jobs()

    def trigger(self, name: str, at: float) -> str:
        """A manual run now (as if scheduled at `at` when that is past), or at `at` when it is ahead."""
        job, now = self.jobs()[name], self.clock.now()
        if at <= now + 1:
            return self.dispatch(job, at, Trigger.MANUAL)
        run = self.ledger.insert(job.name, at, trigger=Trigger.MANUAL, now=now, not_before=at,
                                 runner=job.runner_kind, spec=job_spec(job))
        self.add_retry(at, run.id)  # it waits in the timeline like a retry, and survives a restart like one
        return f"run {run.id} scheduled for {iso(at)}"

    def pause(self, name: str) -> str:
        if name in self.paused:
            return f"{name} is already paused (resume it with `panda-tui resume {name}` or p in the console)"
        with self.ledger.transaction() as conn:
            state.set_paused(conn, name, True, self.clock.now())
        self.paused.add(name)
        held = len(self.queues[name])
        return (f"{name} paused: its slots are recorded as skipped until resumed"
                + (f"; {held} queued run{'s' if held != 1 else ''} wait for resume" if held else ""))

    def resume(self, name: str, catchup: bool) -> str:
        if name not in self.paused:
            return f"{name} is not paused: nothing to resume"
        with self.ledger.transaction() as conn:
            state.set_paused(conn, name, False, self.clock.now())
        self.paused.discard(name)
        job = self.jobs()[name]
        with self.batch():
            self._drain(job)
        if not catchup:
            return f"{name} resumed"
        newest = newest_paused_slot(self.ledger.conn, name)
        if newest is None:
            return f"{name} resumed; no skipped slot to catch up"
        return f"{name} resumed; " + self.dispatch(job, newest[0], Trigger.CATCHUP, attempt=newest[1] + 1,
                                                   check_deadline=False)

    def forget(self, name: str) -> str:
        """Remove a job no config declares (an `exec` typo, a cron job moved away): its runs and logs."""
        if name in self.jobs():
            raise RequestError(f'"{name}" is in jobs.toml: remove it there (and reload) before forgetting it')
        if self.active.get(name) or ledger_active(self.ledger.conn, name):
            raise RequestError(f'"{name}" has a run in progress: kill it or let it end first')
        with self.ledger.transaction() as conn:
            shown = state.forget_outside_job(conn, name, self.clock.now())
            removed = self.ledger.forget(name)
        self.paused.discard(name)
        if not removed and not shown:
            raise RequestError(f'no job named "{name}" in the store')
        return f"{name} forgotten: {removed} run{'s' if removed != 1 else ''} and their logs removed"

    def kill_run(self, run_id: int) -> str:
        run = get(self.ledger.conn, run_id)
        if run is None:
            raise RequestError(f"no run {run_id}")
        execution = self.active.get(run.job, {}).get(run.id)
        if execution is not None:
            execution.kill("killed on request")
            return f"killing run {run.id} ({run.job})"
        if run.status == RunStatus.RUNNING and run.owner:
            return self._stop_owned(run)
        if run.status != RunStatus.QUEUED:
            raise RequestError(f"run {run.id} is not running ({run.status})")
        queue = self.queues.get(run.job, deque())
        for waiting in [r for r in queue if r.id == run.id]:
            queue.remove(waiting)
        self.ledger.finish(run.id, RunStatus.KILLED, self.clock.now(), reason="killed on request")
        return f"run {run.id} removed from the queue"

    def kill_job(self, name: str) -> str:
        active = self.executions(name)
        tracked = {e.run_id for e in active}
        owned = [r for r in ledger_active(self.ledger.conn, name) if r.owner and r.id not in tracked]
        if name not in self.jobs() and not active and not owned:
            raise RequestError(f'no job named "{name}"')
        if not active and not owned:
            raise RequestError(f"{name} has no running run")
        for execution in active:
            execution.kill("killed on request")
        answers = [f"killing run {', '.join(str(e.run_id) for e in active)} ({name})"] if active else []
        return "; ".join(answers + [self._stop_owned(run) for run in owned])

    def _stop_owned(self, run: Run) -> str:
        """A run a `panda-tui run` or `exec` process carries out: that process is asked to stop it."""
        problem = owners.ask_to_stop(run.owner or "")
        if problem:
            raise RequestError(f"run {run.id} is carried out by another process, and {problem}")
        return f"asked process {owners.pid_of(run.owner or '')} to stop run {run.id} ({run.job})"

    def kill_all(self, reason: str) -> None:
        for execution in self.executions():
            execution.kill(reason)

    async def stop_runs(self, grace: float) -> None:
        """Give runs `grace` to finish, then stop them (recorded killed) and wait for their records."""
        pending = self.executions()
        tasks = [e.task for e in pending if e.task]
        if not tasks:
            return
        self.events.emit("stopping", waiting=len(pending), grace_s=grace)
        _, still = await asyncio.wait(tasks, timeout=grace)
        for execution in pending:
            if execution.task in still:
                execution.kill("scheduler stopped")
        if still:
            await asyncio.wait(still, timeout=max(e.job.kill_grace for e in pending) + 5)
