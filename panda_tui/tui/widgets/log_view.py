"""A run's log: a window paged from the store, tailing live while the run goes on. "Errors only", search,
n / N and the first error work over the whole run, through queries on the store, not over the window."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.highlighter import Highlighter
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Log, Static
from textual.worker import get_current_worker

from panda_tui.store import connect, ledger, log_queries
from panda_tui.store.logs import LogLine
from panda_tui.text import safe
from panda_tui.tui.header_line import Part, fit
from panda_tui.tui.log_format import render
from panda_tui.tui.log_window import WINDOW, Place, keep_errors, load, save
from panda_tui.tui.marks import Marks

TAIL_EVERY = 0.02  # while a run goes on: PRAGMA data_version is cheap; a line waits at most this long


class LineHighlighter(Highlighter):
    """stderr, error words and search matches stand out by more than colour (see marks)."""

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
        for word in ("ERROR", "FATAL", "CRITICAL", "PANIC"):
            start = plain.find(word)
            if start >= 0:
                text.stylize(self.marks.style("error_word"), start, start + len(word))
        if self.query:
            low, q = plain.lower(), self.query.lower()
            start = low.find(q)
            while start >= 0:
                text.stylize(self.marks.style("match"), start, start + len(q))
                start = low.find(q, start + len(q))


class LogView(Vertical, can_focus=False):
    BINDINGS = [
        Binding("slash", "search", "search"),
        Binding("n", "next_match", "next", show=False),
        Binding("N", "previous_match", "prev", show=False),
        Binding("e", "toggle_errors", "errors only"),
        Binding("E", "first_error", "1st error"),
        Binding("f", "toggle_follow", "follow", show=False),
        Binding("w", "toggle_wrap", "wrap", show=False),
        Binding("j", "toggle_raw", "raw json", show=False),
        Binding("T", "toggle_stamps", "times", show=False),
        Binding("s", "save", "save", show=False),
        Binding("g,home", "first", "top", show=False, priority=True),
        Binding("G,end", "last", "end", show=False, priority=True),
        Binding("left_square_bracket", "older", "older", show=False),
        Binding("right_square_bracket", "last", "newest", show=False),
    ]

    @dataclass
    class Lines(Message):
        run_id: int
        lines: list[LogLine]
        replace: bool  # a new window, not an append
        run: ledger.Run | None
        focus: int | None = None  # the seq to bring into view
        older: bool = False  # the run has older lines (of this view) than the window holds

    @dataclass
    class Found(Message):
        run_id: int
        query: str
        seqs: list[int]

    def __init__(self, db_path: str, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.db_path = db_path
        self.marks = marks or Marks()
        self.run_id: int | None = None
        self.run: ledger.Run | None = None
        self.window: list[LogLine] = []
        self.older = False
        self.errors_only = self.raw = self.stamps = False
        self.wrap = True  # a long error line is otherwise cut off at 80 columns, where it matters
        self.follow = True
        self.search_text = ""
        self.matches: list[int] = []  # seqs of the whole run's matches
        self.match_index = -1
        self.highlighter = LineHighlighter(self.marks)
        self._title_shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="log-title")
        log = Log(highlight=True, max_lines=WINDOW, auto_scroll=True, id="log-lines")
        log.highlighter = self.highlighter
        yield log
        yield Input(placeholder="search the whole run (enter: find, esc: close)", id="log-search", classes="hidden")

    def on_mount(self) -> None:
        self._title()

    def on_resize(self) -> None:
        if self.wrap and self.window:
            self._redraw()  # wrapped to the new width
        self._title()

    @property
    def log_widget(self) -> Log:
        return self.query_one("#log-lines", Log)

    @property
    def shown(self) -> list[str]:
        """The lines on screen now, as text (for tests and probes)."""
        return [str(line) for line in self.log_widget.lines]

    def open_run(self, run_id: int | None, errors_only: bool = False) -> None:
        if run_id == self.run_id and errors_only == self.errors_only:
            return
        self.run_id, self.errors_only = run_id, errors_only
        self.window, self.matches, self.match_index, self.search_text = [], [], -1, ""
        self.highlighter.query = ""
        self.follow = True
        if run_id is None:
            self.log_widget.clear()
            self._title()
        else:  # the lines shown stay until the new run's replace them, in one frame with the new title
            self._load(run_id, Place("tail"))

    # --- reading ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="log-tail")
    def _load(self, run_id: int, place: Place, focus: int | None = None) -> None:
        """Load a window; from the newest lines, follow the run until it ends (or another load replaces
        this one)."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        try:
            run = ledger.get(conn, run_id)
            if run is None:
                self.post_message(self.Lines(run_id, [], True, None))  # gone (pruned): an empty pane
                return
            errors_only = self.errors_only
            lines, older = load(conn, run_id, place, errors_only)
            self.post_message(self.Lines(run_id, lines, True, run, focus, older))
            if place.kind != "tail":
                return
            last, version = (lines[-1].seq if lines else 0), -1
            while not worker.is_cancelled and run.active:
                time.sleep(TAIL_EVERY)
                current = conn.execute("PRAGMA data_version").fetchone()[0]
                if current == version:
                    continue
                version = current
                batch = log_queries.around(conn, run_id, last + 1, 0, 20_000)
                run = ledger.get(conn, run_id)
                if batch or not run.active:
                    last = batch[-1].seq if batch else last
                    self.post_message(self.Lines(run_id, keep_errors(batch, errors_only), False, run))
        finally:
            conn.close()

    def on_log_view_lines(self, message: Lines) -> None:
        if message.run_id != self.run_id or not self.query("#log-lines"):
            return  # another run, or the pane is being torn down while the tail still posts
        self.run = message.run
        if message.replace:
            self.window, self.older = list(message.lines), message.older
            self._redraw(message.focus)
        elif message.lines:
            self.window.extend(message.lines)
            if len(self.window) > WINDOW:
                del self.window[: len(self.window) - WINDOW]
                self.older = True
            self.log_widget.write_lines(self._format(message.lines))
        self._title()

    def _format(self, lines: list[LogLine]) -> list[str]:
        """Lines as shown; the current search match marked in its second column (the stream mark's blank)."""
        out = [render(line, self.raw, self.stamps) for line in lines]
        current = self.matches[self.match_index] if self.matches and self.match_index >= 0 else None
        if current is not None:
            out = [text[:1] + self.marks.current + text[2:] if line.seq == current else text
                   for line, text in zip(lines, out)]
        width = self.log_widget.size.width - 2
        if self.wrap and width > 10:
            return [text[i:i + width] for text in out for i in range(0, max(1, len(text)), width)]
        return out

    def _redraw(self, focus: int | None = None) -> None:
        log = self.log_widget
        log.clear()
        log.auto_scroll = self.follow and focus is None
        rows = self._format(self.window)
        log.write_lines(rows)
        if focus is not None:
            before = self._format([line for line in self.window if line.seq < focus])
            log.scroll_to(y=max(0, len(before) - 2), animate=False)
        elif self.follow:
            log.scroll_end(animate=False)

    def _title(self) -> None:
        if self.run_id is None:
            parts = [Part("logs: no run selected", "logs")]
        else:
            run = self.run if self.run is not None and self.run.id == self.run_id else None
            what = f"{safe(run.job)} run {run.id}{self.marks.sep}{run.status}" if run else f"run {self.run_id}"
            reason = f" ({safe(run.reason)})" if run is not None and run.reason else ""
            flags = [name for name, on in (("errors only", self.errors_only), ("follow", self.follow),
                                           ("raw", self.raw), ("times", self.stamps), ("no wrap", not self.wrap))
                     if on]
            parts = [Part(what + reason, what), Part(self._counter(), self._counter(short=True))]
            parts += [Part(flag, flag, drop=2) for flag in flags]
            if self.older:
                parts.append(Part("[ older lines", "[ older", drop=3))
        width = self.query_one(".log-title", Static).content_region.width or (self.size.width - 2) or 78
        fitted = fit([p for p in parts if p.long], max(20, width))
        title = self.marks.sep.join(t for t, _ in fitted)
        if title != self._title_shown:  # one line, always: repaint it only when its words change
            self._title_shown = title
            self.query_one(".log-title", Static).update(Text(title, no_wrap=True, overflow="crop"), layout=False)

    def _counter(self, short: bool = False) -> str:
        if not self.search_text:
            return ""
        if not self.matches:
            return "no match" if short else f"no match for {safe(self.search_text)!r}"
        more = "+" if len(self.matches) >= log_queries.MAX_FOUND else ""
        at = f"{self.match_index + 1}/{len(self.matches)}{more}" if self.match_index >= 0 else f"{len(self.matches)}{more}"
        return at if short else f"matching line {at}"

    # --- search over the whole run ------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        event.input.add_class("hidden")
        self.log_widget.focus()
        self.search_text = self.highlighter.query = event.value.strip()
        self.matches, self.match_index = [], -1
        self.log_widget.refresh()
        if self.search_text and self.run_id is not None:
            self._find(self.run_id, self.search_text, self.errors_only)
        else:
            self.app.notify("search cleared", markup=False)
        self._title()

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-search")
    def _find(self, run_id: int, query: str, errors_only: bool) -> None:
        conn = connect(self.db_path, readonly=True)
        try:
            self.post_message(self.Found(run_id, query, log_queries.match_seqs(conn, run_id, query, errors_only)))
        finally:
            conn.close()

    def on_log_view_found(self, message: Found) -> None:
        if message.run_id != self.run_id or message.query != self.search_text:
            return
        self.matches = message.seqs
        if self.matches:
            self.action_next_match()
        else:
            self.app.notify(f"no match for {self.search_text!r} in the whole run", markup=False)
            self._title()

    def on_key(self, event) -> None:
        box = self.query_one("#log-search", Input)
        if event.key == "escape" and box.has_focus:
            box.add_class("hidden")
            self.log_widget.focus()
            event.stop()

    def _jump(self, step: int) -> None:
        if not self.matches:
            self.app.notify("no search: press / first" if not self.search_text else "no match", markup=False)
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self._go_to(self.matches[self.match_index])

    def _go_to(self, seq: int) -> None:
        """Bring a line into view: scroll to it if the window holds it, else load a window around it."""
        self.follow = False
        self.log_widget.auto_scroll = False
        if any(line.seq == seq for line in self.window):
            self._redraw(seq)
            self._title()
        elif self.run_id is not None:
            self._load(self.run_id, Place("at", seq), seq)

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-search")
    def action_first_error(self) -> None:
        if self.run_id is None:
            return
        conn = connect(self.db_path, readonly=True)
        try:
            seqs = log_queries.error_seqs(conn, self.run_id, limit=1)
        finally:
            conn.close()
        if seqs:
            self.app.call_from_thread(self._go_to, seqs[0])
        else:
            self.app.call_from_thread(self.app.notify, "no error line in this run", markup=False)

    # --- views --------------------------------------------------------------------------
    def _reload(self, place: Place | None = None) -> None:
        if self.run_id is not None:
            self._load(self.run_id, place or Place("tail"))
        self._title()

    def action_toggle_errors(self) -> None:
        self.errors_only = not self.errors_only
        self.follow = True
        if self.search_text and self.run_id is not None:
            self.matches, self.match_index = [], -1
            self._find(self.run_id, self.search_text, self.errors_only)
        self._reload()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self._reload()
        else:
            self.log_widget.auto_scroll = False
            self._title()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()
        self._title()

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._redraw()
        self._title()

    def action_toggle_stamps(self) -> None:
        self.stamps = not self.stamps
        self._redraw()
        self._title()

    def action_first(self) -> None:
        self.follow = False
        if self.run_id is not None:
            self._load(self.run_id, Place("head"), 0)  # focus 0: the top of the window, the run's first line
        self._title()

    def action_last(self) -> None:
        self.follow = True
        self._reload(Place("tail"))

    def action_older(self) -> None:
        if self.run_id is None or not self.window:
            return
        self.follow = False
        self.log_widget.auto_scroll = False
        if not self.older:  # all of it is here already: show its top
            self.log_widget.scroll_home(animate=False)
            self.app.notify("the start of the log", markup=False)
            self._title()
            return
        self._load(self.run_id, Place("before", self.window[0].seq), self.window[0].seq)

    @work(thread=True, exclusive=False, exit_on_error=False, group="log-save")
    def action_save(self) -> None:
        if self.run_id is None or self.run is None:
            return
        conn = connect(self.db_path, readonly=True)
        try:
            path, count = save(conn, self.run_id, self.run.job)
            message, severity = f"saved {count:,} lines of run {self.run_id} to {path}", "information"
        except OSError as exc:
            message, severity = f"could not save the log: {exc}", "error"
        finally:
            conn.close()
        self.app.call_from_thread(self.app.notify, message, severity=severity, markup=False)
