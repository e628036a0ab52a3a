"""The main screen: header, jobs, trend, history, and a live log pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Input

from panda_tui.tui.widgets.history_table import HistoryTable
from panda_tui.tui.widgets.job_table import JobTable
from panda_tui.tui.widgets.log_view import LogView
from panda_tui.tui.widgets.status_header import StatusHeader
from panda_tui.tui.widgets.trend_bar import TrendBar


class MainScreen(Screen):
    def __init__(self, db_path: str) -> None:
        super().__init__()
        self.db_path = db_path

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        jobs = JobTable(id="jobs")
        jobs.border_title = "jobs"
        yield jobs
        yield Input(placeholder="filter jobs by name (esc: clear)", id="job-filter", classes="hidden")
        yield TrendBar(id="trend")
        history = HistoryTable(id="history")
        history.border_title = "history"
        yield history
        yield LogView(self.db_path, id="logpane")
        yield Footer()

    def on_mount(self) -> None:
        self.app.main_ready()
