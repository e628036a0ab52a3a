"""Settle the runs a previous scheduler left queued or running, before the first dispatch.

Each running run is handed to the runner that started it: it comes back as a handle to follow, or as
lost with the reason. Queued runs are handed back to the scheduler, which admits them again. A run whose
owner (the `panda-tui run` or `exec` process carrying it out) still lives is left alone: that process
reads its output and records its end. Once the owner is gone, its run is settled like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from panda_tui.config import Job
from panda_tui.clock import Clock
from panda_tui.engine import owners
from panda_tui.runners.base import Handle, Lost
from panda_tui.runners.registry import Runners
from panda_tui.schedule import Schedule
from panda_tui.secrets import Redactor
from panda_tui.store import logs
from panda_tui.store.ledger import Ledger, Run, RunStatus, active, newest_id
from panda_tui.store.logs import RunLog


@dataclass(frozen=True)
class Adopted:
    run: Run
    job: Job
    handle: Handle


@dataclass(frozen=True)
class Waiting:
    """A queued run to admit again (a retry waits until its not_before)."""
    run: Run
    job: Job


OpenSink = Callable[[Run, Job, Redactor, dict[str, Any] | None], RunLog]


async def reconcile(ledger: Ledger, runners: Runners, jobs: Mapping[str, Job], clock: Clock,
                    open_sink: OpenSink) -> list[Adopted | Waiting]:
    found: list[Adopted | Waiting] = []
    for run in active(ledger.conn):
        job = jobs.get(run.job)
        if run.status == RunStatus.QUEUED:
            waiting = _requeue(ledger, run, job, clock.now())
            if waiting is not None:
                found.append(waiting)
            continue
        if owners.alive(run.owner):
            continue
        adopted = await settle(ledger, runners, job, clock, open_sink, run)
        if adopted is not None:
            found.append(adopted)
    # what runs that are over left on a swarm (a scheduler killed before it cleaned up): off the loop
    runners.sweep(jobs.values(), {run.id for run in active(ledger.conn)}, newest_id(ledger.conn))
    return found


async def settle(ledger: Ledger, runners: Runners, job: Job | None, clock: Clock, open_sink: OpenSink,
                 run: Run) -> Adopted | None:
    """Find a running run again through its runner: adopted to be followed, or recorded lost."""
    job = job or ghost(run.job)
    if run.owner is not None:
        ledger.release(run.id)
    result = await runners.for_run(run, job).reattach(run, job, _continuing(ledger, run, job, open_sink))
    if isinstance(result, Lost):
        ledger.finish(run.id, RunStatus.LOST, clock.now(), reason=result.reason)
        return None
    return Adopted(run, job, result)


def orphans(ledger: Ledger, tracked: set[int]) -> list[Run]:
    """Runs whose foreground owner died while a scheduler was already up (kill -9 of `exec`)."""
    return [run for run in active(ledger.conn) if run.owner and run.status == RunStatus.RUNNING
            and run.id not in tracked and not owners.alive(run.owner)]


def _requeue(ledger: Ledger, run: Run, job: Job | None, now: float) -> Waiting | None:
    if job is None:
        ledger.skip(run.id, "job removed from jobs.toml", now)
    elif run.not_before is None and now - run.scheduled_at > job.starting_deadline:
        ledger.finish(run.id, RunStatus.MISSED, now,
                      reason="scheduler stopped before it started, and it is now past starting_deadline")
    else:
        return Waiting(run, job)
    return None


def _continuing(ledger: Ledger, run: Run, job: Job, open_sink: OpenSink) -> Callable[[Mapping[str, str]], RunLog]:
    """Opens the log an adopted run continues, masking the secrets it was started with."""
    def open_for(env: Mapping[str, str]) -> RunLog:
        redact = Redactor(env[name] for name in job.secrets if name in env)
        return open_sink(run, job, redact, logs.resume_state(ledger.conn, run.id))
    return open_for


def ghost(name: str) -> Job:
    """A stand-in for a job that left jobs.toml while its run went on."""
    return Job(name=name, schedule=Schedule("@daily"))
