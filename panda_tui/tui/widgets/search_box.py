"""A box that opens on a key (`/`) and takes the keys typed from then on."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input


class SearchBox(Input):
    """Hidden until opened. Opening gives it the focus at once, not after the keys already on their way:
    a word typed right after `/` lands in the box, and none of its letters acts as a key (in the job list,
    `t` would trigger). Closing gives the focus back to where it was."""

    _before: Widget | None = None

    def open(self) -> None:
        if not self.has_focus:
            self._before = self.screen.focused
        self.remove_class("hidden")
        self.screen.set_focus(self)  # Widget.focus() would wait for the keys already queued

    def close(self) -> None:
        self.add_class("hidden")
        before, self._before = self._before, None
        if self.has_focus and before is not None and before.is_attached:
            self.screen.set_focus(before)
