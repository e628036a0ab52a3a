"""A fake runner for pure scheduling tests: runs end only when the test says so."""

from __future__ import annotations

import asyncio
import time

from panda_tui.runners.base import Attempt, Lost, Outcome


class FakeHandle:
    docker_host = None
    node = None

    def __init__(self, attempt: Attempt, sink):
        self.attempt = attempt
        self.sink = sink
        self.ref = f"fake:{attempt.run_id}"
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()
        self.stopped = False

    async def wait(self) -> Outcome:
        return await asyncio.shield(self.done)

    async def stop(self, grace: float) -> None:
        self.stopped = True
        if not self.done.done():
            self.done.set_result(Outcome(143))

    async def cleanup(self) -> None:
        pass


class FakeRunner:
    kind = "local"

    def __init__(self):
        self.handles: dict[int, FakeHandle] = {}

    async def start(self, attempt: Attempt, sink) -> FakeHandle:
        handle = FakeHandle(attempt, sink)
        self.handles[attempt.run_id] = handle
        sink.line("out", f"fake run {attempt.run_id}")
        return handle

    async def reattach(self, run, job, open_sink) -> Lost:
        return Lost("a fake run does not outlive its scheduler")

    def finish(self, run_id: int, code: int = 0) -> None:
        self.handles[run_id].done.set_result(Outcome(code))


class FakeRunners:
    def __init__(self):
        self.fake = FakeRunner()

    def for_job(self, job):
        return self.fake

    def for_run(self, run, job):
        return self.fake

    def docker_status(self, hosts):
        return {}

    def sweep(self, jobs, keep, upto):
        pass


async def eventually(cond, timeout: float = 5.0) -> None:
    """Let tasks and the log writer thread progress until cond() holds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
