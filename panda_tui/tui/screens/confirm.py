"""Ask before acting: y confirms, anything else cancels. A question that what it asks about overtook (the run
to kill ended by itself) says so instead, and then only closes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from panda_tui.tui.pane_css import PANES_CSS


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = PANES_CSS
    BINDINGS = [Binding("y", "answer(True)", "yes"), Binding("n", "answer(False)", "no"),
                Binding("escape", "answer(False)", "cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.overtaken = False  # what it asked about happened by itself: nothing to confirm any more

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.question), id="confirm-question")
            yield Static(Text("y: yes   n / esc: no", style="bold"), id="confirm-keys")

    def overtake(self, what_happened: str) -> None:
        """Say what happened instead of asking: any of its keys closes it, and nothing is done."""
        self.question, self.overtaken = what_happened, True
        if self.is_mounted:
            self.query_one("#confirm-question", Static).update(Text(what_happened))
            self.query_one("#confirm-keys", Static).update(Text("esc: close (nothing to do)", style="bold"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes and not self.overtaken)
