"""One run's log, full screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from panda_tui.tui.marks import Marks
from panda_tui.tui.pane_css import PANES_CSS
from panda_tui.tui.screens.diff import DiffScreen
from panda_tui.tui.widgets.log_view import LogView
from panda_tui.tui.widgets.notice_bar import NoticeBar


class FullLogView(LogView):
    """The log pane of the full screen, whose footer has room for the search's n / N (the main screen's, with
    the pane focused, has not: there `?` lists them)."""
    BINDINGS = [Binding("n", "jump(1)", "next"), Binding("N", "jump(-1)", "prev")]


class LogScreen(Screen):
    CSS_PATH = PANES_CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("q", "app.pop_screen", "back", show=False),
                Binding("d", "diff", "diff")]

    def __init__(self, db_path: str, run_id: int, errors_only: bool = False, marks: Marks | None = None,
                 why: str | None = None) -> None:
        """`why`: why this run was opened, when it is not simply the one asked for ("newest failure (flapping
        4/10 failed)"): said in the log's title."""
        super().__init__()
        self.db_path = db_path
        self.marks = marks or Marks()
        self.run_id = run_id
        self.errors_only = errors_only
        self.why = why

    def compose(self) -> ComposeResult:
        yield FullLogView(self.db_path, self.marks, id="log-full")
        yield NoticeBar(self.marks, id="log-notices")
        yield Footer(compact=True, show_command_palette=False)  # ^p still opens the palette; 80 columns hold the keys

    def action_diff(self) -> None:
        """What changed since the job's last good run (screens/diff.py)."""
        self.app.push_screen(DiffScreen(self.db_path, self.run_id, marks=self.marks, why=self.why))

    def on_mount(self) -> None:
        view = self.query_one(LogView)
        view.why = self.why
        view.open_run(self.run_id, self.errors_only)
        view.log_widget.focus()
