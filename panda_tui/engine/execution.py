"""One attempt from start to final status: start, bound by the timeout, honour kill, record."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from panda_tui.config import Job
from panda_tui.runners.base import Attempt, Handle, Outcome, RunnerError
from panda_tui.schedule import human_duration
from panda_tui.secrets import Redactor, SecretError, available, resolve
from panda_tui.store import logs, runs
from panda_tui.store.runs import Run

if TYPE_CHECKING:
    from panda_tui.engine.scheduler import Scheduler


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_env(job: Job, run: Run) -> dict[str, str]:
    """What a repeatable job needs to know about this attempt (secrets are added separately)."""
    return {**job.env, "PANDA_JOB": job.name, "PANDA_RUN_ID": str(run.id),
            "PANDA_SCHEDULED_AT": iso(run.scheduled_at), "PANDA_ATTEMPT": str(run.attempt),
            "PANDA_TRIGGER": run.trigger}


class Execution:
    """Drives one run; the scheduler keeps it in its active set until `done` resolves."""

    def __init__(self, sched: Scheduler, run: Run, job: Job, on_done: Callable[[Execution, str], None]):
        self.sched = sched
        self.run = run
        self.job = job
        self.on_done = on_done
        self.handle: Handle | None = None
        self.kill_reason: str | None = None
        self.timed_out = False
        self._stop_requested = asyncio.Event()
        self.task: asyncio.Task | None = None

    @property
    def run_id(self) -> int:
        return self.run.id

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
        self._stop_requested.set()

    def begin(self) -> None:
        """Mark the run started, synchronously at launch: lateness measures the decision, not task hops."""
        s = self.sched
        now = s.clock.now()
        s.db(runs.mark_running, self.run.id, now, None, None)
        self.run = replace(self.run, status="running", started_at=now)

    async def start_new(self) -> None:
        s = self.sched
        s.events.emit("started", self.job.name, self.run.id, attempt=self.run.attempt, trigger=self.run.trigger,
                      lateness_s=round(self.run.started_at - self.run.scheduled_at, 4))
        s.alerter.on_run(self.run.id, started=True, job_name=self.job.name)
        try:
            pool = available(s.config)
            secrets = resolve(self.job, pool)
        except SecretError as exc:
            await self._record(Outcome(None, error=str(exc)), None)
            return
        sink = s.new_sink(self.run, self.job, Redactor(secrets.values()))
        attempt = Attempt(self.run.id, self.job, {**run_env(self.job, self.run), **secrets},
                          labels=s.labels(self.job, self.run), secret_values=tuple(secrets.values()))
        try:
            runner = s.runners.for_job(self.job)
            self.handle = await runner.start(attempt, sink)
        except RunnerError as exc:
            await self._record(Outcome(None, error=str(exc)), sink)
            return
        s.db(runs.set_ref, self.run.id, self.handle.ref)
        if self.handle.engine:
            s.db(lambda c: c.execute("UPDATE runs SET engine=? WHERE id=?", (self.handle.engine, self.run.id)))
        await self._supervise(sink, self.job.timeout)

    async def resume(self, handle: Handle, sink: logs.RunLog) -> None:
        """Continue a run adopted after a restart; the timeout counts from its real start."""
        self.handle = handle
        started = self.run.started_at or self.sched.clock.now()
        await self._supervise(sink, max(0.0, self.job.timeout - (self.sched.clock.now() - started)))

    async def _supervise(self, sink: logs.RunLog, timeout: float) -> None:
        assert self.handle is not None
        waiter = asyncio.ensure_future(self.handle.wait())
        stopper = asyncio.ensure_future(self._stop_requested.wait())
        done, _ = await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            if stopper not in done:
                self.timed_out = True
                sink.system(f"[panda] timed out after {human_duration(self.job.timeout)}; "
                            f"stopping (SIGTERM, then SIGKILL after {human_duration(self.job.kill_grace)})")
            else:
                sink.system(f"[panda] killed: {self.kill_reason}")
            await self.handle.stop(self.job.kill_grace)
        stopper.cancel()
        outcome = await waiter
        await self._record(outcome, sink)

    async def _record(self, outcome: Outcome, sink: logs.RunLog | None) -> None:
        status, reason = self._verdict(outcome)
        s = self.sched
        if sink is not None:
            if reason and status != "succeeded":
                sink.system(f"[panda] {status}: {reason}")
            await asyncio.to_thread(sink.close)
        now = s.clock.now()
        s.db(runs.finish, self.run.id, status, now, exit_code=outcome.exit_code, reason=reason)
        s.events.emit("finished", self.job.name, self.run.id, status=status, exit_code=outcome.exit_code,
                      reason=reason, duration_s=round(now - (self.run.started_at or now), 3)
                      if self.run.started_at else None)
        s.alerter.on_run(self.run.id, job_name=self.job.name)
        if self.handle is not None:
            try:
                await self.handle.cleanup()
            except Exception as exc:  # cleanup is best effort; the result is already safe
                s.events.emit("cleanup_failed", self.job.name, self.run.id, error=str(exc))
        self.on_done(self, status)

    def _verdict(self, outcome: Outcome) -> tuple[str, str | None]:
        if self.kill_reason is not None:
            return "killed", self.kill_reason
        if self.timed_out:
            return "timed_out", f"timed out after {human_duration(self.job.timeout)}"
        if outcome.lost:
            return "lost", outcome.error
        if outcome.error:
            return "failed", outcome.error
        if outcome.exit_code == 0:
            return "succeeded", None
        return "failed", f"exit {outcome.exit_code}"
