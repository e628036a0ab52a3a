"""One attempt of a job in the foreground, outside any scheduler's loop: `panda-tui run` and `exec`.

The run is a ledger row like any other, so consoles see it live, and it is admitted by the same rule as a
scheduler's runs (engine/admission.py): a `forbid` job whose run is still going, or a paused job's `exec`,
records the run skipped and runs nothing. It takes no lease, so a scheduler may run beside it. The row names
this process as its owner: a scheduler that starts meanwhile leaves the run to it, and takes it over only if
this process dies. A signal to this process (Ctrl-C, `timeout`, a CI cancellation, systemd) stops the run
and records it killed. With no scheduler up, this process delivers the run's own alerts and heartbeat pings
itself, for up to DELIVERY_BUDGET seconds after the end.

When the command has ended but the store cannot take its end (a long writer holds the database), this
process tries for SETTLE_BUDGET seconds, or until a signal, then gives up: `Unrecorded`, with the run left
`running` under this (soon dead) owner, for whoever comes next (a scheduler, the next `run` or `exec` of
the job) to settle from what the run's keeper left behind."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sqlite3
from collections.abc import Callable
from contextlib import AsyncExitStack

from panda_tui.config import Config, Job
from panda_tui.engine import owners
from panda_tui.engine.execution import Execution, RunContext
from panda_tui.engine.foreground_admission import admit_here, settle_orphans
from panda_tui.engine.wiring import Parts, Tee, run_context
from panda_tui.runners.base import Passthrough
from panda_tui.store import lease, logs, outbox
from panda_tui.store.db import StoreError
from panda_tui.store.errors import explain
from panda_tui.store.ledger import Run, RunStatus, Trigger, get

SIGNALS = {signal.SIGINT: "interrupted (SIGINT)", signal.SIGTERM: "stopped by SIGTERM",
           signal.SIGHUP: "stopped by SIGHUP (the terminal went away)",
           owners.STOP_SIGNAL: "killed on request (from a console or panda-tui kill)"}
DELIVERY_BUDGET = 15.0
SETTLE_BUDGET = 20.0  # seconds after the command's end to get its end into a busy store
SETTLE_BUSY = 1.0  # each write's wait on a busy store then: a signal is heard between two tries
SIGNAL_GRACE = 2.0  # after the command's end, what its record gets before a signal ends the wait


class Unrecorded(Exception):
    """The command ended, but its end could not be written: `run` carries the outcome as it would have
    been recorded. The process should exit at once (threads may still wait on the store)."""

    def __init__(self, run: Run, why: str):
        super().__init__(why)
        self.run = run


async def run_in_foreground(config: Config, db_path: str, job: Job, *, tee: Tee | None = None,
                            trigger: Trigger = Trigger.MANUAL, secrets_file: str | None = None,
                            passthrough: Passthrough | None = None, force: bool = False,
                            say: Callable[[str], None] | None = None) -> Run:
    """Run `job` once now, if admission lets it (or `force`), and return its final ledger row (skipped when
    refused). `job` may differ from (or be missing in) the config, as for `exec`: it is the job the run's
    alerts, secrets and limits come from. Raises StoreError when the run cannot even be written (nothing
    ran), Unrecorded when its end could not be (see the module docstring). `say` tells the user about a
    wait on the store."""
    config = dataclasses.replace(config, jobs={**config.jobs, job.name: job})
    async with AsyncExitStack() as exits:
        parts = run_context(lambda: config, db_path, exits, tee=tee)
        ctx = parts.ctx
        scheduler_up = lease.live_holder(ctx.ledger.conn) is not None
        try:
            if not scheduler_up:  # nobody else settles what a dead `exec` of this job left running
                await settle_orphans(ctx, job, exits)
            run = admit_here(ctx.ledger, job, trigger, ctx.clock.now(), owners.this_process(), force=force)
        except sqlite3.Error as exc:  # nothing has run: the caller may run the command unrecorded
            raise StoreError(f"cannot record the run: {explain(db_path, exc)}") from None
        delivery = None if scheduler_up else _Delivery(parts, lambda: config, run.id)
        if delivery is not None:
            exits.push_async_callback(delivery.close)
        if run.status != RunStatus.RUNNING:  # skipped: an alert that asks for skips is sent all the same
            if delivery is not None:
                await delivery.finish(DELIVERY_BUDGET)
            return run
        final, execution = await _carry_out(ctx, run, job, passthrough, say or (lambda _text: None))
        if final is None:
            exits.pop_all()  # closing would wait on the busy store: the caller exits at once instead
            raise Unrecorded(*_unrecorded(run, execution))
        ctx.store.attempt("prune old logs", lambda: _prune(ctx, job))
        if delivery is not None:
            await delivery.finish(DELIVERY_BUDGET)
        return get(ctx.ledger.conn, run.id) or final


async def _carry_out(ctx: RunContext, run: Run, job: Job, passthrough: Passthrough | None,
                     say: Callable[[str], None]) -> tuple[Run | None, Execution]:
    """Start and follow the run; its final row, or None when its end could not be recorded in time."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[Run | None] = loop.create_future()

    def done(_execution: Execution, final: Run | None) -> None:
        if not finished.done():
            finished.set_result(final)

    execution = Execution(ctx, run, job, done, passthrough)
    signalled: list[float] = []

    def on_signal(why: str) -> None:
        signalled.append(loop.time())
        execution.kill(why)

    for sig, why in SIGNALS.items():
        loop.add_signal_handler(sig, on_signal, why)
    task = asyncio.ensure_future(execution.start_new())
    try:
        ended: float | None = None
        said = False
        while not finished.done():
            now = loop.time()
            if execution.verdict is not None:
                if ended is None:  # the command is over: from now on every wait on the store is short
                    ended = now
                    ctx.ledger.db.busy_timeout = SETTLE_BUSY
                give_up = ended + SETTLE_BUDGET
                if signalled:  # a signal once the command is over: stop waiting for the store soon
                    give_up = min(give_up, max(signalled[0], ended + SIGNAL_GRACE))
                if now >= give_up:
                    return None, execution
                if not said and now >= ended + SIGNAL_GRACE:
                    said = True
                    say(f"run {run.id} has ended; the store is busy: waiting up to {SETTLE_BUDGET:.0f} s to "
                        "record it (a signal stops waiting)")
                ctx.store.retry()
            await asyncio.wait({finished}, timeout=0.25)
        await asyncio.wait({task}, timeout=SETTLE_BUDGET)  # cleanup after the record, best effort
        return finished.result() or get(ctx.ledger.conn, run.id), execution
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)


def _unrecorded(run: Run, execution: Execution) -> tuple[Run, str]:
    status, reason, code = execution.verdict or (RunStatus.LOST, None, None)
    why = (f"run {run.id}: the store could not record its end ({status}"
           + (f", exit {code}" if code is not None else "") + "); the next scheduler, `run` or `exec` of "
           f"{run.job} settles it")
    return dataclasses.replace(run, status=status, reason=reason, exit_code=code), why


def _prune(ctx: RunContext, job: Job) -> None:
    with ctx.ledger.transaction() as conn:
        logs.prune(conn, job.name, job.log_keep_runs)


class _Delivery:
    """This run's alerts and pings, sent from here while no scheduler runs (one would send them itself)."""

    def __init__(self, parts: Parts, config: Callable[[], Config], run_id: int):
        from panda_tui.alerts.delivery import Deliverer
        self.run_id = run_id
        self.conn = parts.db.conn
        self.deliverer = Deliverer(parts.db, config, parts.ctx.clock, None, parts.events.emit, run_id=run_id)
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
