"""Ask before acting: y confirms, anything else cancels."""

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

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.question))
            yield Static(Text("y: yes   n / esc: no", style="bold"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
