"""Every key, on one screen that scrolls; how to close it stays in view."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from panda_tui.text import safe
from panda_tui.tui.marks import Marks
from panda_tui.tui.pane_css import PANES_CSS

NOW = "Now (the header's alarms, whole)"
ACTING = [
    ("t", "trigger the selected job now"),
    ("p", "pause / resume the selected job"),
    ("k", "kill its running run (or the selected run in history), after a confirm"),
    ("r", "ask the scheduler to reload its jobs.toml (a broken one is refused; the last good one runs on)"),
    ("a", "acknowledge a failing, flapping or missed-runs job: its reminders stop until its next success (the "
          "runs it missed stay acknowledged), or for the time you give (as `panda-tui ack --for`), with a note; "
          "again: asks, then y takes it back"),
    ("S", "start a scheduler in this console (offered while none runs; quitting the console stops it)"),
]
KEYS = [
    ("Jobs and history", [
        ("enter", "open a run's logs (a job in trouble: its newest failure, errors only)"),
        ("d", "what changed since the job's last good run: config, env names, image, host, exit, new log lines"),
        ("tab / shift+tab", "cycle panes: jobs, history, logs"),
        ("↑ ↓  g G  home end", "move; first / last row"),
        ("/", "filter jobs by name (esc clears it; the selected job stays selected)"),
        ("ctrl+p", "command palette: every action by name"),
        ("esc", "clear the filter; in a log or a diff: back"),
        ("?", "this help"),
        ("q", "quit (an embedded scheduler stops with the console: it asks first if runs are going)"),
    ]),
    ("Logs (over the whole run, not only what is on screen)", [
        ("/  n N", "search; next / previous match (the title counts them: 3/17)"),
        ("e", "errors only: stderr, error levels, error words"),
        ("E", "jump to the first error line"),
        ("g G  home end", "first line of the run / newest, following (the pane: the job's newest run)"),
        ("[ / ]", "older lines / back to the newest"),
        ("← →", "with wrap off (w): sideways a quarter of the pane; shift: one column; a cut line ends in …"),
        ("f  w  j  T", "follow the tail · wrap · raw JSON · stored timestamps"),
        ("s", "save the whole run's log to a file (as stored: secrets masked)"),
        ("d", "what changed since the job's last good run"),
        ("esc", "back"),
    ]),
    ("Marks (README lists every one)", [
        ("✓ ok  ✗ failed  ⏱ timeout", "a glyph and a word, never colour alone (NO_COLOR: failures in reverse)"),
        ("⊘ killed  ! missed  ↷ skipped", "a kill on purpose is no failure"),
        ("▶ running  ‖ paused  ≈ flapping", "and – disabled, · new, ↻ retrying, ⇄ run only by exec"),
        ("! line", "stderr; '#' lines are panda-tui's own notes"),
        ("✗ ⊘ in a sparkline", "a failed run, a killed one (the bars: how long each run took)"),
    ]),
]


class HelpScreen(ModalScreen[None]):
    """The header's alarms come first, whole, and stay current while the help is open: they are read again
    each second from the console's latest read of the store (an engine nobody checks says it is stale)."""

    CSS_PATH = PANES_CSS
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def __init__(self, marks: Marks, read_only: bool = False,
                 alarms: Callable[[], list[str]] | list[str] | None = None, logs_first: bool = False) -> None:
        """`alarms`: the header's alarms whole, or how to read them now. `logs_first`: opened from a log, so
        the log's keys come first, in view at once."""
        super().__init__()
        self.marks = marks
        self.read_only = read_only
        self._read_alarms = alarms if callable(alarms) else (lambda: list(alarms or []))
        self.alarms = self._read_alarms()
        self.logs_first = logs_first

    @property
    def section_titles(self) -> list[str]:
        """The sections top to bottom (for tests and probes)."""
        return [title for title, _ in self._sections(bool(self.alarms))]

    def _sections(self, now: bool) -> list[tuple[str, list[tuple[str, str]]]]:
        acting = [] if self.read_only else [("Acting on the selected job", ACTING)]
        alarms: list[tuple[str, list[tuple[str, str]]]] = [(NOW, [])] if now else []
        if self.logs_first:
            return [KEYS[1]] + alarms + acting + [KEYS[0], *KEYS[2:]]
        return alarms + acting + KEYS

    def compose(self) -> ComposeResult:
        marks = self.marks
        with Vertical(id="help-box"):
            with VerticalScroll(id="help-keys"):
                for title, rows in self._sections(now=True):  # the alarms' place, even while there are none
                    if title == NOW:
                        shown = Static(self._now_table(), id="help-now")
                        shown.display = bool(self.alarms)
                        yield shown
                        continue
                    table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
                    table.add_column(style="bold", no_wrap=True)
                    table.add_column()
                    for key, what in rows:
                        table.add_row(marks.text(key), marks.text(what))
                    yield Static(table)
            yield Static(marks.text("esc / ? : close   ↑ ↓ : scroll"), id="help-close")

    def _now_table(self) -> Table:
        now = Table(title=NOW, title_justify="left", show_header=False, box=None, expand=True)
        now.add_column()
        for line in self.alarms:
            now.add_row(Text("! " + safe(line), style="bold"))
        return now

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_alarms)

    def refresh_alarms(self) -> None:
        """The alarms as they are now: one that cleared goes, one that came shows."""
        alarms = self._read_alarms()
        if alarms == self.alarms or not self.query("#help-now"):
            return
        self.alarms = alarms
        shown = self.query_one("#help-now", Static)
        shown.update(self._now_table())
        shown.display = bool(alarms)
