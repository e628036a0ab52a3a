"""Which runner carries out a job: local processes, or one Docker runner per engine."""

from __future__ import annotations

from typing import Any

from panda_tui.config import Job
from panda_tui.runners.local import LocalRunner
from panda_tui.store.ledger import Run


class Runners:
    def __init__(self, db_id: str, runs_dir: str):
        self.db_id = db_id
        self.local = LocalRunner(runs_dir)
        self._docker: dict[str | None, Any] = {}

    def for_job(self, job: Job):
        if not job.image:
            return self.local
        return self.docker(job.docker_host)

    def for_run(self, run: Run, job: Job):
        """The runner a run was started by: a container stays on the engine it ran on, even if jobs.toml
        has changed since."""
        if run.runner != "docker":
            return self.local
        host = run.docker_host if run.docker_host and run.docker_host != "local" else (job.docker_host if job.image else None)
        return self.docker(host)

    def docker(self, host: str | None):
        if host not in self._docker:
            from panda_tui.runners.docker import DockerRunner
            self._docker[host] = DockerRunner(host, self.db_id)
        return self._docker[host]

    def docker_status(self, hosts: set[str | None]) -> dict[str, dict]:
        """Blocking: ping each engine. Keys are the host as configured ("local" for the default)."""
        out = {}
        for host in hosts:
            up, error = self.docker(host).ping()
            out[host or "local"] = {"up": up, "error": error}
        return out
