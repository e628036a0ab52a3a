"""A run's log pane: its title, its keys, and a window of the run's lines paged from the store, tailing live
while the run goes on (a worker: tui/log_tail.py). "Errors only", search, n / N and the first error work over
the whole run, through queries on the store, not over the window (widgets/log_search.py)."""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from panda_tui.readmodel.unwatched import RECORDS
from panda_tui.store import connect
from panda_tui.store.ledger import Run, RunStatus
from panda_tui.store.logs import LogLine
from panda_tui.text import safe, said_once, status_word
from panda_tui.tui import log_tail
from panda_tui.tui.header_line import Part, fit
from panda_tui.tui.log_format import no_log_note
from panda_tui.tui.log_save import save
from panda_tui.tui.log_tail import Tail, TailLines, TailWindow
from panda_tui.tui.log_window import Place, Where
from panda_tui.tui.marks import Marks
from panda_tui.tui.widgets.log_lines import LogLines
from panda_tui.tui.widgets.log_search import LogSearch

VIEWS = ("wrap", "raw", "stamps")  # what w, j and T turn on and off
# a run the ledger has running while no scheduler holds the lease (it was killed): nobody reads its output
UNWATCHED = Part("unwatched: no scheduler has read its output since the lease ended",
                 "unwatched since the lease ended", alarm=True)


class LogView(Vertical, can_focus=False):
    class Newest(Message):
        """G / End on a run that has ended: its screen may show the job's newest run instead (the main
        screen's pane does; a log opened on one run stays on it)."""

    BINDINGS = [
        Binding("slash", "search", "search", priority=True),  # see SearchBox
        Binding("n", "jump(1)", "next", show=False),
        Binding("N", "jump(-1)", "prev", show=False),
        Binding("e", "toggle_errors", "errors"),  # short: at 80 columns the footer keeps `? help` in view
        Binding("E", "first_error", "1st error", show=False),
        Binding("f", "toggle_follow", "follow", show=False),
        Binding("w", "toggle_view('wrap')", "wrap", show=False),
        Binding("j", "toggle_view('raw')", "raw json", show=False),
        Binding("T", "toggle_view('stamps')", "times", show=False),
        Binding("s", "save", "save", show=False),
        Binding("g,home", "go('head')", "top", show=False, priority=True),
        Binding("G,end", "go('tail')", "end", show=False, priority=True),
        Binding("left_square_bracket", "go('before')", "older", show=False),
        Binding("right_square_bracket", "go('tail')", "newest", show=False),
    ]

    def __init__(self, db_path: str, marks: Marks | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.db_path = db_path
        self.marks = marks or Marks()
        self.run_id: int | None = None
        self.run: Run | None = None
        self.older = False  # the run has older lines (of this view) than the window holds
        self.errors_only = False
        self.why: str | None = None  # why this run is the one shown, when it is not simply the one asked for
        self._tail: Tail | None = None  # the current load: messages of any other are stale
        self._title_shown: str | None = None
        self.unwatched = False  # no scheduler holds the lease: a run still `running` is read by nobody
        self.ended: dict[int, str] = {}  # of those, runs their keeper saw end, and how (readmodel.unwatched)

    def compose(self) -> ComposeResult:
        yield Static("", classes="log-title")
        yield LogLines(self.marks, id="log-lines")
        yield LogSearch(self.db_path, id="log-search", classes="hidden")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the search box is open, every key goes into it: home and end are priority keys here, and
        would move the log instead (Textual already keeps the box's printable keys from bindings)."""
        return not isinstance(self.screen.focused, Input)

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _focus_moved(self, event: events.DescendantFocus | events.DescendantBlur) -> None:
        """The title marks the focused pane (Textual does not restyle a :focus-within widget's children)."""
        self.query_one(".log-title", Static).set_class(isinstance(event, events.DescendantFocus), "-focused")

    def on_resize(self) -> None:
        self._title()  # also the first: a pane comes with no run ("logs: no run selected")

    @property
    def log_widget(self) -> LogLines:
        return self.query_one("#log-lines", LogLines)

    @property
    def search(self) -> LogSearch:
        return self.query_one(LogSearch)

    @property
    def shown(self) -> list[str]:
        """The lines on screen now, as text (for tests and probes)."""
        return self.log_widget.shown

    def watched(self, by_scheduler: bool, ended: dict[int, str] | None = None) -> None:
        """Whether a scheduler holds the lease now (its screen says so on each read of the store), and how the
        runs nobody follows that already ended did (their keeper's word)."""
        ended = {} if by_scheduler else ended or {}
        if self.unwatched == by_scheduler or ended != self.ended:
            self.unwatched, self.ended = not by_scheduler, ended
            self._title()

    def open_run(self, run_id: int | None, errors_only: bool = False) -> None:
        if run_id == self.run_id and errors_only == self.errors_only:
            return
        self.run_id, self.errors_only = run_id, errors_only
        self.search.start(None, "", errors_only)
        lines = self.log_widget
        lines.highlighter.query, lines.current, lines.follow = "", None, True
        if run_id is None:
            self._tail = None
            lines.set_window([])
            self._title()
        else:  # the lines shown stay until the new run's replace them, in one frame with the new title
            lines.window = []
            self._load(Place("tail"))

    # --- reading ------------------------------------------------------------------------
    def _load(self, place: Place, focus: int | None = None) -> None:
        if self.run_id is None:
            return
        self._tail = Tail(self.run_id, self.errors_only)
        self._read(self._tail, place, focus)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-tail")
    def _read(self, tail: Tail, place: Place, focus: int | None) -> None:
        """A window at `place`; from the newest lines, the run followed until it ends (or a newer load
        cancels this one)."""
        worker = get_current_worker()
        conn = connect(self.db_path, readonly=True)
        try:
            log_tail.read(conn, tail, place, focus, self.post_message, lambda: worker.is_cancelled)
        finally:
            conn.close()

    def on_tail_window(self, message: TailWindow) -> None:
        if not self.query("#log-lines") or message.tail is not self._tail:
            return  # a load since replaced, or the pane is being torn down while the tail still posts
        self.run, self.older = message.run, message.older
        lines = message.lines
        if (not lines and message.run is not None and not self.errors_only and not message.run.log_lines
                and message.run.status is not RunStatus.RUNNING):
            lines = no_log_note(message.run)  # missed, skipped, lost: why, in full, instead of nothing
        self.log_widget.set_window(lines, message.focus)
        self._title()

    def on_tail_lines(self, message: TailLines) -> None:
        if not self.query("#log-lines") or message.tail is not self._tail:
            return
        lines, run = message.tail.take()
        self.append(lines, run)

    def append(self, lines: list[LogLine], run: Run | None) -> None:
        """Lines the tail read, at the end of the window (`run` as it is now)."""
        self.run = run
        if lines and self.log_widget.append(lines):
            self.older = True
        self._title()

    def _title(self) -> None:
        if self.run_id is None:
            parts = [Part("logs: no run selected", "logs")]
        else:
            run = self.run if self.run is not None and self.run.id == self.run_id else None
            word, said = said_once(status_word(run.status), run.reason) if run else ("", None)
            what = f"{safe(run.job)} run {run.id}{self.marks.sep}{safe(word)}" if run else f"run {self.run_id}"
            reason = f" ({safe(said)})" if said else ""
            lines = self.log_widget if self.query("#log-lines") else None
            live = run is None or run.finished_at is None  # a finished run has nothing more to follow
            flags = [name for name, on in (("errors only", self.errors_only),
                                           ("follow", lines is not None and lines.follow and live),
                                           ("raw", lines is not None and lines.raw),
                                           ("times", lines is not None and lines.stamps),
                                           ("no wrap", lines is not None and not lines.wrap)) if on]
            search = self.search
            parts = [Part(what + reason, what), Part(search.counter(), search.counter(short=True))]
            if self.unwatched and run is not None and run.status is RunStatus.RUNNING:
                ended = self.ended.get(run.id)
                parts.append(Part(f"{ended}: {RECORDS}", "ended while no scheduler ran", alarm=True) if ended
                             else UNWATCHED)
            if self.why:  # `newest failure (flapping 4/10 failed)`: which run of the job this is, and why
                parts.append(Part(self.why, self.why.split(" (")[0], drop=1))
            parts += [Part(flag, flag, drop=2) for flag in flags]
            if self.older:
                parts.append(Part("[ older lines", "[ older", drop=3))
        width = self.query_one(".log-title", Static).content_region.width or (self.size.width - 2) or 78
        fitted = fit([p for p in parts if p.long], max(20, width))
        title = self.marks.sep.join(t for t, _ in fitted)
        if title != self._title_shown:  # one line, always: repaint it only when its words change
            self._title_shown = title
            self.query_one(".log-title", Static).update(Text(title, no_wrap=True, overflow="crop"), layout=False)

    # --- search over the whole run (widgets/log_search.py) -------------------------------
    def action_search(self) -> None:
        self.search.open()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        pattern = event.value.strip()
        self.log_widget.highlighter.query, self.log_widget.current = pattern, None
        self.log_widget.refresh()
        self.search.start(self.run_id, pattern, self.errors_only)
        if not pattern:
            self.notify("search cleared", markup=False)
        self._title()

    def action_jump(self, step: int) -> None:
        self.search.jump(step)

    def action_first_error(self) -> None:
        if self.run_id is not None:
            self.search.first_error(self.run_id)

    def on_log_search_moved(self, message: LogSearch.Moved) -> None:
        """Bring a line into view: scroll to it if the window holds it, else load a window around it."""
        lines = self.log_widget
        lines.current = self.search.current
        if message.seq is not None:
            lines.follow = lines.auto_scroll = False
            if lines.holds(message.seq):
                lines.redraw(message.seq)
            else:
                self._load(Place("at", message.seq), message.seq)
        self._title()

    # --- views --------------------------------------------------------------------------
    def action_toggle_errors(self) -> None:
        self.errors_only = not self.errors_only
        self.log_widget.follow = True
        if self.search.pattern:
            self.log_widget.current = None
            self.search.start(self.run_id, self.search.pattern, self.errors_only, announce=True)
        self._load(Place("tail"))
        self._title()

    def action_toggle_follow(self) -> None:
        run = self.run if self.run is not None and self.run.id == self.run_id else None
        if run is not None and run.finished_at is not None:
            self.notify(f"run {run.id} has ended ({status_word(run.status)}): nothing to follow; G goes to its "
                        "last line", markup=False)
            return
        lines = self.log_widget
        lines.follow = not lines.follow
        if lines.follow:
            self._load(Place("tail"))
        else:
            lines.auto_scroll = False
        self._title()

    def action_toggle_view(self, view: str) -> None:
        """w, j, T: wrap, raw JSON, stored timestamps."""
        if view in VIEWS:
            lines = self.log_widget
            setattr(lines, view, not getattr(lines, view))
            lines.redraw()
            self._title()

    def action_go(self, where: Where) -> None:
        """g / G / [ : the run's first line, its newest (following), the lines before the window."""
        lines = self.log_widget
        if self.run_id is None or (where == "before" and not lines.window):
            return
        lines.follow = where == "tail"
        if where == "tail":
            if self.run is not None and self.run.id == self.run_id and self.run.finished_at is not None:
                self.post_message(self.Newest())
            self._load(Place("tail"))
        elif where == "head":
            self._load(Place("head"), 0)  # focus 0: the top of the window, the run's first line
        elif not self.older:  # all of it is here already: show its top
            lines.auto_scroll = False
            lines.scroll_home(animate=False)
            self.notify("the start of the log", markup=False)
        else:
            lines.auto_scroll = False
            self._load(Place("before", lines.window[0].seq), lines.window[0].seq)
        self._title()

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
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)

