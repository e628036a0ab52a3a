"""Settle runs that a previous scheduler left queued or running, before the first dispatch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from panda_tui.store import runs

if TYPE_CHECKING:
    from panda_tui.engine.scheduler import Scheduler


async def reconcile(sched: Scheduler) -> None:
    for run in runs.active(sched.conn):
        job = sched.config.jobs.get(run.job)
        if run.status == "queued":
            _requeue(sched, run, job)
        else:
            await _adopt(sched, run, job)


def _requeue(sched: Scheduler, run, job) -> None:
    if job is None:
        _settle(sched, run, "skipped", "job removed from jobs.toml")
    elif run.not_before is not None:
        sched.add_retry(run.not_before, run.id)
    elif sched.clock.now() - run.scheduled_at > job.starting_deadline:
        _settle(sched, run, "missed", "scheduler stopped before it started, and it is now past starting_deadline")
    else:
        sched.admit(job, run.id, run.trigger)


async def _adopt(sched: Scheduler, run, job) -> None:
    """Re-attach to a run that outlived the previous scheduler, or settle it as lost."""
    if run.runner == "docker":
        from panda_tui.runners.docker import adopt
    else:
        from panda_tui.runners.local import adopt
    if job is None:
        from panda_tui.engine.scheduler import _ghost
        job = _ghost(run.job)
    result = await adopt(sched, run, job)
    if isinstance(result, str):
        _settle(sched, run, "lost", result)


def _settle(sched: Scheduler, run, status: str, reason: str) -> None:
    if sched.db(runs.finish, run.id, status, sched.clock.now(), reason=reason):
        sched.events.emit("reconciled", run.job, run.id, status=status, reason=reason)
        sched.alerter.on_run(run.id, job_name=run.job)
