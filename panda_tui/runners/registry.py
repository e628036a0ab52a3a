"""Which runner carries out a job: local processes, one Docker runner per engine, one Swarm runner per
manager."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from panda_tui.config import Job
from panda_tui.runners.local import LocalRunner
from panda_tui.store.ledger import Run
from panda_tui.store.state import EngineState

if TYPE_CHECKING:  # imported when first used: a store without Docker jobs never loads the Docker SDK
    from panda_tui.runners.docker import DockerRunner
    from panda_tui.runners.swarm import SwarmRunner


class Runners:
    def __init__(self, db_id: str, runs_dir: str,
                 secrets_now: Callable[[Job], Mapping[str, str]] | None = None):
        self.db_id = db_id
        self.local = LocalRunner(runs_dir)
        self.secrets_now = secrets_now  # a job's secrets as they are now: masks swarm runs adopted late
        self._docker: dict[str | None, DockerRunner] = {}
        self._swarm: dict[str | None, SwarmRunner] = {}

    def for_job(self, job: Job) -> LocalRunner | DockerRunner | SwarmRunner:
        kind = job.runner_kind
        if kind == "swarm":
            return self.swarm(job.docker_host)
        if kind == "docker":
            return self.docker(job.docker_host)
        return self.local

    def for_run(self, run: Run, job: Job) -> LocalRunner | DockerRunner | SwarmRunner:
        """The runner a run was started by: a container stays on the engine it ran on, and a service on its
        swarm, even if jobs.toml has changed since."""
        if run.runner not in ("docker", "swarm"):
            return self.local
        host = run.docker_host if run.docker_host and run.docker_host != "local" else (job.docker_host if job.image else None)
        return self.swarm(host) if run.runner == "swarm" else self.docker(host)

    def docker(self, host: str | None) -> DockerRunner:
        if host not in self._docker:
            from panda_tui.runners.docker import DockerRunner
            self._docker[host] = DockerRunner(host, self.db_id)
        return self._docker[host]

    def swarm(self, host: str | None) -> SwarmRunner:
        if host not in self._swarm:
            from panda_tui.runners.swarm import SwarmRunner
            self._swarm[host] = SwarmRunner(host, self.db_id, self.secrets_now)
        return self._swarm[host]

    def docker_status(self, hosts: set[str | None],
                      never: Mapping[str | None, Collection[str]] | None = None) -> dict[str, EngineState]:
        """Blocking: ping each engine. Keys are the host as configured ("local" for the default). `never`: the
        images of pull = "never" jobs, by host: those an engine that answers lacks are listed as `missing`
        (every run of theirs would fail). A swarm manager that answers again gets what could not be removed
        while it was away removed."""
        out: dict[str, EngineState] = {}
        for host in hosts:
            up, error = self.docker(host).ping()
            out[host or "local"] = {"up": up, "error": error}
            if up and (never or {}).get(host):
                out[host or "local"]["missing"] = self.docker(host).missing((never or {})[host])
            if up and host in self._swarm:
                self._swarm[host].remove_leftovers()
        return out

    def sweep(self, jobs: Iterable[Job], keep: Collection[int], upto: int) -> None:
        """Remove, on threads of their own, what runs up to `upto` that are over (not in `keep`) left on each
        swarm: services and secrets a scheduler killed before it cleaned up."""
        hosts = {job.docker_host for job in jobs if job.runner_kind == "swarm"} | set(self._swarm)
        for host in hosts:
            runner = self.swarm(host)
            threading.Thread(target=runner.sweep, args=(set(keep), upto), daemon=True,
                             name="panda-swarm-sweep").start()
