"""Messages from the console's workers to its widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

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

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed)
