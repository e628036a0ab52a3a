"""The Runner contract: start one attempt, stream its output, stop it, wait for its result; and find a
run again after the scheduler restarted. Runners know nothing of the scheduler that uses them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from panda_tui.config import Job
from panda_tui.store.ledger import Run
from panda_tui.store.logs import RunLog


class RunnerError(Exception):
    """The attempt could not start (or be found); the message is the run's reason."""


@dataclass(frozen=True)
class Passthrough:
    """A command run on someone else's behalf (`panda-tui exec` under cron): it reads the caller's stdin,
    starts from the caller's whole environment, and its output is also handed to `echo` as it comes."""
    stdin: int  # a file descriptor
    environ: Mapping[str, str]
    echo: Callable[[str, bytes], None]  # ("out" | "err", raw bytes)


@dataclass(frozen=True)
class Attempt:
    run_id: int
    job: Job
    env: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    passthrough: Passthrough | None = None  # local runs only


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    error: str | None = None  # set when the runner lost track: the run is failed or lost
    lost: bool = False
    ended_at: float | None = None  # when it ended, if that was before anyone watched (a run adopted late)
    timed_out: bool = False  # stopped at its deadline by the runner's own watchdog (a local run's keeper)


@dataclass(frozen=True)
class Lost:
    """A run that cannot be found again after a restart, and why."""
    reason: str


# Opens the log that an adopted run continues, given the environment the run was started with (so its
# secrets are masked with the values it really has, whatever the secrets file says today).
OpenSink = Callable[[Mapping[str, str]], RunLog]


class Handle(Protocol):
    @property
    def ref(self) -> str:
        """Container id, service id, or pid:starttime."""
    @property
    def docker_host(self) -> str | None:
        """The Docker engine it runs on ("local": the default one); None for processes."""
    @property
    def node(self) -> str | None:
        """The machine it runs on when the engine places it (a Swarm node's hostname)."""
    @property
    def sink(self) -> RunLog:
        """Where the run's output goes."""

    async def wait(self) -> Outcome: ...

    async def stop(self, grace: float) -> None:
        """SIGTERM, wait `grace`, then SIGKILL. Returns once the signal is sent; wait() gives the end."""

    async def cleanup(self) -> None:
        """Called once the result and logs are safe in the store (removes the container)."""


class Runner(Protocol):
    kind: str

    async def start(self, attempt: Attempt, sink: RunLog) -> Handle: ...

    async def reattach(self, run: Run, job: Job, open_sink: OpenSink) -> Handle | Lost:
        """Find a run that outlived the previous scheduler and follow it again, or say why it is lost."""
