"""Messages from the console's workers and threads to its screens, and from its screens to the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from panda_tui.readmodel.acks import Ack
from panda_tui.readmodel.running import JobSource
from panda_tui.readmodel.snapshot import Snapshot, Trend
from panda_tui.store.ledger import Run


@dataclass
class Refreshed(Message):
    """A fresh read of the store; a burst collapses to the newest."""

    snapshot: Snapshot
    source: JobSource
    job: str | None
    history: list[Run]
    trend: Trend | None
    ack: Ack | None = None  # the selected job's ack (who, until when, note), if someone acknowledged it
    acked: frozenset[int] = frozenset()  # the runs of its history that ack covers (readmodel.acks.acked_runs)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed)


class FirstScreenShown(Message):
    """The job list is on the terminal: what the first screen did not need may start now (to the app)."""


@dataclass
class SchedulerDied(Message):
    """The loop of the scheduler this console runs died (posted from its thread)."""

    error: str
