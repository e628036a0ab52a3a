"""Whether each Docker engine the jobs use answers, kept in the store for consoles and `status`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from panda_tui import decisions as d
from panda_tui.clock import Clock
from panda_tui.config import Job
from panda_tui.runners.registry import Runners
from panda_tui.store import state
from panda_tui.store.db import Database


class DockerWatch:
    def __init__(self, db: Database, runners: Runners, clock: Clock, report: Callable[[d.Decision], None]):
        self.db = db
        self.runners = runners
        self.clock = clock
        self.report = report
        self._task: asyncio.Task[None] | None = None

    def poke(self, jobs: Iterable[Job]) -> None:
        """Start a check of the engines of the container jobs unless one is still under way: a hung engine
        never piles checks up. The images of pull = "never" jobs are looked up too."""
        hosts: set[str | None] = set()
        never: dict[str | None, set[str]] = {}
        for job in jobs:
            if job.image:
                hosts.add(job.docker_host)
                if job.pull == "never" and job.runner_kind == "docker":
                    never.setdefault(job.docker_host, set()).add(job.image)
        if hosts and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._check(hosts, never))

    async def _check(self, hosts: set[str | None], never: dict[str | None, set[str]]) -> None:
        status = await asyncio.to_thread(self.runners.docker_status, hosts, never)
        previous = state.engines(self.db.conn)

        def seen(found: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
            return {k: (v.get("up"), v.get("error")) for k, v in found.items()}
        if seen(status) != seen(previous):
            for host, info in status.items():
                self.report((d.EngineUp if info["up"] else d.EngineDown)(host, info["error"]))
        now = self.clock.now()
        try:
            with self.db.transaction() as conn:
                state.put_engines(conn, status, now)
        except sqlite3.Error:
            pass  # a full disk: the next check writes it (the scheduler reports the store's trouble)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
