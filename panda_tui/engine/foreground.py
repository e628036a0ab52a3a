"""One attempt of a job in the foreground, outside any scheduler's loop: `panda-tui run` (and `exec`).

The run is a ledger row like any other, so consoles see it live; it takes no lease, so a scheduler may
run beside it. A signal to this process (Ctrl-C, `timeout`, a CI cancellation, systemd) stops the run
and records it killed."""

from __future__ import annotations

import asyncio
import signal

from panda_tui.config import Config, Job
from panda_tui.engine.execution import Execution
from panda_tui.engine.wiring import Tee, build
from panda_tui.store.ledger import Run, Trigger, get

SIGNALS = {signal.SIGINT: "interrupted (SIGINT)", signal.SIGTERM: "stopped by SIGTERM",
           signal.SIGHUP: "stopped by SIGHUP (the terminal went away)"}


async def run_in_foreground(config: Config, db_path: str, job: Job, *, tee: Tee | None = None,
                            trigger: Trigger = Trigger.MANUAL, secrets_file: str | None = None) -> Run:
    """Run `job` once now and return its final ledger row."""
    sched = build(config, db_path, role="run", watch_config=False, tee=tee, secrets_file=secrets_file)
    ledger, clock = sched.ledger, sched.clock
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    try:
        now = clock.now()
        with ledger.transaction():
            queued = ledger.insert(job.name, now, trigger=trigger, now=now, runner=job.runner_kind)
            run = ledger.start(queued.id, now)
        execution = Execution(sched.ctx, run, job, lambda _e, _final: finished.set_result(None))
        for sig, why in SIGNALS.items():
            loop.add_signal_handler(sig, execution.kill, why)
        try:
            await execution.start_new()
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)
        await finished
        return get(ledger.conn, run.id)
    finally:
        await sched.shutdown(grace=0)
