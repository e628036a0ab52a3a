"""One line above the footer for what the console has to say: answers to keys, refusals, errors. It never
covers the log pane the way a toast does, and the last notices stay readable in `notices`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from panda_tui.text import safe
from panda_tui.tui.marks import Marks

MARK = {"information": "›", "warning": "!", "error": "✗"}
ASCII_MARK = {"information": ">", "warning": "!", "error": "X"}
MAX_ROWS = 3


class NoticeBar(Static):
    @dataclass
    class Resized(Message):
        """The line wraps onto `rows` rows now (1 to 3): the screen gives it room (to its parent)."""
        rows: int

    def __init__(self, marks: Marks | None = None, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.marks = marks or Marks()
        self._clear_timer: Timer | None = None
        self._rows = 1
        self.message = ""  # what the bar says now ("" when it says nothing)
        self._standing: list[tuple[str, str]] = []  # notices about states that last: (message, severity)
        self._said: tuple[str, str, str] | None = None  # (mark, words, style) of what it says now

    def say(self, message: str, severity: str = "information", timeout: float = 8.0) -> None:
        """For `timeout` seconds, then the standing notice again if any (an answer to a key, a refusal)."""
        self._put(message, severity)
        self._clear_timer = self.set_timer(timeout, self.clear)

    def stand(self, message: str, severity: str = "warning") -> bool:
        """A notice about a state that lasts ("no scheduler is running: press S ..."): shown until withdrawn,
        and again once whatever was said over it meanwhile has had its time. False: it stands already."""
        if (message, severity) in self._standing:
            return False
        self._standing.append((message, severity))
        self._put(message, severity)
        return True

    def clear(self) -> None:
        """The notice shown has had its time: the newest standing one shows again, else nothing."""
        if self._standing:
            self._put(*self._standing[-1])
        else:
            self._stop()
            self.message, self._said = "", None
            self._show()

    def withdraw(self, prefix: str) -> None:
        """A state passed: no notice about it stays, standing or said ("no scheduler is running" once one is).
        A notice is about the state its first words name."""
        self._standing = [(m, s) for m, s in self._standing if not m.startswith(prefix)]
        if self.message.startswith(prefix):
            self.clear()

    def _put(self, message: str, severity: str) -> None:
        """One line, or up to three when the words need them (an error is read whole, never cut mid-way); the
        lines after the first start under its words, not under its mark."""
        self._stop()
        first, *rest = (safe(line) for line in (str(message).splitlines() or [""]))
        extra = f"  (+{len(rest)} more: see the decision log)" if rest else ""
        self.message = str(message)
        mark = (ASCII_MARK if self.marks.ascii else MARK).get(severity, "›")
        style = {"error": self.marks.style("alarm"), "warning": "bold"}.get(severity, "")
        self._said = (f" {mark} ", f"{first}{extra}", style)
        self._show()

    def _stop(self) -> None:
        if self._clear_timer is not None:
            self._clear_timer.stop()
            self._clear_timer = None

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        width = max(1, self.size.width or 80)
        cut = "..." if self.marks.ascii else "…"
        text = Text("") if self._said is None else hanging(*self._said, width, self.app.console, cut)
        rows = len(text.plain.split("\n"))
        self.update(text, layout=rows != self._rows)  # a layout pass only when the bar changes height
        if rows != self._rows:
            self.post_message(self.Resized(rows))
        self._rows = rows


def hanging(mark: str, words: str, style: str, width: int, console: Console, cut: str = "…") -> Text:
    """`mark` then `words` wrapped under their own first column, on up to MAX_ROWS rows (the last one `cut`)."""
    indent = cell_len(mark)
    lines = list(Text(words).wrap(console, max(1, width - indent)))
    if len(lines) > MAX_ROWS:
        lines = lines[:MAX_ROWS]
        lines[-1].truncate(max(1, width - indent - len(cut)))
        lines[-1].append(cut)
    out = Text(style=style, no_wrap=True, overflow="crop")
    for i, line in enumerate(lines):
        out.append("\n" + " " * indent if i else mark)
        out.append_text(line)
    return out


class Notices(deque):
    """The console's recent notices, newest last: (severity, message)."""

    def __init__(self) -> None:
        super().__init__(maxlen=50)

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self]
