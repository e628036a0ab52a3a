"""The typed jobs.toml model. Every field has a default and a one-line meaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from panda_tui.fields import TimesP95
from panda_tui.schedule import Schedule

Concurrency = Literal["forbid", "allow", "replace", "queue"]
Catchup = Literal["none", "latest", "all"]
Pull = Literal["missing", "always", "never"]
RunnerKind = Literal["docker", "local", "swarm"]
AlertFormat = Literal["slack", "json"]


def choices(kind) -> tuple[str, ...]:
    """The words a Literal type allows, for validation and for messages."""
    return get_args(kind)


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    description: str = ""
    image: str | None = None  # present: runs in a container
    command: str | tuple[str, ...] | None = None  # str: sh -c; tuple: exec form
    stdin: str | None = None  # fed to a local command's standard input (else /dev/null)
    timeout: float = 3600.0  # every run is bounded
    kill_grace: float = 10.0  # SIGTERM, then this long, then SIGKILL
    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    concurrency: Concurrency = "forbid"  # a new run while one is active: skip it, allow it, replace, queue
    max_concurrent: int = 1
    queue_max: int = 10
    retries: int = 0
    retry_delay: float = 30.0
    catchup: Catchup = "latest"  # slots missed while no scheduler ran: none, the newest, all (up to 100)
    starting_deadline: float = 600.0
    jitter: float = 0.0
    enabled: bool = True
    workdir: str | None = None
    user: str | None = None  # a container's user; for a local job, the account it runs as (root scheduler)
    network_mode: str = "bridge"
    mem_limit: str | None = None
    memory: int | None = None  # bytes: a container's memory limit; a swarm job's limit and reservation
    cpus: float | None = None  # a container's CPU limit; a swarm job's limit and reservation
    volumes: tuple[str, ...] = ()
    pull: Pull = "missing"  # when to pull the image
    docker_host: str | None = None  # the engine; for a swarm job, a manager of the swarm
    runner: RunnerKind | None = None  # None: docker for an image, local otherwise
    constraints: tuple[str, ...] = ()  # swarm placement, e.g. "node.role==worker"
    secrets_env: tuple[str, ...] = ()  # swarm: secrets also set as env (by sh, from /run/secrets/NAME)
    log_max_lines: int = 50_000
    log_max_bytes: int = 20 * 1024 * 1024
    log_keep_runs: int = 200
    alerts: tuple[str, ...] = ()
    heartbeat: str | None = None
    slow_after: float | TimesP95 | None = None  # a duration, or N times the p95 of recent successes
    fast_before: float | None = None
    repeat_after: float = 3600.0
    after: int = 1  # the first alert comes at the Nth bad run in a row
    runbook: str | None = None  # a link every alert of this job carries

    @property
    def runner_kind(self) -> str:
        return self.runner or ("docker" if self.image else "local")

    @property
    def tz(self) -> str:
        return self.schedule.tz


@dataclass(frozen=True)
class AlertTarget:
    name: str
    url: str
    format: AlertFormat = "json"  # slack: one line of text; json: the whole event
    headers: dict[str, str] = field(default_factory=dict)
    on: tuple[str, ...] = ("failed", "timed_out", "missed", "lost", "recovered", "flapping")
    timeout: float = 10.0
    group_wait: float = 0.0  # events within this window go out as one message naming every job

    @property
    def apprise(self) -> bool:
        """Any URL but http(s) is an Apprise channel (mailto://, slack://, ntfy://, pagerduty://, ...)."""
        return not self.url.lower().startswith(("http://", "https://"))


During = Literal["hold", "drop"]


@dataclass(frozen=True)
class Maintenance:
    """A [[maintenance]] window: a schedule plus a duration, or a start and an end; for some jobs or all."""
    name: str  # "maintenance 1", or its `name`
    schedule: Schedule | None = None
    duration: float = 0.0
    start: float | None = None
    end: float | None = None
    jobs: tuple[str, ...] = ()  # empty: every job
    during: During = "hold"  # hold: one summary when the window ends; drop: nothing


@dataclass(frozen=True)
class SchedulerSettings:
    heartbeat: str | None = None
    heartbeat_every: float = 60.0
    stop_grace: float = 10.0  # a stopping scheduler gives runs this long to end, then stops them (killed)


@dataclass(frozen=True)
class StoreSettings:
    """The store's disk budget, as journald's SystemMaxUse= / SystemKeepFree=. A size is bytes (int) or a share
    of the store's file system (float, 0.1 = 10 %); None: the default (see store.budget)."""
    max_size: int | float | None = None
    keep_free: int | float | None = None


@dataclass(frozen=True)
class Config:
    path: str
    jobs: dict[str, Job]
    alerts: dict[str, AlertTarget] = field(default_factory=dict)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    secrets_file: str | None = None
    maintenance: tuple[Maintenance, ...] = ()
    public_url: str | None = None  # [serve] public_url: alerts link to the run there
    warnings: tuple[str, ...] = ()
    defaults: dict[str, object] = field(default_factory=dict)  # [defaults], parsed: for jobs made up later
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the parsed TOML it came from
