"""`a`: acknowledge a failing, flapping or missed-runs job, with how long (as `panda-tui ack --for`, the same
parser) and a note, both optional: `a` then enter acknowledges until the job's next success."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from panda_tui.fields import positive_duration
from panda_tui.store.acking import UNTIL_SUCCESS
from panda_tui.text import safe
from panda_tui.tui.marks import Marks

NOTE_MAX = 200  # characters: a note is read on one line beside the job


@dataclass(frozen=True)
class AckAsked:
    seconds: float | None  # None: until the job's next success
    note: str


class AckScreen(ModalScreen[AckAsked | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel"),
                # priority: the field changes before the keys typed after tab reach the one it leaves
                Binding("tab,shift+tab", "other_field", "next field", show=False, priority=True)]

    def __init__(self, job: str, marks: Marks | None = None) -> None:
        super().__init__()
        self.job = job
        self.marks = marks or Marks()

    def compose(self) -> ComposeResult:
        with Vertical(id="ack-box"):
            yield Static(Text(f'Acknowledge "{safe(self.job)}": its reminders stop {UNTIL_SUCCESS}, or '
                              "for as long as you say (successes included)."))
            yield Input(placeholder=f'how long, e.g. "2h" (empty: {UNTIL_SUCCESS})', id="ack-for")
            yield Input(placeholder="note: what you are doing about it (optional)", id="ack-note",
                        max_length=NOTE_MAX)
            yield Static("", id="ack-error")
            yield Static(Text("enter: acknowledge   tab: next field   esc: cancel", style="bold"))

    def on_mount(self) -> None:
        self.query_one("#ack-for", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter in either field acknowledges with what both say, once the time reads as one."""
        held = self.query_one("#ack-for", Input)
        try:
            seconds = positive_duration(held.value) if held.value.strip() else None
        except ValueError as exc:
            self.query_one("#ack-error", Static).update(Text(f"for how long: {exc}", style=self.marks.style("alarm")))
            held.focus()
            return
        self.dismiss(AckAsked(seconds, self.query_one("#ack-note", Input).value.strip()))

    def action_other_field(self) -> None:
        held, note = self.query_one("#ack-for", Input), self.query_one("#ack-note", Input)
        self.set_focus(note if held.has_focus else held)  # Widget.focus() would wait for the keys queued

    def action_cancel(self) -> None:
        self.dismiss(None)
