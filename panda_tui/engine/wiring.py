"""The one place the engine is put together, for the daemon, an embedded console and `panda-tui run`
alike: each part is handed what it needs, and its cleanup is registered on the scheduler's exit stack."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from panda_tui import decisions as d
from panda_tui.alerts.alerter import Alerter
from panda_tui.clock import Clock, SystemClock
from panda_tui.config import Config, Job
from panda_tui.engine.config_source import ConfigSource
from panda_tui.engine.docker_watch import DockerWatch
from panda_tui.engine.events import DecisionLog, EventLog
from panda_tui.engine.execution import RunContext
from panda_tui.engine.notify import Notifier
from panda_tui.engine.ownership import Ownership
from panda_tui.engine.scheduler import Scheduler
from panda_tui.engine.store_health import StoreHealth
from panda_tui.engine.supervision import Standing, Systemd, stall_from_environ
from panda_tui.runners import keeper
from panda_tui.runners.registry import Runners
from panda_tui.secrets import Redactor, available, reachable_mask, resolve
from panda_tui.store import budget
from panda_tui.store.db import Database, db_id
from panda_tui.store.ledger import Ledger, Run
from panda_tui.store.logs import LogWriter, RunLog

Tee = Callable[[str, str], None]


@dataclass
class Parts:
    """What every run needs, put together once: the run context, the store it writes and its alerts."""
    ctx: RunContext
    db: Database
    events: EventLog
    alerter: Alerter


def run_context(config: Callable[[], Config], db_path: str, exits: AsyncExitStack, *, clock: Clock | None = None,
                events: EventLog | None = None, runners: Runners | None = None, tee: Tee | None = None) -> Parts:
    """The RunContext factory, for a scheduler and a foreground run (`run`, `exec`) alike; `config` gives the
    config as it is now. The store and the log writer are closed by `exits`."""
    clock = clock or SystemClock()
    events = events or EventLog()
    db = Database(db_path)
    exits.callback(db.close)
    ident = db_id(db.conn)
    writer = LogWriter(db_path, lock=db.lock)
    writer.budget_of = lambda: (config().store.max_size, config().store.keep_free)  # [store], as reloaded
    exits.push_async_callback(asyncio.to_thread, writer.close)
    ledger = Ledger(db, on_error=lambda who, exc: events.emit(
        d.SubscriberError(who, f"{type(exc).__name__}: {exc}")))
    ledger.subscribe(DecisionLog(events).on_change)
    runners = runners or Runners(ident, keeper.runs_dir(db_path),
                                 secrets_now=lambda job: resolve(job, available(config())))

    def open_sink(run: Run, job: Job, redact: Redactor, resume: dict[str, Any] | None) -> RunLog:
        return RunLog(writer, run.id, redact=redact or None, max_lines=job.log_max_lines,
                      max_bytes=job.log_max_bytes, tee=tee, **(resume or {}))

    ctx = RunContext(
        ledger=ledger, clock=clock, runners=runners, open_sink=open_sink,
        secrets=lambda job: resolve(job, available(config())),
        labels=lambda job, run: {"panda.job": job.name, "panda.run_id": str(run.id), "panda.db": ident},
        report=events.emit, store=StoreHealth(clock, events.emit))
    alerter = Alerter(config, clock)
    ledger.subscribe_in_transaction(alerter.on_change)
    return Parts(ctx, db, events, alerter)


def build(config: Config, db_path: str, *, role: str = "daemon", clock: Clock | None = None,
          events: EventLog | None = None, runners: Runners | None = None, watch_config: bool = True,
          secrets_file: str | None = None, tee: Tee | None = None) -> Scheduler:
    """A scheduler on `db_path`, not yet started: acquire(), start() and run() are the caller's."""
    exits = AsyncExitStack()
    parts = run_context(lambda: sched.config, db_path, exits, clock=clock, events=events, runners=runners, tee=tee)
    ctx, db, events, clock = parts.ctx, parts.db, parts.events, parts.ctx.clock
    ownership = Ownership(db, clock, role)
    sched = Scheduler(config, ctx, ownership, events, ConfigSource(config.path, secrets_file, watch_config),
                      DockerWatch(db, ctx.runners, clock, events.emit))
    sched.exits = exits
    sched.on_config.append(lambda cfg: setattr(events, "redact", reachable_mask(cfg)))
    _tune_wal(config, db)
    sched.on_config.append(lambda cfg: _tune_wal(cfg, db))
    sched.exits.callback(ownership.release)
    sched.on_start.append(lambda exits: _start_delivery(db, sched, clock, events, parts.alerter, exits))
    return sched


def _tune_wal(config: Config, db: Database) -> None:
    """The ledger's connection checkpoints its -wal in time for the [store] budget (the log writer keeps to
    the budget itself)."""
    try:
        budget.tune(db.conn, budget.measure(db.conn, db.path, config.store.max_size, config.store.keep_free))
    except sqlite3.Error:
        pass  # a store that cannot be read now: the writer measures again at its next commit


def supervise(sched: Scheduler, notifier: Notifier, events: EventLog) -> None:
    """Under systemd (NOTIFY_SOCKET set), the loop reports READY, WATCHDOG, STATUS and STOPPING."""
    if not notifier.enabled:
        return
    standing = Standing(sched.conn, lambda: sched.config.jobs, lambda: len(sched.flight.executions()))
    sched.ledger.subscribe(standing.on_change)
    sched.supervision = Systemd(notifier, standing.line, sched.clock.monotonic, stall_from_environ(events.emit))
    sched.exits.callback(notifier.close)


async def _start_delivery(db: Database, sched: Scheduler, clock: Clock, events: EventLog, alerter: Alerter,
                          exits: AsyncExitStack) -> None:
    from panda_tui.alerts.delivery import Deliverer, start_delivery
    deliverer = Deliverer(db, lambda: sched.config, clock, None, events.emit, on_pass=lambda: alerter.check_slow(db))
    await start_delivery(deliverer, exits)
