"""A run's log: a bounded window paged from the store, tailing live while the run goes on."""

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

from panda_tui.store import connect, logs, ledger
from panda_tui.store.logs import LogLine
from panda_tui.text import safe
from panda_tui.tui.log_format import is_error, render

WINDOW = 5000  # lines held at once; older ones are paged from the store on demand
PAGE = 2000
TAIL_EVERY = 0.1


class LineHighlighter(Highlighter):
    """stderr, error levels and search matches stand out; the marks make them visible without colour too."""

    def __init__(self) -> None:
        self.query = ""

    def highlight(self, text: Text) -> None:
        plain = text.plain
        if plain.startswith("! "):
            text.stylize("red")
        elif plain.startswith("# "):
            text.stylize("italic cyan")
        for word in ("ERROR", "FATAL", "CRITICAL", "PANIC"):
            start = plain.find(word)
            if start >= 0:
                text.stylize("bold white on red", start, start + len(word))
        if self.query:
            low, q = plain.lower(), self.query.lower()
            start = low.find(q)
            while start >= 0:
                text.stylize("reverse", start, start + len(q))
                start = low.find(q, start + len(q))


class LogView(Vertical, can_focus=False):
    BINDINGS = [
        Binding("slash", "search", "search"),
        Binding("n", "next_match", "next", show=False),
        Binding("N", "previous_match", "prev", show=False),
        Binding("e", "toggle_errors", "errors only"),
        Binding("f", "toggle_follow", "follow"),
        Binding("w", "toggle_wrap", "wrap"),
        Binding("j", "toggle_raw", "raw json", show=False),
        Binding("left_square_bracket", "older", "older", show=False),
        Binding("right_square_bracket", "newest", "newest", show=False),
    ]

    @dataclass
    class Lines(Message):
        run_id: int
        lines: list[LogLine]
        replace: bool  # a new window, not an append
        run: ledger.Run

    def __init__(self, db_path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.db_path = db_path
        self.run_id: int | None = None
        self.run: ledger.Run | None = None
        self.window: list[LogLine] = []
        self.errors_only = False
        self.follow = True
        self.wrap = False
        self.raw = False
        self.matches: list[int] = []
        self.match_index = -1
        self.highlighter = LineHighlighter()

    def compose(self) -> ComposeResult:
        yield Static("", classes="log-title")
        log = Log(highlight=True, max_lines=WINDOW, auto_scroll=True, id="log-lines")
        log.highlighter = self.highlighter
        yield log
        yield Input(placeholder="search (enter: find, esc: close)", id="log-search", classes="hidden")

    @property
    def log_widget(self) -> Log:
        return self.query_one("#log-lines", Log)

    def open_run(self, run_id: int | None, errors_only: bool = False) -> None:
        if run_id == self.run_id and errors_only == self.errors_only:
            return
        self.run_id = run_id
        self.errors_only = errors_only
        self.window = []
        self.log_widget.clear()
        self._title()
        if run_id is not None:
            self._tail(run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-tail")
    def _tail(self, run_id: int, before_seq: int | None = None) -> None:
        """Load a window, then follow the run until it ends (or this worker is replaced)."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        try:
            run = ledger.get(conn, run_id)
            if run is None:
                return
            if before_seq is None:
                lines = logs.tail(conn, run_id, PAGE)
            else:
                lines = logs.read_before(conn, run_id, before_seq, PAGE)
            self.post_message(self.Lines(run_id, lines, True, run))
            last = lines[-1].seq if lines else 0
            if before_seq is not None:
                return
            version = -1
            while not worker.is_cancelled and run.active:
                time.sleep(TAIL_EVERY)
                current = conn.execute("PRAGMA data_version").fetchone()[0]
                if current == version:
                    continue
                version = current
                batch = logs.read(conn, run_id, last, 20_000)
                run = ledger.get(conn, run_id)
                if batch or not run.active:
                    last = batch[-1].seq if batch else last
                    self.post_message(self.Lines(run_id, batch, False, run))
        finally:
            conn.close()

    def on_log_view_lines(self, message: Lines) -> None:
        if message.run_id != self.run_id or not self.query("#log-lines"):
            return  # another run, or the pane is being torn down while the tail still posts
        self.run = message.run
        if message.replace:
            self.window = list(message.lines)
            self._redraw()
        else:
            self.window.extend(message.lines)
            if len(self.window) > WINDOW:
                del self.window[: len(self.window) - WINDOW]
            shown = [l for l in message.lines if not self.errors_only or is_error(l)]
            self.log_widget.write_lines(self._format(shown))
        self._title()

    def _format(self, lines: list[LogLine]) -> list[str]:
        out = [render(l, self.raw) for l in lines]
        width = self.log_widget.size.width - 2
        if self.wrap and width > 10:
            wrapped: list[str] = []
            for text in out:
                wrapped.extend(text[i:i + width] for i in range(0, max(1, len(text)), width))
            return wrapped
        return out

    def _visible(self) -> list[LogLine]:
        return [l for l in self.window if not self.errors_only or is_error(l)]

    def _redraw(self) -> None:
        log = self.log_widget
        log.clear()
        log.auto_scroll = self.follow
        log.write_lines(self._format(self._visible()))
        if self.follow:
            log.scroll_end(animate=False)

    def _title(self) -> None:
        if self.run_id is None:
            text = "logs: no run selected"
        else:
            flags = [name for name, on in (("errors only", self.errors_only), ("follow", self.follow),
                                           ("wrap", self.wrap), ("raw", self.raw)) if on]
            first = self.window[0].seq if self.window else 0
            older = " · [ older lines" if first > 1 else ""
            run = self.run if self.run is not None and self.run.id == self.run_id else None
            what = f"{run.job} run {run.id} · {run.status}" if run else f"run {self.run_id}"
            if run is not None and run.reason:
                what += f" ({run.reason})"
            text = f"logs of {safe(what)} · {' · '.join(flags)}{older}"
        self.query_one(".log-title", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

    # --- keys -------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        self.highlighter.query = query
        lines = self._format(self._visible())
        self.matches = [i for i, text in enumerate(lines) if query and query.lower() in text.lower()]
        self.match_index = -1
        event.input.add_class("hidden")
        self.log_widget.focus()
        self.log_widget.refresh()
        if self.matches:
            self.action_next_match()
        else:
            self.notify(f"no match for {query!r}" if query else "search cleared", markup=False)

    def on_key(self, event) -> None:
        box = self.query_one("#log-search", Input)
        if event.key == "escape" and box.has_focus:
            box.add_class("hidden")
            self.log_widget.focus()
            event.stop()

    def _jump(self, step: int) -> None:
        if not self.matches:
            self.notify("no search: press / first", markup=False)
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self.follow = False
        self.log_widget.auto_scroll = False
        self.log_widget.scroll_to(y=max(0, self.matches[self.match_index] - 2), animate=False)
        self._title()

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def action_toggle_errors(self) -> None:
        self.errors_only = not self.errors_only
        self._redraw()
        self._title()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.log_widget.auto_scroll = self.follow
        if self.follow:
            self.log_widget.scroll_end(animate=False)
        self._title()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()
        self._title()

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._redraw()
        self._title()

    def action_older(self) -> None:
        if self.run_id is None or not self.window or self.window[0].seq <= 1:
            self.notify("this is the start of the log", markup=False)
            return
        self.follow = False
        self._tail(self.run_id, before_seq=self.window[0].seq)

    def action_newest(self) -> None:
        if self.run_id is not None:
            self.follow = True
            self._tail(self.run_id)
