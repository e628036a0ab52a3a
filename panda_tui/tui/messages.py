"""Messages from the console's workers to its widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from panda_tui.store.ledger import Run
from panda_tui.readmodel.snapshot import Snapshot, Trend


@dataclass
class Refreshed(Message):
    """A fresh read of the store; a burst collapses to the newest."""

    snapshot: Snapshot
    job: str | None
    history: list[Run]
    trend: Trend | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Refreshed)
