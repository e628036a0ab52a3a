"""One attempt of a job in the foreground, outside any scheduler's loop: `panda-tui run` and `exec`.

The run is a ledger row like any other, so consoles see it live; it takes no lease, so a scheduler may
run beside it. The row names this process as its owner: a scheduler that starts meanwhile leaves the run
to it, and takes it over only if this process dies. A signal to this process (Ctrl-C, `timeout`, a CI
cancellation, systemd) stops the run and records it killed. With no scheduler up, this process delivers
the run's own alerts and heartbeat pings itself, for up to DELIVERY_BUDGET seconds after the end."""

from __future__ import annotations

import asyncio
import dataclasses
import signal

from panda_tui.config import Config, Job
from panda_tui.engine import owners
from panda_tui.engine.execution import Execution
from panda_tui.engine.wiring import Tee, build
from panda_tui.runners.base import Passthrough
from panda_tui.store.specs import job_spec
from panda_tui.store import lease, logs, outbox, state
from panda_tui.store.ledger import Run, Trigger, get

SIGNALS = {signal.SIGINT: "interrupted (SIGINT)", signal.SIGTERM: "stopped by SIGTERM",
           signal.SIGHUP: "stopped by SIGHUP (the terminal went away)",
           owners.STOP_SIGNAL: "killed on request (from a console or panda-tui kill)"}
DELIVERY_BUDGET = 15.0


async def run_in_foreground(config: Config, db_path: str, job: Job, *, tee: Tee | None = None,
                            trigger: Trigger = Trigger.MANUAL, secrets_file: str | None = None,
                            passthrough: Passthrough | None = None) -> Run:
    """Run `job` once now and return its final ledger row. `job` may differ from (or be missing in) the
    config, as for `exec`: it is the job the run's alerts, secrets and limits come from."""
    config = dataclasses.replace(config, jobs={**config.jobs, job.name: job})
    sched = build(config, db_path, role="run", watch_config=False, tee=tee, secrets_file=secrets_file)
    ledger, clock = sched.ledger, sched.clock
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    delivery: _Delivery | None = None
    try:
        now = clock.now()
        with ledger.transaction():
            queued = ledger.insert(job.name, now, trigger=trigger, now=now, runner=job.runner_kind,
                                   owner=owners.this_process(), spec=job_spec(job))
            run = ledger.start(queued.id, now)
            if trigger == Trigger.EXTERNAL:
                state.note_outside_job(ledger.conn, job.name, now)
        if lease.live_holder(ledger.conn) is None:
            delivery = _Delivery(sched, run.id)
        execution = Execution(sched.ctx, run, job, lambda _e, _final: finished.set_result(None), passthrough)
        for sig, why in SIGNALS.items():
            loop.add_signal_handler(sig, execution.kill, why)
        try:
            await execution.start_new()
            await finished
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)
        with ledger.transaction() as conn:
            logs.prune(conn, job.name, job.log_keep_runs)
        if delivery is not None:
            await delivery.finish(DELIVERY_BUDGET)
        return get(ledger.conn, run.id)
    finally:
        if delivery is not None:
            await delivery.close()
        await sched.shutdown(grace=0)


class _Delivery:
    """This run's alerts and pings, sent from here while no scheduler runs (one would send them itself)."""

    def __init__(self, sched, run_id: int):
        from panda_tui.alerts.delivery import Deliverer
        self.run_id = run_id
        self.conn = sched.ledger.conn
        self.deliverer = Deliverer(sched.ledger.db, lambda: sched.config, sched.clock, None, sched.events.emit,
                                   run_id=run_id)
        self.task = asyncio.ensure_future(self.deliverer.run())

    async def finish(self, budget: float) -> None:
        """Wait until nothing of this run is due any more (sent, or waiting out a retry), within `budget`."""
        deadline = asyncio.get_running_loop().time() + budget
        while asyncio.get_running_loop().time() < deadline:
            self.deliverer.tick()
            await self.deliverer.settle()
            if not outbox.due(self.conn, self.deliverer.clock.now(), run_id=self.run_id):
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.deliverer.close()
