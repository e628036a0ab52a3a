"""Carry out control requests from consoles and the CLI: trigger, pause, resume, kill, reload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from panda_tui.store import control, runs, state
from panda_tui.store.control import Request

if TYPE_CHECKING:
    from panda_tui.engine.scheduler import Scheduler


class RequestError(Exception):
    """The request cannot be carried out; the message is the answer."""


async def handle_pending(sched: Scheduler) -> None:
    for req in control.take_pending(sched.conn, sched.clock.now()):
        try:
            outcome, error = handle(sched, req), None
        except RequestError as exc:
            outcome, error = None, str(exc)
        sched.db(control.complete, req.id, sched.clock.now(), outcome, error)
        sched.events.emit("control", req.job, req.run_id, kind=req.kind, outcome=outcome, error=error)


def handle(sched: Scheduler, req: Request) -> str:
    if req.kind == "reload":
        ok, message = sched.reload("requested")
        if not ok:
            raise RequestError(f"jobs.toml refused, the last good config keeps running: {message}")
        return message
    if req.kind == "kill":
        return _kill(sched, req)
    job = sched.config.jobs.get(req.job or "")
    if job is None:
        raise RequestError(f'no job named "{req.job}" in the running config')
    now = sched.clock.now()
    if req.kind == "trigger":
        at = req.args.get("at")
        return sched.dispatch(job, float(at) if at is not None else req.requested_at, "manual")
    if req.kind == "pause":
        sched.db(state.set_paused, job.name, True, now)
        sched.paused.add(job.name)
        return f"{job.name} paused: its slots are recorded as skipped until resumed"
    if req.kind == "resume":
        sched.db(state.set_paused, job.name, False, now)
        sched.paused.discard(job.name)
        if req.args.get("catchup"):
            return f"{job.name} resumed; " + _run_newest_skipped(sched, job)
        return f"{job.name} resumed"
    raise RequestError(f"unknown request kind {req.kind!r}")


def _kill(sched: Scheduler, req: Request) -> str:
    reason = "killed on request"
    if req.run_id is not None:
        run = runs.get(sched.conn, req.run_id)
        if run is None:
            raise RequestError(f"no run {req.run_id}")
        execution = sched.active.get(run.job, {}).get(run.id)
        if execution is None:
            if run.status == "queued":
                if run.id in sched.queues[run.job]:
                    sched.queues[run.job].remove(run.id)
                sched.db(runs.finish, run.id, "killed", sched.clock.now(), reason=reason)
                return f"run {run.id} removed from the queue"
            raise RequestError(f"run {run.id} is not running ({run.status})")
        execution.kill(reason)
        return f"killing run {run.id} ({run.job})"
    if req.job not in sched.config.jobs and not sched.active.get(req.job or ""):
        raise RequestError(f'no job named "{req.job}"')
    active = list(sched.active.get(req.job or "", {}).values())
    if not active:
        raise RequestError(f"{req.job} has no running run")
    for execution in active:
        execution.kill(reason)
    return f"killing run {', '.join(str(e.run_id) for e in active)} ({req.job})"


def _run_newest_skipped(sched: Scheduler, job) -> str:
    row = sched.conn.execute(
        "SELECT scheduled_at, MAX(attempt) FROM runs WHERE job=? AND status='skipped' AND reason='paused'"
        " GROUP BY scheduled_at ORDER BY scheduled_at DESC LIMIT 1", (job.name,)).fetchone()
    if row is None:
        return "no skipped slot to catch up"
    return sched.dispatch(job, row[0], "catchup", attempt=row[1] + 1, check_deadline=False)
