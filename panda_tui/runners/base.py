"""The Runner contract: start one attempt, stream its output, stop it, wait for its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from panda_tui.config import Job
from panda_tui.store.logs import RunLog


class RunnerError(Exception):
    """The attempt could not start (or be found); the message is the run's reason."""


@dataclass(frozen=True)
class Attempt:
    run_id: int
    job: Job
    env: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    secret_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    error: str | None = None  # set when the runner lost track: the run is failed or lost
    lost: bool = False


class Handle(Protocol):
    ref: str  # container id, or pid:starttime
    engine: str | None

    async def wait(self) -> Outcome: ...

    async def stop(self, grace: float) -> None:
        """SIGTERM, wait `grace`, then SIGKILL. Returns once the signal is sent; wait() gives the end."""

    async def cleanup(self) -> None:
        """Called once the result and logs are safe in the store (removes the container)."""


class Runner(Protocol):
    kind: str

    async def start(self, attempt: Attempt, sink: RunLog) -> Handle: ...
