"""One attempt from start to final status: start, bound by the timeout, honour kill, record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from panda_tui import decisions as d
from panda_tui.config import Job
from panda_tui.clock import Clock
from panda_tui.engine.store_health import NOT_WRITTEN, StoreHealth
from panda_tui.runners.base import Attempt, Handle, Outcome, Passthrough, RunnerError
from panda_tui.runners.registry import Runners
from panda_tui.schedule import human_duration
from panda_tui.secrets import Redactor, SecretError
from panda_tui.store.ledger import Ledger, Run, RunStatus
from panda_tui.store.logs import RunLog
from panda_tui.text import iso, said_once, status_word, when

RESUME_LOOK = 1.0  # seconds a run adopted past its deadline has to show it ended already, before it is stopped


def run_env(job: Job, run: Run) -> dict[str, str]:
    """What a repeatable job needs to know about this attempt (secrets are added separately)."""
    return {**job.env, "PANDA_JOB": job.name, "PANDA_RUN_ID": str(run.id),
            "PANDA_SCHEDULED_AT": iso(run.scheduled_at), "PANDA_ATTEMPT": str(run.attempt),
            "PANDA_TRIGGER": run.trigger}


@dataclass
class RunContext:
    """What a run needs from the engine around it, and nothing more."""
    ledger: Ledger
    clock: Clock
    runners: Runners
    secrets: Callable[[Job], dict[str, str]]  # resolves a job's secrets now; raises SecretError
    open_sink: Callable[[Run, Job, Redactor, dict[str, Any] | None], RunLog]  # (run, job, redact, resume counters)
    labels: Callable[[Job, Run], dict[str, str]]
    report: Callable[[d.Decision], None]  # decision-log lines that are not status changes
    store: StoreHealth  # writes a full disk refuses are kept and made later


class Execution:
    """Drives one running run; the scheduler keeps it in flight until `task` ends."""

    def __init__(self, ctx: RunContext, run: Run, job: Job, on_done: Callable[[Execution, Run | None], None],
                 passthrough: Passthrough | None = None):
        self.ctx = ctx
        self.passthrough = passthrough  # `panda-tui exec`: the caller's stdin, environment and terminal
        self.run = run
        self.job = job
        self.on_done = on_done
        self.handle: Handle | None = None
        self.kill_reason: str | None = None
        self.timed_out = False
        self.adopted = False  # a run a scheduler before this one started (resume)
        self._noted = False  # the log already says why the run was stopped
        self.redact = Redactor(())
        self._stop_requested = asyncio.Event()
        self.verdict: tuple[RunStatus, str | None, int | None] | None = None  # set once the command is over
        self.task: asyncio.Task[None] | None = None

    @property
    def run_id(self) -> int:
        return self.run.id

    def kill(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason
        self._stop_requested.set()

    async def start_new(self) -> None:
        ctx = self.ctx
        try:  # the secrets file is read off the loop, and only for a job that has secrets
            secrets = await asyncio.to_thread(ctx.secrets, self.job) if self.job.secrets else {}
        except SecretError as exc:
            await self._record(Outcome(None, error=str(exc)), None)
            return
        self.redact = Redactor(secrets.values())
        sink = ctx.open_sink(self.run, self.job, self.redact, None)
        attempt = Attempt(self.run.id, self.job, {**run_env(self.job, self.run), **secrets},
                          labels=ctx.labels(self.job, self.run),
                          passthrough=self.passthrough)
        try:
            self.handle = await ctx.runners.for_job(self.job).start(attempt, sink)
        except Exception as exc:  # a runner's own words, or anything else: the run failed, and says why
            why = str(exc) if isinstance(exc, RunnerError) else f"could not start: {type(exc).__name__}: {exc}"
            await self._record(Outcome(None, error=why), sink)
            return
        handle = self.handle
        ctx.store.attempt(f"record where run {self.run.id} lives",
                          lambda: ctx.ledger.set_ref(self.run.id, handle.ref, handle.docker_host, handle.node,
                                                     getattr(handle, "image_id", None)),
                          keep=True)
        await self._supervise(self.job.timeout)

    async def resume(self, handle: Handle) -> None:
        """Follow a run adopted after a restart; the timeout counts from its real start."""
        self.handle = handle
        self.adopted = True
        redact = handle.sink.redact  # the values the run was started with
        self.redact = redact if isinstance(redact, Redactor) else Redactor(())
        now = self.ctx.clock.now()
        started = self.run.started_at or now
        # past its deadline: a moment to say it ended already (its keeper handing over, its container's end)
        await self._supervise(max(RESUME_LOOK, self.job.timeout - (now - started)))

    async def _supervise(self, timeout: float) -> None:
        assert self.handle is not None
        waiter = asyncio.ensure_future(self.handle.wait())
        stopper = asyncio.ensure_future(self._stop_requested.wait())
        done, _ = await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            if stopper not in done:
                self.timed_out = True
                note = (f"timed out after {human_duration(self.job.timeout)}; stopping (SIGTERM, then "
                        f"SIGKILL after {human_duration(self.job.kill_grace)})")
            else:
                word, reason = said_once("killed", self.kill_reason)
                note = f"{word}: {reason}" if reason else word
            self.handle.sink.system(f"[panda] {note}")  # said once, when it happens
            self._noted = True
            await self.handle.stop(self.job.kill_grace)
        stopper.cancel()
        outcome = await waiter
        await self._record(outcome, self.handle.sink)

    async def _record(self, outcome: Outcome, sink: RunLog | None) -> None:
        status, reason = self._verdict(outcome)
        reason = self.redact(reason) if reason else reason  # an error may quote what it was handed
        self.verdict = (status, reason, outcome.exit_code)
        ctx = self.ctx
        if sink is not None:
            if reason and status != RunStatus.SUCCEEDED and not self._noted:
                sink.system(f"[panda] {self._ended_words(status, reason, outcome)}")
            await asyncio.to_thread(sink.close)
        now, what = ctx.clock.now(), f"record the end of run {self.run.id}"
        if outcome.ended_at is not None and outcome.ended_at <= now:
            # it ended while no scheduler watched: its duration is its own, not until someone looked
            now = max(outcome.ended_at, self.run.started_at or outcome.ended_at)

        def write() -> Run | None:
            return ctx.ledger.finish(self.run.id, status, now, exit_code=outcome.exit_code, reason=reason,
                                     node=self.handle.node if self.handle is not None else None)

        # kept until the store takes it, if need be: the run stays in flight till then
        finished = ctx.store.attempt(what, write, later=lambda done: asyncio.ensure_future(self._settle(done)))
        if finished is not NOT_WRITTEN:
            await self._settle(finished)

    async def _settle(self, finished: Run | None) -> None:
        """The result is safe in the store: remove what is left of the run, and let the scheduler move on."""
        if self.handle is not None:
            try:
                await self.handle.cleanup()
            except Exception as exc:  # cleanup is best effort; the result is already safe
                self.ctx.report(d.CleanupFailed(self.job.name, self.run.id, str(exc)))
        self.on_done(self, finished)

    def _ended_words(self, status: RunStatus, reason: str, outcome: Outcome) -> str:
        """`failed: exit 3`, `timed out after 20s` (no raw `timed_out`), and who stopped a timed-out run this
        scheduler did not: `timed out after 20s: stopped at 10:16:17 while no scheduler ran` (its keeper)."""
        if status != RunStatus.TIMED_OUT:
            word, rest = said_once(status_word(status), reason)
            return f"{word}: {rest}" if rest else word
        if not outcome.timed_out or self.timed_out:
            return reason
        at = f" at {when(outcome.ended_at, self.ctx.clock.now())}" if outcome.ended_at is not None else ""
        return f"{reason}: stopped{at} {'while no scheduler ran' if self.adopted else 'by its keeper'}"

    def _timed_out(self, outcome: Outcome) -> bool:
        """Stopped at its deadline: by this scheduler, or, while none watched, by its keeper. A run adopted
        past its deadline that had ended before it (no scheduler saw it end) is judged by its own end."""
        if outcome.timed_out or not self.timed_out:
            return outcome.timed_out
        started, ended = self.run.started_at, outcome.ended_at
        return started is None or ended is None or ended > started + self.job.timeout

    def _verdict(self, outcome: Outcome) -> tuple[RunStatus, str | None]:
        if self.kill_reason is not None:
            return RunStatus.KILLED, self.kill_reason
        if self._timed_out(outcome):
            return RunStatus.TIMED_OUT, f"timed out after {human_duration(self.job.timeout)}"
        if outcome.lost:
            return RunStatus.LOST, outcome.error
        if outcome.error:
            return RunStatus.FAILED, outcome.error
        if outcome.exit_code == 0:
            return RunStatus.SUCCEEDED, None
        return RunStatus.FAILED, f"exit {outcome.exit_code}"

