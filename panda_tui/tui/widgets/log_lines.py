"""The lines of a run's log as the pane shows them: a window of at most WINDOW lines, each with its stream's
mark; wrapped to the width or not, raw JSON or levels, with the stored times or not; the search's matches
and the match n / N went to marked by more than colour."""

from __future__ import annotations

import textwrap

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import Log

from panda_tui.store.log_queries import smart_case
from panda_tui.store import pieces
from panda_tui.store.logs import LogLine
from panda_tui.tui.log_format import MARK, render
from panda_tui.tui.log_window import WINDOW
from panda_tui.tui.marks import Marks

ERROR_WORDS = ("ERROR", "FATAL", "CRITICAL", "PANIC")


class LineHighlighter(Highlighter):
    """stderr, error words and search matches stand out by more than colour (see marks). Matches are marked
    as the search found them: smart-case (a capital letter in the query matches case)."""

    def __init__(self, marks: Marks) -> None:
        self.marks = marks
        self.query = ""

    def highlight(self, text: Text) -> None:
        plain = text.plain
        if plain[1:2] == self.marks.current:
            text.stylize(self.marks.style("current"))
        if plain.startswith("!"):
            text.stylize(self.marks.style("stderr"))
        elif plain.startswith("#"):
            text.stylize(self.marks.style("panda"))
        for word in ERROR_WORDS:
            start = plain.find(word)
            if start >= 0:
                text.stylize(self.marks.style("error_word"), start, start + len(word))
        if self.query:
            exact = smart_case(self.query)
            hay, q = (plain, self.query) if exact else (plain.lower(), self.query.lower())
            start = hay.find(q)
            while start >= 0:
                text.stylize(self.marks.style("match"), start, start + len(q))
                start = hay.find(q, start + len(q))


class LogLines(Log):
    BINDINGS = [Binding("shift+left", "column(-1)", "one column left", show=False),
                Binding("shift+right", "column(1)", "one column right", show=False)]

    def __init__(self, marks: Marks, **kwargs) -> None:
        super().__init__(highlight=True, max_lines=WINDOW, auto_scroll=True, **kwargs)
        self.marks = marks
        self.highlighter: LineHighlighter = LineHighlighter(marks)
        self.window: list[LogLine] = []
        self.raw = self.stamps = False
        self.wrap = True  # a long error line is otherwise cut off at 80 columns, where it matters
        self.current: int | None = None  # the seq of the match n / N went to
        self.follow = True  # the newest line stays in view

    @property
    def shown(self) -> list[str]:
        """The lines on screen now, as text (for tests and probes)."""
        return [str(line) for line in self.lines]

    @property
    def shown_text(self) -> list[str]:
        """The window's lines as one string each, however they wrap on screen (for tests and probes)."""
        return [render(line, self.raw, self.stamps) for line in self.window]

    def on_resize(self) -> None:
        if self.wrap and self.window:
            self.redraw()  # wrapped to the new width

    def render_line(self, y: int) -> Strip:
        """A line cut at the pane's right edge (wrap off, or scrolled with ← →) ends in a dim `…` in its last
        cell, as the console marks every cut; `→` shows the rest. Scrolled sideways, a line keeps its stream
        mark (`! ` stderr, `# ` panda-tui's own) in its first two cells."""
        strip = super().render_line(y)
        seen = self.scrollable_content_region.width  # what the scroll bar leaves of the pane's width
        (scroll_x, scroll_y), row = self.scroll_offset, self.scroll_offset.y + y
        if scroll_x and row < len(self.lines) and seen > 2:
            strip = Strip.join([self._mark_of(row), strip.crop(2, strip.cell_length)])
        if seen < 2 or row >= len(self.lines) or cell_len(self.lines[row]) <= scroll_x + seen:
            return strip  # (a line's tabs are spaces already: text.safe)
        mark = Strip([Segment(self.marks.cut, self.rich_style + Style.parse(self.marks.style("quiet") or "none"))], 1)
        return Strip.join([strip.crop(0, seen - 1), mark, strip.crop(seen, strip.cell_length)])

    def _mark_of(self, row: int) -> Strip:
        """The first two cells of a line as they are drawn unscrolled: its stream mark, in its style."""
        mark = Text(str(self.lines[row])[:2].ljust(2), no_wrap=True)
        mark.stylize(self.rich_style)
        self.highlighter.highlight(mark)
        return Strip(list(mark.render(self.app.console)), 2)

    @property
    def step(self) -> int:
        """Columns `←` `→` move: a quarter of the pane, so a 320-character line is a few presses away."""
        return max(1, self.scrollable_content_region.width // 4)

    def action_scroll_left(self) -> None:
        self.action_column(-self.step)

    def action_scroll_right(self) -> None:
        self.action_column(self.step)

    def action_column(self, columns: int) -> None:
        """Sideways by `columns` (shift+← →: one); wrapped, there is nothing to scroll."""
        if not self.allow_horizontal_scroll:
            raise SkipAction()
        self.scroll_to(x=self.scroll_x + columns, animate=False)

    def set_window(self, lines: list[LogLine], focus: int | None = None) -> None:
        self.window = list(lines)
        self.redraw(focus)

    def append(self, lines: list[LogLine]) -> bool:
        """Lines at the end of the window; True when older ones left it (the run has more than it holds). A
        long line the window ends with, come again grown (see log_tail.follow), takes its own place."""
        grown = bool(lines and self.window and lines[0].seq == self.window[-1].seq)
        if grown:
            self.window[-1] = lines[0]
        self.window.extend(lines[1:] if grown else lines)
        trimmed = len(self.window) > WINDOW
        if trimmed:
            del self.window[: len(self.window) - WINDOW]
        if grown:
            y = self.scroll_y
            self.redraw()
            if not self.follow:
                self.scroll_to(y=y, animate=False)
        else:
            self.write_lines(self._format(lines))
        return trimmed

    def redraw(self, focus: int | None = None) -> None:
        """Everything again (a view changed); `focus`: the seq to bring into view instead of the newest."""
        column = self.scroll_x
        self.clear()
        self.auto_scroll = self.follow and focus is None
        shown = self._format(self.window)
        self.write_lines(shown)
        if column and shown:  # Log learns the lines' width on a thread: till then the column would be lost
            width = max(cell_len(line) for line in shown)
            self.virtual_size = Size(max(width, self.virtual_size.width), self.virtual_size.height)
            self.scroll_to(x=column, animate=False)
        if focus is not None:  # after the refresh, as scroll_end is: else a scroll_end still pending wins
            before = self._format([line for line in self.window if pieces.last_seq(line) < focus])
            self.call_after_refresh(self.scroll_to, y=max(0, len(before) - 2), animate=False)
        elif self.follow:
            self.scroll_end(animate=False, x_axis=False)  # G / End: the newest line, in the column the user is at

    def holds(self, seq: int) -> bool:
        return any(pieces.holds(line, seq) for line in self.window)

    def _format(self, lines: list[LogLine]) -> list[str]:
        """Lines as shown; the current match marked in its second column (the stream mark's blank)."""
        out = [render(line, self.raw, self.stamps) for line in lines]
        if self.current is not None:
            out = [text[:1] + self.marks.current + text[2:] if pieces.holds(line, self.current) else text
                   for line, text in zip(lines, out)]
        width = self.size.width - 2
        if self.wrap and width > 10:
            return [piece for text in out for piece in _wrapped(text, width)]
        return out


def _wrapped(text: str, width: int) -> list[str]:
    """A line cut to the width; each continuation keeps the line's stream mark (`! ` for stderr, `# ` for
    panda-tui's notes), so a wrapped stderr line does not read as stdout from its second row on. panda-tui's
    own notes (the ack's, the run's) are prose: cut between words; a program's output is cut where the
    width falls, as it wrote it."""
    if len(text) <= width:
        return [text]
    mark, body = text[:1] + " ", text[2:]  # the stream's mark, not the current match's
    room = width - 2
    if text.startswith(MARK["sys"][0]):
        rows = textwrap.wrap(body, room, break_on_hyphens=False, drop_whitespace=True) or [""]
    else:
        rows = [body[i:i + room] for i in range(0, len(body), room)]
    return [text[:2] + rows[0]] + [mark + row for row in rows[1:]]
