"""The job set the console shows (the scheduler's, as it stored it, else the local jobs.toml), and what to
say when it changes: a reload the scheduler made, or a refused file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from panda_tui.config import Config
from panda_tui.readmodel.health import REMOVED, JobHealth
from panda_tui.readmodel.running import JobSource
from panda_tui.store.ledger import Run, Trigger


LEFT = f"{REMOVED}: no longer listed (its last run ended)"  # the detail line of a job gone from the list
CHANGED = "jobs.toml re-read"  # said when the file changed while no scheduler runs
REFUSED = "jobs.toml refused"  # the first words of what is said of a refused file (withdrawn once one is accepted)


@dataclass(frozen=True)
class Notice:
    text: str
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float | None = None


class ShownJobs:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config
        self._seen: tuple | None = None

    def adopt(self, source: JobSource) -> Notice | None:
        """Show the jobs of `source` from now on; what to say about it, if anything (each change once)."""
        key = (source.origin, source.loaded_at, tuple(source.refused))
        if key == self._seen:
            return None
        before, self._seen = self._seen, key
        shown, self.config = self.config, source.config
        if source.refused:
            first = source.refused[0].split(": ", 1)[-1]  # the file's name is in the header already
            more = f" (+{len(source.refused) - 1} more)" if len(source.refused) > 1 else ""
            return Notice(f"{REFUSED} (? shows every error): {first}{more}", "error", 30)
        if before is None or source.config is None or source.config == shown:
            return None
        if before[0] == "scheduler" == source.origin:  # not a scheduler's start storing the jobs it had before
            return Notice(f"the scheduler reloaded: {len(source.config.jobs)} jobs")
        if source.origin == "local":  # no scheduler runs: the list follows the file
            return Notice(f"{CHANGED}: {len(source.config.jobs)} jobs listed, as a scheduler would run them")
        return None

    def schedules(self) -> dict[str, str]:
        """Each job's schedule as the SCHEDULE column writes it (with its zone when not UTC)."""
        if self.config is None:
            return {}
        return {name: job.schedule.expr + ("" if job.tz == "UTC" else f" {job.tz}")
                for name, job in self.config.jobs.items()}

    def about(self, name: str, health: JobHealth | None = None, runs: Sequence[Run] = ()) -> str:
        """The job's schedule in words, for the trend line. A job no longer listed (`health` None) whose runs
        were not `exec`'s left jobs.toml: said so, never called an exec job."""
        if health is not None and health.removed:
            return REMOVED
        job = self.config.jobs.get(name) if self.config is not None else None
        if job is not None:
            return job.schedule.explain()
        if health is None and not any(r.trigger == Trigger.EXTERNAL for r in runs):
            return LEFT
        return "not in jobs.toml: run only by `panda-tui exec`"
