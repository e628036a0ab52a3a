"""The decision log's vocabulary: one frozen dataclass per kind of line the scheduler prints.

A line is a JSON object: "ts", "event" (the class's `event` name), "job" and "run_id" when the decision is
about one, then the class's own fields in the order they are declared. A field listed in `OMIT_IF_NONE`
is left out while it is None; every other field is printed, None as null. Everything here is plain data:
the engine, the alerts and the CLI describe what they decided, and engine/events.py writes it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Decision:
    """One line of the decision log."""

    event: ClassVar[str]
    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset()

    def name(self) -> str:
        return self.event

    def record(self) -> dict[str, Any]:
        """The line's fields after "ts" and "event"."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and (field.name in ("job", "run_id") or field.name in self.OMIT_IF_NONE):
                continue
            out[field.name] = value
        return out


# --- a run's status changed (the ledger announced it) -----------------------------------------------
@dataclass(frozen=True)
class Scheduled(Decision):
    event = "scheduled"
    OMIT_IF_NONE = frozenset({"not_before"})
    job: str
    run_id: int
    scheduled_at: str
    trigger: str
    attempt: int
    not_before: str | None = None


@dataclass(frozen=True)
class Retried(Scheduled):
    event = "retried"


@dataclass(frozen=True)
class Started(Decision):
    event = "started"
    job: str
    run_id: int
    attempt: int
    trigger: str
    lateness_s: float | None


@dataclass(frozen=True)
class Finished(Decision):
    event = "finished"
    job: str
    run_id: int
    status: str
    exit_code: int | None
    reason: str | None
    duration_s: float | None


@dataclass(frozen=True)
class Settled(Decision):
    """A slot recorded skipped or missed, or a queued run that ended without starting: the event is its
    status ("skipped", "missed", "killed", ...)."""

    event = "settled"
    job: str
    run_id: int
    status: str
    scheduled_at: str
    reason: str | None

    def name(self) -> str:
        return self.status

    def record(self) -> dict[str, Any]:
        out = super().record()
        del out["status"]
        return out


# --- runs: what is not a status change -----------------------------------------------------------
@dataclass(frozen=True)
class Adopted(Decision):
    """A run that outlived the previous scheduler is followed again."""

    event = "adopted"
    OMIT_IF_NONE = frozenset({"owner"})
    job: str
    run_id: int
    ref: str
    owner: str | None = None


@dataclass(frozen=True)
class RunError(Decision):
    """A run's execution broke in the scheduler itself."""

    event = "error"
    job: str
    run_id: int | None
    error: str


@dataclass(frozen=True)
class CleanupFailed(Decision):
    event = "cleanup_failed"
    job: str
    run_id: int
    error: str


@dataclass(frozen=True)
class Control(Decision):
    """A console's or the CLI's request carried out (or refused)."""

    event = "control"
    job: str | None
    run_id: int | None
    kind: str
    outcome: str | None
    error: str | None


# --- the scheduler's own life --------------------------------------------------------------------------
@dataclass(frozen=True)
class Refused(Decision):
    """jobs.toml did not load at start."""

    event = "refused"
    error: str


@dataclass(frozen=True)
class StoreFailed(Decision):
    """The store could not be opened at start."""

    event = "store_failed"
    error: str


@dataclass(frozen=True)
class Standby(Decision):
    """Another scheduler holds the lease: this one waits."""

    event = "standby"
    holder: str


@dataclass(frozen=True)
class LeaseAcquired(Decision):
    event = "lease_acquired"
    owner: str


@dataclass(frozen=True)
class LeaseLost(Decision):
    event = "lease_lost"
    owner: str
    holder: str | None  # who holds it now, as the lease table says (None: nobody)


@dataclass(frozen=True)
class Reloaded(Decision):
    event = "reloaded"
    why: str
    jobs: int


@dataclass(frozen=True)
class ReloadFailed(Decision):
    event = "reload_failed"
    why: str
    errors: list[str]


@dataclass(frozen=True)
class Stopping(Decision):
    event = "stopping"
    waiting: int
    grace_s: float


@dataclass(frozen=True)
class Stopped(Decision):
    event = "stopped"


@dataclass(frozen=True)
class SubscriberError(Decision):
    """A ledger subscriber failed; the change it was told of stands."""

    event = "subscriber_error"
    subscriber: str
    error: str


@dataclass(frozen=True)
class StoreWriteFailed(Decision):
    event = "store_write_failed"
    what: str
    error: str


@dataclass(frozen=True)
class StoreWriteRecovered(Decision):
    event = "store_write_recovered"
    after_s: float


@dataclass(frozen=True)
class EngineUp(Decision):
    """A Docker Engine answers again."""

    event = "engine_up"
    host: str
    error: str | None = None


@dataclass(frozen=True)
class EngineDown(Decision):
    """A Docker Engine stopped answering."""

    event = "engine_down"
    host: str
    error: str | None = None


@dataclass(frozen=True)
class TestStall(Decision):
    """The test hook blocks the loop on purpose (see engine/supervision.py)."""

    __test__ = False  # not a pytest class
    event = "test_stall"
    seconds: float
    variable: str


@dataclass(frozen=True)
class Shared(Decision):
    """`panda-tui run --group`: the store was shared with a group."""

    event = "shared"
    detail: str


# --- alerts -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertSent(Decision):
    """One delivery attempt of an alert (status: delivered, retrying, given up)."""

    event = "alert"
    job: str | None
    run_id: int | None
    alert: str
    target: str
    status: int | None  # the HTTP status, None when nothing answered
    error: str | None


@dataclass(frozen=True)
class AlertError(Decision):
    """The alert deliverer's pass itself failed."""

    event = "alert_error"
    error: str
