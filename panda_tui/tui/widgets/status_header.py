"""The top line: alarms first (no scheduler, engines down, jobs.toml refused, undelivered alerts), then the
counts that matter, the mode, and the clock with its zone last; shortened, never cut, to fit the width."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from panda_tui.readmodel.snapshot import Snapshot
from panda_tui.text import safe
from panda_tui.tui.header_line import fit, parts
from panda_tui.tui.marks import Marks


class StatusHeader(Static):
    mode: reactive[str] = reactive("embedded")
    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    now: reactive[float] = reactive(0.0)

    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()

    def render(self) -> Text:
        moment = datetime.fromtimestamp(self.now).astimezone()
        clock = f"{moment:%H:%M:%S} {safe(moment.tzname())}"
        fitted = fit(parts(self.snapshot, self.mode, self.now, clock, self.marks), self.size.width or 80)
        text = Text(" ", no_wrap=True, overflow="crop")
        for i, (words, style) in enumerate(fitted):
            if i:
                text.append(self.marks.sep, style="dim")
            text.append(words, style=style)
        return text

    @property
    def words(self) -> str:
        """What the header says now, as plain text (for tests and probes)."""
        return self.render().plain.strip()
