"""Carry out control requests from consoles and the CLI: trigger, pause, resume, kill, reload, forget, ack, unack.

The verbs of the runs in flight and a way to reload are all this needs; it never reaches into state."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Protocol

from panda_tui import fields
from panda_tui import decisions as d
from panda_tui.store.acking import AckRefused, carry_out
from panda_tui.clock import Clock
from panda_tui.engine.events import EventLog
from panda_tui.engine.store_health import NOT_WRITTEN, StoreHealth
from panda_tui.store import control
from panda_tui.store.control import ControlKind, Request
from panda_tui.store.ledger import Ledger, latest


class RequestError(Exception):
    """The request cannot be carried out; the message is the answer."""


class RunCommands(Protocol):
    def knows(self, job: str) -> bool: ...
    def trigger(self, job: str, at: float) -> str: ...
    def pause(self, job: str) -> str: ...
    def resume(self, job: str, catchup: bool) -> str: ...
    def kill_run(self, run_id: int) -> str: ...
    def kill_job(self, job: str) -> str: ...
    def forget(self, job: str) -> str: ...


async def handle(req: Request, commands: RunCommands, reload: Callable[[str], Awaitable[tuple[bool, str]]],
                 ran: Callable[[str], bool] = lambda job: False) -> str:
    """The answer to one request; RequestError when it cannot be carried out. `ran`: whether the store holds
    runs of a job (one only `panda-tui exec` runs has no schedule here to trigger, pause or resume)."""
    if req.kind == "reload":
        ok, message = await reload("requested")
        if not ok:
            raise RequestError(f"jobs.toml refused, the last good config keeps running: {message}")
        return message
    if req.kind == "kill":
        return commands.kill_run(req.run_id) if req.run_id is not None else commands.kill_job(req.job or "")
    if req.kind == "forget":
        return commands.forget(req.job or "")
    if req.job is None or not commands.knows(req.job):
        raise unknown(req, ran)
    if req.kind == "trigger":
        at = req.args.get("at")
        try:
            when = fields.instant(at if at is not None else req.requested_at)
        except ValueError as exc:
            raise RequestError(f"trigger {req.job}: at: {exc}") from None
        return commands.trigger(req.job, when)
    if req.kind == "pause":
        return commands.pause(req.job)
    if req.kind == "resume":
        return commands.resume(req.job, bool(req.args.get("catchup")))
    raise RequestError(f"unknown request kind {req.kind!r}")


def unknown(req: Request, ran: Callable[[str], bool]) -> RequestError:
    """Why a job not in the running config cannot be steered: run only by `exec`, or nobody knows it."""
    if req.job and ran(req.job):
        what = "resume" if req.kind == ControlKind.RESUME else "trigger or pause"
        return RequestError(f'"{req.job}" is run only by panda-tui exec: it has no schedule here to {what}')
    return RequestError(f'no job named "{req.job}" in the running config')


class ControlDesk:
    """Takes the requests consoles and the CLI left in the store, carries each out, and answers it."""

    def __init__(self, ledger: Ledger, store: StoreHealth, clock: Clock, events: EventLog):
        self.ledger, self.store, self.clock, self.events = ledger, store, clock, events
        self._data_version = -1

    async def take(self, commands: RunCommands, reload: Callable[[str], Awaitable[tuple[bool, str]]]) -> None:
        version = self.ledger.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return  # nobody wrote anything since the last look: cheap
        pending = self.store.attempt("take control requests", self._take_pending)
        if pending is NOT_WRITTEN:
            return  # they stay pending, and are taken once the store can be written
        self._data_version = version
        for req in pending:
            try:
                if req.kind in (ControlKind.ACK, ControlKind.UNACK):
                    outcome, error = self._acknowledge(req, commands), None
                else:
                    outcome, error = await handle(req, commands, reload, self._ran), None
            except (RequestError, AckRefused) as exc:
                outcome, error = None, str(exc)
            except sqlite3.Error as exc:
                self.store.failed(f"carry out a {req.kind} request", exc)
                outcome, error = None, f"the store could not be written: {exc}"
            except Exception as exc:  # noqa: BLE001 - the engine never dies of a request: this row fails alone
                outcome, error = None, f"internal error: {type(exc).__name__}: {str(exc)[:200]}"
            self.store.attempt("answer a control request", lambda: self._complete(req.id, outcome, error))
            self.events.emit(d.Control(req.job, req.run_id, str(req.kind), outcome, error))

    def _ran(self, job: str) -> bool:
        return latest(self.ledger.conn, job) is not None

    def _acknowledge(self, req: Request, commands: RunCommands) -> str:
        """ack / unack: recorded in the store, where the alerter reads it; a job only `exec` runs (known from
        its runs) can be acknowledged like any."""
        if not commands.knows(req.job or "") and not self._ran(req.job or ""):
            raise unknown(req, self._ran)
        with self.ledger.transaction() as conn:
            return carry_out(conn, req.kind == ControlKind.ACK, req.job or "", req.args, self.clock.now())

    def _take_pending(self) -> list[Request]:
        with self.ledger.transaction() as conn:
            return control.take_pending(conn, self.clock.now())

    def _complete(self, request_id: int, outcome: str | None, error: str | None) -> None:
        with self.ledger.transaction() as conn:
            control.complete(conn, request_id, self.clock.now(), outcome, error)
