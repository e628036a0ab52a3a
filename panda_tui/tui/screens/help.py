"""Every key, on one screen."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("Jobs and history", [
        ("t", "trigger the selected job now"),
        ("p", "pause / resume the selected job"),
        ("k", "kill its running run (or the selected run in history), after a confirm"),
        ("enter", "open a run's logs (a failing job: its last failed run, errors only)"),
        ("tab / shift+tab", "cycle panes: jobs, history, logs"),
        ("/", "filter jobs by name (in the log pane: search)"),
        ("r", "reload jobs.toml (a broken file is refused; the last good one keeps running)"),
        ("ctrl+p", "command palette: every action by name"),
        ("?", "this help"),
        ("q", "quit (an embedded scheduler stops with the console)"),
    ]),
    ("Logs", [
        ("/", "search; n / N: next / previous match"),
        ("e", "errors only (stderr, error levels, error words)"),
        ("f", "follow the live tail on / off"),
        ("w", "wrap long lines on / off"),
        ("j", "JSON lines: raw text / level + message + fields"),
        ("[ / ]", "page older lines from the store / back to the newest"),
        ("esc", "back"),
    ]),
    ("Marks", [
        ("✓ ok  ✗ failing  ▶ running", "job status: a glyph and a word, never colour alone"),
        ("! missed  ‖ paused  – disabled", ""),
        ("! line", "stderr; '#' lines are panda-tui's own notes"),
        ("× in a sparkline", "a failed run"),
    ]),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            for title, rows in KEYS:
                table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
                table.add_column(style="bold", no_wrap=True)
                table.add_column()
                for key, what in rows:
                    table.add_row(key, what)
                yield Static(table)
            yield Static("esc: close")
