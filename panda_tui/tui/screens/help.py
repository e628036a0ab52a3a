"""Every key, on one screen that scrolls; how to close it stays in view."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from panda_tui.text import safe
from panda_tui.tui.marks import Marks

ACTING = [
    ("t", "trigger the selected job now"),
    ("p", "pause / resume the selected job"),
    ("k", "kill its running run (or the selected run in history), after a confirm"),
    ("r", "ask the scheduler to reload its jobs.toml (a broken one is refused; the last good one runs on)"),
    ("a", "acknowledge the failing job: its reminders stop until it recovers (again: take it back)"),
    ("S", "start a scheduler in this console (offered while none runs; quitting the console stops it)"),
]
KEYS = [
    ("Jobs and history", [
        ("enter", "open a run's logs (a failing job: its last failed run, errors only)"),
        ("d", "what changed since the job's last good run: config, env names, image, host, exit, new log lines"),
        ("tab / shift+tab", "cycle panes: jobs, history, logs"),
        ("↑ ↓  g G  home end", "move; first / last row"),
        ("/", "filter jobs by name (esc clears it; the selected job stays selected)"),
        ("ctrl+p", "command palette: every action by name"),
        ("?", "this help"),
        ("q", "quit (an embedded scheduler stops with the console: it asks first if runs are going)"),
    ]),
    ("Logs (over the whole run, not only what is on screen)", [
        ("/", "search; n / N: next / previous match (the title counts them: 3/17)"),
        ("e", "errors only: stderr, error levels, error words"),
        ("E", "jump to the first error line"),
        ("g G  home end", "first line of the run / newest, following"),
        ("[ / ]", "older lines / back to the newest"),
        ("f  w  j  T", "follow the tail · wrap · raw JSON · stored timestamps"),
        ("s", "save the whole run's log to a file (as stored: secrets masked)"),
        ("d", "what changed since the job's last good run"),
        ("esc", "back"),
    ]),
    ("Marks", [
        ("✓ ok  ✗ failing  ▶ running", "job status: a glyph and a word, never colour alone"),
        ("! missed  ‖ paused  – disabled", "(NO_COLOR: failures in reverse, errors in bold)"),
        ("! line", "stderr; '#' lines are panda-tui's own notes"),
        ("× in a sparkline", "a failed run (x with --ascii)"),
    ]),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def __init__(self, marks: Marks, read_only: bool = False, alarms: list[str] | None = None,
                 logs_first: bool = False) -> None:
        """`logs_first`: opened from a log, so the log's keys come first, in view at once."""
        super().__init__()
        self.marks = marks
        self.read_only = read_only
        self.alarms = alarms or []
        self.logs_first = logs_first

    @property
    def section_titles(self) -> list[str]:
        """The sections top to bottom (for tests and probes)."""
        return [title for title, _ in self._sections()]

    def _sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        acting = [] if self.read_only else [("Acting on the selected job", ACTING)]
        now = [("Now (the header's alarms, whole)", [("!", line) for line in self.alarms])] if self.alarms else []
        if self.logs_first:
            return [KEYS[1]] + now + acting + [KEYS[0], *KEYS[2:]]
        return now + acting + KEYS

    def compose(self) -> ComposeResult:
        marks = self.marks
        with Vertical(id="help-box"):
            with VerticalScroll(id="help-keys"):
                for title, rows in self._sections():
                    if title.startswith("Now"):
                        now = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
                        now.add_column()
                        for _, line in rows:
                            now.add_row(Text("! " + safe(line), style="bold"))
                        yield Static(now)
                        continue
                    table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
                    table.add_column(style="bold", no_wrap=True)
                    table.add_column()
                    for key, what in rows:
                        table.add_row(marks.text(key), marks.text(what))
                    yield Static(table)
            yield Static(marks.text("esc / ? : close   ↑ ↓ : scroll"), id="help-close")
