"""A box that opens on a key (`/`) and takes the keys typed from then on."""

from __future__ import annotations

from textual import on
from textual.widget import Widget
from textual.widgets import Input


class SearchBox(Input):
    """Hidden until opened (by a priority binding, so that it runs before the keys typed after it reach
    the focused widget). Opening gives it the focus at once, not after the keys already on their way: a word
    typed right after `/` lands in the box, and none of its letters acts as a key (in the job list, `t`
    would trigger). Enter closes it; closing gives the focus to `back_to`, or back to where it was."""

    def __init__(self, *, label: str, back_to: Widget | None = None, **kwargs) -> None:
        """`label`: what it searches, in its top border, in view while the words typed hide the placeholder."""
        super().__init__(**kwargs)
        self.border_title = label
        self.back_to = back_to
        self._before: Widget | None = None

    def open(self) -> None:
        if not self.has_focus:
            self._before = self.screen.focused
        self.remove_class("hidden")
        self.screen.set_focus(self)  # Widget.focus() would wait for the keys already queued

    def close(self) -> None:
        self.add_class("hidden")
        back, self._before = self.back_to or self._before, None
        if self.has_focus and back is not None and back.is_attached:
            self.screen.set_focus(back)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.close()
