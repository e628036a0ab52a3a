"""The control verbs: trigger, pause, resume, kill (see requests.RunCommands). They decide what a request
means and answer it in words; starting, queueing and stopping runs is Flight's."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from panda_tui.clock import Clock
from panda_tui.config import Job
from panda_tui.engine import owners
from panda_tui.engine.flight import Flight
from panda_tui.engine.requests import RequestError
from panda_tui.store import state
from panda_tui.store.ledger import Ledger, Run, RunStatus, Trigger, get, newest_paused_slot
from panda_tui.store.ledger import active as ledger_active
from panda_tui.store.specs import job_spec
from panda_tui.text import iso


class Commands:
    def __init__(self, flight: Flight, ledger: Ledger, clock: Clock, jobs: Callable[[], Mapping[str, Job]],
                 add_retry: Callable[[float, int], None]):
        self.flight = flight
        self.ledger = ledger
        self.clock = clock
        self.jobs = jobs  # the running config's jobs, as they are now
        self.add_retry = add_retry

    def knows(self, name: str) -> bool:
        return name in self.jobs()

    def trigger(self, name: str, at: float) -> str:
        """A manual run now (as if scheduled at `at` when that is past), or at `at` when it is ahead."""
        job, now = self.jobs()[name], self.clock.now()
        if at <= now + 1:
            return self.flight.dispatch(job, at, Trigger.MANUAL)
        run = self.ledger.insert(job.name, at, trigger=Trigger.MANUAL, now=now, not_before=at,
                                 runner=job.runner_kind, spec=job_spec(job))
        if run is None:
            raise RequestError(f"a manual run of {name} at {iso(at)} is already in the ledger")
        self.add_retry(at, run.id)  # it waits in the timeline like a retry, and survives a restart like one
        return f"run {run.id} scheduled for {iso(at)}"

    def pause(self, name: str) -> str:
        paused = self.flight.paused
        if name in paused:
            return f"{name} is already paused (resume it with `panda-tui resume {name}` or p in the console)"
        with self.ledger.transaction() as conn:
            state.set_paused(conn, name, True, self.clock.now())
        paused.add(name)
        held = len(self.flight.queues[name])
        return (f"{name} paused: its slots are recorded as skipped until resumed"
                + (f"; {held} queued run{'s' if held != 1 else ''} wait for resume" if held else ""))

    def resume(self, name: str, catchup: bool) -> str:
        if name not in self.flight.paused:
            return f"{name} is not paused: nothing to resume"
        with self.ledger.transaction() as conn:
            state.set_paused(conn, name, False, self.clock.now())
        self.flight.paused.discard(name)
        job = self.jobs()[name]
        self.flight.drain(job)
        if not catchup:
            return f"{name} resumed"
        newest = newest_paused_slot(self.ledger.conn, name)
        if newest is None:
            return f"{name} resumed; no skipped slot to catch up"
        return f"{name} resumed; " + self.flight.dispatch(job, newest[0], Trigger.CATCHUP, attempt=newest[1] + 1,
                                                          check_deadline=False)

    def forget(self, name: str) -> str:
        """Remove a job no config declares (an `exec` typo, a cron job moved away): its runs and logs."""
        if name in self.jobs():
            raise RequestError(f'"{name}" is in jobs.toml: remove it there (and reload) before forgetting it')
        if self.flight.executions(name) or ledger_active(self.ledger.conn, name):
            raise RequestError(f'"{name}" has a run in progress: kill it or let it end first')
        with self.ledger.transaction() as conn:
            shown = state.forget_outside_job(conn, name, self.clock.now())
            removed = self.ledger.forget(name)
        self.flight.paused.discard(name)
        if not removed and not shown:
            raise RequestError(f'no job named "{name}" in the store')
        return f"{name} forgotten: {removed} run{'s' if removed != 1 else ''} and their logs removed"

    def kill_run(self, run_id: int) -> str:
        run = get(self.ledger.conn, run_id)
        if run is None:
            raise RequestError(f"no run {run_id}")
        execution = self.flight.tracked(run.job, run.id)
        if execution is not None:
            execution.kill("killed on request")
            return f"killing run {run.id} ({run.job})"
        if run.status == RunStatus.RUNNING and run.owner:
            return self._stop_owned(run)
        if run.status != RunStatus.QUEUED:
            raise RequestError(f"run {run.id} is not running ({run.status})")
        self.flight.dequeue(run.id, run.job)
        self.ledger.finish(run.id, RunStatus.KILLED, self.clock.now(), reason="killed on request")
        return f"run {run.id} removed from the queue"

    def kill_job(self, name: str) -> str:
        active = self.flight.executions(name)
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
