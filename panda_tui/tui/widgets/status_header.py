"""The top line: alarms first (no scheduler, engines down, jobs.toml refused, undelivered alerts), then the
counts that matter, the mode, and the clock with its zone last; shortened, never cut, to fit the width."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from panda_tui.readmodel.snapshot import Snapshot
from panda_tui.text import safe
from panda_tui.tui.header_line import fit, parts
from panda_tui.tui.marks import Marks
from panda_tui.tui.mode import ConsoleMode
from panda_tui.tui.widgets.row_table import cell_key


class StatusHeader(Horizontal):
    """Two pieces side by side, each repainted only when its own text changes: the words, and the clock.
    Once a second only the clock's few cells go to the terminal (a whole line costs ~0.4 KB over SSH)."""

    DEFAULT_CSS = """
    StatusHeader { height: 1; }
    StatusHeader > Static { width: auto; height: 1; }
    """
    mode: reactive[ConsoleMode] = reactive(ConsoleMode.EMBEDDED, init=False, repaint=False)  # the pieces repaint themselves
    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True, init=False, repaint=False)
    now: reactive[float] = reactive(0.0, init=False, repaint=False)
    died: reactive[str | None] = reactive(None, init=False, repaint=False)  # the embedded scheduler's error

    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.marks = marks or Marks()
        self._shown: dict[str, tuple] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="header-words")
        yield Static("", id="header-clock")

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def watch_mode(self) -> None:
        self._show()

    def watch_snapshot(self) -> None:
        self._show()

    def watch_now(self) -> None:
        self._show()

    def watch_died(self) -> None:
        self._show()

    def fitted(self) -> list[tuple[str, str]]:
        """(words, style) of each part shown at this width; the clock is the last (it is never dropped)."""
        moment = datetime.fromtimestamp(self.now).astimezone()
        clock = f"{moment:%H:%M:%S} {safe(moment.tzname())}"
        return fit(parts(self.snapshot, self.mode, self.now, clock, self.marks, self.died), self.size.width or 80)

    def _show(self) -> None:
        if not self.is_mounted or not self.children:
            return
        *shown, (clock, clock_style) = self.fitted()
        words = Text(" ", no_wrap=True, overflow="crop")
        for text, style in shown:
            words.append(text, style=style)
            words.append(self.marks.sep, style="dim")
        self._put("#header-words", words)
        self._put("#header-clock", Text(clock, style=clock_style, no_wrap=True, overflow="crop"))

    def _put(self, selector: str, text: Text) -> None:
        key = cell_key(text)
        before = self._shown.get(selector)
        if key != before:
            self._shown[selector] = key
            resized = before is None or cell_len(key[0]) != cell_len(before[0])
            self.query_one(selector, Static).update(text, layout=resized)  # a layout pass only for a new width

    @property
    def words(self) -> str:
        """What the header says now, as plain text (for tests and probes)."""
        return self.marks.sep.join(text for text, _ in self.fitted())
