"""Carry out control requests from consoles and the CLI: trigger, pause, resume, kill, reload.

The verbs of the runs in flight and a way to reload are all this needs; it never reaches into state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from panda_tui.store.control import Request


class RequestError(Exception):
    """The request cannot be carried out; the message is the answer."""


class RunCommands(Protocol):
    def knows(self, job: str) -> bool: ...
    def trigger(self, job: str, at: float) -> str: ...
    def pause(self, job: str) -> str: ...
    def resume(self, job: str, catchup: bool) -> str: ...
    def kill_run(self, run_id: int) -> str: ...
    def kill_job(self, job: str) -> str: ...


async def handle(req: Request, commands: RunCommands, reload: Callable[[str], Awaitable[tuple[bool, str]]]) -> str:
    """The answer to one request; RequestError when it cannot be carried out."""
    if req.kind == "reload":
        ok, message = await reload("requested")
        if not ok:
            raise RequestError(f"jobs.toml refused, the last good config keeps running: {message}")
        return message
    if req.kind == "kill":
        return commands.kill_run(req.run_id) if req.run_id is not None else commands.kill_job(req.job or "")
    if not commands.knows(req.job or ""):
        raise RequestError(f'no job named "{req.job}" in the running config')
    if req.kind == "trigger":
        at = req.args.get("at")
        return commands.trigger(req.job, float(at) if at is not None else req.requested_at)
    if req.kind == "pause":
        return commands.pause(req.job)
    if req.kind == "resume":
        return commands.resume(req.job, bool(req.args.get("catchup")))
    raise RequestError(f"unknown request kind {req.kind!r}")
