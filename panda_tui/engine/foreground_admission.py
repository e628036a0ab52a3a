"""The admission rule for a run this process carries out itself (`run`, `exec`), read from the store.

A scheduler knows its own runs in memory; a foreground process knows them from the ledger: the job's runs
`running` now (a scheduler's, another `exec`'s), its queue, and whether it is paused. The row is written
and admitted in one transaction, so two `exec` of a `forbid` job started at once cannot both run.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from panda_tui.config import Job
from panda_tui.engine import owners
from panda_tui.engine.admission import Action, active_words, admit
from panda_tui.engine.execution import Execution, RunContext
from panda_tui.engine.reconcile import Adopted, settle
from panda_tui.secrets import Redactor
from panda_tui.store import state
from panda_tui.store.ledger import Ledger, Run, RunStatus, Trigger, active
from panda_tui.store.logs import RunLog
from panda_tui.store.specs import job_spec

ORPHAN_LOOK = 1.0  # seconds to let an orphan whose command already ended be recorded before admission


def admit_here(ledger: Ledger, job: Job, trigger: Trigger, now: float, owner: str, *, force: bool = False) -> Run:
    """Write the run and admit it: `running` (owned by `owner`) when it may start, else `skipped` with the
    reason. `force` starts it whatever the rule says (a local test)."""
    with ledger.transaction() as conn:
        runs = active(conn, job.name)
        running = [r.id for r in runs if r.status == RunStatus.RUNNING]
        queued = sum(1 for r in runs if r.status == RunStatus.QUEUED)
        paused = job.name in state.paused_jobs(conn)
        run = ledger.insert(job.name, now, trigger=trigger, now=now, runner=job.runner_kind, owner=owner,
                            spec=job_spec(job))
        assert run is not None  # a new slot of its own: `now` differs from every earlier one
        if trigger == Trigger.EXTERNAL:
            state.note_outside_job(conn, job.name, now)
        catching_up = [r.id for r in runs if r.trigger == Trigger.CATCHUP]
        decision = admit(job, active=running, queued=queued, paused=paused, trigger=trigger, catching_up=catching_up)
        if force or decision.action == Action.START:
            started = ledger.start(run.id, now)
            assert started is not None
            return started
        reason = decision.reason or ""
        if decision.action == Action.QUEUE and reason != "paused":
            reason = f"overlap: {active_words(running, catching_up)} still running (a foreground run does not queue)"
        elif decision.action == Action.REPLACE:
            reason = f"overlap: {active_words(running, catching_up)} still running (a foreground run replaces none)"
        skipped = ledger.skip(run.id, reason, now)
        assert skipped is not None
        return skipped


async def settle_orphans(ctx: RunContext, job: Job, exits: AsyncExitStack) -> None:
    """Runs of `job` left `running` by a process that died (an `exec` killed, or one that could not record
    the end; a scheduler), called while no scheduler is up: recorded from what their runner left, so they
    do not block admission for ever. A command that still runs stays `running` (admission then sees it),
    for the next scheduler, `run` or `exec` to settle."""
    ledger = ctx.ledger
    # A run with no owner was released by an earlier `exec`, or left by a dead scheduler: a local one is
    # settled from its keeper; a container is left to the next scheduler.
    found = [r for r in active(ledger.conn, job.name)
             if r.status == RunStatus.RUNNING and not owners.alive(r.owner) and (r.owner or r.runner == "local")]
    tasks = []

    def quiet_sink(run: Run, job: Job, redact: Redactor, resume: dict[str, Any] | None) -> RunLog:
        sink = ctx.open_sink(run, job, redact, resume)
        sink.tee = None  # its lines are its own, not this process's terminal's
        return sink

    for run in found:
        adopted = await settle(ledger, ctx.runners, job, ctx.clock, quiet_sink, run)
        if isinstance(adopted, Adopted):
            execution = Execution(ctx, adopted.run, adopted.job, lambda _e, _r: None)
            tasks.append(asyncio.ensure_future(execution.resume(adopted.handle)))
    if not tasks:
        return
    _, still = await asyncio.wait(tasks, timeout=ORPHAN_LOOK)
    for task in still:  # still running: released (owner cleared), so the next scheduler re-attaches it
        task.cancel()
    if still:
        exits.push_async_callback(_gathered, still)


async def _gathered(tasks: set[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
